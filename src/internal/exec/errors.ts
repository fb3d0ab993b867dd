/**
 * Child failures in the shape Go's os/exec prints them (external-tools.md 2.6): some of these texts reach
 * notifications verbatim, e.g. `rsync command failed: exit status 12`.
 */

export type ExecFailureReason = 'exit' | 'signal' | 'timeout' | 'spawn';

export interface ExecErrorDetails {
  readonly reason: ExecFailureReason;
  readonly argv: readonly string[];
  /** Exit status when the child exited on its own. */
  readonly exitCode?: number | undefined;
  /** Signal that ended the child (SIGKILL after a deadline). */
  readonly signal?: NodeJS.Signals | undefined;
  /** Captured output (combined or stdout, per capture mode), NOT redacted: callers parse it. */
  readonly output?: string;
  /** Captured stderr when capture is 'stdout' (else ''), NOT redacted. */
  readonly stderr?: string;
  /** Tail of the output with secrets masked: safe for logs and notifications. */
  readonly excerpt?: string;
  readonly durationMs?: number;
  readonly cause?: unknown;
}

export class ExecError extends Error {
  override readonly name = 'ExecError';
  readonly reason: ExecFailureReason;
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly output: string;
  readonly stderr: string;
  readonly excerpt: string;
  readonly durationMs: number;

  constructor(message: string, details: ExecErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = details.reason;
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.output = details.output ?? '';
    this.stderr = details.stderr ?? '';
    this.excerpt = details.excerpt ?? '';
    this.durationMs = details.durationMs ?? 0;
  }

  /** True when the deadline fired: the caller reports "timeout error" whatever the exit status. */
  get timedOut(): boolean {
    return this.reason === 'timeout';
  }
}

/** Go's names for signals (syscall.Signal.String on Linux). */
const GO_SIGNAL_NAMES: Readonly<Partial<Record<NodeJS.Signals, string>>> = {
  SIGABRT: 'aborted',
  SIGALRM: 'alarm clock',
  SIGBUS: 'bus error',
  SIGCHLD: 'child exited',
  SIGFPE: 'floating point exception',
  SIGHUP: 'hangup',
  SIGILL: 'illegal instruction',
  SIGINT: 'interrupt',
  SIGKILL: 'killed',
  SIGPIPE: 'broken pipe',
  SIGQUIT: 'quit',
  SIGSEGV: 'segmentation fault',
  SIGSTOP: 'stopped (signal)',
  SIGSYS: 'bad system call',
  SIGTERM: 'terminated',
  SIGTRAP: 'trace/breakpoint trap',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'file size limit exceeded',
};

export function exitStatusMessage(code: number): string {
  return `exit status ${code}`;
}

export function signalMessage(signal: NodeJS.Signals): string {
  return `signal: ${GO_SIGNAL_NAMES[signal] ?? signal}`;
}

/** Go's strerror texts for the errno values a spawn can realistically hit. */
const ERRNO_TEXTS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOEXEC: 'exec format error',
  ENOTDIR: 'not a directory',
  E2BIG: 'argument list too long',
  ENOMEM: 'cannot allocate memory',
  EAGAIN: 'resource temporarily unavailable',
  ETXTBSY: 'text file busy',
  ELOOP: 'too many levels of symbolic links',
  EISDIR: 'is a directory',
};

/**
 * `fork/exec <path>: <errno text>` for an absolute/relative path; `exec: "<name>": executable file not found
 * in $PATH` for a bare name that PATH lookup did not find (Go's LookPath error).
 */
export function spawnFailureMessage(program: string, errno: string | undefined): string {
  if (!program.includes('/') && errno === 'ENOENT') {
    return `exec: "${program}": executable file not found in $PATH`;
  }
  const text =
    (errno !== undefined ? ERRNO_TEXTS[errno] : undefined) ??
    (errno ?? 'unknown error').toLowerCase();
  return `fork/exec ${program}: ${text}`;
}

/** Go's text for running an empty resolved path (ping missing at startup). */
export const NO_COMMAND_MESSAGE = 'exec: no command';
