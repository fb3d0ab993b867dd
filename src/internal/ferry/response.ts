/**
 * Decoding of a FERRY getUserInfo answer with the original's tolerance (spec ferry-and-db.md
 * 2.2-2.3): unknown fields ignored, keys matched case-insensitively (exact case preferred),
 * null leaves a field at its zero value, a type mismatch on any modelled field is an error,
 * trailing garbage / empty / truncated bodies are errors. The HTTP status is never looked at.
 */

export interface FerryOutput {
  readonly expirationdate: string;
  readonly fullname: string;
  readonly groupaccount: boolean;
  readonly status: boolean;
  /** undefined when the key is missing or null. */
  readonly uid: number | undefined;
  readonly vopersonid: string;
}

export interface FerryResponse {
  readonly ferryStatus: string;
  readonly ferryError: readonly string[];
  /** undefined when the key is missing or null. */
  readonly ferryOutput: FerryOutput | undefined;
}

export type Decoded =
  | { readonly ok: true; readonly response: FerryResponse }
  | { readonly ok: false; readonly error: string };

export type UidOutcome =
  | { readonly ok: true; readonly uid: number }
  | {
      readonly ok: false;
      readonly kind: 'decode' | 'ferry-failure' | 'no-uid';
      readonly error: string;
    };

class DecodeError extends Error {}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function goTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** The value for `field`: exact-case key first, else the last key equal ignoring case. */
function lookup(obj: JsonObject, field: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, field)) return obj[field];
  let found: unknown;
  const lower = field.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) found = obj[key];
  return found;
}

function mismatch(value: unknown, goType: string, path: string): DecodeError {
  return new DecodeError(
    `json: cannot unmarshal ${goTypeOf(value)} into Go struct field ${path} of type ${goType}`,
  );
}

function str(obj: JsonObject, field: string, path: string): string {
  const v = lookup(obj, field);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw mismatch(v, 'string', path);
  return v;
}

function bool(obj: JsonObject, field: string, path: string): boolean {
  const v = lookup(obj, field);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw mismatch(v, 'bool', path);
  return v;
}

/** Integers only; JSON.parse cannot tell 12345.0 from 12345, so integral floats pass (allowed deviation). */
function int(obj: JsonObject, field: string, path: string): number | undefined {
  const v = lookup(obj, field);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new DecodeError(
      typeof v === 'number'
        ? `json: cannot unmarshal number ${v} into Go struct field ${path} of type int`
        : mismatch(v, 'int', path).message,
    );
  }
  if (!Number.isSafeInteger(v)) throw new DecodeError(`json: number ${v} out of range for ${path}`);
  return v;
}

function stringArray(obj: JsonObject, field: string, path: string): string[] {
  const v = lookup(obj, field);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw mismatch(v, '[]string', path);
  return v.map((item) => {
    if (item === null) return '';
    if (typeof item !== 'string') throw mismatch(item, 'string', path);
    return item;
  });
}

function output(obj: JsonObject): FerryOutput | undefined {
  const v = lookup(obj, 'ferry_output');
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw mismatch(v, 'main.ferryOutput', 'ferry_output');
  return {
    expirationdate: str(v, 'expirationdate', 'ferry_output.expirationdate'),
    fullname: str(v, 'fullname', 'ferry_output.fullname'),
    groupaccount: bool(v, 'groupaccount', 'ferry_output.groupaccount'),
    status: bool(v, 'status', 'ferry_output.status'),
    uid: int(v, 'uid', 'ferry_output.uid'),
    vopersonid: str(v, 'vopersonid', 'ferry_output.vopersonid'),
  };
}

export function decodeFerryResponse(body: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    const detail = body.trim() === '' ? 'unexpected end of JSON input' : (err as Error).message;
    return { ok: false, error: `could not decode FERRY response: ${detail}` };
  }
  try {
    if (value === null)
      return { ok: true, response: { ferryStatus: '', ferryError: [], ferryOutput: undefined } };
    if (!isObject(value))
      throw new DecodeError(
        `json: cannot unmarshal ${goTypeOf(value)} into Go value of type main.ferryUIDResponse`,
      );
    return {
      ok: true,
      response: {
        ferryStatus: str(value, 'ferry_status', 'ferry_status'),
        ferryError: stringArray(value, 'ferry_error', 'ferry_error'),
        ferryOutput: output(value),
      },
    };
  } catch (err) {
    if (err instanceof DecodeError)
      return { ok: false, error: `could not decode FERRY response: ${err.message}` };
    throw err;
  }
}

/**
 * The uid of a response body. Only `ferry_status` exactly `failure` counts as a FERRY failure
 * (KEEP Q2); a response without a uid fails instead of yielding uid 0 (FIX Q4).
 */
export function uidFromBody(body: string): UidOutcome {
  const decoded = decodeFerryResponse(body);
  if (!decoded.ok) return { ok: false, kind: 'decode', error: decoded.error };
  const { ferryStatus, ferryError, ferryOutput } = decoded.response;
  if (ferryStatus === 'failure') {
    return {
      ok: false,
      kind: 'ferry-failure',
      error: `FERRY returned failure: ${ferryError.join('; ')}`,
    };
  }
  if (ferryOutput === undefined)
    return { ok: false, kind: 'no-uid', error: 'FERRY response has no ferry_output' };
  if (ferryOutput.uid === undefined)
    return { ok: false, kind: 'no-uid', error: 'FERRY response has no ferry_output.uid' };
  return { ok: true, uid: ferryOutput.uid };
}
