/**
 * After stage 2 (token-push.md 3.10, Q21 fix): token-push leaves no default vault token and no
 * condor-location token of a processed service behind. Stored tokens under the root are kept.
 */
import { condorTokenPath, defaultVaultTokenPath } from './paths.js';
import { removeIfExists } from './files.js';

export async function removeLocalTokens(opts: {
  runUID: number;
  tempDir: string;
  realName: string;
}): Promise<{
  removed: string[];
  errors: string[];
}> {
  const removed: string[] = [];
  const errors: string[] = [];
  for (const file of [
    defaultVaultTokenPath(opts.runUID),
    condorTokenPath(opts.tempDir, opts.runUID, opts.realName),
  ]) {
    try {
      if (await removeIfExists(file)) removed.push(file);
    } catch (err) {
      errors.push(`could not remove ${file}: ${(err as Error).message}`);
    }
  }
  return { removed, errors };
}
