/** Pure parts of the JWT path (spec ferry-and-db.md 3.3). */
import { describe, expect, it } from 'vitest';
import {
  htgettokenOptsFor,
  parseJwt,
  serviceNameOf,
  splitServiceName,
  tokenWarnings,
} from '../../../src/internal/ferry/index.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: unknown, header: unknown = { alg: 'none', typ: 'JWT' }) =>
  `${b64(header)}.${b64(claims)}.`;

describe('service name', () => {
  it('joins experiment and role, and splits with the unanchored greedy pattern', () => {
    expect(serviceNameOf({ serviceExperiment: 'fermilab', serviceRole: '' })).toBe('fermilab');
    expect(serviceNameOf({ serviceExperiment: 'dune', serviceRole: 'production' })).toBe(
      'dune_production',
    );
    expect(splitServiceName('fermilab')).toEqual({ experiment: 'fermilab', role: 'Analysis' });
    expect(splitServiceName('dune_production')).toEqual({ experiment: 'dune', role: 'production' });
    expect(splitServiceName('a_b_c')).toEqual({ experiment: 'a_b', role: 'c' });
    expect(splitServiceName('a_b-c')).toEqual({ experiment: 'a', role: 'b' });
  });
});

describe('HTGETTOKENOPTS', () => {
  it('is the configured value verbatim, else --credkey with every @FNAL.GOV removed', () => {
    expect(
      htgettokenOptsFor({ htgettokenopts: '--foo', serviceKerberosPrincipal: 'x@FNAL.GOV' }),
    ).toBe('--foo');
    expect(htgettokenOptsFor({ htgettokenopts: '', serviceKerberosPrincipal: 'x@FNAL.GOV' })).toBe(
      '',
    );
    expect(
      htgettokenOptsFor({
        htgettokenopts: undefined,
        serviceKerberosPrincipal: 'svc/host@FNAL.GOV',
      }),
    ).toBe('--credkey=svc/host');
    expect(
      htgettokenOptsFor({
        htgettokenopts: undefined,
        serviceKerberosPrincipal: 'a@FNAL.GOV@FNAL.GOV',
      }),
    ).toBe('--credkey=a');
    expect(
      htgettokenOptsFor({ htgettokenopts: undefined, serviceKerberosPrincipal: 'svc@EXAMPLE.ORG' }),
    ).toBe('--credkey=svc@EXAMPLE.ORG');
  });
});

describe('parseJwt', () => {
  it('accepts a compact JWS (signature not checked) and a bare JSON claims object', () => {
    expect(parseJwt(jwt({ iss: 'https://i', exp: 1 }))).toEqual({ iss: 'https://i', exp: 1 });
    expect(parseJwt(`${jwt({ sub: 's' })}c2ln`)).toEqual({ sub: 's' });
    expect(parseJwt('{"iss":"x","aud":["a","b"]}')).toEqual({ iss: 'x', aud: ['a', 'b'] });
  });

  it.each([
    ['empty', ''],
    ['not-a-jwt', 'not-a-jwt'],
    ['two segments', `${b64({ alg: 'none' })}.${b64({})}`],
    ['payload not JSON', `${b64({ alg: 'none' })}.${Buffer.from('nope').toString('base64url')}.`],
    ['payload an array', jwt([1])],
    ['exp as a string', jwt({ exp: 'soon' })],
    ['aud as a number', jwt({ aud: 5 })],
    ['bare JSON with iss a number', '{"iss":1}'],
    ['a vault token', 'hvs.CAESIJ'],
  ])('rejects %s', (_name, text) => {
    expect(parseJwt(text)).toBeUndefined();
  });
});

describe('tokenWarnings (never fatal)', () => {
  const now = 1_700_000_000;
  it('asks for /<experiment> and /<experiment>/<role> in wlcg.groups', () => {
    expect(
      tokenWarnings(
        { 'wlcg.groups': ['/fermilab', '/fermilab/Analysis'], exp: now + 60 },
        'fermilab',
        'Analysis',
        now,
      ),
    ).toEqual([]);
    expect(tokenWarnings({ 'wlcg.groups': ['/dune'] }, 'fermilab', 'Analysis', now)).toEqual([
      'FERRY access token lacks the group /fermilab in wlcg.groups',
      'FERRY access token lacks the group /fermilab/Analysis in wlcg.groups',
    ]);
  });
  it('reports expired, not-yet-valid and future-issued tokens', () => {
    const w = tokenWarnings(
      { 'wlcg.groups': ['/e', '/e/r'], exp: now - 1, nbf: now + 100, iat: now + 1000 },
      'e',
      'r',
      now,
    );
    expect(w).toEqual([
      'FERRY access token is expired',
      'FERRY access token is not valid yet',
      'FERRY access token was issued in the future',
    ]);
  });
});
