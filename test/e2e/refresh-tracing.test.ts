/**
 * refresh-uids-from-ferry's trace as an OTLP receiver sees it (spec notifications-observability.md
 * 6.1, 6.4): protobuf to <tracing.url>/v1/traces, resource service.name=managed-tokens, root span
 * `refresh-uids-from-ferry` in its own scope with the `test` and `authmethod` attributes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpReceiver, type HttpReceiver } from '../../src/testenv/http-receiver.js';
import { decodeExportTraceServiceRequest, flattenSpans } from '../../src/testenv/otlp.js';
import { createRefreshWorld, type RefreshWorld } from '../internal/refresh/harness.js';

let w: RefreshWorld;
let otlp: HttpReceiver;
beforeAll(async () => {
  w = await createRefreshWorld();
  otlp = await startHttpReceiver();
}, 120_000);
afterAll(async () => {
  await Promise.allSettled([w?.close(), otlp?.close()]);
});

describe('refresh-uids-from-ferry tracing', () => {
  it('exports the root span with test and authmethod, in the refresh-uids-from-ferry scope', async () => {
    const cfg = w.writeConfig({ tracing: { url: otlp.url }, devEnvironmentLabel: 'dev' });
    const r = await w.run(['-c', cfg, '-t']);
    expect(r.code, r.stderr).toBe(0);
    const requests = otlp.requestsTo('/v1/traces');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests[0]?.headers['content-type']).toBe('application/x-protobuf');
    const exports = requests.flatMap((req) => decodeExportTraceServiceRequest(req.body));
    expect(exports[0]?.resourceAttributes['service.name']).toBe('managed-tokens');
    expect(exports[0]?.resourceAttributes['deployment.environment']).toBe('dev');
    const roots = flattenSpans(exports).filter((s) => s.parentSpanId === '');
    expect(roots.map((s) => [s.scope, s.name])).toEqual([
      ['refresh-uids-from-ferry', 'refresh-uids-from-ferry'],
    ]);
    expect(roots[0]?.attributes).toEqual({ test: true, authmethod: 'tls' });
  });
});
