import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import {
  identify,
  isRunning,
  killProcess,
  processesInMountNamespace,
  SYSTEM_PATH,
  type ProcessId,
} from './proc.js';

/**
 * Book-keeping for test worlds: where they live, which loopback addresses and /etc/hosts lines they own,
 * and every process, route and file they created, persisted so that teardown (normal, on process exit,
 * or by a later world reaping a crashed one) removes exactly those and nothing else.
 */

/** Outside /tmp on purpose: every node and the controller get a private /tmp, which would hide paths under it. */
export const WORLDS_ROOT = '/var/tmp/mtworld';
const HOSTS_FILE = '/etc/hosts';
const HOSTS_LOCK = '/run/mtworld-hosts.lock';
const ACCOUNTS_LOCK = '/run/mtworld-accounts.lock';
const HOSTS_MARK = '# mtworld';

export interface WorldRecord {
  readonly id: string;
  readonly dir: string;
  readonly owner: ProcessId;
  /** '127.A.B.' — the world owns 127.A.B.0/24 */
  readonly prefix: string;
  processes: ProcessId[];
  /** mount namespaces (as /proc/<pid>/ns/mnt link text) whose processes are all killed at teardown */
  namespaces: string[];
  /** addresses with a blackhole route in the local table (node-down fault) */
  routes: string[];
  /** files outside `dir` to delete */
  files: string[];
}

const LOCK_OPTS = {
  retries: { retries: 200, minTimeout: 10, maxTimeout: 100 },
  stale: 15_000,
  realpath: false,
};

export async function withLock<T>(lockPath: string, fn: () => T | Promise<T>): Promise<T> {
  if (!existsSync(lockPath)) writeFileSync(lockPath, '', { flag: 'a' });
  const release = await lockfile.lock(lockPath, LOCK_OPTS);
  try {
    return await fn();
  } finally {
    await release();
  }
}

