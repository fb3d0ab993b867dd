/**
 * Stage 2b (token-push.md 3.9, external-tools.md 3.5): store a service's vault token in each of its
 * credds with condor_vault_storer, one schedd after the other.
 *
 * Around each call the stored token `<root>/vt_u<uid>-<schedd>-<realName>` is staged where the storer
 * looks for it (`$TMP/vt_u<uid>-<realName>`), whatever was there before is backed up and put back
 * afterwards. The stored file is only replaced (atomically, 0600) by a token that the storer
 * reported success for and that looks like a vault token.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CommandRunner, Env } from '../pipeline/command.js';
import { deadlineSignal, failedByDeadline, tokenToolEnv } from '../pipeline/command.js';
import {
  createPrivateTempFile,
  moveFile,
  readIfExists,
  removeIfExists,
  writeFileAtomic,
} from './files.js';
import { condorTokenPath, scheddTokenPath } from './paths.js';
import { authNeededText } from './scan.js';
import { checkVaultToken } from './validate.js';

export interface StoreRequest {
  readonly storerPath: string;
  readonly realName: string;
  readonly schedds: readonly string[];
  readonly collector: string;
  readonly vaultServer: string;
  readonly runUID: number;
  readonly tokenRoot: string;
  readonly tempDir: string;
  readonly cache: string;
  readonly htgettokenOpts: string;
  readonly interactive: boolean;
  readonly env: Env;
  /** Global deadline; each schedd gets a fresh `perScheddMs` budget below it. */
  readonly signal: AbortSignal;
  readonly perScheddMs: number;
  readonly run: CommandRunner;
  /** Called after each schedd (metrics, logs). */
  readonly onSchedd?: (result: ScheddResult) => void;
}

export type ScheddFailure =
  | { readonly kind: 'timeout' }
  | { readonly kind: 'authNeeded'; readonly text: string }
  | { readonly kind: 'malformedToken'; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: string };

export type ScheddResult =
  | {
      readonly schedd: string;
      readonly ok: true;
      readonly durationMs: number;
      readonly stored: boolean;
      /** Problems with the file choreography that did not fail the store (e.g. a restore). */
      readonly log: string[];
      /** The storer's output, tail only, secrets masked ('' when interactive). */
      readonly outputExcerpt: string;
    }
  | {
      readonly schedd: string;
      readonly ok: false;
      readonly failure: ScheddFailure;
      readonly log: string[];
      /** The storer's output, tail only, secrets masked; absent when it did not run. */
      readonly outputExcerpt?: string;
    };

export interface StoreResult {
  readonly ok: boolean;
  readonly schedds: readonly ScheddResult[];
  /** Notification text when !ok (token-push.md 3.9, N4). */
  readonly message: string;
}

export const STORE_FAILED = 'Could not store and get vault tokens';

export async function storeAndGetToken(req: StoreRequest): Promise<StoreResult> {
  if (req.schedds.length === 0) {
    // Q10 fix: nothing stored is a failure of this stage, named as such.
    return {
      ok: false,
      schedds: [],
      message: `${STORE_FAILED}; no schedds were found for this service on collector ${req.collector}`,
    };
  }
  const results: ScheddResult[] = [];
  for (const schedd of req.schedds) {
    const result = await storeInSchedd(req, schedd);
    results.push(result);
    req.onSchedd?.(result);
  }
  return { ok: results.every((r) => r.ok), schedds: results, message: failureMessage(results) };
}

export function failureMessage(results: readonly ScheddResult[]): string {
  let text = STORE_FAILED;
  for (const r of results) {
    if (r.ok) continue;
    const f = r.failure;
    if (f.kind === 'timeout') text += `; ${r.schedd}: timeout error`;
    else if (f.kind === 'authNeeded') text += `; ${r.schedd}: ${f.text}`;
    else if (f.kind === 'malformedToken')
      text += `; ${r.schedd}: condor_vault_storer left a malformed vault token (${f.reason})`;
  }
  return text;
}

