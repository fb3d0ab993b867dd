/**
 * token-push end to end through bin/token-push, run as mtuser against the test world: real KDC,
 * three kerberized sshd nodes with private /tmp, real kinit/klist/ping/rsync/ssh, doubles for the
 * HTCondor tools and htgettoken.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, decodeVaultToken, type World } from '../../src/testenv/index.js';
import { COLLECTOR, SCHEDD, tokenPushArgv, writeTokenPushConfig, type E2eService } from '../internal/pipeline/world-config.js';

const SERVICES: E2eService[] = [
  { experiment: 'dune', role: 'production', account: 'dunepro', uid: 5001 },
  { experiment: 'mu2e', role: 'production', account: 'mu2epro', uid: 5002 },
  { experiment: 'nova', role: 'production', account: 'novapro', uid: 5003 },
];

let world: World;

beforeAll(async () => {
  world = await createWorld({
    nodes: 3,
    services: SERVICES.map((s) => ({ name: `${s.experiment}_${s.role}`, account: s.account })),
    doubles: { statusAds: { [COLLECTOR]: [{ MyType: 'Scheduler', Name: SCHEDD }] } },
  });
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

describe('token-push, 3 services x 3 nodes', () => {
  it('leaves both token files with the service token and the role file on every node, 0400', async () => {
    const cfg = writeTokenPushConfig(world, SERVICES, { name: 'all-good' });
    const result = await world.run(tokenPushArgv(cfg.file), { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(world.doubles.violations()).toEqual([]);
    for (const node of world.nodes) {
      for (const s of SERVICES) {
        const realName = `${s.experiment}_${s.role}`;
        for (const file of [`vt_u${s.uid}`, `vt_u${s.uid}-${realName}`]) {
          const content = node.readTmp(file);
          expect(content, `${node.name}:/tmp/${file}`).toBeDefined();
          expect(decodeVaultToken(content ?? '')?.tag).toBe(`${realName}@${SCHEDD}`);
          expect(node.modeOf(file)).toBe(0o400);
        }
        expect(node.readTmp(`default_role_${s.experiment}_${s.uid}`)).toBe(`${s.role}\n`);
      }
    }
    const log = readFileSync(cfg.logFile, 'utf8');
    expect(log).toContain('Successes: dune_production, mu2e_production, nova_production');
    // the storer ran once per service, with the service's real name as its only argument
    expect(world.doubles.calls('condor_vault_storer').map((c) => c.argv).sort()).toEqual([
      ['dune_production'],
      ['mu2e_production'],
      ['nova_production'],
    ]);
  });
});
