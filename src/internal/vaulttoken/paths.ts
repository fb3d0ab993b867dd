/** Names of token files (token-push.md 3.19). */
import path from 'node:path';
import { unsafeScheddName } from '../condor/classads.js';

/** `<root>/vt_u<uid>-<realName>`: the get-token path's stored token. An empty root means the cwd. */
export function storedTokenPath(root: string, uid: number, realName: string): string {
  return path.join(root === '' ? '.' : root, `vt_u${uid}-${realName}`);
}

/** `<root>/vt_u<uid>-<schedd>-<realName>`: the token stored in one credd. */
export function scheddTokenPath(
  root: string,
  uid: number,
  schedd: string,
  realName: string,
): string {
  // Discovery already refuses such names; this keeps any other source from leaving the root.
  const unsafe = unsafeScheddName(schedd);
  if (unsafe !== undefined)
    throw new Error(`schedd name ${JSON.stringify(schedd)} ${unsafe}; not using it in a file name`);
  return path.join(root === '' ? '.' : root, `vt_u${uid}-${schedd}-${realName}`);
}

/** `$TMP/vt_u<uid>-<name>`: where condor_vault_storer reads and writes the service's token. */
export function condorTokenPath(tempDir: string, uid: number, name: string): string {
  return path.join(tempDir, `vt_u${uid}-${name}`);
}

/** `/tmp/vt_u<uid>`: the default vault token (hard-coded /tmp, as the tools have it). */
export function defaultVaultTokenPath(uid: number): string {
  return `/tmp/vt_u${uid}`;
}
