/**
 * Loki sink (spec notifications-observability.md 5.4, Q12/Q13 fixes).
 *
 *   createLokiStream({ host, responseHeaderTimeoutMs, labels: { app, command, environment },
 *                      redact?, reportFailure?, batchDelayMs?, closeTimeoutMs? }) -> LokiStream
 *
 * A pino destination: attach it with `{ level: 'info', stream }` (pino.multistream or
 * createLogger({ extraStreams })). Each pino JSON line at info or above becomes one Loki entry
 * whose line is the logrus JSON rendering the original sent (`{"executable":…,"level":"info",
 * "msg":…,"time":"<RFC3339 local>"}`, keys sorted, HTML-escaped, trailing newline); debug/trace
 * lines are dropped. Entries are batched (Q13 allows it) and POSTed to
 * `<host>/loki/api/v1/push` (host verbatim: it needs the scheme) as
 * `{"streams":[{"stream":{app,command,environment,level},"values":[["<unix ns>","<line>"],…]}]}`
 * with level ∈ info|warning|error|fatal.
 *
 * The HTTP client is a private undici Agent whose headersTimeout is `responseHeaderTimeoutMs`,
 * so the timeout affects only Loki (Q12). A failed POST (transport error, timeout, non-2xx)
 * prints ONE line `Failed to fire hook: …` to stderr (or `reportFailure`) and drops that batch;
 * nothing ever throws into the logger. `await stream.close()` before exiting: it sends what is
 * queued (bounded by closeTimeoutMs) and releases the agent. String values are passed through
 * `redact` (default: redactSecrets of ./redact.ts) before they leave.
 *
 *   lokiEnabled(host, noLokiFlag) -> boolean   (false: log `Loki logging disabled by flag`)
 */
import { Agent, request } from 'undici';
import { rfc3339Local } from './format.js';
import { redactSecrets } from './redact.js';

export interface LokiLabels {
  readonly app: string;
  readonly command: string;
  readonly environment: string;
}

export interface LokiStreamOptions {
  readonly host: string;
  /** `loki.response_header_timeout` in ms (the original's default is 1 s). */
  readonly responseHeaderTimeoutMs: number;
  readonly labels: LokiLabels;
  readonly redact?: (text: string) => string;
  /** Where a failed delivery is reported; default: one line on stderr. */
  readonly reportFailure?: (line: string) => void;
  /** How long entries wait to be batched (default 100 ms). */
  readonly batchDelayMs?: number;
  /** Upper bound for close() to deliver what is queued (default 5000 ms). */
  readonly closeTimeoutMs?: number;
  /** TCP connect bound, like the original's default dialer (default 30 s). */
  readonly connectTimeoutMs?: number;
}

export interface LokiStream {
  /** pino destination entry point: one serialized JSON log line. */
  write(line: string): boolean;
  /** Sends everything queued so far; resolves when the POSTs finished (or failed). */
  flush(): Promise<void>;
  /** flush() bounded by closeTimeoutMs, then releases the connection pool. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_LOKI_RESPONSE_HEADER_TIMEOUT_MS = 1_000;
export const LOKI_DISABLED_MESSAGE = 'Loki logging disabled by flag';
export const LOKI_PUSH_PATH = '/loki/api/v1/push';

/** Loki is used unless --no-loki is given or loki.host is empty (spec 5.4). */
export function lokiEnabled(host: string, noLokiFlag: boolean): boolean {
  return !noLokiFlag && host.trim() !== '';
}

type LokiLevel = 'info' | 'warning' | 'error' | 'fatal';

interface LokiEntry {
  readonly level: LokiLevel;
  readonly ns: bigint;
  readonly line: string;
}

const MAX_QUEUED_ENTRIES = 10_000;
/** pino's numeric levels and labels -> the original's Loki level label; undefined = not sent. */
const NUMERIC_LEVELS: ReadonlyArray<readonly [number, LokiLevel]> = [
  [60, 'fatal'],
  [50, 'error'],
  [40, 'warning'],
  [30, 'info'],
];
const LABEL_LEVELS: Readonly<Record<string, LokiLevel>> = {
  fatal: 'fatal',
  panic: 'fatal',
  error: 'error',
  warn: 'warning',
  warning: 'warning',
  info: 'info',
};

function lokiLevel(level: unknown): LokiLevel | undefined {
  if (typeof level === 'number') return NUMERIC_LEVELS.find(([min]) => level >= min)?.[1];
  if (typeof level === 'string') return LABEL_LEVELS[level.toLowerCase()];
  return undefined;
}

function entryTime(time: unknown): Date {
  if (typeof time === 'number' && Number.isFinite(time)) return new Date(time);
  if (typeof time === 'string') {
    const parsed = Date.parse(time);
    if (!Number.isNaN(parsed)) return new Date(parsed);
  }
  return new Date();
}

/** encoding/json's default HTML-safe escaping. */
function htmlEscapeJson(json: string): string {
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function redactDeep(value: unknown, redact: (s: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)]));
  }
  return value;
}

