/**
 * A small, dependency-free decoder of OTLP/HTTP protobuf trace bodies
 * (`opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`) for tests, the demo and
 * the bench: what a collector would see when the executables export spans.
 *
 *   const resources = decodeExportTraceServiceRequest(request.body);
 *   // [{ resourceAttributes, schemaUrl, scopes: [{ name, version, spans: [{ name, traceId, ... }] }] }]
 *   const spans = flattenSpans(resources); // every span with its scope name
 *
 * Only the fields the tests look at are decoded; every other field (links, dropped counts,
 * entity refs, unknown future fields) is skipped by its wire type. A truncated or malformed body
 * throws an error naming the message being decoded and the byte offset.
 *
 * Field numbers: opentelemetry-proto `collector/trace/v1/trace_service.proto`, `trace/v1/trace.proto`,
 * `common/v1/common.proto`, `resource/v1/resource.proto`.
 */

/** An attribute value as protobuf carries it (AnyValue); an AnyValue with no value set is `null`. */
export type OtlpValue =
  | string
  | boolean
  /** int_value within the safe integer range, or double_value. */
  | number
  /** int_value outside the safe integer range. */
  | bigint
  | Uint8Array
  | null
  | readonly OtlpValue[]
  | OtlpAttributes;

export interface OtlpAttributes {
  readonly [key: string]: OtlpValue;
}

export interface OtlpEvent {
  readonly name: string;
  readonly timeUnixNano: bigint;
  readonly attributes: OtlpAttributes;
}

export interface OtlpStatus {
  /** 0 unset, 1 ok, 2 error. */
  readonly code: number;
  readonly message: string;
}

