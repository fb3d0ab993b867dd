/**
 * What the fake FERRY answers for a username (spec ferry-and-db.md 8.1). Plain data, so a
 * behaviour file for the standalone server is just JSON of these.
 */
export type TypeMismatchField =
  'uid-string' | 'uid-float' | 'status-string' | 'ferry_error-string' | 'ferry_output-array';

export type Behavior =
  | { readonly kind: 'ok'; readonly uid: number }
  | { readonly kind: 'okExtra'; readonly uid: number }
  | { readonly kind: 'ferryFailure'; readonly messages: readonly string[] }
  | { readonly kind: 'status'; readonly code: number; readonly inner: Behavior }
  | { readonly kind: 'raw'; readonly body: string; readonly contentType?: string }
  | { readonly kind: 'typeMismatch'; readonly field: TypeMismatchField }
  | { readonly kind: 'caseVariant'; readonly uid: number }
  | { readonly kind: 'missingUid' }
  | { readonly kind: 'missingOutput' }
  | { readonly kind: 'delay'; readonly ms: number; readonly inner: Behavior }
  | { readonly kind: 'slowBody'; readonly ms: number; readonly inner: Behavior }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'redirect'; readonly path: string };

export const ok = (uid: number): Behavior => ({ kind: 'ok', uid });
export const okExtra = (uid: number): Behavior => ({ kind: 'okExtra', uid });
export const ferryFailure = (messages: readonly string[]): Behavior => ({
  kind: 'ferryFailure',
  messages,
});
export const status = (code: number, inner: Behavior): Behavior => ({
  kind: 'status',
  code,
  inner,
});
export const raw = (body: string, contentType = 'application/json'): Behavior => ({
  kind: 'raw',
  body,
  contentType,
});
export const typeMismatch = (field: TypeMismatchField): Behavior => ({
  kind: 'typeMismatch',
  field,
});
export const caseVariant = (uid: number): Behavior => ({ kind: 'caseVariant', uid });
export const missingUid: Behavior = { kind: 'missingUid' };
export const missingOutput: Behavior = { kind: 'missingOutput' };
export const delay = (ms: number, inner: Behavior): Behavior => ({ kind: 'delay', ms, inner });
export const slowBody = (ms: number, inner: Behavior): Behavior => ({
  kind: 'slowBody',
  ms,
  inner,
});
export const hang: Behavior = { kind: 'hang' };
export const reset: Behavior = { kind: 'reset' };
export const redirect = (path: string): Behavior => ({ kind: 'redirect', path });

export const DEFAULT_USERS: Readonly<Record<string, number>> = {
  dunepro: 10001,
  mu2epro: 10002,
  sbndpro: 10003,
  sbndtestrole: 10004,
};

export function successBody(uid: unknown, username = 'Test User'): Record<string, unknown> {
  return {
    ferry_status: 'success',
    ferry_error: [],
    ferry_output: {
      expirationdate: '2038-01-01T00:00:00Z',
      fullname: username,
      groupaccount: false,
      status: true,
      uid,
      vopersonid: String(uid),
    },
  };
}

export function failureBody(messages: readonly string[]): Record<string, unknown> {
  return { ferry_status: 'failure', ferry_error: [...messages], ferry_output: null };
}

/** A fully rendered answer: status, headers and body; timing wrappers are applied by the server. */
export interface RenderedAnswer {
  readonly statusCode: number;
  readonly contentType: string;
  readonly body: string;
}

const json = (value: unknown, statusCode = 200): RenderedAnswer => ({
  statusCode,
  contentType: 'application/json',
  body: JSON.stringify(value),
});

/** Renders a non-timing behaviour; timing kinds (delay, slowBody, hang, reset, redirect) are the server's job. */
export function render(b: Behavior): RenderedAnswer {
  switch (b.kind) {
    case 'ok':
      return json(successBody(b.uid));
    case 'okExtra': {
      const body = successBody(b.uid);
      (body['ferry_output'] as Record<string, unknown>)['banned'] = false;
      body['request_id'] = 'fake-123';
      return json(body);
    }
    case 'ferryFailure':
      return json(failureBody(b.messages));
    case 'status':
      return { ...render(b.inner), statusCode: b.code };
    case 'raw':
      return { statusCode: 200, contentType: b.contentType ?? 'application/json', body: b.body };
    case 'typeMismatch':
      return json(mismatchBody(b.field));
    case 'caseVariant':
      return json({
        FERRY_STATUS: 'success',
        Ferry_Error: [],
        FERRY_OUTPUT: { UID: b.uid, FullName: 'Test User', Status: true },
      });
    case 'missingUid': {
      const body = successBody(0);
      delete (body['ferry_output'] as Record<string, unknown>)['uid'];
      return json(body);
    }
    case 'missingOutput':
      return json({ ferry_status: 'success', ferry_error: [] });
    case 'delay':
    case 'slowBody':
      return render(b.inner);
    case 'hang':
    case 'reset':
    case 'redirect':
      throw new Error(`behaviour ${b.kind} has no body`);
  }
}

function mismatchBody(field: TypeMismatchField): Record<string, unknown> {
  const body = successBody(10001);
  const output = body['ferry_output'] as Record<string, unknown>;
  switch (field) {
    case 'uid-string':
      output['uid'] = '10001';
      break;
    case 'uid-float':
      output['uid'] = 10001.5;
      break;
    case 'status-string':
      output['status'] = 'true';
      break;
    case 'ferry_error-string':
      body['ferry_error'] = 'boom';
      break;
    case 'ferry_output-array':
      body['ferry_output'] = [];
      break;
  }
  return body;
}

/** Checks a value read from a behaviour file; throws naming the offending path. */
export function parseBehavior(value: unknown, where = 'behavior'): Behavior {
  if (typeof value !== 'object' || value === null)
    throw new Error(`${where}: expected an object with "kind"`);
  const v = value as Record<string, unknown>;
  const num = (k: string): number => {
    if (typeof v[k] !== 'number') throw new Error(`${where}.${k}: expected a number`);
    return v[k] as number;
  };
  switch (v['kind']) {
    case 'ok':
    case 'okExtra':
    case 'caseVariant':
      return { kind: v['kind'], uid: num('uid') };
    case 'ferryFailure':
      if (!Array.isArray(v['messages']))
        throw new Error(`${where}.messages: expected an array of strings`);
      return { kind: 'ferryFailure', messages: (v['messages'] as unknown[]).map(String) };
    case 'status':
      return {
        kind: 'status',
        code: num('code'),
        inner: parseBehavior(v['inner'], `${where}.inner`),
      };
    case 'raw':
      return {
        kind: 'raw',
        body: String(v['body'] ?? ''),
        contentType: typeof v['contentType'] === 'string' ? v['contentType'] : 'application/json',
      };
    case 'typeMismatch':
      return { kind: 'typeMismatch', field: String(v['field']) as TypeMismatchField };
    case 'missingUid':
    case 'missingOutput':
    case 'hang':
    case 'reset':
      return { kind: v['kind'] } as Behavior;
    case 'delay':
    case 'slowBody':
      return { kind: v['kind'], ms: num('ms'), inner: parseBehavior(v['inner'], `${where}.inner`) };
    case 'redirect':
      return { kind: 'redirect', path: String(v['path'] ?? '/') };
    default:
      throw new Error(`${where}.kind: unknown behaviour ${JSON.stringify(v['kind'])}`);
  }
}
