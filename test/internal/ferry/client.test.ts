/** The FERRY client in TLS mode against the fake FERRY over real mutual TLS (spec ferry-and-db.md 2, 3.2, 9). */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  queryFerryUids,
  type AccountResult,
  type FerryQueryOptions,
} from '../../../src/internal/ferry/index.js';
import * as B from '../../../src/testenv/ferry/behaviors.js';
import { captureLog, ferryWorld, type FerryWorld } from './helpers.js';

let world: FerryWorld;
beforeAll(async () => {
  world = await ferryWorld();
});
afterAll(async () => {
  await world?.close();
});
beforeEach(async () => {
  const f = world.ferry;
  await f.setTls({ serverCert: 'good', clientAuth: 'require' });
  f.setAuth('cert');
  f.resetBehaviors();
  f.resetLog();
});

function options(
  over: Partial<FerryQueryOptions> = {},
  files: Partial<{ hostCert: string; hostKey: string; caPath: string }> = {},
): FerryQueryOptions {
  const f = world.ferry;
  return {
    host: f.url,
    port: f.port,
    auth: {
      kind: 'tls',
      files: { hostCert: f.clientCert, hostKey: f.clientKey, caPath: f.caDir, ...files },
    },
    requestTimeoutMs: 5000,
    log: captureLog(),
    signal: new AbortController().signal,
    ...over,
  };
}

const CFG3 = ['dunepro', 'mu2epro', 'sbndpro'];

function byAccount(results: AccountResult[]): Record<string, AccountResult> {
  return Object.fromEntries(results.map((r) => [r.account, r]));
}

function uids(results: AccountResult[]): Record<string, number | string> {
  return Object.fromEntries(results.map((r) => [r.account, r.ok ? r.uid : `ERR ${r.error}`]));
}

describe('happy path', () => {
  it('check 9: exactly one GET /getUserInfo?username=<a> per account, no violations, client CN presented', async () => {
    const results = await queryFerryUids(CFG3, options());
    expect(uids(results)).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
    const reqs = world.ferry.requests;
    expect(reqs.map((r) => `${r.method} ${r.path}?${r.rawQuery}`).sort()).toEqual([
      'GET /getUserInfo?username=dunepro',
      'GET /getUserInfo?username=mu2epro',
      'GET /getUserInfo?username=sbndpro',
    ]);
    expect(world.ferry.violations).toEqual([]);
    expect(reqs.every((r) => r.clientCertCN === 'managed-tokens-test')).toBe(true);
    expect(reqs.every((r) => r.headers['authorization'] === undefined)).toBe(true);
    expect(results.every((r) => r.ok && r.durationSeconds > 0)).toBe(true);
  });

  it('check 10: a duplicated account is queried twice', async () => {
    const results = await queryFerryUids(['dunepro', 'dunepro', 'mu2epro'], options());
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(world.ferry.requests.filter((r) => r.username === 'dunepro')).toHaveLength(2);
  });

  it('check 11: requests run concurrently (5 delayed accounts are in flight together)', async () => {
    const accounts = ['x1', 'x2', 'x3', 'x4', 'x5'];
    accounts.forEach((a, i) => world.ferry.setUser(a, B.delay(500, B.ok(20000 + i))));
    const results = await queryFerryUids(accounts, options());
    expect(results.every((r) => r.ok)).toBe(true);
    expect(world.ferry.maxInFlight).toBe(5);
  });

  it('concurrency is bounded by the limit', async () => {
    const accounts = ['x1', 'x2', 'x3', 'x4', 'x5'];
    accounts.forEach((a, i) => world.ferry.setUser(a, B.delay(100, B.ok(20000 + i))));
    const results = await queryFerryUids(accounts, options({ concurrency: 2 }));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(world.ferry.maxInFlight).toBe(2);
  });

  it('check 37 (FIX Q6): the account is percent-encoded and decodes to exactly the configured string', async () => {
    world.ferry.setUser('a&b c', B.ok(777));
    const results = await queryFerryUids(['a&b c'], options());
    expect(uids(results)).toEqual({ 'a&b c': 777 });
    expect(world.ferry.requests[0]?.username).toBe('a&b c');
    expect(world.ferry.requests[0]?.rawQuery).toBe('username=a%26b%20c');
    expect(world.ferry.violations).toEqual([]);
  });

  it('check 20: the HTTP status is ignored (500 with a success body → success)', async () => {
    world.ferry.setUser('dunepro', B.status(500, B.ok(10001)));
    expect(uids(await queryFerryUids(['dunepro'], options()))).toEqual({ dunepro: 10001 });
  });

  it('check 25: unknown fields and upper-case keys are accepted', async () => {
    world.ferry.setUser('dunepro', B.okExtra(10001));
    world.ferry.setUser('mu2epro', B.caseVariant(10002));
    expect(uids(await queryFerryUids(['dunepro', 'mu2epro'], options()))).toEqual({
      dunepro: 10001,
      mu2epro: 10002,
    });
  });

  it('check 26: ferry_status "FAILURE" is not a failure', async () => {
    world.ferry.setUser(
      'dunepro',
      B.raw('{"ferry_status":"FAILURE","ferry_error":[],"ferry_output":{"uid":7}}'),
    );
    expect(uids(await queryFerryUids(['dunepro'], options()))).toEqual({ dunepro: 7 });
  });

  it('redirects on the same server are followed', async () => {
    world.ferry.setUser('x1', B.redirect('/getUserInfo?username=dunepro'));
    expect(uids(await queryFerryUids(['x1'], options()))).toEqual({ x1: 10001 });
  });
});

