/**
 * The only place that starts processes (external-tools.md 2). argv arrays only (no shell), a complete
 * explicit environment, stdin always the null device, a deadline that SIGKILLs the child's whole process
 * group and every descendant (also those that left it), bounded output capture, and Go-shaped errors.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { redactSecrets } from '../logging/redact.js';
import { CappedBuffer, tailExcerpt } from './capture.js';
import { deadline, type Deadline } from './deadline.js';
import type { ChildEnv } from './env.js';
import { killProcessTree } from './tree.js';
import {
  ExecError,
  NO_COMMAND_MESSAGE,
  exitStatusMessage,
  signalMessage,
  spawnFailureMessage,
  type ExecFailureReason,
} from './errors.js';

/**
 * combined: stdout+stderr into one buffer in arrival order; stdout: stdout captured, stderr kept apart
 * (never part of `output`); none: both to the null device; inherit: the child writes straight to our
 * stdout/stderr (interactive onboarding), nothing captured.
 */
export type CaptureMode = 'combined' | 'stdout' | 'none' | 'inherit';

export const DEFAULT_OUTPUT_CAP_BYTES = 1024 * 1024;
/** How long we keep reading pipes after the child is gone (a grandchild may hold them open). */
export const DEFAULT_DRAIN_MS = 1000;

export interface CommandSpec {
  /** argv[0] is the program: an absolute path, or a bare name looked up in `env.PATH`. */
  readonly argv: readonly string[];
  /**
   * What the child sees as its argv[0] when it must differ from the program spawned: the tools the
   * original ran by bare name get that name while we spawn the absolute path resolved beforehand
   * (a bare name would let the PATH search land in the working directory).
   */
  readonly argv0?: string | undefined;
  /** Complete child environment (see buildChildEnv); nothing is inherited implicitly. */
  readonly env: ChildEnv;
  readonly capture: CaptureMode;
  /** AbortSignal (e.g. a stage deadline) or milliseconds from now. */
  readonly deadline?: AbortSignal | number | undefined;
  /** Cap for each captured buffer; default 1 MiB (head and tail kept). */
  readonly maxOutputBytes?: number | undefined;
  /** Literal strings to mask in the excerpt besides the built-in patterns. */
  readonly secrets?: readonly string[] | undefined;
  readonly cwd?: string | undefined;
  /** Bounded wait for pipe EOF after the child exited; default 1000 ms. */
  readonly drainMs?: number | undefined;
}

export interface CommandResult {
  /** Captured output (combined or stdout), '' for none/inherit. Raw: redact before logging. */
  readonly output: string;
  /** Captured stdout (same as output for 'stdout'; '' for combined). */
  readonly stdout: string;
  /** Captured stderr for 'stdout' mode. */
  readonly stderr: string;
  readonly durationMs: number;
  readonly truncated: boolean;
  /** Tail of the captured output with secrets masked: safe for logs. */
  readonly excerpt: string;
}

/** Process groups of children still running, killed if we exit first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid);
  });
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

function stdioFor(capture: CaptureMode): StdioOptions {
  switch (capture) {
    case 'combined':
    case 'stdout':
      return ['ignore', 'pipe', 'pipe'];
    case 'none':
      return ['ignore', 'ignore', 'ignore'];
    case 'inherit':
      return ['ignore', 'inherit', 'inherit'];
  }
}

function deadlineFrom(spec: CommandSpec['deadline']): Deadline | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec !== 'number') return { signal: spec, dispose: () => undefined };
  return deadline(spec, { reason: () => new Error('deadline exceeded'), unref: false });
}

/**
 * Resolves when `stream` closes or after `ms`, whichever is first; then the stream is destroyed.
 * True when the stream closed by itself, false when the time ran out (someone still holds it open).
 */
