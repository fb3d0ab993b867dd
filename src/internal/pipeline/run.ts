/**
 * token-push after startup (token-push.md 1.2 steps 12-14, 3): metrics probe, global deadline,
 * tracing, database, notifications, the pipeline, and the end of the run in the order
 * notifications → metrics push → database close (notifications-observability.md Q2 fix).
 */
import type { ServiceName } from '../config/index.js';
import { resolveProgram } from '../exec/index.js';
import { noopTokenPushMetrics, type TokenPushMetricEvents } from '../metrics/events.js';
import { setUpRunMetrics, type RunMetricsSetup } from '../metrics/run-setup.js';
import { loadTracingOrNoop } from '../tracing/api.js';
import type { TokenPushStartup } from '../cli/context.js';
import { tempDirFrom } from '../vaulttoken/files.js';
import { execRunner } from './exec-adapter.js';
import { runPipeline } from './stages.js';
import type { Concurrency, PipelineInput, RunMode, RunReport, TokenPushDb } from './types.js';
import { DEFAULT_CONCURRENCY } from './types.js';

export const DB_OPEN_FAILED = 'Could not open or create ManagedTokensDatabase';
/** Environment variable bounding parallel token stores (1 = the original's one-at-a-time). */
export const STORE_CONCURRENCY_ENV = 'MANAGED_TOKENS_STORE_CONCURRENCY';

/** What the entry point hands the run besides the startup context. */
export interface RunControl {
  /** Aborted on SIGINT/SIGTERM: ends the run like its global deadline, cleanup included. */
  readonly stop?: AbortSignal;
}

export async function runTokenPush(
  ctx: TokenPushStartup,
  control: RunControl = {},
): Promise<number> {
  const { log, config } = ctx;
  const executable = ctx.executable;

  const metricsSetup = await setUpRunMetrics(
    {
      prometheus: ctx.config.global.prometheus,
      executable,
      program: 'token-push',
      log,
      // Q19 fix: the probe is bounded (the original waited without limit).
      probeTimeoutMs: Math.min(10_000, ctx.timeouts.globalMs),
    },
    (m) => m.tokenPush,
    noopTokenPushMetrics,
  );
  const globalDeadline = new AbortController();
  const globalTimer = setTimeout(
    () => globalDeadline.abort(new Error('global timeout')),
    ctx.timeouts.globalMs,
  );
  const stopRun = (): void => {
    log.warn('Stopping the run on a termination signal; cleaning up');
    globalDeadline.abort(control.stop?.reason);
  };
  if (control.stop?.aborted === true) stopRun();
  else control.stop?.addEventListener('abort', stopRun, { once: true });

  const tracing = await loadTracingOrNoop({
    url: config.global.tracing.url,
    environment: ctx.devEnvironmentLabel,
    executable,
    log,
  });
  const db = await openDatabase(ctx);

  const selected = [
    ...ctx.services.map((s) => s.name),
    ...config.skippedServices.map((s) => s.name),
  ];
  const notifications = await setUpNotifications(ctx, db.handle, metricsSetup);
  if (db.handle === undefined)
    notifications.sink.send({ kind: 'setup', service: executable, message: DB_OPEN_FAILED });

  let report: RunReport | undefined;
  try {
    report = await tracing.withSpan(
      'token-push',
      { test: ctx.testMode ? true : undefined },
      () =>
        runPipeline({
          ...pipelineInput(
            ctx,
            db.handle,
            notifications.sink,
            metricsSetup.events,
            globalDeadline.signal,
            selected,
          ),
          tracing,
        }),
      { scope: 'token-push' },
    );
  } catch (err) {
    // Every stage handles its services' failures; this is a defect, reported instead of crashing.
    log.error({ err: (err as Error).stack ?? String(err) }, 'token-push run failed unexpectedly');
  } finally {
    clearTimeout(globalTimer);
    control.stop?.removeEventListener('abort', stopRun);
    const exitCode = report === undefined || report.nothingAssembled ? 1 : 0;
    if (report !== undefined) logPushSummary(ctx, report);
    metricsSetup.events.runOutcome({
      servicesOk: report?.successes.length ?? 0,
      servicesFailed: report?.failures.length ?? selected.length,
      durationSeconds: (Date.now() - ctx.startedAt.getTime()) / 1000,
      exitCode,
    });
    await notifications
      .finish()
      .catch((err: Error) => log.error({ err: err.message }, 'Could not deliver notifications'));
    await metricsSetup.push();
    db.close();
    await tracing.shutdown().catch(() => undefined);
  }
  return report === undefined || report.nothingAssembled ? 1 : 0;
}

