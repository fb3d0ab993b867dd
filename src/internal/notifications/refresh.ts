/**
 * refresh-uids-from-ferry notifications (spec notifications-observability.md 1.4,
 * ferry-and-db.md 1.4 and 1.8): admins only, no thresholds, no counting; every queued error is
 * sent at the end of every run. In test mode a run without errors posts the Slack line
 * `Test run completed successfully`.
 */
import { AdminAggregate } from './aggregate.js';
import { deliverAdmin } from './delivery.js';
import { adminSubject } from './messages.js';
import { noopNotificationMetrics } from './metrics.js';
import { formatRfc822 } from './timestamp.js';
import {
  disabledNotifications,
  runWithDeadline,
  type CommonNotificationOptions,
  type RunNotifications,
} from './tokenPush.js';

export type RefreshNotificationOptions = CommonNotificationOptions;

export function createRefreshNotifications(options: RefreshNotificationOptions): RunNotifications {
  if (options.admin === 'blocked') {
    options.log.debug({}, 'Admin notifications disabled');
    return disabledNotifications();
  }
  const admin = options.admin;
  const now = options.now ?? (() => new Date());
  const metrics = options.metrics ?? noopNotificationMetrics;
  const subject = adminSubject(formatRfc822(now(), options.timeZone));
  const aggregate = new AdminAggregate();
  let finished: ReturnType<RunNotifications['finish']> | undefined;

  return {
    sink: {
      send(notification) {
        if (finished) {
          options.log.debug(
            { service: notification.service },
            'Notification arrived after delivery started; dropped',
          );
          return;
        }
        aggregate.add(notification);
      },
    },
    finish() {
      finished ??= runWithDeadline(options, now, metrics, async (ctx) => {
        const result = await deliverAdmin(ctx, admin, aggregate.snapshot(), {
          subject,
          operation: options.executable,
          testMode: options.testMode,
        });
        return { adminEmail: result.email, adminSlack: result.slack, serviceEmails: {} };
      });
      return finished;
    },
  };
}
