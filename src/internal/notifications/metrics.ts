/**
 * What the notification subsystem reports to metrics (spec notifications-observability.md 4.2,
 * the `*_error_count` and `*_email_*` families). src/internal/metrics implements it; every
 * method must be cheap and must not throw.
 */
export interface NotificationMetrics {
  /** managed_tokens_current_setup_error_count{service} = count, after each adjustment. */
  setupErrorCount(service: string, count: number): void;
  /** managed_tokens_current_push_error_count{service,node} = count, after each adjustment. */
  pushErrorCount(service: string, node: string, count: number): void;
  /**
   * One stakeholder email attempt: service_error_email_last_sent_timestamp{service,success} set to now;
   * on success also observe service_error_email_send_duration_seconds.
   */
  serviceEmailAttempt(service: string, success: boolean, durationSeconds: number): void;
  /**
   * One admin email or Slack attempt: admin_error_email_last_sent_timestamp{notification_type,success}
   * set to now; on success also admin_error_email_send_duration_seconds{notification_type} = duration.
   */
  adminNotificationAttempt(
    type: 'email' | 'slack_message',
    success: boolean,
    durationSeconds: number,
  ): void;
}

const noop = (): void => undefined;

export const noopNotificationMetrics: NotificationMetrics = {
  setupErrorCount: noop,
  pushErrorCount: noop,
  serviceEmailAttempt: noop,
  adminNotificationAttempt: noop,
};
