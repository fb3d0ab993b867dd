/**
 * src/testenv/otlp.ts against bodies the real OTLP/HTTP protobuf exporter sends to a real HTTP
 * receiver, plus hand-built bodies for what a span exporter never emits (kvlist, bytes, unknown
 * fields) and for malformed input.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import { decodeExportTraceServiceRequest, flattenSpans } from '../../../src/testenv/otlp.js';

let receiver: HttpReceiver;
beforeEach(async () => {
  receiver = await startHttpReceiver();
});
afterEach(async () => {
  await receiver.close();
});

/** Exports what `emit` records through the real exporter; returns the raw request bodies. */
async function exportThroughRealExporter(
  emit: (provider: BasicTracerProvider) => void,
  processor: 'simple' | 'batch' = 'simple',
): Promise<{ bodies: Buffer[]; contentTypes: (string | undefined)[] }> {
  const exporter = new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(
      { 'service.name': 'decoder-test', answer: 42 },
      { schemaUrl: 'https://example.org/s' },
    ),
    spanProcessors: [
      processor === 'batch' ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter),
    ],
  });
  try {
    emit(provider);
    await provider.forceFlush();
  } finally {
    await provider.shutdown();
  }
  const requests = receiver.requestsTo('/v1/traces');
  return {
    bodies: requests.map((r) => r.body),
    contentTypes: requests.map((r) => r.headers['content-type']),
  };
}

