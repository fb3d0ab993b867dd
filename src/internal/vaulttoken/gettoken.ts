/**
 * Stage 2a (token-push.md 3.8, external-tools.md 3.7): a service whose `tokenGetterOverride` is
 * `getToken` obtains its vault token with htgettoken directly, without storing it in a credd.
 *
 * htgettoken always writes into a private temp file (pre-filled with the stored token so it can be
 * renewed); only a validated token is then moved over `<root>/vt_u<uid>-<realName>`, so a failed or
 * malformed fetch never replaces the stored one.
 */
import { promises as fs } from 'node:fs';
import type { CommandRunner, Env } from '../pipeline/command.js';
import { failedByDeadline, tokenToolEnv } from '../pipeline/command.js';
import { createPrivateTempFile, readIfExists, removeIfExists, writeFileAtomic } from './files.js';
import { storedTokenPath } from './paths.js';
import { authNeededText } from './scan.js';
import { checkVaultToken } from './validate.js';
import { bearerTokenWarnings } from './bearer.js';

export interface GetTokenRequest {
  readonly htgettokenPath: string;
  readonly vaultServer: string;
  /** E (real experiment) and R */
  readonly issuer: string;
  readonly role: string;
  readonly realName: string;
  readonly runUID: number;
  readonly tokenRoot: string;
  readonly tempDir: string;
  readonly cache: string;
  readonly htgettokenOpts: string;
  readonly verbose: boolean;
  readonly interactive: boolean;
  readonly env: Env;
  readonly deadline: AbortSignal;
  readonly run: CommandRunner;
}

export type GetTokenResult =
  | {
      readonly ok: true;
      readonly storedAt: string;
      readonly durationMs: number;
      readonly warnings: readonly string[];
      /** htgettoken's output, tail only, secrets masked ('' when interactive). */
      readonly outputExcerpt: string;
    }
  | {
      readonly ok: false;
      readonly timedOut: boolean;
      readonly error: string;
      /** htgettoken's output, tail only, secrets masked; absent when it did not run. */
      readonly outputExcerpt?: string;
    };

const HTG_CONTEXT = 'error running htgettoken to obtain bearer token';

export function htgettokenArgv(req: {
  htgettokenPath: string;
  vaultServer: string;
  issuer: string;
  vaultTokenFile: string;
  bearerFile: string;
  verbose: boolean;
  role: string;
}): string[] {
  return [
    req.htgettokenPath,
    '-a',
    req.vaultServer,
    '-i',
    req.issuer,
    '--vaulttokenfile',
    req.vaultTokenFile,
    '-o',
    req.bearerFile,
    ...(req.verbose ? ['--verbose'] : []),
    '--role',
    req.role,
  ];
}

export async function getToken(req: GetTokenRequest): Promise<GetTokenResult> {
  if (req.vaultServer === '')
    return { ok: false, timedOut: false, error: 'vault server cannot be empty' };
  const stored = storedTokenPath(req.tokenRoot, req.runUID, req.realName);
  const temps: string[] = [];
  try {
    const vaultTemp = await createPrivateTempFile(req.tempDir, 'managed_tokens_vault_token_');
    temps.push(vaultTemp);
    const bearerTemp = await createPrivateTempFile(req.tempDir, 'managed_tokens_bearer_token_');
    temps.push(bearerTemp);
    const previous = await readIfExists(stored);
    if (previous !== undefined) await fs.writeFile(vaultTemp, previous);

    const started = Date.now();
    const outcome = await req.run({
      argv: htgettokenArgv({ ...req, vaultTokenFile: vaultTemp, bearerFile: bearerTemp }),
      env: tokenToolEnv(req.env, {
        KRB5CCNAME: `FILE:${req.cache}`,
        _condor_COLLECTOR_HOST: '',
        HTGETTOKENOPTS: req.htgettokenOpts,
      }),
      signal: req.deadline,
      capture: req.interactive ? 'inherit' : 'combined',
    });
    if (!outcome.ok) {
      const outputExcerpt = outcome.excerpt;
      if (failedByDeadline(outcome, req.deadline)) {
        return {
          ok: false,
          timedOut: true,
          error: `could not get vault token: ${HTG_CONTEXT}: context deadline exceeded: timeout error`,
          outputExcerpt,
        };
      }
      const auth = req.interactive ? undefined : authNeededText(outcome.output);
      if (auth !== undefined) {
        return {
          ok: false,
          timedOut: false,
          error: `could not store and get vault tokens: ${HTG_CONTEXT}: ${auth}`,
          outputExcerpt,
        };
      }
      return {
        ok: false,
        timedOut: false,
        error: `could not store and get vault tokens: could not get vault token: ${HTG_CONTEXT}: ${outcome.message}`,
        outputExcerpt,
      };
    }
    const outputExcerpt = outcome.excerpt ?? '';
    const durationMs = Date.now() - started;

    let bearer: string;
    try {
      bearer = await fs.readFile(bearerTemp, 'utf8');
    } catch (err) {
      return {
        ok: false,
        timedOut: false,
        error: `could not read bearer token file written by htgettoken: ${(err as Error).message}`,
        outputExcerpt,
      };
    }
    const warnings = bearerTokenWarnings(bearer, req.issuer, req.role);

    const fetched = await readIfExists(vaultTemp);
    const check = checkVaultToken(fetched);
    if (!check.ok) {
      return {
        ok: false,
        timedOut: false,
        error: `htgettoken did not produce a valid vault token (${check.reason}); ${stored} was left unchanged`,
        outputExcerpt,
      };
    }
    if (previous === undefined || !previous.equals(fetched ?? Buffer.alloc(0))) {
      await writeFileAtomic(stored, `${check.token}\n`);
    } else {
      // Still valid and unchanged: only make sure a file written by older tools is private (Q3).
      await fs.chmod(stored, 0o600).catch(() => undefined);
    }
    return { ok: true, storedAt: stored, durationMs, warnings, outputExcerpt };
  } catch (err) {
    return {
      ok: false,
      timedOut: false,
      error: `could not get vault token: ${(err as Error).message}`,
    };
  } finally {
    for (const temp of temps) await removeIfExists(temp).catch(() => undefined);
  }
}
