import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { UnixUser } from './user.js';

/**
 * Writes wrapper scripts (name -> script text, mode 0755) and empty log files into `dir` (made
 * when missing) and returns it, for tests to put first on PATH. The directory and everything in it
 * belong to `owner`, the user the shims run as, so they can append to the logs.
 */
export function installShims(
  dir: string,
  owner: UnixUser,
  scripts: Readonly<Record<string, string>>,
  logs: readonly string[],
): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(scripts)) {
    writeFileSync(path.join(dir, name), text);
    chmodSync(path.join(dir, name), 0o755);
  }
  for (const log of logs) writeFileSync(path.join(dir, log), '');
  for (const name of [...Object.keys(scripts), ...logs])
    chownSync(path.join(dir, name), owner.uid, owner.gid);
  chownSync(dir, owner.uid, owner.gid);
  return dir;
}