function pipelineInput(
  ctx: TokenPushStartup,
  db: TokenPushDb | undefined,
  sink: PipelineInput['notifications'],
  metrics: TokenPushMetricEvents,
  signal: AbortSignal,
  selected: readonly ServiceName[],
): PipelineInput {
  const pathValue = ctx.env['PATH'];
  const mode: RunMode = ctx.testMode
    ? { kind: 'test' }
    : ctx.onboarding
      ? { kind: 'onboarding', push: ctx.pushAfterOnboarding }
      : { kind: 'normal' };
  const configured = new Set(ctx.services.map((s) => s.name.configName));
  return {
    log: ctx.log,
    env: ctx.env,
    programs: {
      kinit: ctx.programs.kinit,
      klist: ctx.programs.klist,
      condor_vault_storer: ctx.programs.condor_vault_storer,
      htgettoken: ctx.programs.htgettoken,
      condor_status: ctx.programs.condor_status,
      // Resolved here, never by the PATH search of the spawn: that one would try the working
      // directory for an empty or relative PATH entry.
      condor_config_val: resolveProgram('condor_config_val', pathValue) ?? '',
      ping: ctx.programs.ping,
      // Q8 fix: resolved once per run, before any push task starts.
      rsync: resolveProgram('rsync', pathValue) ?? '',
      ssh: resolveProgram('ssh', pathValue) ?? 'ssh',
    },
    timeouts: ctx.timeouts,
    pushRetry: ctx.config.retries.pushTokens,
    services: ctx.services,
    skipped: selected.filter((n) => !configured.has(n.configName)),
    mode,
    verbose: ctx.flags.verbose,
    runUID: process.getuid?.() ?? 0,
    tempDir: tempDirFrom(ctx.env),
    db,
    notifications: sink,
    metrics,
    run: execRunner,
    signal,
    concurrency: concurrencyFrom(ctx),
    startedAt: ctx.startedAt,
  };
}

/**
 * Parallel token stores: `workerType.storeAndGetToken.concurrency` (1 = the original's one at a
 * time); the environment variable, when set, wins for a one-off run.
 */
function concurrencyFrom(ctx: TokenPushStartup): Concurrency {
  const configured = { ...DEFAULT_CONCURRENCY, tokenStores: ctx.config.storeConcurrency };
  const raw = ctx.env[STORE_CONCURRENCY_ENV];
  if (raw === undefined || raw === '') return configured;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    ctx.log.warn(
      { variable: STORE_CONCURRENCY_ENV, value: raw },
      `${STORE_CONCURRENCY_ENV} must be a positive integer; using ${configured.tokenStores}`,
    );
    return configured;
  }
  return { ...DEFAULT_CONCURRENCY, tokenStores: value };
}

// ---- database ----

interface OpenedDb {
  readonly handle: (TokenPushDb & import('../notifications/index.js').ErrorCountStore) | undefined;
  close(): void;
}

async function openDatabase(ctx: TokenPushStartup): Promise<OpenedDb> {
  // The config resolves the default; an explicit "" stays "" and fails to open (N1), as warned.
  const location = ctx.config.global.dbLocation;
  try {
    const { ManagedTokensDb } = await import('../db/index.js');
    const db = ManagedTokensDb.open(location, { log: ctx.log });
    return { handle: db, close: () => db.close() };
  } catch (err) {
    ctx.log.error({ dbLocation: location, err: (err as Error).message }, DB_OPEN_FAILED);
    return { handle: undefined, close: () => undefined };
  }
}

// ---- notifications ----

async function setUpNotifications(
  ctx: TokenPushStartup,
  db: OpenedDb['handle'],
  metricsSetup: RunMetricsSetup<TokenPushMetricEvents>,
): Promise<import('../notifications/index.js').RunNotifications> {
  const n = await import('../notifications/index.js');
  const global = ctx.config.global;
  const serviceTargets = [
    ...ctx.services.map((s) => ({
      configName: s.name.configName,
      emails: s.emails,
      notificationsDisabled: s.notificationsDisabled,
    })),
    ...ctx.config.skippedServices.map((s) => ({
      configName: s.name.configName,
      emails: s.emails,
      notificationsDisabled: s.notificationsDisabled,
    })),
  ];
  const gating = n.resolveTokenPushGating({
    disabledByFlag: ctx.notificationsDisabledByFlag || ctx.onboarding,
    globalDisabled: global.disableNotifications,
    services: serviceTargets,
  });
  if (gating.adminBlockedBy !== undefined)
    ctx.log.debug(`Admin notifications disabled by ${gating.adminBlockedBy}`);
  return n.createTokenPushNotifications({
    log: ctx.log,
    db,
    errorCountToSendMessage: global.errorCountToSendMessage,
    testMode: ctx.testMode,
    email: n.emailSettingsFromConfig(global),
    admin:
      gating.adminBlockedBy !== undefined
        ? 'blocked'
        : n.adminTargetsFromConfig(global, ctx.testMode),
    services: serviceTargets.map((s) => ({
      configName: s.configName,
      emails: s.emails,
      blocked: gating.blockedServices.has(s.configName),
    })),
    executable: ctx.executable,
    metrics: metricsSetup.notificationMetrics,
  });
}

// ---- operator summary ----

/** One line per service and node: what landed where, or why not. */
function logPushSummary(ctx: TokenPushStartup, report: RunReport): void {
  for (const service of report.pushes) {
    if (service.source === undefined) {
      ctx.log.info(
        { service: service.configName },
        `Push summary: ${service.configName}: no token to push`,
      );
      continue;
    }
    for (const node of service.nodes) {
      const where = `${service.account}@${node.node}:${node.destinations.join(',')}`;
      ctx.log.info(
        {
          service: service.configName,
          node: node.node,
          ok: node.ok,
          destinations: node.destinations,
        },
        node.ok
          ? `Push summary: ${service.configName} -> ${where}: ok`
          : `Push summary: ${service.configName} -> ${node.node}: FAILED: ${node.error ?? ''}`,
      );
    }
  }
}
