/**
 * Metrics for one run of an executable, as both executables use them: probe the pushgateway at
 * start (a failure disables metrics for the run, as in the original), hand out the events, and push
 * at the end. This file loads prom-client only through a dynamic import, so importing it costs
 * nothing on the --version / --list-services paths.
 */
import type { Logger } from 'pino';
import type { NotificationMetrics } from '../notifications/metrics.js';
import type { NotificationMetricEvents } from './events.js';
import type { RunMetrics } from './index.js';

export interface RunMetricsSetup<E> {
  readonly events: E;
  /** Undefined when metrics are disabled for this run. */
  readonly notificationMetrics: NotificationMetrics | undefined;
  /** Pushes the run's registry; never throws (failures are logged). */
  push(): Promise<void>;
}

export interface RunMetricsSettings {
  /** `prometheus.*` as resolved by the config; `jobName` already carries the dev-environment label. */
  readonly prometheus: {
    readonly host: string;
    readonly jobName: string;
    readonly singleGroup?: boolean;
  };
  readonly executable: string;
  readonly program: 'token-push' | 'refresh-uids-from-ferry';
  readonly log: Logger;
  readonly probeTimeoutMs: number;
}

export async function setUpRunMetrics<E>(
  settings: RunMetricsSettings,
  pick: (metrics: RunMetrics) => E,
  disabledEvents: E,
): Promise<RunMetricsSetup<E>> {
  const disabled: RunMetricsSetup<E> = {
    events: disabledEvents,
    notificationMetrics: undefined,
    push: async () => undefined,
  };
  const { prometheus, log } = settings;
  try {
    const m = await import('./index.js');
    // An empty or scheme-less host fails the probe, which logs the original's error line.
    const up = await m.probePushgateway(prometheus.host, {
      log,
      timeoutMs: settings.probeTimeoutMs,
    });
    if (!up) return disabled;
    const runMetrics = m.createRunMetrics({
      executable: settings.executable,
      program: settings.program,
    });
    return {
      events: pick(runMetrics),
      notificationMetrics: notificationMetricsOf(runMetrics.notifications),
      push: async () => {
        await m.pushMetrics({
          host: prometheus.host,
          job: prometheus.jobName,
          singleGroup: prometheus.singleGroup === true,
          executable: settings.executable,
          registry: runMetrics.registry,
          log,
        });
      },
    };
  } catch (err) {
    log.error({ err: (err as Error).message }, 'Could not set up metrics; continuing without them');
    return disabled;
  }
}

/** The notifications module's metric interface over the metrics module's events. */
export function notificationMetricsOf(events: NotificationMetricEvents): NotificationMetrics {
  return {
    setupErrorCount: (service, count) => events.setupErrorCount(service, count),
    pushErrorCount: (service, node, count) => events.pushErrorCount(service, node, count),
    serviceEmailAttempt: (service, success, seconds) => {
      events.serviceEmailAttempted(service, success);
      if (success) events.serviceEmailSent(seconds);
    },
    adminNotificationAttempt: (type, success, seconds) => {
      events.adminNotificationAttempted(type, success);
      if (success) events.adminNotificationSent(type, seconds);
    },
  };
}
