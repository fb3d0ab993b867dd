/**
 * Many accounts through the executable (the benchmark runner, without timing assertions):
 * every account stored, concurrency bounded by the default limit and by the override.
 */
import { describe, expect, it } from 'vitest';
import { benchRefresh } from '../../src/testenv/ferry/bench.js';
import { DEFAULT_FERRY_CONCURRENCY } from '../../src/internal/ferry/index.js';

describe('refresh of many accounts', () => {
  it('stores 300 accounts with at most the default number of requests in flight', async () => {
    const r = await benchRefresh({ accounts: 300, delayMs: 30 });
    expect(r).toMatchObject({ exitCode: 0, rows: 300, requests: 300 });
    // Bounded (never all 300 at once) yet concurrent; how close it gets to the cap depends on load.
    expect(r.maxInFlight).toBeLessThanOrEqual(DEFAULT_FERRY_CONCURRENCY);
    expect(r.maxInFlight).toBeGreaterThan(1);
  });

  it('honours MANAGED_TOKENS_FERRY_CONCURRENCY', async () => {
    const r = await benchRefresh({ accounts: 40, delayMs: 30, concurrency: 4 });
    expect(r).toMatchObject({ exitCode: 0, rows: 40, requests: 40 });
    expect(r.maxInFlight).toBeLessThanOrEqual(4);
    expect(r.maxInFlight).toBeGreaterThan(1);
  });
});