async function storeInSchedd(req: StoreRequest, schedd: string): Promise<ScheddResult> {
  const deadline = deadlineSignal(req.signal, req.perScheddMs);
  const log: string[] = [];
  let outputExcerpt: string | undefined;
  const fail = (failure: ScheddFailure): ScheddResult => ({
    schedd,
    ok: false,
    failure,
    log,
    ...(outputExcerpt !== undefined ? { outputExcerpt } : {}),
  });
  if (deadline.aborted) return fail({ kind: 'timeout' });

  const condorLocation = condorTokenPath(req.tempDir, req.runUID, req.realName);
  let stored: string;
  try {
    stored = scheddTokenPath(req.tokenRoot, req.runUID, schedd, req.realName);
  } catch (err) {
    return fail({ kind: 'failed', error: (err as Error).message });
  }
  let backup: string | undefined;
  try {
    backup = await backUp(condorLocation, req.tempDir);
  } catch (err) {
    return fail({
      kind: 'failed',
      error: `could not back up ${condorLocation}: ${(err as Error).message}`,
    });
  }
  try {
    const staged = await stage(stored, condorLocation);
    if (deadline.aborted) return fail({ kind: 'timeout' });

    const started = Date.now();
    const outcome = await req.run({
      argv: [req.storerPath, req.realName],
      env: tokenToolEnv(req.env, {
        KRB5CCNAME: `FILE:${req.cache}`,
        _condor_CREDD_HOST: schedd,
        _condor_COLLECTOR_HOST: req.collector,
        HTGETTOKENOPTS: req.htgettokenOpts,
        _condor_SEC_CREDENTIAL_GETTOKEN_OPTS: `-a ${req.vaultServer}`,
      }),
      signal: deadline,
      capture: req.interactive ? 'inherit' : 'combined',
    });
    outputExcerpt = outcome.excerpt ?? '';
    if (!outcome.ok) {
      if (failedByDeadline(outcome, deadline)) return fail({ kind: 'timeout' });
      const auth = req.interactive ? undefined : authNeededText(outcome.output);
      if (auth !== undefined) return fail({ kind: 'authNeeded', text: auth });
      return fail({
        kind: 'failed',
        error: `condor_vault_storer ${req.realName} for ${schedd}: ${outcome.message}`,
      });
    }
    const durationMs = Date.now() - started;

    const written = await readIfExists(condorLocation);
    if (written === undefined) {
      // The storer judged the staged token still good or had nothing to write (ok-notoken).
      return { schedd, ok: true, durationMs, stored: false, log, outputExcerpt };
    }
    const check = checkVaultToken(written);
    if (!check.ok) return fail({ kind: 'malformedToken', reason: check.reason });
    if (staged === undefined || !staged.equals(written))
      await writeFileAtomic(stored, `${check.token}\n`);
    else await fs.chmod(stored, 0o600).catch(() => undefined);
    return { schedd, ok: true, durationMs, stored: true, log, outputExcerpt };
  } catch (err) {
    return fail({ kind: 'failed', error: (err as Error).message });
  } finally {
    await removeIfExists(condorLocation).catch((err: Error) =>
      log.push(`could not remove ${condorLocation}: ${err.message}`),
    );
    if (backup !== undefined) await restore(backup, condorLocation, req, log);
  }
}

/**
 * Moves a pre-existing condor-location token aside; returns where it went. When the move fails the
 * empty placeholder is removed again, so no stray file is left in the temp directory.
 */
export async function backUp(
  condorLocation: string,
  tempDir: string,
  move: (from: string, to: string) => Promise<void> = moveFile,
): Promise<string | undefined> {
  const previous = await readIfExists(condorLocation);
  if (previous === undefined) return undefined;
  const backup = await createPrivateTempFile(tempDir, 'managed_tokens_condor_vault_token');
  try {
    await move(condorLocation, backup);
  } catch (err) {
    await removeIfExists(backup).catch(() => undefined);
    throw err;
  }
  return backup;
}

/**
 * Copies the stored token to the condor location (0600). The stored file stays in place until a
 * validated replacement exists. Returns the staged content.
 */
async function stage(stored: string, condorLocation: string): Promise<Buffer | undefined> {
  const content = await readIfExists(stored);
  if (content === undefined) return undefined;
  await writeFileAtomic(condorLocation, content);
  return content;
}

async function restore(
  backup: string,
  condorLocation: string,
  req: StoreRequest,
  log: string[],
): Promise<void> {
  try {
    await moveFile(backup, condorLocation);
  } catch (err) {
    const fallback = path.join(
      req.tempDir,
      `managed_tokens_vt_bak-${req.realName}-${new Date().toISOString()}`,
    );
    log.push(
      `could not restore ${condorLocation} from its backup: ${(err as Error).message}; keeping it at ${fallback}`,
    );
    await moveFile(backup, fallback).catch((e: Error) =>
      log.push(`could not keep backup at ${fallback}: ${e.message}`),
    );
  }
}
