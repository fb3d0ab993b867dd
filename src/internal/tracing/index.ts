/**
 * OpenTelemetry tracing (spec notifications-observability.md 6, README decision 5).
 * Loaded only through `loadTracing()` in ./api.ts (dynamic import) when `tracing.url` is set.
 *
 *   startTracing({ url, environment, executable, log, shutdownTimeoutMs? }) -> Promise<OtelTracing>
 *     OTLP over HTTP, protobuf encoding (@opentelemetry/exporter-trace-otlp-proto) like the original, to
 *     <scheme>://<host[:port]><path or /v1/traces> taken from `url`; https -> TLS, any other
 *     scheme -> plain HTTP. OTEL_EXPORTER_OTLP_* env still supplies headers/timeout, the URL wins.
 *     Resource: service.name=managed-tokens, deployment.environment=<environment>, schema URL
 *     1.4.0, merged over OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME (ours win); no
 *     telemetry.sdk.* or host attributes. Batch span processor with the SDK defaults; sampler
 *     parent-based always-on; W3C TraceContext propagator and AsyncLocalStorage context
 *     registered globally. An unusable URL logs `could not obtain a TraceProvider.  Continuing
 *     without tracing` and returns the no-op implementation.
 *   OtelTracing = Tracing (see ./api.ts) + { tracer(scope): Tracer } for direct OTel use.
 *   shutdown(): force-flush + shutdown bounded by shutdownTimeoutMs (default 5 s), then the
 *     global registrations are removed so a later startTracing in the same process works.
 */
import {
  context,
  diag,
  DiagLogLevel,
  propagation,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type {
  Attributes,
  AttributeValue as OtelAttributeValue,
  Span,
  Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  NO_TRACING_URL_MESSAGE,
  noopTracing,
  type SpanAttributes,
  type SpanHandle,
  type Tracing,
  type TracingLog,
  type TracingOptions,
  type TracerScope,
  type WithSpanOptions,
} from './api.js';
import { redactAttributeValue } from './redact.js';

export * from './api.js';

export const NO_TRACE_PROVIDER_MESSAGE =
  'could not obtain a TraceProvider.  Continuing without tracing';
const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.4.0';
const DEFAULT_SCOPE: TracerScope = 'managed-tokens';
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

export interface OtelTracing extends Tracing {
  tracer(scope: TracerScope): Tracer;
}

/** `tracing.url` -> OTLP traces endpoint, or an error naming what is wrong with it. */
export function otlpTracesEndpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `tracing.url ${JSON.stringify(url)} is not a URL (expected e.g. http://otel:4318)`,
    );
  }
  if (parsed.host === '') {
    throw new Error(
      `tracing.url ${JSON.stringify(url)} has no host (expected e.g. http://otel:4318)`,
    );
  }
  const scheme = parsed.protocol === 'https:' ? 'https' : 'http';
  const path = parsed.pathname === '' || parsed.pathname === '/' ? '/v1/traces' : parsed.pathname;
  return `${scheme}://${parsed.host}${path}`;
}

function toOtelAttributes(attrs: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    const safe = redactAttributeValue(value);
    out[key] = (
      Array.isArray(safe) ? [...(safe as readonly unknown[])] : safe
    ) as OtelAttributeValue;
  }
  return out;
}

function handleFor(span: Span): SpanHandle & { readonly errored: () => boolean } {
  let errored = false;
  return {
    setAttributes: (attrs) => span.setAttributes(toOtelAttributes(attrs)),
    addEvent: (name, attrs) => span.addEvent(name, attrs ? toOtelAttributes(attrs) : undefined),
    markError: (message) => {
      errored = true;
      const safe = String(redactAttributeValue(message));
      span.setStatus({ code: SpanStatusCode.ERROR, message: safe });
      span.recordException({ name: 'Error', message: safe });
    },
    markOk: (message) =>
      span.setStatus({ code: SpanStatusCode.OK, ...(message ? { message } : {}) }),
    errored: () => errored,
  };
}

function bounded(promise: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve('done');
      },
      () => {
        clearTimeout(timer);
        resolve('done');
      },
    );
  });
}

/** Exporter/SDK complaints go to our log instead of being swallowed or printed raw. */
function forwardDiagnostics(log: TracingLog): void {
  diag.setLogger(
    {
      error: (msg, ...args) =>
        log.warn({ detail: args.map(String).join(' ') }, `OpenTelemetry: ${msg}`),
      warn: (msg, ...args) =>
        log.debug({ detail: args.map(String).join(' ') }, `OpenTelemetry: ${msg}`),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  if (opts.url.trim() === '') {
    opts.log.error({}, NO_TRACING_URL_MESSAGE);
    return noopTracing;
  }
  let endpoint: string;
  try {
    endpoint = otlpTracesEndpoint(opts.url);
  } catch (err) {
    opts.log.error({ error: (err as Error).message }, NO_TRACE_PROVIDER_MESSAGE);
    return noopTracing;
  }
  return startOtel(endpoint, opts);
}

function startOtel(endpoint: string, opts: TracingOptions): OtelTracing {
  forwardDiagnostics(opts.log);
  const fromEnv = detectResources({ detectors: [envDetector] });
  const ours = resourceFromAttributes(
    { 'service.name': 'managed-tokens', 'deployment.environment': opts.environment },
    { schemaUrl: SCHEMA_URL },
  );
  const provider = new NodeTracerProvider({
    resource: fromEnv.merge(ours),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
  });
  // Default registration: AsyncLocalStorage context manager + W3C trace-context propagator.
  provider.register();

  const tracer = (scope: TracerScope): Tracer => provider.getTracer(scope);
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let stopped: Promise<void> | undefined;

  const withSpan = <T>(
    name: string,
    attrs: SpanAttributes,
    fn: (span: SpanHandle) => T | Promise<T>,
    spanOpts?: WithSpanOptions,
  ): Promise<T> =>
    tracer(spanOpts?.scope ?? DEFAULT_SCOPE).startActiveSpan(
      name,
      { attributes: toOtelAttributes(attrs) },
      async (span): Promise<T> => {
        const handle = handleFor(span);
        try {
          const result = await fn(handle);
          if (!handle.errored()) span.setStatus({ code: SpanStatusCode.OK });
          return result;
        } catch (err) {
          if (!handle.errored()) handle.markError(err instanceof Error ? err.message : String(err));
          throw err;
        } finally {
          span.end();
        }
      },
    );

  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      const outcome = await bounded(
        provider.forceFlush().then(() => provider.shutdown()),
        shutdownTimeoutMs,
      );
      if (outcome === 'timeout') {
        opts.log.warn(
          { timeoutMs: shutdownTimeoutMs },
          'Timed out flushing traces; some spans may be lost',
        );
      }
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    })();
    return stopped;
  };

  return { enabled: true, withSpan, shutdown, tracer };
}