describe('per-account failures (others still succeed)', () => {
  it('check 16: ferry_status failure fails only that account and logs its error', async () => {
    world.ferry.setUser('mu2epro', B.ferryFailure(['No such user']));
    const log = captureLog();
    const r = byAccount(await queryFerryUids(CFG3, options({ log })));
    expect(r['dunepro']?.ok).toBe(true);
    expect(r['sbndpro']?.ok).toBe(true);
    expect(r['mu2epro']).toMatchObject({
      ok: false,
      error: expect.stringContaining('No such user'),
    });
    expect(
      log.lines.some(
        (l) =>
          l.level === 'error' && l.msg.includes('Could not get FERRY UID data for user mu2epro'),
      ),
    ).toBe(true);
  });

  it.each([
    ['check 21: an HTML page', B.raw('<html><body>Bad gateway</body></html>', 'text/html')],
    ['check 22: an empty body', B.raw('')],
    ['check 22: a truncated body', B.raw('{"ferry_status":"success"')],
    ['check 22: trailing garbage', B.raw(`${JSON.stringify(B.successBody(10001))}xyz`)],
    ['check 23 (FIX Q4): null', B.raw('null')],
    ['check 23 (FIX Q4): {}', B.raw('{}')],
    ['check 23 (FIX Q4): missing uid', B.missingUid],
    ['check 23 (FIX Q4): missing ferry_output', B.missingOutput],
    ['check 24: uid "10001"', B.typeMismatch('uid-string')],
    ['check 24: uid 10001.5', B.typeMismatch('uid-float')],
    ['check 24: status "true"', B.typeMismatch('status-string')],
    ['check 24: ferry_error "boom"', B.typeMismatch('ferry_error-string')],
    ['check 24: ferry_output []', B.typeMismatch('ferry_output-array')],
    ['a top-level array', B.raw('[]')],
    ['a connection reset', B.reset],
  ])('%s → that account fails, the others succeed', async (_name, behavior) => {
    world.ferry.setUser('mu2epro', behavior);
    const r = byAccount(await queryFerryUids(CFG3, options()));
    expect(r['mu2epro']?.ok).toBe(false);
    expect(r['dunepro']).toMatchObject({ ok: true, uid: 10001 });
    expect(r['sbndpro']).toMatchObject({ ok: true, uid: 10003 });
  });

  it('check 18: hanging answers fail by the per-request deadline', async () => {
    world.ferry.setDefault(B.hang);
    const results = await queryFerryUids(CFG3, options({ requestTimeoutMs: 300 }));
    expect(results.map((r) => r.ok)).toEqual([false, false, false]);
    for (const r of results) expect(r.ok ? '' : r.error).toContain('context deadline exceeded');
    expect(world.ferry.requests).toHaveLength(3);
  });

  it('check 19: a body that stalls past the deadline fails that account', async () => {
    world.ferry.setUser('mu2epro', B.slowBody(2000, B.ok(10002)));
    const r = byAccount(await queryFerryUids(CFG3, options({ requestTimeoutMs: 400 })));
    expect(r['mu2epro']).toMatchObject({
      ok: false,
      error: expect.stringContaining('context deadline exceeded'),
    });
    expect(r['dunepro']?.ok).toBe(true);
  });

  it('the run deadline aborts requests too', async () => {
    world.ferry.setDefault(B.hang);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const results = await queryFerryUids(
      CFG3,
      options({ signal: ac.signal, requestTimeoutMs: 60_000 }),
    );
    expect(results.every((r) => !r.ok)).toBe(true);
  });
});

