import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagedTokensDb } from '../../../src/internal/db/index.js';
import {
  ServiceErrorCounts,
  type ErrorCountStore,
} from '../../../src/internal/notifications/counts.js';
import { pushError, setupError } from '../../../src/internal/notifications/types.js';
import { MemoryErrorCountStore, memoryLog, recordingMetrics } from './helpers.js';

const SVC = 'dune_production';

/** One run of a service manager: load, feed notifications, save. Returns which passed. */
function run(
  store: ErrorCountStore,
  threshold: number,
  notifications: Parameters<ServiceErrorCounts['admit']>[0][],
) {
  const log = memoryLog();
  const metrics = recordingMetrics();
  const counts = ServiceErrorCounts.load(store, SVC, log);
  if (!counts) throw new Error(`counting unexpectedly off: ${log.messages().join('; ')}`);
  const passed = notifications.map((n) => counts.admit(n, threshold, metrics));
  counts.save(store, log);
  return { passed, metrics, log };
}

function storeContracts(
  name: string,
  makeStore: () => {
    store: ErrorCountStore;
    setup(): number | undefined;
    push(node: string): number | undefined;
    close(): void;
  },
) {
  describe(`threshold over consecutive runs (${name})`, () => {
    let world: ReturnType<typeof makeStore>;
    beforeEach(() => {
      world = makeStore();
    });
    afterEach(() => world.close());

    it('setup errors: silent on runs 1-2, sent on run 3 with the count reset, then reset by a quiet run', () => {
      const fail = [setupError(SVC, 'Timeout error')];
      expect(run(world.store, 3, fail).passed).toEqual([false]);
      expect(world.setup()).toBe(1);
      expect(run(world.store, 3, fail).passed).toEqual([false]);
      expect(world.setup()).toBe(2);
      const third = run(world.store, 3, fail);
      expect(third.passed).toEqual([true]);
      expect(world.setup()).toBe(0);
      expect(third.metrics.calls).toEqual([['setupErrorCount', SVC, 0]]);
      // A fourth failing run starts a new streak.
      expect(run(world.store, 3, fail).passed).toEqual([false]);
      expect(world.setup()).toBe(1);
      // Quiet run: the unchanged non-zero count is reset to 0.
      const quiet = run(world.store, 3, []);
      expect(quiet.passed).toEqual([]);
      expect(world.setup()).toBe(0);
      expect(quiet.metrics.calls).toEqual([]);
    });

    it('push errors: the first error of a node counts like any other (FIX), per node', () => {
      const fail = [
        pushError(
          SVC,
          'node1',
          'Error pushing vault tokens to destination node node1: exit status 12',
        ),
      ];
      const first = run(world.store, 3, fail);
      expect(first.passed).toEqual([false]);
      expect(first.metrics.calls).toEqual([['pushErrorCount', SVC, 'node1', 1]]);
      expect(world.push('node1')).toBe(1);
      expect(run(world.store, 3, fail).passed).toEqual([false]);
      expect(world.push('node1')).toBe(2);
      expect(run(world.store, 3, fail).passed).toEqual([true]);
      expect(world.push('node1')).toBe(0);
      // A count of 2 followed by a successful run becomes 0.
      run(world.store, 3, fail);
      run(world.store, 3, fail);
      expect(world.push('node1')).toBe(2);
      run(world.store, 3, []);
      expect(world.push('node1')).toBe(0);
    });

    it('threshold 1 sends the first-ever push error of a new node, threshold 0 sends every setup error', () => {
      expect(run(world.store, 1, [pushError(SVC, 'node2', 'x')]).passed).toEqual([true]);
      expect(world.push('node2')).toBe(0);
      expect(run(world.store, 0, [setupError(SVC, 'a')]).passed).toEqual([true]);
      expect(world.setup()).toBe(0);
    });

    it('several setup errors in one run each advance the counter', () => {
      const result = run(world.store, 3, [
        setupError(SVC, 'a'),
        setupError(SVC, 'b'),
        setupError(SVC, 'c'),
      ]);
      expect(result.passed).toEqual([false, false, true]);
      expect(world.setup()).toBe(0);
    });
  });
}

storeContracts('in-memory store', () => {
  const store = new MemoryErrorCountStore();
  return {
    store,
    setup: () => store.setup.get(SVC),
    push: (node) => store.push.get(SVC)?.get(node),
    close: () => undefined,
  };
});

storeContracts('real sqlite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mt-notif-db-'));
  const db = ManagedTokensDb.open(join(dir, 'uid.db'));
  db.updateServices([SVC, 'mu2e_production']);
  db.updateNodes(['node1', 'node2', 'node3']);
  return {
    store: db,
    setup: () => db.getSetupErrorsInfo().find((r) => r.service === SVC)?.count,
    push: (node) => {
      try {
        return db.getPushErrorsInfoByService(SVC).find((r) => r.node === node)?.count;
      } catch {
        return undefined;
      }
    },
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('loading and saving', () => {
  it('turns counting off (everything passes) when a read fails with something other than "no rows"', () => {
    const store = new MemoryErrorCountStore();
    store.failReads = true;
    const log = memoryLog();
    expect(ServiceErrorCounts.load(store, SVC, log)).toBeUndefined();
    expect(log.messages('error')).toEqual(['Error setting error counts.  Will not track errors.']);
  });

  it('turns counting off without a store', () => {
    expect(ServiceErrorCounts.load(undefined, SVC, memoryLog())).toBeUndefined();
  });

  it('writes nothing for a service that had no errors and no stored counts', () => {
    const store = new MemoryErrorCountStore();
    run(store, 3, []);
    expect(store.writes).toBe(0);
  });

  it('leaves other nodes untouched when their count is already 0 and resets only the non-zero ones', () => {
    const store = new MemoryErrorCountStore();
    store.push.set(
      SVC,
      new Map([
        ['a', 0],
        ['b', 2],
      ]),
    );
    store.setup.set(SVC, 0);
    run(store, 3, []);
    expect(store.push.get(SVC)).toEqual(
      new Map([
        ['a', 0],
        ['b', 0],
      ]),
    );
    expect(store.writes).toBe(1);
  });

  it('logs and continues when saving fails', () => {
    const store = new MemoryErrorCountStore();
    store.updateSetupErrorsTable = () => {
      throw new Error('database is locked');
    };
    const { log } = run(store, 3, [setupError(SVC, 'x')]);
    expect(log.messages('error')).toEqual([
      'Error saving new error counts in database.  Please investigate',
    ]);
  });
});
