/**
 * token-push notifications (spec notifications-observability.md 1.3, 1.5-1.9; token-push.md 3.3, 4).
 *
 * Deliberate differences from the original (FIX rows):
 * - a service whose experiment has no `emails` still reaches the admins (counted as usual); only
 *   its stakeholder email is skipped (Q5/Q22);
 * - notifications from every selected service are accepted, including ones raised while the
 *   service is being set up, so set-up failures can be reported;
 * - the first push error of a node counts from 0 like any other counter (Q6);
 * - test mode never writes error counts (Q7);
 * - without a database nothing is counted and nothing is written (Q11);
 * - delivery runs under its own deadline, independent of the run's global timeout (Q17, Q23), and
 *   the caller sends before pushing metrics so the delivery metrics are pushed (Q2).
 */
import { AdminAggregate } from './aggregate.js';
import { ServiceErrorCounts, type ErrorCountStore } from './counts.js';
import {
  deliverAdmin,
  deliverStakeholderEmail,
  type AdminTargets,
  type DeliveryContext,
  type DeliveryResult,
} from './delivery.js';
import type { EmailSettings } from './email.js';
import { errorText, type NotificationLog } from './log.js';
import { adminSubject, stakeholderSubject } from './messages.js';
import { noopNotificationMetrics, type NotificationMetrics } from './metrics.js';
import { SLACK_TIMEOUT_MS } from './slack.js';
import { formatRfc822 } from './timestamp.js';
import type { Notification, NotificationSink } from './types.js';
import { noopTracing, type Tracing } from '../tracing/api.js';
import { deadline } from '../exec/index.js';

export const DEFAULT_DELIVERY_TIMEOUT_MS = 60_000;

export interface ServiceNotificationTarget {
  /** `<configExperimentKey>_<role>`: the routing key. */
  readonly configName: string;
  /** `experiments.<key>.emails`; empty → no stakeholder email (admins still see the errors). */
  readonly emails: readonly string[];
  /** Its notifications are disabled (override, global value, or a flag). */
  readonly blocked: boolean;
}

export interface CommonNotificationOptions {
  readonly log: NotificationLog;
  readonly testMode: boolean;
  readonly email: EmailSettings;
  /** 'blocked' = admin notifications are off (and, for token-push, everything else too). */
  readonly admin: AdminTargets | 'blocked';
  /** Executable basename: the `operation` of admin bodies and the service of executable-level errors. */
  readonly executable: string;
  readonly now?: (() => Date) | undefined;
  /** IANA zone for timestamps; the process's local zone when undefined. */
  readonly timeZone?: string | undefined;
  /** Deadline of the whole end-of-run delivery; default 60 s. */
  readonly deliveryTimeoutMs?: number | undefined;
  /** Timeout of the Slack request; default 30 s (the delivery deadline still applies). */
  readonly slackTimeoutMs?: number | undefined;
  readonly metrics?: NotificationMetrics | undefined;
  /** Spans of the original's names (notifications.SendAdminNotifications, notifications.email.sendMessage, ...). */
  readonly tracing?: Tracing | undefined;
}

export interface TokenPushNotificationOptions extends CommonNotificationOptions {
  /** Absent when the database could not be opened: nothing is counted or written. */
  readonly db?: ErrorCountStore | undefined;
  readonly errorCountToSendMessage: number;
  /** Every selected service, including those that will fail their set-up. */
  readonly services: readonly ServiceNotificationTarget[];
}

export interface NotificationReport {
  readonly adminEmail: DeliveryResult;
  readonly adminSlack: DeliveryResult;
  /** Stakeholder emails attempted, by configName. */
  readonly serviceEmails: Readonly<Record<string, DeliveryResult>>;
}

export interface RunNotifications {
  /** Routes by `service`; never throws or blocks. Notifications after finish() are dropped. */
  readonly sink: NotificationSink;
  /**
   * Saves error counts (token-push), then sends stakeholder emails, the admin email and the admin
   * Slack message. Never rejects; bounded by the delivery deadline. Calling it again returns the
   * same result.
   */
  finish(): Promise<NotificationReport>;
}

const NOTHING_SENT: NotificationReport = {
  adminEmail: 'skipped',
  adminSlack: 'skipped',
  serviceEmails: {},
};

interface ServiceChannel {
  readonly target: ServiceNotificationTarget;
  /** undefined: counting off, everything passes. */
  readonly counts: ServiceErrorCounts | undefined;
  /** node → message of push errors that passed the threshold. */
  readonly stakeholderTable: Map<string, string>;
  readonly subject: string;
}

