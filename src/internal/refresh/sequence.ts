/**
 * The observable steps of a refresh run once the database is open (spec ferry-and-db.md 1.4
 * steps 3-13, 1.5-1.7). Every error an operator must hear about is handed to `notify` (an admin
 * setup error); the caller delivers them at the end of the run.
 */
import type { RefreshStartup } from '../cli/context.js';
import type { ManagedTokensDb, UidRow } from '../db/index.js';
import { JwtSession, queryFerryUids, type AccountResult, type FerryAuth } from '../ferry/index.js';
import type { RefreshMetricEvents } from '../metrics/events.js';

export const MESSAGES = {
  jwtSetupFailed: 'Could not create service config to authenticate to FERRY with a JWT. Exiting',
  unsupportedAuth: 'unsupported authentication method to communicate with FERRY',
  accountFailed: (account: string) => `Could not get FERRY UID data for user ${account}`,
  noData: 'no data collected from FERRY',
  insertFailed: 'Could not insert FERRY data into database',
  verifyReadFailed: 'Error running verification of INSERT',
  verifyFailed: 'verification of INSERT failed.  Please check the logs',
} as const;

export interface RefreshSequenceInput {
  readonly ctx: RefreshStartup;
  readonly db: ManagedTokensDb;
  readonly notify: (message: string) => void;
  readonly metrics: RefreshMetricEvents;
  /** Global deadline of the run. */
  readonly signal: AbortSignal;
  /** Filled in once FERRY was queried (for the run-outcome metric). */
  outcome?: { ok: number; failed: number };
}

type AuthSelection =
  | { readonly ok: true; readonly auth: FerryAuth; readonly cleanup?: () => void }
  | { readonly ok: false; readonly notified: boolean };

/** Requests in flight at most; overridable for benchmarks through the parent environment. */
export const FERRY_CONCURRENCY_ENV = 'MANAGED_TOKENS_FERRY_CONCURRENCY';

