import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PATH } from './proc.js';
import { withAccountsLock } from './registry.js';
import { ensureUser, TEST_USER, type UnixUser } from './user.js';

/** The repository root (works from src/ under tsx and from dist/src/ after a build). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'scripts', 'provision.sh'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find scripts/provision.sh above ${fileURLToPath(import.meta.url)}`);
}

let provisioned: UnixUser | undefined;

/**
 * Makes sure the host can run a test world: Debian packages, /run/sshd, cap_net_raw on ping and the
 * unprivileged account (via scripts/provision.sh, quiet when all is present). Throws with the script's
 * own message when anything cannot be set up. Returns the unprivileged account.
 */
export function provision(): UnixUser {
  if (provisioned) return provisioned;
  if (process.getuid?.() !== 0)
    throw new Error('the test world needs root (it runs sshd, mounts and routes)');
  const script = path.join(repoRoot(), 'scripts', 'provision.sh');
  try {
    execFileSync('bash', [script], {
      env: { PATH: SYSTEM_PATH, MT_TEST_USER: TEST_USER },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
  } catch (err) {
    const e = err as { status?: number; stderr?: Buffer };
    throw new Error(
      `provisioning failed (${script} exit ${e.status}): ${e.stderr?.toString().trim()}`,
    );
  }
  provisioned = ensureUser(TEST_USER);
  return provisioned;
}

/**
 * A destination account sshd can log in to: a real Unix user with a login shell and a home, whose
 * password field is `*` (not `!`), because with `UsePAM no` sshd refuses "locked" accounts.
 * Idempotent and safe against parallel test files (creation happens under a host-wide lock).
 */
export async function ensureAccount(name: string): Promise<UnixUser> {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(name))
    throw new Error(`invalid account name ${JSON.stringify(name)}`);
  return withAccountsLock(() => {
    const user = ensureUser(name);
    const shadowLine = readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const passwordField = shadowLine?.split(':')[1] ?? '';
    if (passwordField.startsWith('!')) {
      execFileSync('usermod', ['-p', '*', name], { env: { PATH: SYSTEM_PATH }, stdio: 'pipe' });
    }
    return user;
  });
}