function drain(stream: Readable | null, ms: number): Promise<boolean> {
  if (stream === null || stream.destroyed || stream.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      stream.off('close', onClose);
      stream.off('end', onClose);
      stream.destroy();
      resolve(closed);
    };
    const onClose = (): void => finish(true);
    const timer = setTimeout(() => finish(false), ms);
    stream.once('close', onClose);
    stream.once('end', onClose);
  });
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function waitForExit(
  child: ChildProcess,
): Promise<Exit | { readonly spawnError: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve({ spawnError: err }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Runs one command. Resolves on exit status 0; rejects with ExecError otherwise. The rejection reason is
 * `timeout` whenever the deadline has fired by the time a failure is seen (a child that exits 0 after the
 * deadline passed is still a success, as in the original).
 */
export async function runCommand(spec: CommandSpec): Promise<CommandResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const [program, ...args] = spec.argv;
  const secrets = spec.secrets ?? [];

  if (program === undefined || program === '') {
    throw new ExecError(NO_COMMAND_MESSAGE, { reason: 'spawn', argv: spec.argv });
  }
  const deadline = deadlineFrom(spec.deadline);
  if (deadline?.signal.aborted) {
    deadline.dispose();
    throw new ExecError('context deadline exceeded', { reason: 'timeout', argv: spec.argv });
  }

  installExitHook();
  const cap = spec.maxOutputBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const output = new CappedBuffer(cap);
  const stderrOnly = new CappedBuffer(cap);

  const child = spawn(program, args, {
    ...(spec.argv0 !== undefined ? { argv0: spec.argv0 } : {}),
    env: { ...spec.env },
    cwd: spec.cwd,
    stdio: stdioFor(spec.capture),
    detached: true,
    windowsHide: true,
  });
  const exited = waitForExit(child);
  if (child.pid !== undefined) liveGroups.add(child.pid);

  if (spec.capture === 'combined') {
    child.stdout?.on('data', (d: Buffer) => output.append(d));
    child.stderr?.on('data', (d: Buffer) => output.append(d));
  } else if (spec.capture === 'stdout') {
    child.stdout?.on('data', (d: Buffer) => output.append(d));
    child.stderr?.on('data', (d: Buffer) => stderrOnly.append(d));
  }

  let timedOut = false;
  const onAbort = (): void => {
    timedOut = true;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      killProcessTree(child.pid);
  };
  deadline?.signal.addEventListener('abort', onAbort, { once: true });

  const result = await exited;
  deadline?.signal.removeEventListener('abort', onAbort);

  const drainMs = spec.drainMs ?? DEFAULT_DRAIN_MS;
  const closed = await Promise.all([drain(child.stdout, drainMs), drain(child.stderr, drainMs)]);
  if (child.pid !== undefined) {
    // Descendants left in the child's group still hold its pipes after the drain time: they
    // would outlive the run (and the deadline never reaches them once the child is gone).
    if (closed.includes(false)) killGroup(child.pid);
    liveGroups.delete(child.pid);
  }
  deadline?.dispose();
  // A deadline that fired while we were draining still counts (the failure is "seen" now).
  timedOut ||= deadline?.signal.aborted === true;

  const outputText =
    spec.capture === 'combined' || spec.capture === 'stdout' ? output.toString() : '';
  const stderrText = spec.capture === 'stdout' ? stderrOnly.toString() : '';
  const excerptSource =
    spec.capture === 'stdout' && outputText.trim() === '' ? stderrText : outputText;
  const excerpt = redactSecrets(tailExcerpt(excerptSource), secrets);

  if ('spawnError' in result) {
    throw new ExecError(spawnFailureMessage(program, result.spawnError.code), {
      reason: 'spawn',
      argv: spec.argv,
      durationMs: elapsed(),
      cause: result.spawnError,
    });
  }

  if (result.code === 0) {
    return {
      output: outputText,
      stdout: spec.capture === 'stdout' ? outputText : '',
      stderr: stderrText,
      durationMs: elapsed(),
      truncated: output.truncated || stderrOnly.truncated,
      excerpt,
    };
  }

  const message =
    result.signal !== null ? signalMessage(result.signal) : exitStatusMessage(result.code ?? -1);
  const reason: ExecFailureReason = timedOut
    ? 'timeout'
    : result.signal !== null
      ? 'signal'
      : 'exit';
  throw new ExecError(message, {
    reason,
    argv: spec.argv,
    exitCode: result.code ?? undefined,
    signal: result.signal ?? undefined,
    output: outputText,
    stderr: stderrText,
    excerpt,
    durationMs: elapsed(),
  });
}