function concurrencyFrom(env: Readonly<Record<string, string>>): number | undefined {
  const raw = env[FERRY_CONCURRENCY_ENV];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

const secondsSince = (startMs: number): number => (performance.now() - startMs) / 1000;

export async function sequence(
  input: RefreshSequenceInput,
  cleanups: (() => void)[],
): Promise<number> {
  const { ctx, db, notify, metrics, signal } = input;
  const { log } = ctx;

  // Step 3: set-up is done once the database and the notification manager exist.
  metrics.stageDuration('setup', (Date.now() - ctx.startedAt.getTime()) / 1000);

  // Step 4-5: accounts and authentication.
  const ferryStart = performance.now();
  const accounts = ctx.config.accounts;
  const selection = await selectAuth(ctx, signal);
  if (!selection.ok) {
    if (selection.notified) notify(MESSAGES.jwtSetupFailed);
    return 1;
  }
  if (selection.cleanup) cleanups.push(selection.cleanup);

  // Step 6: query FERRY for every account.
  const ferry = ctx.config.global.ferry;
  const concurrency = concurrencyFrom(ctx.env);
  const results = await queryFerryUids(accounts, {
    host: ferry.host,
    port: ferry.port,
    auth: selection.auth,
    requestTimeoutMs: ctx.timeouts.ferryRequestMs,
    ...(concurrency !== undefined ? { concurrency } : {}),
    log,
    signal,
    onResult: (r) => {
      if (r.ok) {
        metrics.ferryRequestSucceeded(r.durationSeconds);
      } else {
        metrics.ferryRequestFailed();
        notify(MESSAGES.accountFailed(r.account));
      }
    },
  });
  const collected = results.filter((r): r is Extract<AccountResult, { ok: true }> => r.ok);
  const failed = results.length - collected.length;
  input.outcome = { ok: collected.length, failed };
  if (failed > 0) {
    log.error(
      { failed, total: results.length },
      'Error getting UID info from FERRY for one or more accounts',
    );
  }
  // Step 7
  metrics.stageDuration('getFERRYData', secondsSince(ferryStart));

  // Step 8
  if (collected.length === 0) {
    log.error({}, MESSAGES.noData);
    notify(MESSAGES.noData);
    return 1;
  }
  const rows: UidRow[] = collected.map((r) => ({ username: r.account, uid: r.uid }));

  // Step 9
  if (ctx.testMode) {
    log.info({}, 'Finished gathering data from FERRY');
    log.info({}, rows.map((r) => `Username: ${r.username}, Uid: ${r.uid}`).join('; '));
    log.info({}, 'Test mode finished');
    return 0;
  }

  return refreshDatabase(input, rows);
}

/** Steps 10-13: one upsert transaction, read-back, verification, success metrics. */
function refreshDatabase(input: RefreshSequenceInput, rows: readonly UidRow[]): number {
  const { ctx, db, notify, metrics, signal } = input;
  const { log } = ctx;
  const dbStart = performance.now();
  try {
    if (signal.aborted) throw new Error('context deadline exceeded (global timeout)');
    db.insertUidsIntoTableFromFerry(rows, { timeoutMs: ctx.timeouts.dbMs });
  } catch (err) {
    log.error(
      { dbLocation: db.location, err: (err as Error).message },
      `${MESSAGES.insertFailed}: ${(err as Error).message}`,
    );
    notify(MESSAGES.insertFailed);
    return 1;
  }
  log.debug({ rows: rows.length }, 'Inserted FERRY data into database');

  let stored: UidRow[];
  try {
    stored = db.confirmUidsInTable();
  } catch (err) {
    log.error(
      { dbLocation: db.location, err: (err as Error).message },
      `${MESSAGES.verifyReadFailed}: ${(err as Error).message}`,
    );
    notify(MESSAGES.verifyReadFailed);
    return 1;
  }
  const present = new Set(stored.map((r) => `${r.username}\u0000${r.uid}`));
  const missing = rows.filter((r) => !present.has(`${r.username}\u0000${r.uid}`));
  if (missing.length > 0) {
    log.error(
      { missing: missing.map((r) => `${r.username}:${r.uid}`) },
      `${MESSAGES.verifyFailed}: ${missing.length} inserted row(s) not found in the database`,
    );
    notify(MESSAGES.verifyFailed);
    return 1;
  }
  log.info({ rows: rows.length }, 'Verified INSERT of FERRY data into the database');
  metrics.stageDuration('refreshManagedTokensDB', secondsSince(dbStart));
  metrics.lastFerryRefresh(Math.floor(Date.now() / 1000));
  return 0;
}

async function selectAuth(ctx: RefreshStartup, signal: AbortSignal): Promise<AuthSelection> {
  const { log } = ctx;
  const g = ctx.config.global;
  switch (ctx.authMethod) {
    case 'tls':
      log.debug({}, 'Using TLS client certificate to authenticate to FERRY');
      return {
        ok: true,
        auth: {
          kind: 'tls',
          files: { hostCert: g.ferry.hostCert, hostKey: g.ferry.hostKey, caPath: g.ferry.caPath },
        },
      };
    case 'jwt': {
      log.debug({ vaultServer: g.ferry.vaultServer }, 'Using JWT to authenticate to FERRY');
      try {
        const session = await JwtSession.start(
          {
            serviceExperiment: g.ferry.serviceExperiment,
            serviceRole: g.ferry.serviceRole,
            serviceKerberosPrincipal: g.ferry.serviceKerberosPrincipal,
            serviceKeytabPath: g.ferry.serviceKeytabPath,
            vaultServer: g.ferry.vaultServer,
            htgettokenopts: g.htgettokenopts,
            serviceCreddVaultTokenPathRoot: g.serviceCreddVaultTokenPathRoot,
          },
          {
            kinit: ctx.programs.kinit || 'kinit',
            klist: ctx.programs.klist || 'klist',
            htgettoken: ctx.programs.htgettoken || 'htgettoken',
          },
          ctx.env,
          log,
          signal,
        );
        return {
          ok: true,
          auth: { kind: 'jwt', session, env: ctx.env },
          cleanup: () => session.cleanup(),
        };
      } catch (err) {
        log.error(
          { err: (err as Error).message },
          `${MESSAGES.jwtSetupFailed}: ${(err as Error).message}`,
        );
        return { ok: false, notified: true };
      }
    }
    default:
      log.error(
        { authmethod: ctx.authMethod },
        `${MESSAGES.unsupportedAuth}: ${JSON.stringify(ctx.authMethod)}`,
      );
      return { ok: false, notified: false };
  }
}
