/**
 * End-of-run delivery: the admin email + Slack message and the stakeholder emails, each
 * attempted once, logged and reported to metrics; failures never propagate.
 */
import { abortReason, sendEmail, type EmailSettings } from './email.js';
import { errorText, type NotificationLog } from './log.js';
import {
  TEST_SUCCESS_SLACK_TEXT,
  renderAdminEmailBody,
  renderAdminSlackText,
  renderStakeholderBody,
  type AdminErrors,
} from './messages.js';
import type { NotificationMetrics } from './metrics.js';
import { redactSecrets } from '../logging/redact.js';
import { SlackSendError, redactWebhookUrl, sendSlackMessage } from './slack.js';
import { formatRfc822 } from './timestamp.js';
import type { SpanHandle, Tracing } from '../tracing/api.js';

export type DeliveryResult = 'sent' | 'failed' | 'skipped';

export interface AdminTargets {
  /** `notifications.admin_email` (or `notifications_test.admin_email` in test mode). */
  readonly emails: readonly string[];
  /** `""` = no Slack message. */
  readonly slackUrl: string;
}

export interface DeliveryContext {
  readonly log: NotificationLog;
  readonly metrics: NotificationMetrics;
  readonly email: EmailSettings;
  readonly signal: AbortSignal;
  readonly now: () => Date;
  readonly timeZone: string | undefined;
  readonly slackTimeoutMs: number;
  readonly tracing: Tracing;
}

export interface AdminDelivery {
  readonly email: DeliveryResult;
  readonly slack: DeliveryResult;
}

export function deliverAdmin(
  ctx: DeliveryContext,
  targets: AdminTargets,
  errors: AdminErrors,
  options: { subject: string; operation: string; testMode: boolean },
): Promise<AdminDelivery> {
  return ctx.tracing.withSpan(
    'notifications.SendAdminNotifications',
    { operation: options.operation },
    () => deliverAdminInSpan(ctx, targets, errors, options),
  );
}

async function deliverAdminInSpan(
  ctx: DeliveryContext,
  targets: AdminTargets,
  errors: AdminErrors,
  options: { subject: string; operation: string; testMode: boolean },
): Promise<AdminDelivery> {
  if (errors.size === 0) {
    ctx.log.debug({}, 'No errors to send');
    if (!options.testMode) return { email: 'skipped', slack: 'skipped' };
    return { email: 'skipped', slack: await sendTestSuccess(ctx, targets.slackUrl) };
  }
  const timestamp = formatRfc822(ctx.now(), ctx.timeZone);
  const [email, slack] = await Promise.all([
    sendAdminEmail(
      ctx,
      targets.emails,
      options.subject,
      renderAdminEmailBody(errors, timestamp, options.operation),
    ),
    sendAdminSlack(
      ctx,
      targets.slackUrl,
      renderAdminSlackText(errors, timestamp, options.operation),
    ),
  ]);
  if (email === 'failed' || slack === 'failed')
    ctx.log.error({}, 'Error sending admin notifications');
  return { email, slack };
}

async function sendTestSuccess(ctx: DeliveryContext, slackUrl: string): Promise<DeliveryResult> {
  if (slackUrl === '') {
    ctx.log.debug({}, 'No Slack URL configured; test-mode success message not sent');
    return 'skipped';
  }
  if (await trySendSlack(ctx, slackUrl, TEST_SUCCESS_SLACK_TEXT)) {
    ctx.log.debug({}, 'Sent slack message');
    return 'sent';
  }
  ctx.log.error({}, 'Error sending admin notifications saying there were no errors in test mode');
  return 'failed';
}

async function sendAdminEmail(
  ctx: DeliveryContext,
  to: readonly string[],
  subject: string,
  text: string,
): Promise<DeliveryResult> {
  if (to.length === 0) {
    ctx.log.warn({}, 'No admin email addresses configured; admin email not sent');
    return 'skipped';
  }
  const started = performance.now();
  const ok = await trySendEmail(ctx, { to, subject, text });
  ctx.metrics.adminNotificationAttempt('email', ok, (performance.now() - started) / 1000);
  if (!ok) {
    ctx.log.error({}, 'Failed to send admin email');
    return 'failed';
  }
  ctx.log.debug({}, 'Sent admin email');
  return 'sent';
}