export function createTokenPushNotifications(
  options: TokenPushNotificationOptions,
): RunNotifications {
  const { log } = options;
  if (options.admin === 'blocked') {
    log.debug({}, 'All notifications are disabled for this run');
    return disabledNotifications();
  }
  const admin = options.admin;
  const now = options.now ?? (() => new Date());
  const metrics = options.metrics ?? noopNotificationMetrics;
  const startTimestamp = formatRfc822(now(), options.timeZone);
  const aggregate = new AdminAggregate();
  const channels = new Map<string, ServiceChannel | 'discard'>();

  for (const target of options.services) {
    if (target.blocked) {
      channels.set(target.configName, 'discard');
      continue;
    }
    if (target.emails.length === 0) {
      log.warn(
        { service: target.configName },
        'No emails found for service; its errors go to the admins only and no stakeholder email will be sent',
      );
    }
    channels.set(target.configName, {
      target,
      counts: ServiceErrorCounts.load(options.db, target.configName, log),
      stakeholderTable: new Map(),
      subject: stakeholderSubject(target.configName, startTimestamp),
    });
  }
  const blocked = options.services.filter((s) => s.blocked).map((s) => s.configName);
  if (blocked.length > 0)
    log.debug({ services: blocked.join(', ') }, 'Notifications disabled for services');

  let finished: Promise<NotificationReport> | undefined;

  const route = (notification: Notification): void => {
    if (notification.service === options.executable) {
      aggregate.add(notification);
      return;
    }
    const channel = channels.get(notification.service);
    if (channel === undefined) {
      log.debug({ service: notification.service }, 'Notification for an unknown service dropped');
      return;
    }
    if (channel === 'discard') return;
    const passes = channel.counts
      ? channel.counts.admit(notification, options.errorCountToSendMessage, metrics)
      : true;
    if (!passes) {
      log.debug(
        { service: notification.service },
        'Error count less than error limit.  Not sending notification.',
      );
      return;
    }
    if (notification.kind === 'push')
      channel.stakeholderTable.set(notification.node, notification.message);
    aggregate.add(notification);
  };

  const sink: NotificationSink = {
    send(notification) {
      if (finished) {
        log.debug(
          { service: notification.service },
          'Notification arrived after delivery started; dropped',
        );
        return;
      }
      try {
        route(notification);
      } catch (err) {
        log.error(
          { service: notification.service, error: errorText(err) },
          'Could not route notification',
        );
      }
    },
  };

  const deliver = async (ctx: DeliveryContext): Promise<NotificationReport> => {
    const serviceChannels = [...channels.values()].filter(
      (c): c is ServiceChannel => c !== 'discard',
    );
    saveCounts(serviceChannels, options, log);
    const stakeholderTasks = serviceChannels
      .filter((c) => c.stakeholderTable.size > 0 && c.target.emails.length > 0)
      .map(async (c) => {
        const result = await deliverStakeholderEmail(
          ctx,
          c.target.configName,
          c.target.emails,
          c.subject,
          c.stakeholderTable,
        );
        return [c.target.configName, result] as const;
      });
    const [adminResult, ...serviceResults] = await Promise.all([
      deliverAdmin(ctx, admin, aggregate.snapshot(), {
        subject: adminSubject(startTimestamp),
        operation: options.executable,
        testMode: options.testMode,
      }),
      ...stakeholderTasks,
    ]);
    return {
      adminEmail: adminResult.email,
      adminSlack: adminResult.slack,
      serviceEmails: Object.fromEntries(serviceResults),
    };
  };

  return {
    sink,
    finish() {
      finished ??= runWithDeadline(options, now, metrics, deliver);
      return finished;
    },
  };
}

/** Counters are saved before any email is attempted (Q8 kept: a failed send is logged). */
function saveCounts(
  channels: readonly ServiceChannel[],
  options: TokenPushNotificationOptions,
  log: NotificationLog,
): void {
  const { db } = options;
  if (!db) return;
  if (options.testMode) {
    log.debug({}, 'Test mode: error counts are not saved');
    return;
  }
  for (const channel of channels) channel.counts?.save(db, log);
}

export function disabledNotifications(): RunNotifications {
  const report = Promise.resolve(NOTHING_SENT);
  return { sink: { send: () => undefined }, finish: () => report };
}

export async function runWithDeadline(
  options: CommonNotificationOptions,
  now: () => Date,
  metrics: NotificationMetrics,
  deliver: (ctx: DeliveryContext) => Promise<NotificationReport>,
): Promise<NotificationReport> {
  const timeoutMs = options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  // Not unref'd: delivery ends with this reason even if nothing else keeps the process alive.
  const delivery = deadline(timeoutMs, {
    reason: () => new Error(`notification delivery deadline of ${timeoutMs} ms exceeded`),
    unref: false,
  });
  try {
    return await deliver({
      log: options.log,
      metrics,
      email: options.email,
      signal: delivery.signal,
      now,
      timeZone: options.timeZone,
      slackTimeoutMs: Math.min(options.slackTimeoutMs ?? SLACK_TIMEOUT_MS, timeoutMs),
      tracing: options.tracing ?? noopTracing,
    });
  } catch (err) {
    options.log.error({ error: errorText(err) }, 'Error sending notifications');
    return NOTHING_SENT;
  } finally {
    delivery.dispose();
  }
}
