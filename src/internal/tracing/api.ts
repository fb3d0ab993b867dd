/**
 * The tracing facade every module may import statically: it has no dependency, so a run
 * without `tracing.url` never loads OpenTelemetry (start-up stays fast).
 *
 *   loadTracing({ url, environment, executable, log }) -> Promise<Tracing>
 *     Empty url: error log `no tracing url configured.  Continuing without tracing`, returns
 *     `noopTracing`, loads nothing. Otherwise dynamically imports ./index.js and starts the
 *     OpenTelemetry SDK (OTLP over HTTP to tracing.url).
 *   tracing.withSpan(name, attrs, fn, { scope? }) -> Promise<result of fn>
 *     Runs fn inside a span (children started inside fn nest under it, across awaits). A throw
 *     or rejection marks the span Error (status + exception event) and is re-thrown; otherwise
 *     the span ends Ok unless fn called span.markError(). Attribute values that look like
 *     secrets (vault/bearer tokens, JWTs, Slack webhook paths) are redacted.
 *     scope = instrumentation scope (spec 6.2); default 'managed-tokens'.
 *   tracing.shutdown() -> flushes pending spans with a bounded timeout; call on EVERY exit path
 *     (Q15 fix), also after failures. Never throws.
 */

export type AttributeScalar = string | number | boolean;
export type AttributeValue =
  AttributeScalar | readonly string[] | readonly number[] | readonly boolean[];
/** Undefined values are skipped, so callers can pass optional fields directly. */
export type SpanAttributes = Readonly<Record<string, AttributeValue | undefined>>;

/** Instrumentation scope names of the original (spec 6.2). */
export type TracerScope =
  'token-push' | 'refresh-uids-from-ferry' | 'managed-tokens' | 'managed-tokens.worker';

export interface SpanHandle {
  setAttributes(attrs: SpanAttributes): void;
  addEvent(name: string, attrs?: SpanAttributes): void;
  /** Status Error with this message plus an exception event (the original's error helper). */
  markError(message: string): void;
  /** Status Ok with an optional message (the original's success helper). */
  markOk(message?: string): void;
}

export interface WithSpanOptions {
  readonly scope?: TracerScope;
}

export interface Tracing {
  readonly enabled: boolean;
  withSpan<T>(
    name: string,
    attrs: SpanAttributes,
    fn: (span: SpanHandle) => T | Promise<T>,
    opts?: WithSpanOptions,
  ): Promise<T>;
  shutdown(): Promise<void>;
}

/** Structured logger subset (pino's `log.error(fields, msg)` form). */
export interface TracingLog {
  error(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  debug(fields: Record<string, unknown>, msg: string): void;
}

export interface TracingOptions {
  /** `tracing.url`, e.g. `http://otel:4318` (path defaults to /v1/traces). */
  readonly url: string;
  /** The dev-environment label: resource attribute `deployment.environment`. */
  readonly environment: string;
  /** Basename of the running executable (informational; root spans choose their own scope). */
  readonly executable: string;
  readonly log: TracingLog;
  /** Upper bound for the final flush at shutdown (default 5000 ms). */
  readonly shutdownTimeoutMs?: number;
}

const noopSpan: SpanHandle = {
  setAttributes: () => undefined,
  addEvent: () => undefined,
  markError: () => undefined,
  markOk: () => undefined,
};

export const noopTracing: Tracing = {
  enabled: false,
  withSpan: async (_name, _attrs, fn) => fn(noopSpan),
  shutdown: async () => undefined,
};

export const NO_TRACING_URL_MESSAGE = 'no tracing url configured.  Continuing without tracing';

/** Starts tracing when a URL is configured; otherwise logs like the original and loads nothing. */
export async function loadTracing(opts: TracingOptions): Promise<Tracing> {
  if (opts.url.trim() === '') {
    opts.log.error({}, NO_TRACING_URL_MESSAGE);
    return noopTracing;
  }
  const { startTracing } = await import('./index.js');
  return startTracing(opts);
}

/** loadTracing for the executables: a failure to start only disables tracing for the run. */
export async function loadTracingOrNoop(opts: TracingOptions): Promise<Tracing> {
  try {
    return await loadTracing(opts);
  } catch (err) {
    opts.log.error(
      { err: (err as Error).message },
      'Could not start tracing; continuing without it',
    );
    return noopTracing;
  }
}