async function sendAdminSlack(
  ctx: DeliveryContext,
  url: string,
  text: string,
): Promise<DeliveryResult> {
  if (url === '') {
    ctx.log.debug({}, 'No Slack URL configured; admin Slack message not sent');
    return 'skipped';
  }
  const started = performance.now();
  const ok = await trySendSlack(ctx, url, text);
  ctx.metrics.adminNotificationAttempt('slack_message', ok, (performance.now() - started) / 1000);
  if (!ok) {
    ctx.log.error({}, 'Failed to send slack message');
    return 'failed';
  }
  ctx.log.debug({}, 'Sent slack message');
  return 'sent';
}

function trySendSlack(ctx: DeliveryContext, url: string, text: string): Promise<boolean> {
  return ctx.tracing.withSpan('notifications.slackMessage.sendMessage', {}, async (span) => {
    try {
      await sendSlackMessage(url, redactSecrets(text), ctx.signal, ctx.slackTimeoutMs);
      return true;
    } catch (err) {
      logSlackFailure(ctx, url, err, span);
      return false;
    }
  });
}

function logSlackFailure(ctx: DeliveryContext, url: string, err: unknown, span: SpanHandle): void {
  const fields: Record<string, unknown> = { url: redactWebhookUrl(url) };
  if (err instanceof SlackSendError && err.status !== undefined) {
    fields['response status'] = err.status;
    fields['response headers'] = err.responseHeaders ?? {};
    fields['response body'] = err.responseBody ?? '';
    span.setAttributes({ url: redactWebhookUrl(url), 'response status': err.status });
  }
  span.markError(errorText(err));
  ctx.log.error(fields, errorText(err));
}

export function deliverStakeholderEmail(
  ctx: DeliveryContext,
  service: string,
  to: readonly string[],
  subject: string,
  pushErrors: ReadonlyMap<string, string>,
): Promise<DeliveryResult> {
  return ctx.tracing.withSpan('notifications.sendServiceEmailIfErrors', { service }, async () => {
    return sendStakeholderEmail(ctx, service, to, subject, pushErrors);
  });
}

async function sendStakeholderEmail(
  ctx: DeliveryContext,
  service: string,
  to: readonly string[],
  subject: string,
  pushErrors: ReadonlyMap<string, string>,
): Promise<DeliveryResult> {
  const text = renderStakeholderBody(pushErrors, formatRfc822(ctx.now(), ctx.timeZone));
  const started = performance.now();
  const ok = await trySendEmail(ctx, { to, subject, text });
  ctx.metrics.serviceEmailAttempt(service, ok, (performance.now() - started) / 1000);
  if (!ok) {
    // Q8 kept: the counters were saved (reset) before this attempt.
    ctx.log.error(
      {
        service,
        note: 'error counts were already reset; these errors are reported again after a new streak',
      },
      'Error sending service email',
    );
    return 'failed';
  }
  ctx.log.debug({ service }, 'Sent service email');
  return 'sent';
}

/**
 * Every email (admin and stakeholder) leaves through here: subject and body get a last
 * redactSecrets pass, as logs, Loki and spans do, in case an error text carried a credential.
 */
function trySendEmail(
  ctx: DeliveryContext,
  unredacted: { to: readonly string[]; subject: string; text: string },
): Promise<boolean> {
  const email = {
    to: unredacted.to,
    subject: redactSecrets(unredacted.subject),
    text: redactSecrets(unredacted.text),
  };
  const attrs = {
    from: ctx.email.from,
    to: [...email.to],
    subject: email.subject,
    smtpHost: ctx.email.smtpHost,
    smtpPort: ctx.email.smtpPort,
  };
  return ctx.tracing.withSpan('notifications.email.sendMessage', attrs, async (span) => {
    try {
      await sendEmail(ctx.email, email, ctx.signal);
      return true;
    } catch (err) {
      const reason = errorText(ctx.signal.aborted ? abortReason(ctx.signal) : err);
      span.markError(`Error sending email: ${reason}`);
      ctx.log.error(
        {
          recipient: email.to.join(', '),
          email: {
            from: ctx.email.from,
            smtp: `${ctx.email.smtpHost}:${ctx.email.smtpPort}`,
            subject: email.subject,
          },
        },
        `Error sending email: ${reason}`,
      );
      return false;
    }
  });
}
