/**
 * README decision 7 through the built executable: token stores of different services run in
 * parallel by default, and `workerType.storeAndGetToken.concurrency: 1` restores the original's one
 * at a time. The storer double sleeps one second per call; its call log has start and end times.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWorld,
  type World,
  tokenPushArgv,
  writeTokenPushConfig,
  type TokenPushService,
  oneScheddAds,
  worldServices,
} from '../../src/testenv/index.js';

const SERVICES: TokenPushService[] = [
  { experiment: 'dune', role: 'production', account: 'dunepro', uid: 5201 },
  { experiment: 'mu2e', role: 'production', account: 'mu2epro', uid: 5202 },
  { experiment: 'nova', role: 'production', account: 'novapro', uid: 5203 },
];

let world: World;

beforeAll(async () => {
  world = await createWorld({
    nodes: 1,
    services: worldServices(SERVICES),
    doubles: oneScheddAds(),
  });
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

let earlierCalls = 0;
beforeEach(() => {
  world.doubles.setTool('condor_vault_storer', 'slow:1');
  earlierCalls = world.doubles.calls('condor_vault_storer').length;
});

/** The largest number of this test's storer calls that were running at the same moment. */
function maxOverlap(): number {
  const calls = world.doubles.calls('condor_vault_storer').slice(earlierCalls);
  expect(calls).toHaveLength(SERVICES.length);
  return Math.max(
    ...calls.map((c) => calls.filter((o) => o.tStart < c.tEnd && c.tStart < o.tEnd).length),
  );
}

describe('parallel token stores (decision 7)', () => {
  it('runs the stores of different services at the same time by default', async () => {
    const cfg = writeTokenPushConfig(world, SERVICES, { name: 'parallel' });
    const r = await world.run(tokenPushArgv(cfg.file, '-t'), { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(maxOverlap()).toBeGreaterThan(1);
  });

  it('runs them one at a time with workerType.storeAndGetToken.concurrency: 1', async () => {
    const cfg = writeTokenPushConfig(world, SERVICES, {
      name: 'serial',
      top: { workerType: { storeAndGetToken: { concurrency: 1 } } },
    });
    const r = await world.run(tokenPushArgv(cfg.file, '-t'), { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(maxOverlap()).toBe(1);
  });
});
