/** Production CommandRunner: src/internal/exec's runCommand, with failures as values instead of throws. */
import { ExecError, runCommand } from '../exec/index.js';
import type { CommandOutcome, CommandRequest, CommandRunner } from './command.js';

export const execRunner: CommandRunner = async (
  request: CommandRequest,
): Promise<CommandOutcome> => {
  const started = Date.now();
  try {
    const result = await runCommand({
      argv: request.argv,
      argv0: request.argv0,
      env: request.env,
      capture: request.capture,
      deadline: request.signal,
      secrets: request.secrets,
      maxOutputBytes: request.maxOutputBytes,
    });
    return {
      ok: true,
      output: result.output,
      stdout: result.stdout,
      durationMs: result.durationMs,
      truncated: result.truncated,
      excerpt: result.excerpt,
    };
  } catch (err) {
    if (err instanceof ExecError) {
      return {
        ok: false,
        reason: err.reason,
        message: err.message,
        output: err.output,
        excerpt: err.excerpt,
        durationMs: err.durationMs,
      };
    }
    return {
      ok: false,
      reason: 'spawn',
      message: (err as Error).message,
      output: '',
      excerpt: '',
      durationMs: Date.now() - started,
    };
  }
};