export interface OtlpSpan {
  readonly name: string;
  /** Lower-case hex; '' when absent. */
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  /** 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: OtlpAttributes;
  readonly events: readonly OtlpEvent[];
  readonly status: OtlpStatus;
}

export interface OtlpScopeSpans {
  readonly name: string;
  readonly version: string;
  readonly spans: readonly OtlpSpan[];
}

export interface OtlpResourceSpans {
  readonly resourceAttributes: OtlpAttributes;
  readonly schemaUrl: string;
  readonly scopes: readonly OtlpScopeSpans[];
}

export interface OtlpScopedSpan extends OtlpSpan {
  readonly scope: string;
}

// ---------------------------------------------------------------------------------------------
// Wire format

type Field =
  | { readonly no: number; readonly wire: 'varint'; readonly value: bigint }
  | { readonly no: number; readonly wire: 'i64' | 'len' | 'i32'; readonly bytes: Uint8Array };

const utf8 = new TextDecoder('utf-8', { fatal: true });

class WireError extends Error {
  constructor(message: string, what: string, offset: number) {
    super(`OTLP protobuf: ${message} in ${what} at byte ${offset}`);
  }
}

function readVarint(buf: Uint8Array, start: number, what: string): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let pos = start; pos < buf.length && pos < start + 10; pos++) {
    const byte = buf[pos] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value: BigInt.asUintN(64, value), next: pos + 1 };
    shift += 7n;
  }
  throw new WireError('truncated or over-long varint', what, start);
}

function take(buf: Uint8Array, start: number, length: number, what: string): Uint8Array {
  if (start + length > buf.length)
    throw new WireError(`field of ${length} bytes runs past the end`, what, start);
  return buf.subarray(start, start + length);
}

/** The fields of one message, in wire order. */
function* fields(buf: Uint8Array, what: string): Generator<Field> {
  let pos = 0;
  while (pos < buf.length) {
    const tag = readVarint(buf, pos, what);
    const no = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    if (no === 0) throw new WireError('field number 0', what, pos);
    pos = tag.next;
    switch (wireType) {
      case 0: {
        const v = readVarint(buf, pos, what);
        pos = v.next;
        yield { no, wire: 'varint', value: v.value };
        break;
      }
      case 1:
        yield { no, wire: 'i64', bytes: take(buf, pos, 8, what) };
        pos += 8;
        break;
      case 2: {
        const len = readVarint(buf, pos, what);
        const bytes = take(buf, len.next, Number(len.value), what);
        pos = len.next + bytes.length;
        yield { no, wire: 'len', bytes };
        break;
      }
      case 5:
        yield { no, wire: 'i32', bytes: take(buf, pos, 4, what) };
        pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${wireType} (field ${no})`, what, pos);
    }
  }
}

function lengthDelimited(field: Field, what: string): Uint8Array {
  if (field.wire !== 'len')
    throw new Error(`OTLP protobuf: ${what} field ${field.no} is ${field.wire}, expected len`);
  return field.bytes;
}

function varint(field: Field, what: string): bigint {
  if (field.wire !== 'varint')
    throw new Error(`OTLP protobuf: ${what} field ${field.no} is ${field.wire}, expected varint`);
  return field.value;
}

function fixed64(field: Field, what: string): bigint {
  if (field.wire !== 'i64')
    throw new Error(`OTLP protobuf: ${what} field ${field.no} is ${field.wire}, expected i64`);
  return new DataView(field.bytes.buffer, field.bytes.byteOffset, 8).getBigUint64(0, true);
}

function double(field: Field, what: string): number {
  if (field.wire !== 'i64')
    throw new Error(`OTLP protobuf: ${what} field ${field.no} is ${field.wire}, expected i64`);
  return new DataView(field.bytes.buffer, field.bytes.byteOffset, 8).getFloat64(0, true);
}

function text(field: Field, what: string): string {
  try {
    return utf8.decode(lengthDelimited(field, what));
  } catch (err) {
    if (err instanceof TypeError)
      throw new Error(`OTLP protobuf: ${what} field ${field.no} is not valid UTF-8`);
    throw err;
  }
}
const hex = (field: Field, what: string): string =>
  Buffer.from(lengthDelimited(field, what)).toString('hex');

// ---------------------------------------------------------------------------------------------
// common.proto

function int64Value(raw: bigint): number | bigint {
  const signed = BigInt.asIntN(64, raw);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(signed)
    : signed;
}

/** AnyValue: 1 string, 2 bool, 3 int64, 4 double, 5 ArrayValue, 6 KeyValueList, 7 bytes. */
function decodeAnyValue(buf: Uint8Array): OtlpValue {
  const what = 'AnyValue';
  let value: OtlpValue = null;
  for (const f of fields(buf, what)) {
    switch (f.no) {
      case 1:
        value = text(f, what);
        break;
      case 2:
        value = varint(f, what) !== 0n;
        break;
      case 3:
        value = int64Value(varint(f, what));
        break;
      case 4:
        value = double(f, what);
        break;
      case 5:
        value = decodeArrayValue(lengthDelimited(f, what));
        break;
      case 6:
        value = decodeKeyValueList(lengthDelimited(f, what));
        break;
      case 7:
        value = Uint8Array.from(lengthDelimited(f, what));
        break;
    }
  }
  return value;
}

/** ArrayValue: 1 repeated AnyValue. */
function decodeArrayValue(buf: Uint8Array): OtlpValue[] {
  const out: OtlpValue[] = [];
  for (const f of fields(buf, 'ArrayValue')) {
    if (f.no === 1) out.push(decodeAnyValue(lengthDelimited(f, 'ArrayValue')));
  }
  return out;
}

/** KeyValueList: 1 repeated KeyValue. */
function decodeKeyValueList(buf: Uint8Array): OtlpAttributes {
  const out: Record<string, OtlpValue> = {};
  for (const f of fields(buf, 'KeyValueList')) {
    if (f.no === 1) addKeyValue(out, lengthDelimited(f, 'KeyValueList'));
  }
  return out;
}

/** KeyValue: 1 key, 2 AnyValue. */
function addKeyValue(into: Record<string, OtlpValue>, buf: Uint8Array): void {
  let key = '';
  let value: OtlpValue = null;
  for (const f of fields(buf, 'KeyValue')) {
    if (f.no === 1) key = text(f, 'KeyValue');
    else if (f.no === 2) value = decodeAnyValue(lengthDelimited(f, 'KeyValue'));
  }
  into[key] = value;
}

// ---------------------------------------------------------------------------------------------
// trace.proto / resource.proto

/** Span.Event: 1 time_unix_nano fixed64, 2 name, 3 repeated KeyValue attributes. */
function decodeEvent(buf: Uint8Array): OtlpEvent {
  const what = 'Span.Event';
  let name = '';
  let timeUnixNano = 0n;
  const attributes: Record<string, OtlpValue> = {};
  for (const f of fields(buf, what)) {
    if (f.no === 1) timeUnixNano = fixed64(f, what);
    else if (f.no === 2) name = text(f, what);
    else if (f.no === 3) addKeyValue(attributes, lengthDelimited(f, what));
  }
  return { name, timeUnixNano, attributes };
}

/** Status: 2 message, 3 code (1 is reserved). */
function decodeStatus(buf: Uint8Array): OtlpStatus {
  let code = 0;
  let message = '';
  for (const f of fields(buf, 'Status')) {
    if (f.no === 2) message = text(f, 'Status');
    else if (f.no === 3) code = Number(varint(f, 'Status'));
  }
  return { code, message };
}

/**
 * Span: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name, 6 kind,
 * 7/8 start/end_time_unix_nano fixed64, 9 attributes, 11 events, 15 status.
 */
function decodeSpan(buf: Uint8Array): OtlpSpan {
  const what = 'Span';
  const span = {
    name: '',
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {} as Record<string, OtlpValue>,
    events: [] as OtlpEvent[],
    status: { code: 0, message: '' } as OtlpStatus,
  };
  for (const f of fields(buf, what)) {
    switch (f.no) {
      case 1:
        span.traceId = hex(f, what);
        break;
      case 2:
        span.spanId = hex(f, what);
        break;
      case 3:
        span.traceState = text(f, what);
        break;
      case 4:
        span.parentSpanId = hex(f, what);
        break;
      case 5:
        span.name = text(f, what);
        break;
      case 6:
        span.kind = Number(varint(f, what));
        break;
      case 7:
        span.startTimeUnixNano = fixed64(f, what);
        break;
      case 8:
        span.endTimeUnixNano = fixed64(f, what);
        break;
      case 9:
        addKeyValue(span.attributes, lengthDelimited(f, what));
        break;
      case 11:
        span.events.push(decodeEvent(lengthDelimited(f, what)));
        break;
      case 15:
        span.status = decodeStatus(lengthDelimited(f, what));
        break;
    }
  }
  return span;
}

/** InstrumentationScope: 1 name, 2 version. */
function decodeScope(buf: Uint8Array): { name: string; version: string } {
  let name = '';
  let version = '';
  for (const f of fields(buf, 'InstrumentationScope')) {
    if (f.no === 1) name = text(f, 'InstrumentationScope');
    else if (f.no === 2) version = text(f, 'InstrumentationScope');
  }
  return { name, version };
}

/** ScopeSpans: 1 scope, 2 repeated Span. */
function decodeScopeSpans(buf: Uint8Array): OtlpScopeSpans {
  let scope = { name: '', version: '' };
  const spans: OtlpSpan[] = [];
  for (const f of fields(buf, 'ScopeSpans')) {
    if (f.no === 1) scope = decodeScope(lengthDelimited(f, 'ScopeSpans'));
    else if (f.no === 2) spans.push(decodeSpan(lengthDelimited(f, 'ScopeSpans')));
  }
  return { ...scope, spans };
}

/** Resource: 1 repeated KeyValue attributes. */
function decodeResource(buf: Uint8Array): OtlpAttributes {
  const attributes: Record<string, OtlpValue> = {};
  for (const f of fields(buf, 'Resource')) {
    if (f.no === 1) addKeyValue(attributes, lengthDelimited(f, 'Resource'));
  }
  return attributes;
}

/** ResourceSpans: 1 resource, 2 repeated ScopeSpans, 3 schema_url. */
function decodeResourceSpans(buf: Uint8Array): OtlpResourceSpans {
  let resourceAttributes: OtlpAttributes = {};
  let schemaUrl = '';
  const scopes: OtlpScopeSpans[] = [];
  for (const f of fields(buf, 'ResourceSpans')) {
    if (f.no === 1) resourceAttributes = decodeResource(lengthDelimited(f, 'ResourceSpans'));
    else if (f.no === 2) scopes.push(decodeScopeSpans(lengthDelimited(f, 'ResourceSpans')));
    else if (f.no === 3) schemaUrl = text(f, 'ResourceSpans');
  }
  return { resourceAttributes, schemaUrl, scopes };
}

/** ExportTraceServiceRequest: 1 repeated ResourceSpans. */
export function decodeExportTraceServiceRequest(body: Uint8Array): OtlpResourceSpans[] {
  const out: OtlpResourceSpans[] = [];
  for (const f of fields(body, 'ExportTraceServiceRequest')) {
    if (f.no === 1) out.push(decodeResourceSpans(lengthDelimited(f, 'ExportTraceServiceRequest')));
  }
  return out;
}

/** Every span of the decoded export(s), each with the name of its instrumentation scope. */
export function flattenSpans(resources: readonly OtlpResourceSpans[]): OtlpScopedSpan[] {
  return resources.flatMap((r) =>
    r.scopes.flatMap((s) => s.spans.map((span) => ({ ...span, scope: s.name }))),
  );
}
