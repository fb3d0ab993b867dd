/**
 * Prometheus metrics of one run, and the pushgateway protocol.
 *
 * Load this module LAZILY (`await import('../internal/metrics/index.js')`) from the
 * executables, after the config is read: it pulls in prom-client and undici, which
 * `--version` and `--list-services` must not pay for. Producers (pipeline, refresh,
 * notifications) import only `./events.js`, which has no dependencies.
 *
 * API
 *   createRunMetrics({ executable, program? }) -> RunMetrics
 *     executable: the `executable` label value (basename of the running binary).
 *     program:    which executable's families/help strings to use; derived from `executable`
 *                 when omitted ('refresh-uids-from-ferry' if the name contains "refresh").
 *     RunMetrics = { registry, tokenPush: TokenPushMetricEvents, refresh: RefreshMetricEvents,
 *                    notifications: NotificationMetricEvents }
 *   probePushgateway(host, { timeoutMs?, log }) -> Promise<boolean>
 *     Start-up probe: GET <normalised host>; any HTTP answer = up. Logs the original's error.
 *   pushMetrics({ host, job, executable, singleGroup?, registry, timeoutMs?, log }) -> Promise<boolean>
 *     PUT <base>/metrics/job/<job>/executable/<executable> (or without the executable label when
 *     singleGroup is true, the original's behaviour). Never throws; logs success/failure.
 *   jobName(prometheus.jobname, devEnvironmentLabel) -> string
 *
 * Intended use in an executable (spec 4.1, token-push.md 3.18):
 *   const m = await import('.../metrics/index.js');
 *   const run = m.createRunMetrics({ executable });
 *   const up = await m.probePushgateway(cfg.prometheus.host, { timeoutMs, log });
 *   const events = up ? run.tokenPush : noopTokenPushMetrics;      // from events.js
 *   ... run ...; events.runOutcome(...);
 *   if (up) await m.pushMetrics({ host, job: m.jobName(cfg.prometheus.jobName, label), executable,
 *                                 singleGroup, registry: run.registry, log });
 */
import { Registry } from 'prom-client';
import { createCatalogue, type Catalogue, type Program } from './catalogue.js';
import type {
  AdminNotificationType,
  NotificationMetricEvents,
  RefreshMetricEvents,
  TokenPushMetricEvents,
} from './events.js';

export type { Program } from './catalogue.js';
export * from './events.js';
export {
  DEFAULT_JOB_NAME,
  DEFAULT_PUSHGATEWAY_TIMEOUT_MS,
  jobName,
  probePushgateway,
  pushMetrics,
  pushUrl,
  pushgatewayBaseUrl,
  type MetricsLog,
  type ProbeOptions,
  type PushOptions,
  type PushTarget,
} from './pushgateway.js';

export interface RunMetricsOptions {
  readonly executable: string;
  readonly program?: Program;
  /** Clock in milliseconds since the epoch (tests). */
  readonly now?: () => number;
}

export interface RunMetrics {
  readonly registry: Registry;
  readonly tokenPush: TokenPushMetricEvents;
  readonly refresh: RefreshMetricEvents;
  readonly notifications: NotificationMetricEvents;
}

function programOf(executable: string): Program {
  return executable.includes('refresh') ? 'refresh-uids-from-ferry' : 'token-push';
}

/** One private registry per run; no process/runtime collectors (as the original). */
export function createRunMetrics(opts: RunMetricsOptions): RunMetrics {
  const program = opts.program ?? programOf(opts.executable);
  const now = opts.now ?? Date.now;
  const registry = new Registry();
  const c = createCatalogue(registry, program);
  const nowSeconds = (): number => now() / 1000;
  return {
    registry,
    tokenPush: tokenPushEvents(c, opts.executable, nowSeconds),
    refresh: refreshEvents(c, opts.executable),
    notifications: notificationEvents(c, nowSeconds),
  };
}

