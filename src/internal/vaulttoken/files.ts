/**
 * File primitives for token files: private temp files, atomic 0600 writes, moves that never leave a
 * half-written token behind (token-push.md Q3/Q4 fixes).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, constants } from 'node:fs';
import path from 'node:path';

export const TOKEN_FILE_MODE = 0o600;

/** `$TMPDIR` if non-empty, else `/tmp` (Go os.TempDir()). */
export function tempDirFrom(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env['TMPDIR'];
  return dir !== undefined && dir !== '' ? dir : '/tmp';
}

function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** Creates a new empty 0600 file `<dir>/<prefix><random>` and returns its path (mkstemp). */
export async function createPrivateTempFile(dir: string, prefix: string): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const candidate = path.join(dir, `${prefix}${randomSuffix()}`);
    try {
      const handle = await fs.open(
        candidate,
        constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
        TOKEN_FILE_MODE,
      );
      await handle.close();
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`could not create a temporary file ${path.join(dir, prefix)}*`);
}

/** Writes `content` to `target` via a temp file in the same directory + fsync + rename; mode 0600. */
export async function writeFileAtomic(target: string, content: string | Buffer): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomSuffix()}.tmp`);
  const handle = await fs.open(
    temp,
    constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
    TOKEN_FILE_MODE,
  );
  try {
    await handle.writeFile(content);
    await handle.chmod(TOKEN_FILE_MODE);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}

/** Contents of a file, or undefined when it does not exist. Other errors propagate. */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Removes a file; true when something was removed, false when it did not exist. */
export async function removeIfExists(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Moves `from` to `to` (0600 at the destination): rename, or atomic copy + delete across file systems. */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
    await fs.chmod(to, TOKEN_FILE_MODE).catch(() => undefined);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  await writeFileAtomic(to, await fs.readFile(from));
  await fs.unlink(from);
}
