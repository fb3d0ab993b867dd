import { execFileSync, spawn } from 'node:child_process';

/**
 * The unprivileged account the executables run as in tests and the demo
 * (token-push and refresh-uids-from-ferry refuse to run as root).
 */
export const TEST_USER = 'mtuser';

export interface UnixUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

function lookup(name: string): UnixUser | undefined {
  try {
    const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
    const [, , uid, gid, , home] = line.split(':');
    return { name, uid: Number(uid), gid: Number(gid), home: home ?? `/home/${name}` };
  } catch {
    return undefined;
  }
}

/** Creates the account when missing (needs root); fails loudly when it cannot. */
export function ensureUser(name: string = TEST_USER): UnixUser {
  const existing = lookup(name);
  if (existing) return existing;
  if (process.getuid?.() !== 0) {
    throw new Error(`test account ${name} does not exist and creating it needs root`);
  }
  execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', name], { stdio: 'pipe' });
  const created = lookup(name);
  if (!created) throw new Error(`useradd ${name} succeeded but the account cannot be looked up`);
  return created;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunAsOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Run as this account; defaults to the test user. Pass 'root' to run as root. */
  readonly user?: UnixUser | 'root';
}

/**
 * Runs a program (argv array, no shell) as the unprivileged test user, with exactly the
 * given environment, and collects its output. The child gets its own process group, which
 * is killed on timeout.
 */
export function runAs(argv: readonly string[], opts: RunAsOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (!program) throw new Error('runAs: empty argv');
  const user = opts.user === 'root' ? undefined : (opts.user ?? ensureUser());
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { ...(opts.env ?? {}) },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    };
    child.on('close', finish);
    // A grandchild outside the group (e.g. a double's hang-hold sleeper) may keep the pipes open
    // long after the child exited: drain for at most a second, then stop waiting.
    child.on('exit', (code, signal) => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, 1_000).unref();
    });
  });
}