function withLockSync<T>(lockPath: string, fn: () => T): T {
  if (!existsSync(lockPath)) writeFileSync(lockPath, '', { flag: 'a' });
  let release: (() => void) | undefined;
  for (let attempt = 0; attempt < 100 && !release; attempt++) {
    try {
      release = lockfile.lockSync(lockPath, { stale: 15_000, realpath: false });
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  // At process exit a stuck lock must not prevent cleanup; proceed unlocked as a last resort.
  try {
    return fn();
  } finally {
    release?.();
  }
}

export const withAccountsLock = <T>(fn: () => T | Promise<T>): Promise<T> =>
  withLock(ACCOUNTS_LOCK, fn);

function hostsLines(): string[] {
  return readFileSync(HOSTS_FILE, 'utf8').split('\n');
}

/**
 * Replaced atomically (readers never see a half-written file); where /etc/hosts is a bind mount
 * (containers) rename fails and it is rewritten in place instead.
 */
function writeHosts(lines: string[]): void {
  const text = lines.join('\n').replace(/\n*$/, '\n');
  const tmp = path.join(path.dirname(HOSTS_FILE), '.hosts.mtworld.tmp');
  try {
    writeFileSync(tmp, text, { mode: statSync(HOSTS_FILE).mode & 0o777 });
    renameSync(tmp, HOSTS_FILE);
  } catch {
    rmSync(tmp, { force: true });
    writeFileSync(HOSTS_FILE, text);
  }
}

function liveWorldIds(): Set<string> {
  const ids = new Set<string>();
  for (const rec of readRecords()) if (isRunning(rec.owner)) ids.add(rec.id);
  return ids;
}

/** Picks a /24 inside 127/8 that no live world uses and registers host names for it under a lock. */
export async function allocateWorld(): Promise<WorldRecord> {
  mkdirSync(WORLDS_ROOT, { recursive: true, mode: 0o755 });
  reapDeadWorlds();
  return withLock(HOSTS_LOCK, () => {
    const used = new Set<string>();
    for (const line of hostsLines()) {
      const m = /^(127\.\d+\.\d+\.)\d+\s.*# mtworld /.exec(line);
      if (m?.[1]) used.add(m[1]);
    }
    for (const rec of readRecords()) used.add(rec.prefix);
    let prefix = '';
    for (let i = 0; i < 1000 && !prefix; i++) {
      const a = 100 + Math.floor(Math.random() * 150);
      const b = Math.floor(Math.random() * 256);
      const candidate = `127.${a}.${b}.`;
      if (!used.has(candidate)) prefix = candidate;
    }
    if (!prefix) throw new Error('no free 127.A.B.0/24 block for a test world');
    const id = randomBytes(3).toString('hex');
    const dir = path.join(WORLDS_ROOT, id);
    mkdirSync(dir, { mode: 0o755 });
    const record: WorldRecord = {
      id,
      dir,
      owner: identify(process.pid),
      prefix,
      processes: [],
      namespaces: [],
      routes: [],
      files: [],
    };
    saveRecord(record);
    return record;
  });
}

export function saveRecord(record: WorldRecord): void {
  const file = path.join(record.dir, 'world.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
  renameSync(`${file}.tmp`, file);
}

function readRecords(): WorldRecord[] {
  if (!existsSync(WORLDS_ROOT)) return [];
  const out: WorldRecord[] = [];
  for (const id of readdirSync(WORLDS_ROOT)) {
    try {
      out.push(
        JSON.parse(readFileSync(path.join(WORLDS_ROOT, id, 'world.json'), 'utf8')) as WorldRecord,
      );
    } catch {
      /* not a world dir, or mid-creation */
    }
  }
  return out;
}

export async function addHostNames(
  record: WorldRecord,
  entries: ReadonlyArray<{ address: string; name: string }>,
): Promise<void> {
  await withLock(HOSTS_LOCK, () => {
    const lines = hostsLines().filter((l) => l.trim() !== '');
    for (const e of entries) lines.push(`${e.address}\t${e.name}\t${HOSTS_MARK} ${record.id}`);
    writeHosts(lines);
  });
}

function removeHostNamesSync(keep: (worldId: string) => boolean): void {
  withLockSync(HOSTS_LOCK, () => {
    const lines = hostsLines();
    const kept = lines.filter((l) => {
      const m = /# mtworld (\w+)\s*$/.exec(l);
      return !m?.[1] || keep(m[1]);
    });
    if (kept.length !== lines.length) writeHosts(kept.filter((l) => l.trim() !== ''));
  });
}

export function addBlackhole(record: WorldRecord, address: string): void {
  if (record.routes.includes(address)) return;
  execFileSync('ip', ['route', 'add', 'blackhole', `${address}/32`, 'table', 'local'], {
    env: { PATH: SYSTEM_PATH },
    stdio: 'pipe',
  });
  record.routes.push(address);
  saveRecord(record);
}

export function removeBlackhole(record: WorldRecord, address: string): void {
  if (!record.routes.includes(address)) return;
  try {
    execFileSync('ip', ['route', 'del', 'blackhole', `${address}/32`, 'table', 'local'], {
      env: { PATH: SYSTEM_PATH },
      stdio: 'pipe',
    });
  } catch (err) {
    if (!/No such process|not found/i.test(String((err as { stderr?: Buffer }).stderr ?? '')))
      throw err;
  }
  record.routes = record.routes.filter((a) => a !== address);
  saveRecord(record);
}

/** Synchronous, idempotent, best-effort-per-step teardown; collects errors and throws them together. */
export function destroyWorldSync(record: WorldRecord): void {
  const errors: string[] = [];
  const step = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
  };
  for (const ns of record.namespaces) {
    step(`sweep namespace ${ns}`, () => {
      for (const pid of processesInMountNamespace(ns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
  }
  for (const p of record.processes) step(`kill ${p.pid}`, () => killProcess(p));
  for (const held of heldPids(record)) step(`kill held ${held.pid}`, () => killProcess(held));
  for (const address of [...record.routes])
    step(`route ${address}`, () => removeBlackhole(record, address));
  step('hosts', () => removeHostNamesSync((id) => id !== record.id));
  for (const f of record.files) step(`rm ${f}`, () => rmSync(f, { force: true }));
  step(`rm ${record.dir}`, () =>
    rmSync(record.dir, { recursive: true, force: true, maxRetries: 3 }),
  );
  if (errors.length)
    throw new Error(`test world ${record.id} teardown incomplete:\n${errors.join('\n')}`);
}

/** Grandchildren the doubles spawned on purpose (hang-hold) recorded as "pid start" lines. */
function heldPids(record: WorldRecord): ProcessId[] {
  try {
    return readFileSync(path.join(record.dir, 'doubles', 'state', 'held.pids'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [pid, start] = l.split(' ');
        return { pid: Number(pid), start: start ?? '' };
      });
  } catch {
    return [];
  }
}

/** Tears down worlds whose owning process died without cleaning up (SIGKILLed test worker). */
export function reapDeadWorlds(): void {
  for (const rec of readRecords()) {
    if (isRunning(rec.owner)) continue;
    try {
      destroyWorldSync(rec);
    } catch (err) {
      process.emitWarning(`reaping dead test world ${rec.id}: ${(err as Error).message}`);
    }
  }
  const live = liveWorldIds();
  if (hostsLines().some((l) => l.includes(HOSTS_MARK))) removeHostNamesSync((id) => live.has(id));
}

const liveWorlds = new Set<WorldRecord>();
let safetyNetInstalled = false;

/** Registers the process-exit safety net: whatever a test forgot to stop is torn down on exit. */
export function trackWorld(record: WorldRecord): void {
  liveWorlds.add(record);
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', () => {
    for (const rec of liveWorlds) {
      try {
        destroyWorldSync(rec);
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
      }
    }
    liveWorlds.clear();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () =>
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)),
    );
  }
}

export function untrackWorld(record: WorldRecord): void {
  liveWorlds.delete(record);
}

/** Processes on this host that still reference a test world directory (for a suite-level leak check). */
export function leftoverWorldProcesses(): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(`${WORLDS_ROOT}/`) || environ.includes(`MTWORLD_DIR=${WORLDS_ROOT}/`)) {
        out.push({ pid: Number(entry), cmdline });
      }
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Everything test worlds left on this host: world directories, /etc/hosts lines, blackhole routes in
 * 127/8 and processes. All empty after a suite whose worlds were stopped (for a global teardown check).
 */
export function worldLeftovers(): {
  dirs: string[];
  hostsLines: string[];
  routes: string[];
  processes: Array<{ pid: number; cmdline: string }>;
} {
  const routes = execFileSync('ip', ['route', 'show', 'table', 'local'], {
    env: { PATH: SYSTEM_PATH },
    encoding: 'utf8',
  })
    .split('\n')
    .filter((l) => /^blackhole 127\./.test(l));
  return {
    dirs: existsSync(WORLDS_ROOT) ? readdirSync(WORLDS_ROOT) : [],
    hostsLines: hostsLines().filter((l) => l.includes(HOSTS_MARK)),
    routes,
    processes: leftoverWorldProcesses(),
  };
}
