/**
 * Stage 1 of token-push (token-push.md 3.7, external-tools.md 3.1-3.2): obtain a ticket from the
 * service keytab into the service's private `FILE:` cache and verify it with klist.
 */
import type { CommandRunner, Env } from '../pipeline/command.js';
import { failedByDeadline, kerberosEnv } from '../pipeline/command.js';

export interface TicketRequest {
  readonly kinitPath: string;
  readonly klistPath: string;
  readonly keytab: string;
  readonly principal: string;
  /** Path of the pre-created cache file (KRB5CCNAME=FILE:<cache>). */
  readonly cache: string;
  /** Parent environment; KRB5CCNAME is replaced for both children. */
  readonly env: Env;
  /** One budget for kinit and klist together. */
  readonly deadline: AbortSignal;
  readonly run: CommandRunner;
}

export type TicketResult =
  | { readonly ok: true; readonly durationMs: number }
  | { readonly ok: false; readonly timedOut: boolean; readonly error: string };

export function kinitArgv(kinitPath: string, keytab: string, principal: string): string[] {
  return [kinitPath, '-k', '-t', keytab, principal];
}

/** First `Default principal: ...` line of klist's output (MIT format), or undefined. */
export function parseDefaultPrincipal(klistOutput: string): string | undefined {
  const match = /Default principal: (.+)/.exec(klistOutput);
  return match?.[1]?.replace(/\r$/, '');
}

export async function obtainTicket(req: TicketRequest): Promise<TicketResult> {
  const env = kerberosEnv(req.env, req.cache);
  const started = Date.now();
  const kinit = await req.run({
    argv: kinitArgv(req.kinitPath, req.keytab, req.principal),
    env,
    signal: req.deadline,
    capture: 'combined',
  });
  if (!kinit.ok) {
    return {
      ok: false,
      timedOut: failedByDeadline(kinit, req.deadline),
      error: `kinit failed: ${kinit.message}${excerpt(kinit.excerpt)}`,
    };
  }
  const klist = await req.run({
    argv: [req.klistPath],
    env,
    signal: req.deadline,
    capture: 'combined',
  });
  if (!klist.ok) {
    return {
      ok: false,
      timedOut: failedByDeadline(klist, req.deadline),
      error: `klist failed: ${klist.message}${excerpt(klist.excerpt)}`,
    };
  }
  const found = parseDefaultPrincipal(klist.output);
  if (found === undefined) {
    return { ok: false, timedOut: false, error: 'klist output has no "Default principal:" line' };
  }
  if (found !== req.principal) {
    return {
      ok: false,
      timedOut: false,
      error: `klist reports default principal ${found}, expected ${req.principal}`,
    };
  }
  return { ok: true, durationMs: Date.now() - started };
}

function excerpt(output: string): string {
  const text = output.trim();
  return text === '' ? '' : `: ${text.slice(0, 500)}`;
}
