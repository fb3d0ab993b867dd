/** The admin aggregate of one run (spec notifications-observability.md 1.5). */
import type { AdminErrors, AdminServiceErrors } from './messages.js';
import type { Notification } from './types.js';

interface MutableServiceErrors {
  readonly setupErrors: string[];
  readonly pushErrors: Map<string, string>;
}

export class AdminAggregate {
  private readonly byService = new Map<string, MutableServiceErrors>();

  add(notification: Notification): void {
    let entry = this.byService.get(notification.service);
    if (!entry) {
      entry = { setupErrors: [], pushErrors: new Map() };
      this.byService.set(notification.service, entry);
    }
    if (notification.kind === 'setup') entry.setupErrors.push(notification.message);
    else entry.pushErrors.set(notification.node, notification.message);
  }

  /** Services with nothing to report and push entries with an empty message are left out. */
  snapshot(): AdminErrors {
    const result = new Map<string, AdminServiceErrors>();
    for (const [service, entry] of this.byService) {
      const pushErrors = new Map([...entry.pushErrors].filter(([, message]) => message !== ''));
      if (entry.setupErrors.length === 0 && pushErrors.size === 0) continue;
      result.set(service, { setupErrors: [...entry.setupErrors], pushErrors });
    }
    return result;
  }
}
