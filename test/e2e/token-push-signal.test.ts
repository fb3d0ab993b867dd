/**
 * SIGTERM during a run: the run is stopped like at its global deadline, its cleanup runs (the per-run
 * Kerberos cache directory under /tmp is removed) and the process exits with 128+15.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createWorld,
  tokenPushArgv,
  writeTokenPushConfig,
  type World,
  oneScheddAds,
} from '../../src/testenv/index.js';

let world: World;

beforeAll(async () => {
  world = await createWorld({
    nodes: 1,
    services: [{ name: 'dune_production', account: 'dunepro' }],
  });
}, 180_000);
afterAll(async () => {
  await world?.stop();
});

/** PIDs of node processes running bin/token-push with this config file. */
function tokenPushPids(configFile: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0] === process.execPath && argv.includes(configFile)) pids.push(Number(entry));
  }
  return pids;
}

async function until<T>(what: string, probe: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('SIGTERM while the storer hangs: cleanup runs (per-run managed-tokens dir gone), exit 143', async () => {
  world.doubles.reset();
  world.doubles.set(oneScheddAds());
  world.doubles.setTool('condor_vault_storer', 'hang');
  const cfg = writeTokenPushConfig(
    world,
    [{ experiment: 'dune', role: 'production', account: 'dunepro', uid: 7801, extra: {} }],
    { name: 'sigterm' },
  );
  const running = world.run(tokenPushArgv(cfg.file), { timeoutMs: 120_000 });
  await until('the storer to hang', () =>
    world.doubles.calls('condor_vault_storer').length > 0 ? true : undefined,
  );
  const runDirs = (): string[] =>
    readdirSync(world.tmpDir).filter((f) => f.startsWith('managed-tokens'));
  expect(runDirs()).toHaveLength(1); // the per-run Kerberos cache directory exists meanwhile
  const [pid] = await until('the token-push process', () => {
    const found = tokenPushPids(cfg.file);
    return found.length === 1 ? found : undefined;
  });
  process.kill(pid ?? 0, 'SIGTERM');

  const result = await running;
  expect(result.code, result.stderr).toBe(143);
  expect(runDirs()).toEqual([]);
  const log = readFileSync(cfg.logFile, 'utf8');
  expect(log).toContain('Stopping the run on a termination signal');
  expect(log).toContain('Failures: dune_production');
}, 150_000);
