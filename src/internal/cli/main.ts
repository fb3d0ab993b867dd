/**
 * Process glue for the entry points: real process facts in, startup, the run function (loaded lazily so
 * `--version`/`--list-services` never load metrics, tracing, sqlite or mail), flush, exit.
 */
import { writeSync } from 'node:fs';
import type { LoggerHandle } from '../logging/index.js';
import type { RefreshStartup, TokenPushStartup } from './context.js';
import { startRefresh, startTokenPush, type ProcessFacts, type StartupOutcome } from './startup.js';

function writeFd(fd: 1 | 2): (text: string) => void {
  return (text) => {
    try {
      writeSync(fd, text);
    } catch {
      // closed stream: nothing to report to
    }
  };
}

export function realProcessFacts(): ProcessFacts {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    uid: process.getuid?.() ?? -1,
    writeStdout: writeFd(1),
    writeStderr: writeFd(2),
  };
}

/** How long the run may take to clean up after SIGINT/SIGTERM before we exit regardless. */
export const SIGNAL_CLEANUP_CAP_MS = 10_000;

/**
 * SIGINT/SIGTERM stop the run instead of exiting on the spot: `stop` aborts the run's global
 * deadline, so running children are killed and every stage's cleanup (per-run Kerberos caches,
 * temporary token copies, the staged condor-location backup) runs as after a timeout. The process
 * then exits with 128+signal, at the latest after SIGNAL_CLEANUP_CAP_MS or at a second signal (the
 * exec module's exit hook still kills child process groups left running).
 */
class TerminationHandler {
  readonly stop = new AbortController();
  private exitCode: number | undefined;

  install(): void {
    for (const [signal, number] of [
      ['SIGINT', 2],
      ['SIGTERM', 15],
    ] as const) {
      process.on(signal, () => this.received(signal, 128 + number));
    }
  }

  /** The code to exit with: 128+signal once a signal arrived, else the run's own. */
  codeFor(runCode: number): number {
    return this.exitCode ?? runCode;
  }

  private received(signal: NodeJS.Signals, code: number): void {
    if (this.exitCode !== undefined) process.exit(this.exitCode); // second signal: now
    this.exitCode = code;
    this.stop.abort(new Error(`received ${signal}`));
    setTimeout(() => process.exit(code), SIGNAL_CLEANUP_CAP_MS);
  }
}

async function finish(code: number, logger: LoggerHandle | undefined): Promise<never> {
  await logger?.close();
  process.exit(code);
}

async function runWith<C extends { log: LoggerHandle['log'] }>(
  outcome: StartupOutcome<C>,
  termination: TerminationHandler,
  run: (ctx: C) => Promise<number>,
): Promise<never> {
  if (outcome.kind === 'exit') return finish(termination.codeFor(outcome.code), outcome.logger);
  let code: number;
  try {
    code = await run(outcome.ctx);
  } catch (err) {
    outcome.ctx.log.fatal({ err }, `Unexpected error: ${(err as Error).message}`);
    code = 1;
  }
  code = termination.codeFor(code);
  outcome.ctx.log.debug({ exitCode: code }, 'Finished run');
  return finish(code, outcome.logger);
}

export async function mainTokenPush(facts: ProcessFacts = realProcessFacts()): Promise<never> {
  const termination = new TerminationHandler();
  termination.install();
  const outcome = await startTokenPush(facts);
  return runWith<TokenPushStartup>(outcome, termination, async (ctx) => {
    const { runTokenPush } = await import('../pipeline/run.js');
    return runTokenPush(ctx, { stop: termination.stop.signal });
  });
}

export async function mainRefresh(facts: ProcessFacts = realProcessFacts()): Promise<never> {
  const termination = new TerminationHandler();
  termination.install();
  const outcome = await startRefresh(facts);
  return runWith<RefreshStartup>(outcome, termination, async (ctx) => {
    const { runRefresh } = await import('../refresh/run.js');
    return runRefresh(ctx, { stop: termination.stop.signal });
  });
}
