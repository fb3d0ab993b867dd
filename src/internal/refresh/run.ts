/**
 * refresh-uids-from-ferry after startup (spec ferry-and-db.md 1.3 steps 10-13 and 1.4):
 * metrics probe, global deadline, tracing, then the run sequence. The end of every run that got
 * past the database open is: JWT cleanup → admin notifications → metrics push → database close
 * (notifications before the push: notifications-observability.md Q2 fix, as token-push does).
 */
import type { RefreshStartup } from '../cli/context.js';
import { ManagedTokensDb } from '../db/index.js';
import { noopRefreshMetrics, type RefreshMetricEvents } from '../metrics/events.js';
import type { NotificationMetrics, RunNotifications } from '../notifications/index.js';
import { setupError } from '../notifications/types.js';
import { setUpRunMetrics, type RunMetricsSetup } from '../metrics/run-setup.js';
import { loadTracingOrNoop } from '../tracing/api.js';
import { sequence, type RefreshSequenceInput } from './sequence.js';

export const DB_OPEN_FAILED = 'Could not open or create ManagedTokensDatabase';

type MetricsSetup = RunMetricsSetup<RefreshMetricEvents>;

/** What the entry point hands the run besides the startup context. */
export interface RunControl {
  /** Aborted on SIGINT/SIGTERM: ends the run like its global deadline, cleanup included. */
  readonly stop?: AbortSignal;
}

export async function runRefresh(ctx: RefreshStartup, control: RunControl = {}): Promise<number> {
  const metrics = await setUpRunMetrics(
    {
      prometheus: ctx.config.global.prometheus,
      executable: ctx.executable,
      program: 'refresh-uids-from-ferry',
      log: ctx.log,
      probeTimeoutMs: Math.min(10_000, ctx.timeouts.globalMs),
    },
    (m) => m.refresh,
    noopRefreshMetrics,
  );
  const globalDeadline = new AbortController();
  const globalTimer = setTimeout(
    () => globalDeadline.abort(new Error('global timeout exceeded')),
    ctx.timeouts.globalMs,
  );
  const stopRun = (): void => {
    ctx.log.warn('Stopping the run on a termination signal; cleaning up');
    globalDeadline.abort(control.stop?.reason);
  };
  if (control.stop?.aborted === true) stopRun();
  else control.stop?.addEventListener('abort', stopRun, { once: true });
  const tracing = await loadTracingOrNoop({
    url: ctx.config.global.tracing.url,
    environment: ctx.devEnvironmentLabel,
    executable: ctx.executable,
    log: ctx.log,
  });
  try {
    return await tracing.withSpan(
      'refresh-uids-from-ferry',
      { test: ctx.testMode, authmethod: ctx.authMethod },
      (span) =>
        runWithDatabase(ctx, metrics, globalDeadline.signal).then((code) => {
          if (code !== 0) span.markError(`exit code ${code}`);
          return code;
        }),
      { scope: 'refresh-uids-from-ferry' },
    );
  } finally {
    clearTimeout(globalTimer);
    control.stop?.removeEventListener('abort', stopRun);
    await tracing.shutdown().catch(() => undefined);
  }
}

async function runWithDatabase(
  ctx: RefreshStartup,
  metrics: MetricsSetup,
  signal: AbortSignal,
): Promise<number> {
  const { log } = ctx;
  if (ctx.notificationsDisabled)
    // notifications-observability.md 1.7: the reason is logged, as token-push and the original do
    log.debug({}, `Admin notifications disabled by ${ctx.notificationsDisabledReason ?? 'flag'}`);
  const dbLocation = ctx.config.global.dbLocation;
  let db: ManagedTokensDb;
  try {
    db = ManagedTokensDb.open(dbLocation, { log });
  } catch (err) {
    log.error(
      { dbLocation, err: (err as Error).message },
      `${DB_OPEN_FAILED}: ${(err as Error).message}`,
    );
    // Sent right away, without a database; nothing is pushed to the pushgateway on this path.
    const notifications = await setUpNotifications(ctx, metrics.notificationMetrics);
    notifications.sink.send(setupError(ctx.executable, DB_OPEN_FAILED));
    await notifications.finish();
    return 1;
  }
  const notifications = await setUpNotifications(ctx, metrics.notificationMetrics);
  const input: RefreshSequenceInput = {
    ctx,
    db,
    notify: (message) => notifications.sink.send(setupError(ctx.executable, message)),
    metrics: metrics.events,
    signal,
  };
  let code = 1;
  const cleanups: (() => void)[] = [];
  try {
    code = await sequence(input, cleanups);
    return code;
  } finally {
    for (const cleanup of cleanups) {
      try {
        cleanup();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'Cleanup after the run failed');
      }
    }
    metrics.events.runOutcome({
      accountsOk: input.outcome?.ok ?? 0,
      accountsFailed: input.outcome?.failed ?? 0,
      durationSeconds: (Date.now() - ctx.startedAt.getTime()) / 1000,
      exitCode: code,
    });
    await notifications
      .finish()
      .catch((err: Error) => log.error({ err: err.message }, 'Could not deliver notifications'));
    await metrics.push();
    db.close();
  }
}

// ---- notifications ----

async function setUpNotifications(
  ctx: RefreshStartup,
  metrics: NotificationMetrics | undefined,
): Promise<RunNotifications> {
  const n = await import('../notifications/index.js');
  const g = ctx.config.global;
  return n.createRefreshNotifications({
    log: ctx.log,
    testMode: ctx.testMode,
    email: n.emailSettingsFromConfig(g),
    admin: ctx.notificationsDisabled ? 'blocked' : n.adminTargetsFromConfig(g, ctx.testMode),
    executable: ctx.executable,
    metrics,
  });
}
