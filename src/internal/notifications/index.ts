/**
 * Notifications: setup and push errors, per-service error-count thresholds kept in the
 * database, the admin email + Slack message and the stakeholder emails
 * (spec notifications-observability.md 1-3, token-push.md 3.3 and 4, ferry-and-db.md 1.4, 1.8, 4).
 *
 * How the executables use it
 * --------------------------
 * Producers only see a `NotificationSink` and call `sink.send(setupError(service, msg))` or
 * `sink.send(pushError(service, node, msg))`. `service` is the configName (`K_R`) for service
 * errors (route by configName everywhere, FIX Q4) and the executable basename for
 * executable-level errors (e.g. `Could not open or create ManagedTokensDatabase`), which go
 * straight to the admins.
 *
 * token-push:
 *   const gating = resolveTokenPushGating({ disabledByFlag: dontNotify || onboarding,
 *     globalDisabled: cfg.global.disableNotifications,
 *     services: cfg.services.map(s => ({ configName: s.name.configName, notificationsDisabled: s.notificationsDisabled })) });
 *   log.debug(...'Admin notifications disabled by ' + gating.adminBlockedBy) when set;
 *   const notifications = createTokenPushNotifications({
 *     log, db,                               // ManagedTokensDb or undefined when it could not be opened
 *     errorCountToSendMessage: cfg.global.errorCountToSendMessage,
 *     testMode,
 *     email: emailSettingsFromConfig(cfg.global),
 *     admin: gating.adminBlockedBy ? 'blocked' : adminTargetsFromConfig(cfg.global, testMode),
 *     services: everySelectedService.map(s => ({ configName, emails: s.emails,
 *                                                 blocked: gating.blockedServices.has(configName) })),
 *     executable: 'token-push', metrics,     // metrics: NotificationMetrics (optional)
 *     tracing,                               // optional Tracing: spans named like the original's
 *   });
 *   ... pipeline runs with notifications.sink ...
 *   await notifications.finish();            // BEFORE pushing metrics (FIX Q2); never throws
 *   push metrics; close DB.
 *
 * refresh-uids-from-ferry:
 *   const notifications = createRefreshNotifications({ log, testMode, email: emailSettingsFromConfig(g),
 *     admin: resolveRefreshGating({ disabledByFlag, globalDisabled: g.disableNotifications })
 *              ? 'blocked' : adminTargetsFromConfig(g, testMode),
 *     executable: 'refresh-uids-from-ferry', metrics });
 *   every error: notifications.sink.send(setupError('refresh-uids-from-ferry', message));
 *   at the end (also on the DB-open failure path, right away): await notifications.finish().
 *
 * Both factories compute subjects when created (start of run), and `finish()` is bounded by
 * `deliveryTimeoutMs` (default 60 s; Slack 30 s, SMTP connect 10 s), so a dead SMTP server or
 * Slack endpoint cannot hang the run. `finish()` resolves with a NotificationReport
 * (`sent` | `failed` | `skipped` per channel).
 *
 * The database: ManagedTokensDb satisfies `ErrorCountStore` structurally. token-push must have
 * registered the services (`updateServices`) and nodes (`updateNodes`) for counts to be stored.
 */
export * from './types.js';
export type { NotificationLog } from './log.js';
export type { NotificationMetrics } from './metrics.js';
export { noopNotificationMetrics } from './metrics.js';
export type { ErrorCountStore } from './counts.js';
export type { EmailSettings } from './email.js';
export type { AdminTargets, DeliveryResult } from './delivery.js';
export {
  createTokenPushNotifications,
  DEFAULT_DELIVERY_TIMEOUT_MS,
  type CommonNotificationOptions,
  type NotificationReport,
  type RunNotifications,
  type ServiceNotificationTarget,
  type TokenPushNotificationOptions,
} from './tokenPush.js';
export { createRefreshNotifications, type RefreshNotificationOptions } from './refresh.js';
export {
  resolveTokenPushGating,
  resolveRefreshGating,
  type DisabledBy,
  type Gating,
  type GatingInput,
} from './gating.js';
export { adminTargetsFromConfig, emailSettingsFromConfig } from './fromConfig.js';
export { redactWebhookUrl } from './slack.js';
export { formatRfc822 } from './timestamp.js';
