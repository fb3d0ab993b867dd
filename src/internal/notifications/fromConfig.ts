/** Maps the resolved configuration onto this module's plain inputs. */
import type { GlobalSettings } from '../config/types.js';
import type { AdminTargets } from './delivery.js';
import type { EmailSettings } from './email.js';

/** `notifications.*`, or `notifications_test.*` in test mode (spec notifications-observability.md 1.8). */
export function adminTargetsFromConfig(global: GlobalSettings, testMode: boolean): AdminTargets {
  const targets = testMode ? global.notificationsTest : global.notifications;
  return { emails: targets.adminEmails, slackUrl: targets.slackAlertsUrl };
}

export function emailSettingsFromConfig(global: GlobalSettings): EmailSettings {
  return {
    from: global.email.from,
    smtpHost: global.email.smtpHost,
    smtpPort: global.email.smtpPort,
  };
}