/** pino bookkeeping fields that logrus never had. */
const DROPPED_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/** One pino JSON line -> the Loki entry the original would have sent, or undefined (below info / unparsable). */
export function toLokiEntry(
  pinoLine: string,
  redact: (s: string) => string = redactSecrets,
): LokiEntry | undefined {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(pinoLine);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    record = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const level = lokiLevel(record.level);
  if (!level) return undefined;
  const time = entryTime(record.time);
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (DROPPED_FIELDS.has(key)) continue;
    if (key === 'err' && value !== null && typeof value === 'object' && 'message' in value) {
      fields.error = (value as { message: unknown }).message;
      continue;
    }
    fields[key] = value;
  }
  fields.level = level;
  fields.msg =
    typeof record.msg === 'string'
      ? record.msg
      : record.msg === undefined
        ? ''
        : String(record.msg);
  fields.time = rfc3339Local(time);
  const sorted = Object.fromEntries(
    Object.keys(fields)
      .sort()
      .map((k) => [k, redactDeep(fields[k], redact)]),
  );
  return {
    level,
    ns: BigInt(time.getTime()) * 1_000_000n,
    line: `${htmlEscapeJson(JSON.stringify(sorted))}\n`,
  };
}

/** The push body: one stream per level, values in time order. */
export function lokiPushBody(labels: LokiLabels, entries: readonly LokiEntry[]): string {
  const byLevel = new Map<LokiLevel, LokiEntry[]>();
  for (const e of entries) {
    const list = byLevel.get(e.level) ?? [];
    list.push(e);
    byLevel.set(e.level, list);
  }
  const streams = [...byLevel.entries()].map(([level, list]) => ({
    stream: { app: labels.app, command: labels.command, environment: labels.environment, level },
    values: [...list]
      .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))
      .map((e) => [String(e.ns), e.line]),
  }));
  return JSON.stringify({ streams });
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

/** host + push path, without user:password for messages. */
function shownTarget(host: string): string {
  return `${host}${LOKI_PUSH_PATH}`.replace(/\/\/[^/@]*@/, '//');
}

export function createLokiStream(opts: LokiStreamOptions): LokiStream {
  const redact = opts.redact ?? ((text: string) => redactSecrets(text));
  const report = opts.reportFailure ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const batchDelayMs = opts.batchDelayMs ?? 100;
  const closeTimeoutMs = opts.closeTimeoutMs ?? 5_000;
  const headersTimeout =
    opts.responseHeaderTimeoutMs > 0
      ? opts.responseHeaderTimeoutMs
      : DEFAULT_LOKI_RESPONSE_HEADER_TIMEOUT_MS;
  const agent = new Agent({
    headersTimeout,
    bodyTimeout: headersTimeout,
    connect: { timeout: opts.connectTimeoutMs ?? 30_000 },
  });
  const target = `${opts.host.endsWith('/') ? opts.host.slice(0, -1) : opts.host}${LOKI_PUSH_PATH}`;

  let queue: LokiEntry[] = [];
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;
  /** Entries handed to a POST that has not finished yet. */
  let unsent = 0;
  /** Set when close() gave up: the aborted POSTs are already reported. */
  let abandoned = false;

  const fail = (count: number, reason: string): void => {
    if (abandoned) return;
    try {
      report(
        `Failed to fire hook: could not send ${count} log entries to ${shownTarget(opts.host)}: ${reason}`,
      );
    } catch {
      // reporting must never break logging
    }
  };

  const post = async (entries: LokiEntry[]): Promise<void> => {
    try {
      const res = await request(target, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: lokiPushBody(opts.labels, entries),
      });
      const answer = await res.body.text();
      if (res.statusCode < 200 || res.statusCode > 299) {
        fail(entries.length, `HTTP ${res.statusCode} ${answer.trim().slice(0, 200)}`);
      }
    } catch (err) {
      fail(entries.length, reasonOf(err));
    } finally {
      unsent -= entries.length;
    }
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (dropped > 0) {
      fail(dropped, `more than ${MAX_QUEUED_ENTRIES} entries were waiting`);
      dropped = 0;
    }
    if (queue.length > 0) {
      const batch = queue;
      queue = [];
      unsent += batch.length;
      chain = chain.then(() => post(batch));
    }
    return chain;
  };

  const schedule = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, batchDelayMs);
    timer.unref();
  };

  const write = (line: string): boolean => {
    if (closing) return true;
    const entry = toLokiEntry(line, redact);
    if (!entry) return true;
    if (queue.length >= MAX_QUEUED_ENTRIES) {
      dropped += 1;
      return true;
    }
    queue.push(entry);
    schedule();
    return true;
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      let deadline: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((resolve) => {
        deadline = setTimeout(() => resolve('timeout'), closeTimeoutMs);
      });
      const outcome = await Promise.race([flush().then(() => 'done' as const), expired]);
      clearTimeout(deadline);
      if (outcome === 'timeout') {
        fail(unsent, `gave up after ${closeTimeoutMs} ms at exit`);
        abandoned = true;
        await agent.destroy().catch(() => undefined);
      } else {
        await agent.close().catch(() => undefined);
      }
    })();
    return closing;
  };

  return { write, flush, close };
}