describe('decodeExportTraceServiceRequest on bodies of the real exporter', () => {
  it('decodes resource, scope, ids, kind, times, every attribute type, events and status', async () => {
    let ids: { trace: string; parent: string; child: string } | undefined;
    const { bodies, contentTypes } = await exportThroughRealExporter((provider) => {
      const tracer = provider.getTracer('scope.one', '1.2.3');
      const parent = tracer.startSpan('parent', { startTime: [1_700_000_000, 5] });
      const child = tracer.startSpan(
        'child',
        {
          kind: SpanKind.CLIENT,
          startTime: [1_700_000_001, 123_456_789],
          attributes: {
            s: 'ünïcode ✓',
            t: true,
            f: false,
            i: 8445,
            neg: -5,
            big: 2 ** 60,
            d: 1.5,
            strs: ['a', 'b'],
            nums: [1, -2],
          },
          links: [{ context: parent.spanContext(), attributes: { linked: 'yes' } }],
        },
        trace.setSpan(ROOT_CONTEXT, parent),
      );
      child.addEvent('first', { n: 1 }, [1_700_000_001, 200_000_000]);
      child.addEvent('second');
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
      child.end([1_700_000_002, 0]);
      parent.setStatus({ code: SpanStatusCode.OK });
      parent.end([1_700_000_003, 0]);
      ids = {
        trace: parent.spanContext().traceId,
        parent: parent.spanContext().spanId,
        child: child.spanContext().spanId,
      };
    });

    expect(contentTypes).toEqual(bodies.map(() => 'application/x-protobuf'));
    const resources = bodies.flatMap((b) => decodeExportTraceServiceRequest(b));
    for (const r of resources) {
      expect(r.resourceAttributes).toMatchObject({ 'service.name': 'decoder-test', answer: 42 });
      expect(r.schemaUrl).toBe('https://example.org/s');
      expect(r.scopes.map((s) => [s.name, s.version])).toEqual([['scope.one', '1.2.3']]);
    }
    const spans = flattenSpans(resources);
    expect(spans.map((s) => s.name).sort()).toEqual(['child', 'parent']);
    const child = spans.find((s) => s.name === 'child');
    const parent = spans.find((s) => s.name === 'parent');

    expect(parent).toMatchObject({
      scope: 'scope.one',
      traceId: ids?.trace,
      spanId: ids?.parent,
      parentSpanId: '',
      kind: 1, // SPAN_KIND_INTERNAL: the API's 0 is shifted by one on the wire
      startTimeUnixNano: 1_700_000_000_000_000_005n,
      endTimeUnixNano: 1_700_000_003_000_000_000n,
      attributes: {},
      events: [],
      status: { code: 1, message: '' },
    });
    expect(child).toMatchObject({
      traceId: ids?.trace,
      spanId: ids?.child,
      parentSpanId: ids?.parent,
      kind: 3, // SPAN_KIND_CLIENT
      startTimeUnixNano: 1_700_000_001_123_456_789n,
      endTimeUnixNano: 1_700_000_002_000_000_000n,
      status: { code: 2, message: 'it failed' },
    });
    expect(child?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(child?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child?.attributes).toEqual({
      s: 'ünïcode ✓',
      t: true,
      f: false,
      i: 8445,
      neg: -5,
      big: 2n ** 60n,
      d: 1.5,
      strs: ['a', 'b'],
      nums: [1, -2],
    });
    expect(child?.events.map((e) => [e.name, e.attributes])).toEqual([
      ['first', { n: 1 }],
      ['second', {}],
    ]);
    expect(child?.events[0]?.timeUnixNano).toBe(1_700_000_001_200_000_000n);
  });

  it('decodes a batch of several spans in one body', async () => {
    const { bodies } = await exportThroughRealExporter((provider) => {
      const tracer = provider.getTracer('batch');
      for (let i = 0; i < 3; i++) tracer.startSpan(`span-${i}`).end();
    }, 'batch');
    expect(bodies).toHaveLength(1);
    const names = flattenSpans(bodies.flatMap((b) => decodeExportTraceServiceRequest(b))).map(
      (s) => s.name,
    );
    expect(names.sort()).toEqual(['span-0', 'span-1', 'span-2']);
  });
});

/** Minimal protobuf writer for hand-built bodies. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
};
const tag = (no: number, wire: number): number[] => varint((no << 3) | wire);
const len = (no: number, bytes: number[]): number[] => [
  ...tag(no, 2),
  ...varint(bytes.length),
  ...bytes,
];
const str = (no: number, s: string): number[] => len(no, [...Buffer.from(s, 'utf8')]);
const keyValue = (key: string, anyValue: number[]): number[] => [
  ...str(1, key),
  ...len(2, anyValue),
];

describe('decodeExportTraceServiceRequest on hand-built bodies', () => {
  const spanWith = (attrs: number[], extra: number[] = []): number[] =>
    len(1, len(2, len(2, [...str(5, 'hand'), ...attrs, ...extra])));

  it('decodes kvlist, bytes and an empty AnyValue and skips unknown fields of every wire type', () => {
    const kv = len(9, keyValue('kv', len(6, len(1, keyValue('inner', str(1, 'x'))))));
    const bytes = len(9, keyValue('raw', len(7, [0, 255])));
    const empty = len(9, keyValue('none', []));
    const unknown = [
      ...tag(99, 0),
      ...varint(300),
      ...tag(98, 1),
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      ...tag(97, 5),
      1,
      2,
      3,
      4,
      ...str(96, 'later'),
    ];
    const [resource] = decodeExportTraceServiceRequest(
      Uint8Array.from(spanWith([...kv, ...bytes, ...empty], unknown)),
    );
    const span = resource?.scopes[0]?.spans[0];
    expect(span?.name).toBe('hand');
    expect(span?.attributes).toEqual({
      kv: { inner: 'x' },
      raw: Uint8Array.from([0, 255]),
      none: null,
    });
    expect(resource?.resourceAttributes).toEqual({});
    expect(span?.status).toEqual({ code: 0, message: '' });
  });

  it('returns nothing for an empty body', () => {
    expect(decodeExportTraceServiceRequest(new Uint8Array())).toEqual([]);
  });

  it('rejects truncated and malformed bodies with the message and offset', () => {
    const good = spanWith(len(9, keyValue('k', str(1, 'v'))));
    expect(() => decodeExportTraceServiceRequest(Uint8Array.from(good.slice(0, -3)))).toThrow(
      /OTLP protobuf: field of \d+ bytes runs past the end in ExportTraceServiceRequest at byte \d+/,
    );
    expect(() => decodeExportTraceServiceRequest(Uint8Array.from([...tag(1, 3)]))).toThrow(
      /unsupported wire type 3/,
    );
    expect(() => decodeExportTraceServiceRequest(Uint8Array.from([0x0a, 0x80]))).toThrow(
      /truncated or over-long varint/,
    );
    expect(() =>
      decodeExportTraceServiceRequest(Uint8Array.from(len(1, [...tag(2, 0), 1]))),
    ).toThrow('OTLP protobuf: ResourceSpans field 2 is varint, expected len');
    expect(() => decodeExportTraceServiceRequest(Uint8Array.from(len(1, len(3, [0xff]))))).toThrow(
      'OTLP protobuf: ResourceSpans field 3 is not valid UTF-8',
    );
  });
});
