/**
 * The two kinds of notification (spec notifications-observability.md 1.1). Producers
 * (pipeline stages, refresh) hand them to a NotificationSink; routing, thresholds,
 * aggregation and delivery live in src/internal/notifications.
 */
export type Notification =
  | { readonly kind: 'setup'; readonly service: string; readonly message: string }
  | {
      readonly kind: 'push';
      readonly service: string;
      readonly node: string;
      readonly message: string;
    };

export interface NotificationSink {
  /** Never throws and never blocks; a notification for an unknown service is dropped. */
  send(notification: Notification): void;
}

export const discardNotifications: NotificationSink = { send: () => undefined };

export function setupError(service: string, message: string): Notification {
  return { kind: 'setup', service, message };
}

export function pushError(service: string, node: string, message: string): Notification {
  return { kind: 'push', service, node, message };
}
