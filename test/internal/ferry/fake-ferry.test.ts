/** The fake FERRY itself (spec ferry-and-db.md 8.1): mutual TLS, route, request validation, knobs. */
import https from 'node:https';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as B from '../../../src/testenv/ferry/behaviors.js';
import { ferryWorld, type FerryWorld } from './helpers.js';

let world: FerryWorld;
beforeAll(async () => {
  world = await ferryWorld();
});
afterAll(async () => {
  await world?.close();
});
beforeEach(async () => {
  await world.ferry.setTls({ serverCert: 'good', clientAuth: 'require' });
  world.ferry.setAuth('cert');
  world.ferry.resetBehaviors();
  world.ferry.resetLog();
});

interface Answer {
  status: number;
  body: string;
}

function get(
  path: string,
  opts: { cert?: boolean; rogue?: boolean; method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const p = world.ferry.pki;
  const useCert = opts.cert ?? true;
  return new Promise((resolvePromise, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: world.ferry.port,
        path,
        method: opts.method ?? 'GET',
        ca: readFileSync(p.caCert),
        ...(useCert
          ? {
              cert: readFileSync(opts.rogue ? p.rogueClientCert : p.clientCert),
              key: readFileSync(opts.rogue ? p.rogueClientKey : p.clientKey),
            }
          : {}),
        headers: opts.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('mutual TLS', () => {
  it('answers a client with the test client certificate over TLS and records it', async () => {
    const a = await get('/getUserInfo?username=dunepro');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({
      ferry_status: 'success',
      ferry_output: { uid: 10001 },
    });
    const r = world.ferry.requests[0];
    expect(r).toMatchObject({
      method: 'GET',
      path: '/getUserInfo',
      rawQuery: 'username=dunepro',
      username: 'dunepro',
      clientCertCN: 'managed-tokens-test',
    });
    expect(r?.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(world.ferry.violations).toEqual([]);
  });

  it('refuses a client without a certificate at the handshake', async () => {
    await expect(get('/getUserInfo?username=dunepro', { cert: false })).rejects.toThrow();
    expect(world.ferry.requests).toHaveLength(0);
  });

  it('refuses a client certificate from another CA (wrong client certificate)', async () => {
    await expect(get('/getUserInfo?username=dunepro', { rogue: true })).rejects.toThrow();
    expect(world.ferry.requests).toHaveLength(0);
  });

  it('with clientAuth optional and auth cert, a certificate-less request is recorded as a 401 violation', async () => {
    await world.ferry.setTls({ clientAuth: 'optional' });
    const a = await get('/getUserInfo?username=dunepro', { cert: false });
    expect(a.status).toBe(401);
    expect(JSON.parse(a.body)).toMatchObject({ ferry_status: 'failure' });
    expect(world.ferry.violations.map((v) => v.problem)).toEqual([
      'no verified client certificate',
    ]);
  });

  it('serves the rogue certificate when asked, which the test CA does not trust', async () => {
    await world.ferry.setTls({ serverCert: 'rogue' });
    await expect(get('/getUserInfo?username=dunepro')).rejects.toThrow(/certificate/i);
  });

  it('stop() closes the port (ECONNREFUSED) and restart() reopens the same port', async () => {
    const port = world.ferry.port;
    await world.ferry.stop();
    await expect(get('/getUserInfo?username=dunepro')).rejects.toThrow(/ECONNREFUSED/);
    await world.ferry.restart();
    expect(world.ferry.port).toBe(port);
    expect((await get('/getUserInfo?username=dunepro')).status).toBe(200);
  });
});

describe('route and request validation', () => {
  it('unknown user → 200 failure JSON', async () => {
    const a = await get('/getUserInfo?username=nobody');
    expect(JSON.parse(a.body)).toEqual({
      ferry_status: 'failure',
      ferry_error: ['User nobody does not exist.'],
      ferry_output: null,
    });
  });

  it('other paths → 404 text/plain "not found"', async () => {
    const a = await get('/other');
    expect(a).toEqual({ status: 404, body: 'not found' });
  });

  it('a non-GET method → 405 and a violation', async () => {
    const a = await get('/getUserInfo?username=dunepro', { method: 'POST' });
    expect(a.status).toBe(405);
    expect(world.ferry.violations).toHaveLength(1);
  });

  it.each([
    ['no username', '/getUserInfo'],
    ['an empty username', '/getUserInfo?username='],
    ['an extra parameter', '/getUserInfo?username=dunepro&x=1'],
    ['two usernames', '/getUserInfo?username=a&username=b'],
  ])('%s → 400 and a violation', async (_n, path) => {
    const a = await get(path);
    expect(a.status).toBe(400);
    expect(world.ferry.violations).toHaveLength(1);
  });

  it('percent-decodes the username', async () => {
    world.ferry.setUser('a&b c', B.ok(1));
    const a = await get('/getUserInfo?username=a%26b%20c');
    expect(JSON.parse(a.body)).toMatchObject({ ferry_output: { uid: 1 } });
    expect(world.ferry.requests[0]?.username).toBe('a&b c');
  });

  it('bearer mode validates the Authorization header exactly', async () => {
    await world.ferry.setTls({ clientAuth: 'optional' });
    world.ferry.setAuth('bearer', { bearerToken: 'aGVhZA.Ym9keQ.c2ln' });
    const good = await get('/getUserInfo?username=dunepro', {
      cert: false,
      headers: { Authorization: 'Bearer aGVhZA.Ym9keQ.c2ln' },
    });
    expect(good.status).toBe(200);
    const cases = [
      'Bearer  aGVhZA.Ym9keQ.c2ln',
      'bearer aGVhZA.Ym9keQ.c2ln',
      'Bearer other.token.x',
      'Bearer onlyone',
    ];
    for (const h of cases) {
      expect(
        (await get('/getUserInfo?username=dunepro', { cert: false, headers: { Authorization: h } }))
          .status,
        h,
      ).toBe(401);
    }
    expect((await get('/getUserInfo?username=dunepro', { cert: false })).status).toBe(401);
    expect(world.ferry.violations).toHaveLength(cases.length + 1);
  });
});

describe('behaviours', () => {
  it('status, raw, okExtra, caseVariant, typeMismatch and redirect render as specified', async () => {
    world.ferry.setUser('u1', B.status(500, B.ok(5)));
    world.ferry.setUser('u2', B.raw('<html/>', 'text/html'));
    world.ferry.setUser('u3', B.okExtra(6));
    world.ferry.setUser('u4', B.caseVariant(7));
    world.ferry.setUser('u5', B.typeMismatch('uid-string'));
    world.ferry.setUser('u6', B.redirect('/getUserInfo?username=dunepro'));
    expect(await get('/getUserInfo?username=u1')).toMatchObject({ status: 500 });
    expect(await get('/getUserInfo?username=u2')).toEqual({ status: 200, body: '<html/>' });
    expect(JSON.parse((await get('/getUserInfo?username=u3')).body)).toMatchObject({
      ferry_output: { uid: 6, banned: false },
    });
    expect(JSON.parse((await get('/getUserInfo?username=u4')).body)).toMatchObject({
      FERRY_OUTPUT: { UID: 7 },
    });
    expect(JSON.parse((await get('/getUserInfo?username=u5')).body)).toMatchObject({
      ferry_output: { uid: '10001' },
    });
    expect(await get('/getUserInfo?username=u6')).toMatchObject({ status: 302 });
  });

  it('reset destroys the connection; setDefault applies to every user without their own behaviour', async () => {
    world.ferry.setDefault(B.reset);
    world.ferry.setUser('mu2epro', B.ok(1));
    await expect(get('/getUserInfo?username=dunepro')).rejects.toThrow();
    expect(JSON.parse((await get('/getUserInfo?username=mu2epro')).body)).toMatchObject({
      ferry_output: { uid: 1 },
    });
  });

  it('maxInFlight counts overlapping requests', async () => {
    world.ferry.setDefault(B.delay(200, B.ok(1)));
    await Promise.all([
      get('/getUserInfo?username=a'),
      get('/getUserInfo?username=b'),
      get('/getUserInfo?username=c'),
    ]);
    expect(world.ferry.maxInFlight).toBe(3);
  });
});

describe('standalone mode', () => {
  it('prints its port and credentials, serves behaviours from a file, logs requests, stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt-fake-ferry-main-'));
    const behaviors = join(dir, 'b.json');
    const log = join(dir, 'requests.jsonl');
    writeFileSync(
      behaviors,
      JSON.stringify({
        uids: { bench0: 30000 },
        users: { mu2epro: { kind: 'ferryFailure', messages: ['nope'] } },
      }),
    );
    const main = resolve(import.meta.dirname, '../../../src/testenv/ferry/main.ts');
    const tsx = resolve(import.meta.dirname, '../../../node_modules/tsx/dist/cli.mjs');
    const child = spawn(
      process.execPath,
      [tsx, main, '--fixtures', join(world.dir, 'pki'), '--behaviors', behaviors, '--log', log],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((res, rej) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) res(out.split('\n')[0] ?? '');
        });
        child.on('exit', (code) => rej(new Error(`exited ${code}`)));
      });
      const info = JSON.parse(line) as {
        port: number;
        caDir: string;
        clientCert: string;
        clientKey: string;
      };
      expect(info.caDir).toBe(world.ferry.caDir);
      const fetchUser = (u: string) =>
        new Promise<string>((res, rej) => {
          https
            .get(
              {
                host: '127.0.0.1',
                servername: 'localhost',
                port: info.port,
                path: `/getUserInfo?username=${u}`,
                ca: readFileSync(world.ferry.pki.caCert),
                cert: readFileSync(info.clientCert),
                key: readFileSync(info.clientKey),
                agent: false,
              },
              (r) => {
                let b = '';
                r.setEncoding('utf8')
                  .on('data', (d: string) => (b += d))
                  .on('end', () => res(b));
              },
            )
            .on('error', rej);
        });
      expect(JSON.parse(await fetchUser('bench0'))).toMatchObject({ ferry_output: { uid: 30000 } });
      expect(JSON.parse(await fetchUser('mu2epro'))).toMatchObject({
        ferry_status: 'failure',
        ferry_error: ['nope'],
      });
      // the log line is written when the response has finished on the server side
      const readLines = () =>
        readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { username: string });
      for (let i = 0; i < 100 && readLines().length < 2; i++)
        await new Promise((r) => setTimeout(r, 20));
      const lines = readLines();
      expect(lines.map((l) => l.username)).toEqual(['bench0', 'mu2epro']);
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
