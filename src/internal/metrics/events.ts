/**
 * What the token-push pipeline and refresh-uids-from-ferry report to metrics.
 * The pipeline only speaks this interface; src/internal/metrics turns events into
 * Prometheus series (see spec notifications-observability.md 4.2). Service labels are
 * the realName (E_R) as in the original; nodes and credds are host names.
 */
export interface TokenPushMetricEvents {
  stageDuration(stage: TokenPushStage, seconds: number): void;
  kinitSucceeded(service: string, seconds: number): void;
  kinitFailed(service: string): void;
  tokenGetSucceeded(service: string, seconds: number): void;
  tokenGetFailed(service: string): void;
  tokenStoreSucceeded(service: string, credd: string, seconds: number): void;
  tokenStoreFailed(service: string, credd: string): void;
  pingSucceeded(node: string, seconds: number): void;
  pingFailed(node: string): void;
  /** One successful copy of one file to one node (last file wins for the duration gauge). */
  tokenPushItemSucceeded(service: string, node: string, seconds: number): void;
  /** One failed copy of one file to one node. */
  tokenPushItemFailed(service: string, node: string): void;
  /** Every push of the service succeeded: stamp last_token_push_timestamp for each node. */
  servicePushedToNodes(service: string, nodes: readonly string[]): void;
  /** Age in seconds of the vault token that was pushed for a service (new metric). */
  pushedTokenAge(service: string, seconds: number): void;
  failedServices(count: number): void;
  /** New metric: run outcome. */
  runOutcome(outcome: {
    servicesOk: number;
    servicesFailed: number;
    durationSeconds: number;
    exitCode: number;
  }): void;
}

export type TokenPushStage =
  | 'setup'
  | 'getKerberosTickets'
  | 'getTokens'
  | 'storeAndGetTokens'
  | 'pingNodes'
  | 'pushTokens'
  | 'cleanup';

export interface RefreshMetricEvents {
  stageDuration(stage: RefreshStage, seconds: number): void;
  ferryRequestSucceeded(seconds: number): void;
  ferryRequestFailed(): void;
  lastFerryRefresh(unixSeconds: number): void;
  runOutcome(outcome: {
    accountsOk: number;
    accountsFailed: number;
    durationSeconds: number;
    exitCode: number;
  }): void;
}

export type RefreshStage = 'setup' | 'getFERRYData' | 'refreshManagedTokensDB';

const noop = (): void => undefined;

/** Used when the pushgateway is unreachable or metrics are not configured. */
export const noopTokenPushMetrics: TokenPushMetricEvents = {
  stageDuration: noop,
  kinitSucceeded: noop,
  kinitFailed: noop,
  tokenGetSucceeded: noop,
  tokenGetFailed: noop,
  tokenStoreSucceeded: noop,
  tokenStoreFailed: noop,
  pingSucceeded: noop,
  pingFailed: noop,
  tokenPushItemSucceeded: noop,
  tokenPushItemFailed: noop,
  servicePushedToNodes: noop,
  pushedTokenAge: noop,
  failedServices: noop,
  runOutcome: noop,
};

export const noopRefreshMetrics: RefreshMetricEvents = {
  stageDuration: noop,
  ferryRequestSucceeded: noop,
  ferryRequestFailed: noop,
  lastFerryRefresh: noop,
  runOutcome: noop,
};

/**
 * What notification delivery reports to metrics (spec notifications-observability.md 4.2,
 * the `current_*_error_count` and `*_email_*` families). Kept here, free of prom-client,
 * so src/internal/notifications can import it statically.
 */
export interface NotificationMetricEvents {
  /** Error-count threshold bookkeeping (1.6): counter value after each adjustment. */
  setupErrorCount(service: string, count: number): void;
  pushErrorCount(service: string, node: string, count: number): void;
  /** Every stakeholder email attempt, successful or not (`service` as routed). */
  serviceEmailAttempted(service: string, success: boolean): void;
  /** Duration of a successful stakeholder email. */
  serviceEmailSent(seconds: number): void;
  /** Every admin email or Slack attempt. */
  adminNotificationAttempted(type: AdminNotificationType, success: boolean): void;
  /** Duration of a successful admin email or Slack message. */
  adminNotificationSent(type: AdminNotificationType, seconds: number): void;
}

/** The `notification_type` label values of the original. */
export type AdminNotificationType = 'email' | 'slack_message';

export const noopNotificationMetrics: NotificationMetricEvents = {
  setupErrorCount: noop,
  pushErrorCount: noop,
  serviceEmailAttempted: noop,
  serviceEmailSent: noop,
  adminNotificationAttempted: noop,
  adminNotificationSent: noop,
};
