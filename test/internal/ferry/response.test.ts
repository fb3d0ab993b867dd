/** Decoding of FERRY answers with the original's tolerance and the FIX rows (spec ferry-and-db.md 2.2-2.3). */
import { describe, expect, it } from 'vitest';
import {
  decodeFerryResponse,
  uidFromBody,
  userInfoUrl,
} from '../../../src/internal/ferry/index.js';
import { successBody } from '../../../src/testenv/ferry/behaviors.js';

const ok = (body: unknown) => uidFromBody(typeof body === 'string' ? body : JSON.stringify(body));

describe('uidFromBody', () => {
  it('reads ferry_output.uid from the documented success shape', () => {
    expect(
      ok({
        ferry_status: 'success',
        ferry_error: [],
        ferry_output: {
          expirationdate: '2024-01-01T00:00:00Z',
          fullname: 'Test User',
          groupaccount: false,
          status: true,
          uid: 12345,
          vopersonid: '12345',
        },
      }),
    ).toEqual({ ok: true, uid: 12345 });
  });

  it('KEEP Q2: only ferry_status exactly "failure" is a FERRY failure, and its errors are reported', () => {
    const r = ok({
      ferry_status: 'failure',
      ferry_error: ['User does not exist.'],
      ferry_output: null,
    });
    expect(r).toMatchObject({
      ok: false,
      kind: 'ferry-failure',
      error: expect.stringContaining('User does not exist.'),
    });
    expect(ok({ ferry_status: 'FAILURE', ferry_output: { uid: 7 } })).toEqual({ ok: true, uid: 7 });
    expect(ok({ ferry_status: '', ferry_output: { uid: 8 } })).toEqual({ ok: true, uid: 8 });
    expect(ok({ ferry_output: { uid: 9 } })).toEqual({ ok: true, uid: 9 });
  });

  it('FIX Q4: no ferry_output, no uid, null uid, null or {} body → failure instead of uid 0', () => {
    for (const body of [
      'null',
      '{}',
      { ferry_status: 'success' },
      { ferry_output: {} },
      { ferry_output: { uid: null } },
      { ferry_output: null },
    ]) {
      expect(ok(body)).toMatchObject({ ok: false, kind: 'no-uid' });
    }
  });

  it('keys match case-insensitively, exact case preferred; unknown fields are ignored', () => {
    expect(
      ok({ FERRY_STATUS: 'success', Ferry_Output: { UID: 10001, Extra: [1, 2] }, banned: false }),
    ).toEqual({ ok: true, uid: 10001 });
    expect(ok('{"ferry_output":{"UID":1,"uid":2,"Uid":3}}')).toEqual({ ok: true, uid: 2 });
    expect(ok({ Ferry_Status: 'failure', ferry_error: ['x'] })).toMatchObject({
      ok: false,
      kind: 'ferry-failure',
    });
  });

  it('null fields take their zero value', () => {
    expect(
      decodeFerryResponse(
        '{"ferry_status":null,"ferry_error":null,"ferry_output":{"uid":5,"status":null}}',
      ),
    ).toEqual({
      ok: true,
      response: {
        ferryStatus: '',
        ferryError: [],
        ferryOutput: {
          expirationdate: '',
          fullname: '',
          groupaccount: false,
          status: false,
          uid: 5,
          vopersonid: '',
        },
      },
    });
  });

  it.each([
    ['uid as a string', { ...successBody('10001') }],
    ['uid as a fraction', successBody(10001.5)],
    ['status as a string', { ferry_output: { uid: 1, status: 'true' } }],
    ['groupaccount as a number', { ferry_output: { uid: 1, groupaccount: 0 } }],
    ['fullname as a number', { ferry_output: { uid: 1, fullname: 5 } }],
    ['ferry_error as a string', { ferry_error: 'boom', ferry_output: { uid: 1 } }],
    ['ferry_error with a number inside', { ferry_error: [1], ferry_output: { uid: 1 } }],
    ['ferry_output as an array', { ferry_output: [] }],
    ['ferry_status as a number', { ferry_status: 1, ferry_output: { uid: 1 } }],
    ['a top-level array', []],
    ['a top-level string', 'hello'],
  ])('a type mismatch (%s) is a decode error', (_name, body) => {
    expect(ok(JSON.stringify(body))).toMatchObject({ ok: false, kind: 'decode' });
  });

  it.each([
    ['empty', ''],
    ['whitespace', '  \n'],
    ['truncated', '{"ferry_status":"success"'],
    ['trailing garbage', `${JSON.stringify(successBody(1))}xyz`],
    ['HTML', '<html><body>502</body></html>'],
  ])('%s body → decode error', (_name, body) => {
    expect(ok(body)).toMatchObject({
      ok: false,
      kind: 'decode',
      error: expect.stringContaining('could not decode FERRY response'),
    });
  });

  it('accepts integral floats (an allowed deviation) and negative uids, rejects unsafe integers', () => {
    expect(ok('{"ferry_output":{"uid":12345.0}}')).toEqual({ ok: true, uid: 12345 });
    expect(ok('{"ferry_output":{"uid":-1}}')).toEqual({ ok: true, uid: -1 });
    expect(ok('{"ferry_output":{"uid":9007199254740993}}')).toMatchObject({
      ok: false,
      kind: 'decode',
    });
  });
});

describe('userInfoUrl', () => {
  it('concatenates host, port and the percent-encoded account (FIX Q6)', () => {
    expect(userInfoUrl('https://ferry.fnal.gov', 8445, 'dunepro')).toBe(
      'https://ferry.fnal.gov:8445/getUserInfo?username=dunepro',
    );
    expect(userInfoUrl('https://h', 1, 'a&b c')).toBe('https://h:1/getUserInfo?username=a%26b%20c');
    expect(userInfoUrl('https://h', 1, 'A-z.0_~')).toBe('https://h:1/getUserInfo?username=A-z.0_~');
    expect(userInfoUrl('https://h', 1, "x'(y)*!")).toBe(
      'https://h:1/getUserInfo?username=x%27%28y%29%2A%21',
    );
    expect(userInfoUrl('https://h', 0, '')).toBe('https://h:0/getUserInfo?username=');
  });
});
