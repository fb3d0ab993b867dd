import { NoRowsError } from '../../../src/internal/db/errors.js';
import type {
  ErrorCountStore,
  NotificationLog,
  NotificationMetrics,
} from '../../../src/internal/notifications/index.js';

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export function memoryLog(): NotificationLog & {
  entries: LogEntry[];
  messages(level?: LogEntry['level']): string[];
} {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: Record<string, unknown>, msg: string): void => {
      entries.push({ level, msg, fields });
    };
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    messages: (level) =>
      entries.filter((e) => level === undefined || e.level === level).map((e) => e.msg),
  };
}

/** ErrorCountStore in memory with the database's "no rows" behaviour. */
export class MemoryErrorCountStore implements ErrorCountStore {
  readonly setup = new Map<string, number>();
  readonly push = new Map<string, Map<string, number>>();
  writes = 0;
  failReads = false;

  getSetupErrorsInfoByService(service: string): { count: number } {
    if (this.failReads) throw new Error('database is locked');
    const count = this.setup.get(service);
    if (count === undefined) throw new NoRowsError();
    return { count };
  }
  getPushErrorsInfoByService(service: string): { node: string; count: number }[] {
    if (this.failReads) throw new Error('database is locked');
    const rows = [...(this.push.get(service) ?? new Map<string, number>())].map(
      ([node, count]) => ({ node, count }),
    );
    if (rows.length === 0) throw new NoRowsError();
    return rows;
  }
  updateSetupErrorsTable(items: readonly { service: string; count: number }[]): void {
    this.writes++;
    for (const item of items) this.setup.set(item.service, item.count);
  }
  updatePushErrorsTable(items: readonly { service: string; node: string; count: number }[]): void {
    this.writes++;
    for (const item of items) {
      const nodes = this.push.get(item.service) ?? new Map<string, number>();
      nodes.set(item.node, item.count);
      this.push.set(item.service, nodes);
    }
  }
}

export type MetricCall = [keyof NotificationMetrics, ...unknown[]];

export function recordingMetrics(): NotificationMetrics & { calls: MetricCall[] } {
  const calls: MetricCall[] = [];
  return {
    calls,
    setupErrorCount: (...args) => void calls.push(['setupErrorCount', ...args]),
    pushErrorCount: (...args) => void calls.push(['pushErrorCount', ...args]),
    serviceEmailAttempt: (...args) => void calls.push(['serviceEmailAttempt', ...args]),
    adminNotificationAttempt: (...args) => void calls.push(['adminNotificationAttempt', ...args]),
  };
}

export interface RecordedSpan {
  readonly name: string;
  attributes: Record<string, unknown>;
  error?: string;
}

/** A Tracing that records spans in memory (names, attributes, error status). */
export function recordingTracing(): import('../../../src/internal/tracing/api.js').Tracing & {
  spans: RecordedSpan[];
} {
  const spans: RecordedSpan[] = [];
  return {
    enabled: true,
    spans,
    async withSpan(name, attrs, fn) {
      const span: RecordedSpan = { name, attributes: { ...attrs } };
      spans.push(span);
      return fn({
        setAttributes: (more) => Object.assign(span.attributes, more),
        addEvent: () => undefined,
        markError: (message) => {
          span.error = message;
        },
        markOk: () => undefined,
      });
    },
    shutdown: async () => undefined,
  };
}
