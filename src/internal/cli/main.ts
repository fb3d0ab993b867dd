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

/** SIGINT/SIGTERM → a normal exit, so the exec module's exit hook kills running child process groups. */
function exitOnTerminationSignals(): void {
  for (const [signal, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
  ] as const) {
    process.once(signal, () => process.exit(128 + number));
  }
}

async function finish(code: number, logger: LoggerHandle | undefined): Promise<never> {
  await logger?.close();
  process.exit(code);
}

async function runWith<C extends { log: LoggerHandle['log'] }>(
  outcome: StartupOutcome<C>,
  run: (ctx: C) => Promise<number>,
): Promise<never> {
  if (outcome.kind === 'exit') return finish(outcome.code, outcome.logger);
  let code: number;
  try {
    code = await run(outcome.ctx);
  } catch (err) {
    outcome.ctx.log.fatal({ err }, `Unexpected error: ${(err as Error).message}`);
    code = 1;
  }
  outcome.ctx.log.debug({ exitCode: code }, 'Finished run');
  return finish(code, outcome.logger);
}

export async function mainTokenPush(facts: ProcessFacts = realProcessFacts()): Promise<never> {
  exitOnTerminationSignals();
  const outcome = await startTokenPush(facts);
  return runWith<TokenPushStartup>(outcome, async (ctx) => {
    const { runTokenPush } = await import('../pipeline/run.js');
    return runTokenPush(ctx);
  });
}

export async function mainRefresh(facts: ProcessFacts = realProcessFacts()): Promise<never> {
  exitOnTerminationSignals();
  const outcome = await startRefresh(facts);
  return runWith<RefreshStartup>(outcome, async (ctx) => {
    const { runRefresh } = await import('../refresh/run.js');
    return runRefresh(ctx);
  });
}