function tokenPushEvents(
  c: Catalogue,
  executable: string,
  nowSeconds: () => number,
): TokenPushMetricEvents {
  // Per service/node: did any file copy fail this run? A node counts as pushed only when none did.
  const nodeFailed = new Set<string>();
  const nodeKey = (service: string, node: string): string => `${service}\u0000${node}`;
  return {
    stageDuration: (stage, seconds) => c.stageDuration.set({ executable, stage }, seconds),
    kinitSucceeded: (service, seconds) => c.kinitDuration.set({ service }, seconds),
    kinitFailed: (service) => c.kinitFailureCount.inc({ service }),
    tokenGetSucceeded: (service, seconds) => {
      c.tokenGetTimestamp.set({ service }, nowSeconds());
      c.tokenGetDuration.set({ service }, seconds);
    },
    tokenGetFailed: (service) => c.tokenGetFailureCount.inc({ service }),
    tokenStoreSucceeded: (service, credd, seconds) => {
      c.tokenStoreTimestamp.set({ service, credd }, nowSeconds());
      c.tokenStoreDuration.set({ service, credd }, seconds);
    },
    tokenStoreFailed: (service, credd) => c.tokenStoreFailureCount.inc({ service, credd }),
    pingSucceeded: (node, seconds) => c.pingDuration.observe({ node }, seconds),
    pingFailed: (node) => c.pingFailureCount.inc({ node }),
    tokenPushItemSucceeded: (service, node, seconds) => {
      c.tokenPushDuration.set({ service, node }, seconds);
      if (!nodeFailed.has(nodeKey(service, node))) {
        c.nodePushSuccessTimestamp?.set({ service, node }, nowSeconds());
      }
    },
    tokenPushItemFailed: (service, node) => {
      c.tokenPushFailureCount.inc({ service, node });
      nodeFailed.add(nodeKey(service, node));
      c.nodePushSuccessTimestamp?.remove({ service, node });
    },
    servicePushedToNodes: (service, nodes) => {
      const t = nowSeconds();
      for (const node of nodes) c.tokenPushTimestamp.set({ service, node }, t);
    },
    pushedTokenAge: (service, seconds) => c.pushedTokenAge?.set({ service }, seconds),
    failedServices: (count) => c.failedServicesPushCount?.set(count),
    runOutcome: ({ servicesOk, servicesFailed, durationSeconds, exitCode }) => {
      c.runServices?.set({ executable, result: 'ok' }, servicesOk);
      c.runServices?.set({ executable, result: 'failed' }, servicesFailed);
      c.runDuration.set({ executable }, durationSeconds);
      c.runExitCode.set({ executable }, exitCode);
    },
  };
}

function refreshEvents(c: Catalogue, executable: string): RefreshMetricEvents {
  return {
    stageDuration: (stage, seconds) => c.stageDuration.set({ executable, stage }, seconds),
    ferryRequestSucceeded: (seconds) => c.ferryRequestDuration.observe(seconds),
    ferryRequestFailed: () => c.ferryRequestErrorCount.inc(),
    lastFerryRefresh: (unixSeconds) => c.lastFerryRefresh?.set(unixSeconds),
    runOutcome: ({ accountsOk, accountsFailed, durationSeconds, exitCode }) => {
      c.runFerryAccounts?.set({ executable, result: 'ok' }, accountsOk);
      c.runFerryAccounts?.set({ executable, result: 'failed' }, accountsFailed);
      c.runDuration.set({ executable }, durationSeconds);
      c.runExitCode.set({ executable }, exitCode);
    },
  };
}

function notificationEvents(c: Catalogue, nowSeconds: () => number): NotificationMetricEvents {
  const success = (ok: boolean): string => (ok ? 'true' : 'false');
  return {
    setupErrorCount: (service, count) => c.setupErrorCount.set({ service }, count),
    pushErrorCount: (service, node, count) => c.pushErrorCount.set({ service, node }, count),
    serviceEmailAttempted: (service, ok) =>
      c.serviceEmailTimestamp.set({ service, success: success(ok) }, nowSeconds()),
    serviceEmailSent: (seconds) => c.serviceEmailDuration.observe(seconds),
    adminNotificationAttempted: (type: AdminNotificationType, ok) =>
      c.adminNotificationTimestamp.set(
        { notification_type: type, success: success(ok) },
        nowSeconds(),
      ),
    adminNotificationSent: (type: AdminNotificationType, seconds) =>
      c.adminNotificationDuration.set({ notification_type: type }, seconds),
  };
}
