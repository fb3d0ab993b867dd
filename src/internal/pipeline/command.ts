/**
 * The narrow view of process execution that the pipeline stages use. Stages never spawn processes
 * themselves: they build an argv array and an explicit environment and hand both to a CommandRunner.
 * Production wires the runner to src/internal/exec (see ./exec-adapter.ts); unit tests pass fakes.
 */

import { buildChildEnv, deadline } from '../exec/index.js';

export type Env = Readonly<Record<string, string>>;

/** How a child's output is treated (external-tools.md 2.4). `inherit` = interactive pass-through. */
export type Capture = 'combined' | 'stdout' | 'none' | 'inherit';

export interface CommandRequest {
  readonly argv: readonly string[];
  /** The child's argv[0] when it differs from argv[0], the program spawned (see exec CommandSpec). */
  readonly argv0?: string;
  readonly env: Env;
  /** Aborting kills the child's process group; the failure is then reported as a timeout. */
  readonly signal: AbortSignal;
  readonly capture: Capture;
  /** Strings masked in any output excerpt that reaches an error message or log. */
  readonly secrets?: readonly string[];
  /** Cap on captured output (exec's default, 1 MiB, when absent); see `truncated`. */
  readonly maxOutputBytes?: number;
}

export type CommandOutcome =
  | {
      readonly ok: true;
      readonly output: string;
      readonly stdout: string;
      readonly durationMs: number;
      /** The output exceeded the cap and its middle was dropped: not fit for parsing. */
      readonly truncated?: boolean;
      /** Tail of the output with secrets masked: safe for logs. */
      readonly excerpt?: string;
    }
  | {
      readonly ok: false;
      readonly reason: 'exit' | 'signal' | 'timeout' | 'spawn';
      /** Go-shaped text: `exit status 1`, `signal: killed`, `fork/exec <path>: no such file or directory`. */
      readonly message: string;
      /** Captured output, raw: for parsing only, never for logs. */
      readonly output: string;
      /** Tail of the output with secrets masked: safe for logs and notifications. */
      readonly excerpt: string;
      readonly durationMs: number;
    };

export type CommandRunner = (request: CommandRequest) => Promise<CommandOutcome>;

/** The five variables token-push manages for its children (external-tools.md 2.2). */
export type { ManagedVar as ManagedVariable } from '../exec/index.js';
import type { ManagedVar as ManagedVariable } from '../exec/index.js';

/** Recipe K (kinit, klist, rsync+ssh): parent environment with KRB5CCNAME pointing at the service cache. */
export function kerberosEnv(parent: Env, cacheFile: string): Env {
  return buildChildEnv(parent, 'K', { KRB5CCNAME: `FILE:${cacheFile}` });
}

/**
 * Recipe F (htgettoken, condor_vault_storer): parent environment without the five managed variables,
 * then exactly the given assignments (an assignment to `""` stays present as `NAME=`).
 */
export function tokenToolEnv(parent: Env, settings: Partial<Record<ManagedVariable, string>>): Env {
  return buildChildEnv(parent, 'F', settings);
}

/**
 * A signal that fires when the parent fires or after `ms`, whichever comes first (see
 * exec/deadline.ts for why it is a plain timer). Never disposed: the timer is unref'd and clears
 * itself, and its listener on the parent goes, when either fires.
 */
export function deadlineSignal(parent: AbortSignal, ms: number): AbortSignal {
  return deadline(ms, { parent, reason: () => new Error(`deadline of ${ms} ms exceeded`) }).signal;
}

/** The deadline passed before or while the command ran: the failure is reported as a timeout. */
export function failedByDeadline(outcome: CommandOutcome, signal: AbortSignal): boolean {
  return !outcome.ok && (outcome.reason === 'timeout' || signal.aborted);
}
