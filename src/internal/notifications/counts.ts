/**
 * Consecutive error counts per service and the errorCountToSendMessage threshold
 * (spec notifications-observability.md 1.6, ferry-and-db.md 4.7).
 *
 * Deliberate difference (FIX): a push error on a node that has no stored count starts from 0
 * like any other counter, so it is sent as soon as the threshold is reached (the original
 * always suppressed the first error ever seen on a node).
 */
import { NoRowsError } from '../db/errors.js';
import { errorText, type NotificationLog } from './log.js';
import type { NotificationMetrics } from './metrics.js';
import type { Notification } from './types.js';

/** The part of ManagedTokensDb the counters need; ManagedTokensDb satisfies it as is. */
export interface ErrorCountStore {
  /** Throws NoRowsError when the service has no row. */
  getSetupErrorsInfoByService(service: string): { readonly count: number };
  /** Throws NoRowsError when the service has no rows. */
  getPushErrorsInfoByService(
    service: string,
  ): readonly { readonly node: string; readonly count: number }[];
  /** One transaction. */
  updateSetupErrorsTable(items: readonly { service: string; count: number }[]): void;
  /** One transaction for all items. */
  updatePushErrorsTable(items: readonly { service: string; node: string; count: number }[]): void;
}

interface Counter {
  value: number;
  changed: boolean;
}

function isNoRows(err: unknown): boolean {
  return err instanceof NoRowsError || (err instanceof Error && err.name === 'NoRowsError');
}

/** The counters of one service for one run. */
export class ServiceErrorCounts {
  private constructor(
    readonly service: string,
    private readonly setup: Counter,
    private readonly push: Map<string, Counter>,
  ) {}

  /**
   * Loads the stored counts; undefined means counting is off for this service (no store, or a
   * read failed) and every notification passes.
   */
  static load(
    store: ErrorCountStore | undefined,
    service: string,
    log: NotificationLog,
  ): ServiceErrorCounts | undefined {
    if (!store) return undefined;
    try {
      const setup = readOrDefault(() => store.getSetupErrorsInfoByService(service).count, 0);
      const pushRows = readOrDefault(() => store.getPushErrorsInfoByService(service), []);
      const push = new Map<string, Counter>(
        pushRows.map((row) => [row.node, { value: row.count, changed: false }]),
      );
      return new ServiceErrorCounts(service, { value: setup, changed: false }, push);
    } catch (err) {
      log.error(
        { service, error: errorText(err) },
        'Error setting error counts.  Will not track errors.',
      );
      return undefined;
    }
  }

  /** Advances the matching counter; true when the notification should be sent now. */
  admit(notification: Notification, threshold: number, metrics: NotificationMetrics): boolean {
    const counter =
      notification.kind === 'setup' ? this.setup : this.pushCounter(notification.node);
    const reached = counter.value + 1 >= threshold;
    counter.value = reached ? 0 : counter.value + 1;
    counter.changed = true;
    if (notification.kind === 'setup') metrics.setupErrorCount(this.service, counter.value);
    else metrics.pushErrorCount(this.service, notification.node, counter.value);
    return reached;
  }

  private pushCounter(node: string): Counter {
    let counter = this.push.get(node);
    if (!counter) {
      counter = { value: 0, changed: false };
      this.push.set(node, counter);
    }
    return counter;
  }

  /**
   * Writes what this run changed: changed counters as they are, unchanged non-zero counters as 0
   * (no error this run breaks the streak), unchanged zeros not at all.
   */
  save(store: ErrorCountStore, log: NotificationLog): void {
    const setupValue = valueToStore(this.setup);
    if (setupValue !== undefined) {
      this.write(log, 'setup', () =>
        store.updateSetupErrorsTable([{ service: this.service, count: setupValue }]),
      );
    }
    const pushItems: { service: string; node: string; count: number }[] = [];
    for (const [node, counter] of [...this.push.entries()].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )) {
      const value = valueToStore(counter);
      if (value !== undefined) pushItems.push({ service: this.service, node, count: value });
    }
    if (pushItems.length > 0) this.write(log, 'push', () => store.updatePushErrorsTable(pushItems));
  }

  private write(log: NotificationLog, kind: 'setup' | 'push', write: () => void): void {
    try {
      write();
    } catch (err) {
      log.error(
        { service: this.service, counter: kind, error: errorText(err) },
        'Error saving new error counts in database.  Please investigate',
      );
    }
  }
}

function valueToStore(counter: Counter): number | undefined {
  if (counter.changed) return counter.value;
  return counter.value !== 0 ? 0 : undefined;
}

function readOrDefault<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (err) {
    if (isNoRows(err)) return fallback;
    throw err;
  }
}
