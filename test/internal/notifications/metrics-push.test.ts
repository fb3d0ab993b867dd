/**
 * FIX Q2: notifications are delivered before the metrics push, so the delivery metrics and the
 * error-count gauges reach a real pushgateway.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunMetrics, pushMetrics } from '../../../src/internal/metrics/index.js';
import { notificationMetricsOf as adapt } from '../../../src/internal/metrics/run-setup.js';
import {
  createTokenPushNotifications,
  pushError,
  setupError,
} from '../../../src/internal/notifications/index.js';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import { startPushgateway, type Pushgateway } from '../../../src/testenv/pushgateway.js';
import { startSmtpServer, type SmtpServerHandle } from '../../../src/testenv/smtp.js';
import { memoryLog } from './helpers.js';

let smtp: SmtpServerHandle;
let slack: HttpReceiver;
let pgw: Pushgateway;

beforeEach(async () => {
  smtp = await startSmtpServer();
  slack = await startHttpReceiver({ fallback: { status: 200 } });
  pgw = await startPushgateway();
});

afterEach(async () => {
  await smtp.stop();
  await slack.close();
  await pgw.stop();
});

describe('notification metrics reach the pushgateway', () => {
  it('delivery before push: email/Slack attempt timestamps and error-count gauges are pushed', async () => {
    const log = memoryLog();
    const runMetrics = createRunMetrics({ executable: 'token-push' });
    const notifications = createTokenPushNotifications({
      log,
      metrics: adapt(runMetrics.notifications),
      db: {
        getSetupErrorsInfoByService: () => ({ count: 0 }),
        getPushErrorsInfoByService: () => [{ node: 'node1', count: 0 }],
        updateSetupErrorsTable: () => undefined,
        updatePushErrorsTable: () => undefined,
      },
      errorCountToSendMessage: 1,
      testMode: false,
      email: { from: 'mt@example.org', smtpHost: smtp.host, smtpPort: smtp.port },
      admin: { emails: ['admin@x.org'], slackUrl: `${slack.url}/services/a/b/c` },
      services: [{ configName: 'dune_production', emails: ['d@x.org'], blocked: false }],
      executable: 'token-push',
    });
    notifications.sink.send(setupError('dune_production', 'Timeout error'));
    notifications.sink.send(
      pushError(
        'dune_production',
        'node1',
        'Error pushing vault tokens to destination node node1: x',
      ),
    );
    await notifications.finish();
    expect(
      await pushMetrics({
        host: pgw.url,
        job: 'managed_tokens',
        executable: 'token-push',
        registry: runMetrics.registry,
        log,
      }),
    ).toBe(true);

    const samples = await pgw.samples('managed_tokens_');
    const find = (name: string, labels: Record<string, string>) =>
      samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
    expect(
      find('managed_tokens_admin_error_email_last_sent_timestamp', {
        notification_type: 'email',
        success: 'true',
      }),
    ).toHaveLength(1);
    expect(
      find('managed_tokens_admin_error_email_last_sent_timestamp', {
        notification_type: 'slack_message',
        success: 'true',
      }),
    ).toHaveLength(1);
    expect(
      find('managed_tokens_service_error_email_last_sent_timestamp', {
        service: 'dune_production',
        success: 'true',
      }),
    ).toHaveLength(1);
    expect(
      find('managed_tokens_current_push_error_count', {
        service: 'dune_production',
        node: 'node1',
      })[0]?.value,
    ).toBe(0);
    expect(
      find('managed_tokens_current_setup_error_count', { service: 'dune_production' })[0]?.value,
    ).toBe(0);
    expect(
      find('managed_tokens_service_error_email_send_duration_seconds_count', {})[0]?.value,
    ).toBe(1);
  });
});
