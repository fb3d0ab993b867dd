import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTracing, noopTracing, type TracingLog } from '../../../src/internal/tracing/api.js';
import { otlpTracesEndpoint, startTracing } from '../../../src/internal/tracing/index.js';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import { decodeExportTraceServiceRequest, flattenSpans } from '../../../src/testenv/otlp.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function decode(receiver: HttpReceiver, urlPath = '/v1/traces') {
  const exports = receiver.requestsTo(urlPath).map((r) => decodeExportTraceServiceRequest(r.body));
  const resources = exports.flatMap((e) => e.map((rs) => rs.resourceAttributes));
  const spans = flattenSpans(exports.flat());
  return { resources, spans, schemaUrls: exports.flatMap((e) => e.map((rs) => rs.schemaUrl)) };
}

function recordingLog(): TracingLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    error: (_f, msg) => void lines.push(`error: ${msg}`),
    warn: (_f, msg) => void lines.push(`warn: ${msg}`),
    debug: (_f, msg) => void lines.push(`debug: ${msg}`),
  };
}

let receiver: HttpReceiver;
beforeEach(async () => {
  receiver = await startHttpReceiver();
});
afterEach(async () => {
  await receiver.close();
});

describe('OTLP export', () => {
  it('exports span names, attributes, scopes, nesting and status with the resource of the spec', async () => {
    const log = recordingLog();
    const tracing = await loadTracing({
      url: receiver.url,
      environment: 'development',
      executable: 'token-push',
      log,
    });
    expect(tracing.enabled).toBe(true);
    const result = await tracing.withSpan(
      'token-push',
      { test: true },
      async (root) => {
        root.addEvent('Setup complete');
        await tracing.withSpan(
          'worker.PushTokensWorker.serviceConfig',
          { service: 'dune_production' },
          async () => {
            await new Promise((r) => setTimeout(r, 5));
            await tracing.withSpan(
              'worker.pushToNode',
              {
                service: 'dune_production',
                node: 'node1',
                sourceFilename: '/tmp/vt_u1000-dune_production',
                destinationFilename: '/tmp/vt_u1000',
              },
              (span) => span.markError('Error pushing vault tokens to destination node node1'),
            );
          },
        );
        await expect(
          tracing.withSpan(
            'worker.GetFERRYUIDData',
            { username: 'alice', ferryPort: 8445 },
            () => {
              throw new Error('FERRY server error');
            },
            { scope: 'managed-tokens.worker' },
          ),
        ).rejects.toThrow('FERRY server error');
        return 'done';
      },
      { scope: 'token-push' },
    );
    expect(result).toBe('done');
    await tracing.shutdown();

    const requests = receiver.requestsTo('/v1/traces');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests[0]?.method).toBe('POST');
    for (const r of requests) expect(r.headers['content-type']).toBe('application/x-protobuf');

    const { resources, spans, schemaUrls } = decode(receiver);
    for (const resource of resources) {
      expect(resource).toEqual({
        'service.name': 'managed-tokens',
        'deployment.environment': 'development',
      });
    }
    expect(new Set(schemaUrls)).toEqual(new Set(['https://opentelemetry.io/schemas/1.4.0']));

    const byName = new Map(spans.map((s) => [s.name, s]));
    const root = byName.get('token-push');
    const service = byName.get('worker.PushTokensWorker.serviceConfig');
    const push = byName.get('worker.pushToNode');
    const ferry = byName.get('worker.GetFERRYUIDData');
    expect(root?.scope).toBe('token-push');
    expect(root?.attributes).toEqual({ test: true });
    expect(root?.parentSpanId).toBe('');
    expect(root?.events.map((e) => e.name)).toEqual(['Setup complete']);
    expect(root?.status.code).toBe(1);
    expect(root?.kind).toBe(1); // SPAN_KIND_INTERNAL, as the original's spans

    expect(service?.scope).toBe('managed-tokens');
    expect(service?.parentSpanId).toBe(root?.spanId);
    expect(push?.parentSpanId).toBe(service?.spanId);
    expect(push?.traceId).toBe(root?.traceId);
    expect(push?.attributes).toEqual({
      service: 'dune_production',
      node: 'node1',
      sourceFilename: '/tmp/vt_u1000-dune_production',
      destinationFilename: '/tmp/vt_u1000',
    });
    expect(push?.status).toEqual({
      code: 2,
      message: 'Error pushing vault tokens to destination node node1',
    });
    expect(push?.events.map((e) => e.name)).toEqual(['exception']);

    expect(ferry?.scope).toBe('managed-tokens.worker');
    expect(ferry?.attributes).toEqual({ username: 'alice', ferryPort: 8445 });
    expect(ferry?.status).toEqual({ code: 2, message: 'FERRY server error' });
    expect(ferry?.parentSpanId).toBe(root?.spanId);
    expect(log.lines.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('merges OTEL_RESOURCE_ATTRIBUTES under the code attributes, which win', async () => {
    const saved = process.env.OTEL_RESOURCE_ATTRIBUTES;
    process.env.OTEL_RESOURCE_ATTRIBUTES =
      'site=fnal,service.name=other,deployment.environment=elsewhere';
    try {
      const tracing = await startTracing({
        url: receiver.url,
        environment: 'production',
        executable: 'x',
        log: recordingLog(),
      });
      await tracing.withSpan(
        'refresh-uids-from-ferry',
        { test: true, authmethod: 'tls' },
        () => undefined,
        {
          scope: 'refresh-uids-from-ferry',
        },
      );
      await tracing.shutdown();
    } finally {
      if (saved === undefined) delete process.env.OTEL_RESOURCE_ATTRIBUTES;
      else process.env.OTEL_RESOURCE_ATTRIBUTES = saved;
    }
    const { resources, spans } = decode(receiver);
    expect(resources[0]).toEqual({
      site: 'fnal',
      'service.name': 'managed-tokens',
      'deployment.environment': 'production',
    });
    expect(spans.map((s) => [s.scope, s.name, s.attributes])).toEqual([
      ['refresh-uids-from-ferry', 'refresh-uids-from-ferry', { test: true, authmethod: 'tls' }],
    ]);
  });

  it('posts to the path of tracing.url when it has one', async () => {
    const tracing = await startTracing({
      url: `${receiver.url}/collector/traces`,
      environment: 'production',
      executable: 'x',
      log: recordingLog(),
    });
    await tracing.withSpan('span', {}, () => undefined);
    await tracing.shutdown();
    expect(decode(receiver, '/collector/traces').spans.map((s) => s.name)).toEqual(['span']);
    expect(receiver.requestsTo('/v1/traces')).toEqual([]);
  });

  it('never exports secrets placed in span attributes or error messages', async () => {
    const vaultToken = `hvs.${'A1b2C3d4'.repeat(12)}`;
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkdW5lcHJvIn0.c2lnbmF0dXJl';
    const slack = 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX';
    const tracing = await startTracing({
      url: receiver.url,
      environment: 'production',
      executable: 'x',
      log: recordingLog(),
    });
    await tracing.withSpan(
      'notifications.slackMessage.sendMessage',
      { url: slack, 'response status': '500 Internal' },
      (s) => {
        s.setAttributes({ args: ['-a', `Bearer ${jwt}`], token: vaultToken });
        s.markError(`could not store ${vaultToken}`);
      },
    );
    await tracing.shutdown();
    const [span, ...others] = decode(receiver).spans;
    expect(others).toEqual([]);
    expect(span?.name).toBe('notifications.slackMessage.sendMessage');
    expect(span?.attributes.url).toBe('https://hooks.slack.com/[REDACTED]');
    expect(span?.attributes.args).toEqual(['-a', expect.stringContaining('[REDACTED]')]);
    expect(span?.status.message).toContain('could not store');
    // the raw protobuf bytes: strings travel as UTF-8, so a leaked secret would show up here
    const body = receiver
      .requestsTo('/v1/traces')
      .map((r) => r.body.toString('latin1'))
      .join('\n');
    expect(body).not.toContain(vaultToken);
    expect(body).not.toContain(jwt);
    expect(body).not.toContain('T0000/B0000');
  });

  it('bounds the final flush when the collector hangs, and reports it', async () => {
    receiver.setRoute('/v1/traces', { delayMs: 20_000 });
    const log = recordingLog();
    const tracing = await startTracing({
      url: receiver.url,
      environment: 'production',
      executable: 'x',
      log,
      shutdownTimeoutMs: 300,
    });
    await tracing.withSpan('span', {}, () => undefined);
    await tracing.shutdown();
    expect(log.lines).toContain('warn: Timed out flushing traces; some spans may be lost');
  });
});

describe('without tracing', () => {
  it('logs the original error and does nothing when tracing.url is empty', async () => {
    const log = recordingLog();
    const tracing = await loadTracing({
      url: '',
      environment: 'production',
      executable: 'token-push',
      log,
    });
    expect(tracing).toBe(noopTracing);
    expect(log.lines).toEqual(['error: no tracing url configured.  Continuing without tracing']);
    expect(await tracing.withSpan('x', { a: 1 }, (s) => (s.markError('e'), 7))).toBe(7);
    await expect(
      tracing.withSpan('x', {}, () => Promise.reject(new Error('kept'))),
    ).rejects.toThrow('kept');
    await tracing.shutdown();
    expect(receiver.requests).toEqual([]);
  });

  it('logs the original error and continues without tracing when the URL is unusable', async () => {
    const log = recordingLog();
    const tracing = await startTracing({
      url: 'not a url',
      environment: 'production',
      executable: 'token-push',
      log,
    });
    expect(tracing.enabled).toBe(false);
    expect(log.lines).toEqual([
      'error: could not obtain a TraceProvider.  Continuing without tracing',
    ]);
  });

  it('maps tracing.url onto the OTLP endpoint like the original', () => {
    expect(otlpTracesEndpoint('http://otel:4318')).toBe('http://otel:4318/v1/traces');
    expect(otlpTracesEndpoint('https://otel.fnal.gov/')).toBe('https://otel.fnal.gov/v1/traces');
    expect(otlpTracesEndpoint('grpc://otel:4318/x')).toBe('http://otel:4318/x');
    expect(() => otlpTracesEndpoint('otel:4318')).toThrow(/has no host/);
  });
});

describe('lazy loading', () => {
  /** Counts CommonJS modules of OpenTelemetry / prom-client a fresh process has loaded after `body`. */
  function loadedModules(body: string): Promise<{ otel: number; prom: number }> {
    const dir = mkdtempSync(path.join(tmpdir(), 'mt-lazy-'));
    const script = path.join(dir, 'probe.mts');
    writeFileSync(
      script,
      [
        "import { createRequire } from 'node:module';",
        `const api = await import(${JSON.stringify(path.join(REPO, 'src/internal/tracing/api.ts'))});`,
        `const events = await import(${JSON.stringify(path.join(REPO, 'src/internal/metrics/events.ts'))});`,
        'const log = { error() {}, warn() {}, debug() {} };',
        body,
        'const keys = Object.keys(createRequire(import.meta.url).cache);',
        "console.log(JSON.stringify({ otel: keys.filter((k) => k.includes('@opentelemetry')).length, prom: keys.filter((k) => k.includes('prom-client')).length }));",
      ].join('\n'),
    );
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', script],
        {
          cwd: REPO,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
          timeout: 60_000,
        },
        (err, stdout, stderr) => {
          rmSync(dir, { recursive: true, force: true });
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else
            resolve(
              JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { otel: number; prom: number },
            );
        },
      );
    });
  }

  it('loads neither OpenTelemetry nor prom-client for the facade, the events and an unset tracing.url', async () => {
    const none = await loadedModules(
      "await api.loadTracing({ url: '', environment: 'production', executable: 'token-push', log }); void events.noopTokenPushMetrics;",
    );
    expect(none).toEqual({ otel: 0, prom: 0 });
  });

  it('loads OpenTelemetry once tracing.url is set (the probe can see it)', async () => {
    const some = await loadedModules(
      "const t = await api.loadTracing({ url: 'http://127.0.0.1:9', environment: 'production', executable: 'token-push', log }); await t.shutdown();",
    );
    expect(some.otel).toBeGreaterThan(0);
  });
});
