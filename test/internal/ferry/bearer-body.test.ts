/** The FERRY client in JWT (bearer) mode reads the body under the request deadline and a 4 MiB cap. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queryFerryUids, type FerryQueryOptions } from '../../../src/internal/ferry/index.js';
import { MAX_BODY_BYTES } from '../../../src/internal/ferry/http.js';
import * as B from '../../../src/testenv/ferry/behaviors.js';
import { captureLog, ferryWorld, type FerryWorld } from './helpers.js';

const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln';

let world: FerryWorld;
beforeAll(async () => {
  world = await ferryWorld();
});
afterAll(async () => {
  await world?.close();
});
beforeEach(async () => {
  await world.ferry.setTls({ serverCert: 'good', clientAuth: 'none' });
  world.ferry.setAuth('bearer', { bearerToken: TOKEN });
  world.ferry.resetBehaviors();
});

function bearerOptions(requestTimeoutMs: number): FerryQueryOptions {
  const f = world.ferry;
  return {
    host: f.url,
    port: f.port,
    auth: {
      kind: 'jwt',
      session: { bearerToken: async () => TOKEN },
      env: {},
      extraCa: [readFileSync(f.pki.caCert, 'utf8')],
    },
    requestTimeoutMs,
    log: captureLog(),
    signal: new AbortController().signal,
  };
}

describe('bearer-token body reading', () => {
  it('a body that sends its headers and then stalls fails at the request deadline', async () => {
    world.ferry.setUser('stalled', B.slowBody(60_000, B.ok(10001)));
    world.ferry.setUser('fine', B.ok(10002));
    const results = await queryFerryUids(['stalled', 'fine'], bearerOptions(500));
    expect(results[0]).toMatchObject({ account: 'stalled', ok: false });
    expect(results[0]?.ok === false && results[0].error).toMatch(/context deadline exceeded/);
    expect(results[1]).toMatchObject({ account: 'fine', ok: true, uid: 10002 });
  });

  it('a body over 4 MiB is refused with a size error, not parsed', async () => {
    world.ferry.setUser('huge', B.raw(`{"x":"${'a'.repeat(MAX_BODY_BYTES)}"}`));
    const [result] = await queryFerryUids(['huge'], bearerOptions(10_000));
    expect(result?.ok).toBe(false);
    expect(result?.ok === false && result.error).toMatch(
      new RegExp(`response body larger than ${MAX_BODY_BYTES} bytes`),
    );
  });
});