describe('whole-run transport failures', () => {
  it('check 17: FERRY down → every account fails with connection refused', async () => {
    await world.ferry.stop();
    try {
      const results = await queryFerryUids(CFG3, options());
      expect(results).toHaveLength(3);
      for (const r of results) expect(r.ok ? '' : r.error).toMatch(/ECONNREFUSED/);
    } finally {
      await world.ferry.restart();
    }
  });

  it('check 29: the test CA only as decoy.crt (and garbage.pem) → untrusted server', async () => {
    const ca = join(world.dir, 'ca-decoy-only');
    mkdirSync(ca, { recursive: true });
    copyFileSync(world.ferry.pki.caCert, join(ca, 'testca.crt'));
    copyFileSync(join(world.ferry.caDir, 'garbage.pem'), join(ca, 'garbage.pem'));
    copyFileSync(join(world.ferry.caDir, 'README'), join(ca, 'README'));
    const results = await queryFerryUids(CFG3, options({}, { caPath: ca }));
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(results[0]?.ok ? '' : results[0]?.error).toMatch(/certificate/i);
    expect(world.ferry.requests).toHaveLength(0);
    rmSync(ca, { recursive: true });
  });

  it('the decoys in the CA dir are ignored without breaking the pool', async () => {
    // caDir holds testca.pem plus decoy.crt, README and garbage.pem
    expect(uids(await queryFerryUids(['dunepro'], options()))).toEqual({ dunepro: 10001 });
  });

  it('check 30: a missing caPath fails every account before any connection', async () => {
    const log = captureLog();
    const results = await queryFerryUids(
      CFG3,
      options({ log }, { caPath: join(world.dir, 'no-such-dir') }),
    );
    expect(results.every((r) => !r.ok && r.error.includes('no-such-dir'))).toBe(true);
    expect(world.ferry.requests).toHaveLength(0);
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(3);
  });

  it('check 31: a key that does not match the certificate fails every account with 0 requests', async () => {
    const results = await queryFerryUids(CFG3, options({}, { hostKey: world.ferry.pki.otherKey }));
    expect(results.every((r) => !r.ok && /key pair/.test(r.error))).toBe(true);
    expect(world.ferry.requests).toHaveLength(0);
  });

  it('a missing certificate file names the file', async () => {
    const results = await queryFerryUids(
      ['dunepro'],
      options({}, { hostCert: '/nonexistent/cert.pem' }),
    );
    expect(results[0]).toMatchObject({
      ok: false,
      error: expect.stringContaining('/nonexistent/cert.pem'),
    });
  });

  it('check 32: a server certificate from another CA is rejected', async () => {
    await world.ferry.setTls({ serverCert: 'rogue' });
    const results = await queryFerryUids(CFG3, options());
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(world.ferry.requests).toHaveLength(0);
  });

  it('check 33: a client certificate from another CA fails the handshake (wrong client certificate)', async () => {
    const p = world.ferry.pki;
    const results = await queryFerryUids(
      CFG3,
      options({}, { hostCert: p.rogueClientCert, hostKey: p.rogueClientKey }),
    );
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(world.ferry.requests).toHaveLength(0);
  });

  it('check 35: ferry.host without a scheme fails every account', async () => {
    const results = await queryFerryUids(CFG3, options({ host: 'localhost' }));
    expect(results.every((r) => !r.ok && r.error.includes('unsupported protocol scheme'))).toBe(
      true,
    );
  });

  it('check 36: port 0 fails every account', async () => {
    const results = await queryFerryUids(CFG3, options({ port: 0 }));
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(world.ferry.requests).toHaveLength(0);
  });
});
