import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import net from 'node:net';

/** Helpers for the test world's processes: argv arrays only, explicit environments, loud failures. */

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a setup tool to completion; rejects with its argv and stderr when it fails. */
export function runTool(
  argv: readonly string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const [program, ...args] = argv;
  if (!program) throw new Error('runTool: empty argv');
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      args,
      {
        env: opts.env ?? { PATH: SYSTEM_PATH },
        timeout: opts.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(
              `${argv.join(' ')} failed (${err.message.split('\n')[0]}): ${stderr.trim() || stdout.trim()}`,
            ),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Identity of a process that survives pid reuse: pid plus its kernel start time. */
export interface ProcessId {
  readonly pid: number;
  readonly start: string;
}

interface ProcStat {
  /** one-letter state: R, S, D, Z (zombie), X (dead), ... */
  readonly state: string;
  readonly start: string;
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3 overall, starttime field 22.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, start] = [rest[0], rest[19]];
    return state === undefined || start === undefined ? undefined : { state, start };
  } catch {
    return undefined;
  }
}

export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.start;
}

/**
 * Start time of `pid` while it really runs; undefined once it is gone, a zombie or dead (a killed
 * orphan stays a zombie until init reaps it, which this container's init does lazily).
 */
export function liveProcessStart(pid: number): string | undefined {
  const stat = readProcStat(pid);
  return stat === undefined || stat.state === 'Z' || stat.state === 'X' ? undefined : stat.start;
}

/** A "pid starttime" line, as test shims record it, still names that same live process (not a reused pid). */
export function stillRunning(pidAndStart: string): boolean {
  const [pid, start] = pidAndStart.split(' ');
  return start !== undefined && liveProcessStart(Number(pid)) === start;
}

export function identify(pid: number): ProcessId {
  const start = processStartTime(pid);
  if (start === undefined) throw new Error(`process ${pid} vanished right after it was started`);
  return { pid, start };
}

export function isRunning(id: ProcessId): boolean {
  return processStartTime(id.pid) === id.start;
}

/** SIGKILLs exactly the recorded process (and its group when it leads one), never a reused pid. */
export function killProcess(id: ProcessId, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!isRunning(id)) return;
  try {
    process.kill(-id.pid, signal);
  } catch {
    /* not a group leader */
  }
  try {
    process.kill(id.pid, signal);
  } catch {
    /* already gone */
  }
}

export async function waitForExit(id: ProcessId, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A zombie keeps its start time until reaped; it counts as gone.
  while (liveProcessStart(id.pid) === id.start) {
    if (Date.now() > deadline)
      throw new Error(`process ${id.pid} did not exit within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts a long-running daemon in its own process group, output appended to a log file. */
export function startDaemon(
  argv: readonly string[],
  opts: { env: Record<string, string>; logFile: string },
): { child: ChildProcess; id: ProcessId } {
  const [program, ...args] = argv;
  if (!program) throw new Error('startDaemon: empty argv');
  const fd = openSync(opts.logFile, 'a', 0o600);
  try {
    const child = spawn(program, args, {
      env: opts.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    if (child.pid === undefined)
      throw new Error(`could not start ${argv.join(' ')} (see ${opts.logFile})`);
    child.unref();
    child.on('error', () => undefined);
    return { child, id: identify(child.pid) };
  } finally {
    closeSync(fd);
  }
}

/** A TCP port on `host` that nobody listens on right now. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Waits until a daemon accepts TCP connections; fails with the tail of its log otherwise. */
export async function waitForPort(
  host: string,
  port: number,
  what: { name: string; id: ProcessId; logFile: string },
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(host, port)) return;
    if (!isRunning(what.id) || Date.now() > deadline) {
      let tail = '';
      try {
        tail = readFileSync(what.logFile, 'utf8').split('\n').slice(-15).join('\n');
      } catch {
        /* no log */
      }
      throw new Error(
        `${what.name} did not start listening on ${host}:${port}; log ${what.logFile}:\n${tail}`,
      );
    }
    await sleep(25);
  }
}

/** Every process whose mount namespace is the given one (used to sweep a namespace at teardown). */
export function processesInMountNamespace(nsLink: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/mnt`) === nsLink) pids.push(Number(entry));
    } catch {
      /* gone or not ours to read */
    }
  }
  return pids;
}

export function mountNamespaceOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/mnt`);
}
