/**
 * token-push acceptance checks (token-push.md 7, external-tools.md 9) end to end through
 * bin/token-push as mtuser against the test world; the HTCondor tools and htgettoken are the
 * world's doubles, whose call log shows argv, environment, stdin and the files each call saw.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWorld,
  decodeVaultToken,
  type DoubleCall,
  type World,
  COLLECTOR,
  SCHEDD,
  VAULT,
  tokenPushArgv,
  writeTokenPushConfig,
  type TokenPushService,
  oneScheddAds,
  landedOnNodes,
  nothingOnNodes,
} from '../../src/testenv/index.js';
import { stillRunning } from '../../src/testenv/proc.js';

let world: World;
let uidCounter = 7000;
const nextUid = (): number => ++uidCounter;
const PRINCIPAL = (account: string): string => `${account}/managedtokens/mtworld.test@MT.TEST`;

beforeAll(async () => {
  world = await createWorld({
    nodes: 2,
    services: [
      { name: 'dune_production', account: 'dunepro' },
      { name: 'mu2e_production', account: 'mu2epro' },
    ],
  });
}, 180_000);
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.doubles.reset();
  world.doubles.set(oneScheddAds());
});

const dune = (
  extra: Record<string, unknown> = {},
  name: Partial<TokenPushService> = {},
): TokenPushService => ({
  experiment: 'dune',
  role: 'production',
  account: 'dunepro',
  uid: nextUid(),
  extra,
  ...name,
});

async function run(
  services: TokenPushService[],
  opts: { name: string; top?: Record<string, unknown>; flags?: string[] },
) {
  const cfg = writeTokenPushConfig(world, services, {
    name: opts.name,
    ...(opts.top ? { top: opts.top } : {}),
  });
  const result = await world.run(tokenPushArgv(cfg.file, ...(opts.flags ?? [])), {
    timeoutMs: 120_000,
  });
  const debug = readFileSync(path.join(path.dirname(cfg.file), 'token-push.debug.log'), 'utf8');
  expect(world.doubles.violations()).toEqual([]);
  return { ...cfg, result, debug, log: readFileSync(cfg.logFile, 'utf8') };
}

const sha256 = (file: string): string =>
  createHash('sha256').update(readFileSync(file)).digest('hex');
const storerCalls = (): DoubleCall[] => world.doubles.calls('condor_vault_storer');

describe('store-and-get-token path', () => {
  it('an overridden service stores under its real name; stores of one real name never overlap; exact storer contract (checks 11, 24, 34, 9.4, 9.13, 9.14, 9.17, 9.34)', async () => {
    const services = [dune(), { ...dune(), experiment: 'dune-2', experimentOverride: 'dune' }];
    const first = await run(services, { name: 'override' });
    expect(first.result.code, first.result.stderr).toBe(0);
    expect(first.log).toContain('Successes: dune-2_production, dune_production');
    const db = new Database(first.dbFile, { readonly: true });
    try {
      const names = db.prepare('SELECT name FROM services ORDER BY name').pluck().all();
      expect(names).toEqual(['dune-2_production', 'dune_production']);
    } finally {
      db.close();
    }
    const calls = storerCalls();
    expect(calls.map((c) => c.argv)).toEqual([['dune_production'], ['dune_production']]);
    const [a, b] = calls;
    expect(a && b && (a.tEnd <= b.tStart || b.tEnd <= a.tStart)).toBe(true);
    for (const call of calls) {
      expect(call.stdin).toBe('/dev/null');
      expect(call.env['_condor_CREDD_HOST']).toBe(SCHEDD);
      expect(call.env['_condor_COLLECTOR_HOST']).toBe(COLLECTOR);
      expect(call.env['_condor_SEC_CREDENTIAL_GETTOKEN_OPTS']).toBe(`-a ${VAULT}`);
      expect(call.env['HTGETTOKENOPTS']).toBe(
        `--vaulttokenminttl=10s --credkey=${PRINCIPAL('dunepro')}`,
      );
      expect(call.env['KRB5CCNAME']).toMatch(
        /^FILE:\/tmp\/managed-tokens[^/]+\/managed-tokens-krb5ccCache-dune_production/,
      );
      expect(call.env['PATH']).toMatch(/:\/usr\/bin:\/usr\/sbin$/);
    }
    for (const s of services) expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
    const stored = path.join(first.tokenRoot, `vt_u${world.runUser.uid}-${SCHEDD}-dune_production`);
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    expect(decodeVaultToken(readFileSync(stored, 'utf8'))?.tag).toBe(`dune_production@${SCHEDD}`);
    // after the run: no default token, no condor-location token, no kerberos directory
    const leftovers = readdirSync(world.tmpDir);
    expect(leftovers).not.toContain(`vt_u${world.runUser.uid}`);
    expect(leftovers).not.toContain(`vt_u${world.runUser.uid}-dune_production`);
    expect(leftovers.filter((f) => f.startsWith('managed-tokens'))).toEqual([]);

    // a second run stages the stored token where the storer looks for it
    const before = sha256(stored);
    world.doubles.reset();
    world.doubles.set(oneScheddAds());
    const second = await run([dune()], { name: 'override' });
    expect(second.result.code).toBe(0);
    expect(storerCalls()[0]?.files['vtService']?.sha256).toBe(before);
  });

  it('falls through a failing collector; one storer call per schedd in order; pushes the lexicographically first (checks 29, 30, 44, 9.9, 9.10)', async () => {
    world.doubles.set({
      statusAds: {
        'collector2.mtworld.test': [{ Name: 'schedd-b.test' }, { Name: 'schedd-a.test' }],
      },
    });
    world.doubles.setTool('condor_status', { rules: [{ pool: 'bad.mtworld.test', mode: 'fail' }] });
    const s = dune();
    const out = await run([s], {
      name: 'collectors',
      top: {
        condorCollectorHost: 'bad.mtworld.test,collector2.mtworld.test',
        condorScheddConstraint: 'X =?= true',
      },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(world.doubles.calls('condor_status').map((c) => c.argv)).toEqual([
      ['-pool', 'bad.mtworld.test', '-constraint', 'X =?= true', '-schedd', '-long'],
      ['-pool', 'collector2.mtworld.test', '-constraint', 'X =?= true', '-schedd', '-long'],
    ]);
    expect(
      storerCalls().map((c) => [c.env['_condor_CREDD_HOST'], c.env['_condor_COLLECTOR_HOST']]),
    ).toEqual([
      ['schedd-b.test', 'collector2.mtworld.test'],
      ['schedd-a.test', 'collector2.mtworld.test'],
    ]);
    const pushed = world.nodes[0]?.readTmp(`vt_u${s.uid}-dune_production`) ?? '';
    expect(decodeVaultToken(pushed)?.tag).toBe('dune_production@schedd-a.test');
  });

  it('a credd override skips condor_status (checks 28, 9.11)', async () => {
    const s = dune({ condorCreddHostOverride: 'credd1.mtworld.test' });
    const out = await run([s], { name: 'credd-override' });
    expect(out.result.code).toBe(0);
    expect(world.doubles.calls('condor_status')).toEqual([]);
    expect(
      storerCalls().map((c) => [c.env['_condor_CREDD_HOST'], c.env['_condor_COLLECTOR_HOST']]),
    ).toEqual([['credd1.mtworld.test', COLLECTOR]]);
    expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
  });

  it('auth-needed storer output becomes the notification text; nothing is pushed (checks 36, 9.18)', async () => {
    world.doubles.setTool('condor_vault_storer', 'authneeded-403');
    const s = dune();
    const out = await run([s], { name: 'authneeded' });
    expect(out.result.code).toBe(0);
    expect(out.debug).toContain(
      `Could not store and get vault tokens; ${SCHEDD}: authentication needed for service to generate vault token: permission denied to generate vault token`,
    );
    expect(out.log).toContain('Failures: dune_production');
    expect(nothingOnNodes(world, s.uid)).toBe(true);
  });

  it('a malformed token from the storer is neither stored nor pushed (safety fix of 9.19)', async () => {
    const good = dune();
    const first = await run([good], { name: 'badtoken' });
    expect(first.result.code).toBe(0);
    const stored = path.join(first.tokenRoot, `vt_u${world.runUser.uid}-${SCHEDD}-dune_production`);
    const goodToken = readFileSync(stored, 'utf8');
    world.doubles.setTool('condor_vault_storer', 'badtoken');
    const s = dune();
    const out = await run([s], { name: 'badtoken' });
    expect(out.log).toContain('Failures: dune_production');
    expect(out.debug).toContain('condor_vault_storer left a malformed vault token');
    expect(readFileSync(stored, 'utf8')).toBe(goodToken);
    expect(nothingOnNodes(world, s.uid)).toBe(true);
  });

  it('a hanging storer (holding its pipes through a grandchild) is killed at the deadline and reported as a timeout (checks 37, 9.20)', async () => {
    world.doubles.setTool('condor_vault_storer', 'hang-hold');
    const s = dune();
    const out = await run([s], {
      name: 'hang',
      top: {
        timeouts: {
          globalTimeout: '60s',
          kerberosTimeout: '10s',
          vaultStorerTimeout: '3s',
          pingTimeout: '5s',
          pushTimeout: '10s',
        },
      },
    });
    expect(out.result.code).toBe(0);
    expect(out.debug).toContain(`Could not store and get vault tokens; ${SCHEDD}: timeout error`);
    expect(nothingOnNodes(world, s.uid)).toBe(true);
  });
});

describe('deadline kill of escaped descendants', () => {
  // external-tools.md 9.20, second half. The held grandchild leaves the storer's process group
  // (setsid), so killing the group alone does not reach it; exec also kills the child's descendants,
  // found via /proc before the kill.
  it('a grandchild that escaped the storer process group is killed at the deadline too', async () => {
    world.doubles.setTool('condor_vault_storer', 'hang-hold');
    const out = await run([dune()], {
      name: 'hang-held',
      top: {
        timeouts: {
          globalTimeout: '60s',
          kerberosTimeout: '10s',
          vaultStorerTimeout: '3s',
          pingTimeout: '5s',
          pushTimeout: '10s',
        },
      },
    });
    expect(out.result.code).toBe(0);
    const held = readFileSync(path.join(world.doubles.stateDir, 'held.pids'), 'utf8')
      .trim()
      .split('\n');
    expect(held.length).toBeGreaterThan(0);
    for (const line of held)
      expect(stillRunning(line), `held grandchild ${line} still running`).toBe(false);
  });
});

describe('get-token path', () => {
  it('htgettoken argv and environment, no condor_status, stored 0600 and pushed (checks 39, 40, 9.21-9.23)', async () => {
    const s = dune({ tokenGetterOverride: 'getToken' });
    const out = await run([s], { name: 'gettoken', flags: ['-v'] });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(world.doubles.calls('condor_status')).toEqual([]);
    const [call] = world.doubles.calls('htgettoken');
    expect(call?.argv.slice(0, 4)).toEqual(['-a', VAULT, '-i', 'dune']);
    expect(call?.argv[4]).toBe('--vaulttokenfile');
    expect(call?.argv[5]).toMatch(/^\/tmp\/managed_tokens_vault_token_/);
    expect(call?.argv[6]).toBe('-o');
    expect(call?.argv[7]).toMatch(/^\/tmp\/managed_tokens_bearer_token_/);
    expect(call?.argv.slice(8)).toEqual(['--verbose', '--role', 'production']);
    expect(call?.env['_condor_COLLECTOR_HOST']).toBe('');
    expect(call?.env).not.toHaveProperty('_condor_CREDD_HOST');
    expect(call?.env).not.toHaveProperty('_condor_SEC_CREDENTIAL_GETTOKEN_OPTS');
    const stored = path.join(out.tokenRoot, `vt_u${world.runUser.uid}-dune_production`);
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
    expect(readdirSync(world.tmpDir).filter((f) => f.startsWith('managed_tokens_'))).toEqual([]);
  });

  it('without a bearer file the service fails (9.24)', async () => {
    world.doubles.setTool('htgettoken', 'nobearerfile');
    const s = dune({ tokenGetterOverride: 'getToken' });
    const out = await run([s], { name: 'nobearer' });
    expect(out.log).toContain('Failures: dune_production');
    expect(nothingOnNodes(world, s.uid)).toBe(true);
  });
});

describe('kerberos, modes and setup failures', () => {
  it('a principal without @REALM fails at klist; that service only (checks 22, 9.7)', async () => {
    const bad = dune({ userPrincipalOverride: 'dunepro/managedtokens/mtworld.test' });
    const good: TokenPushService = {
      experiment: 'mu2e',
      role: 'production',
      account: 'mu2epro',
      uid: nextUid(),
    };
    const out = await run([bad, good], { name: 'mismatch' });
    expect(out.result.code).toBe(0);
    expect(out.log).toContain('Successes: mu2e_production');
    expect(out.log).toContain('Failures: dune_production');
    expect(out.debug).toContain(
      'klist reports default principal dunepro/managedtokens/mtworld.test@MT.TEST, expected dunepro/managedtokens/mtworld.test',
    );
    expect(storerCalls().map((c) => c.argv[0])).toEqual(['mu2e_production']);
    expect(nothingOnNodes(world, bad.uid)).toBe(true);
    expect(landedOnNodes(world, good.uid, 'mu2e_production')).toBe(true);
  });

  it('every service failing kinit still exits 0 and pushes nothing (check 61)', async () => {
    const s = dune();
    const out = await run([s], { name: 'nokeytab', top: { keytabPath: '/nonexistent' } });
    expect(out.result.code).toBe(0);
    expect(storerCalls()).toEqual([]);
    expect(nothingOnNodes(world, s.uid)).toBe(true);
    expect(readdirSync(world.tmpDir).filter((f) => f.startsWith('managed-tokens'))).toEqual([]);
  });

  it('test mode stores but never pings or pushes; survivors are successes (check 54)', async () => {
    const s = dune();
    const out = await run([s], { name: 'testmode', flags: ['-t'] });
    expect(out.result.code).toBe(0);
    expect(storerCalls()).toHaveLength(1);
    expect(out.log).toContain('Successes: dune_production');
    expect(nothingOnNodes(world, s.uid)).toBe(true);
  });

  it('onboarding passes the storer output through and stops before push; -p pushes (check 55)', async () => {
    world.doubles.setTool('condor_vault_storer', 'authneeded');
    const s = dune();
    const out = await run([s], { name: 'onboarding', flags: ['-r', '-s', 'dune_production'] });
    expect(out.result.code).toBe(0);
    expect(out.result.stdout + out.result.stderr).toContain(
      'Authentication needed for dune_production',
    );
    expect(nothingOnNodes(world, s.uid)).toBe(true);

    world.doubles.setTool('condor_vault_storer', 'flow');
    const p = dune();
    const pushed = await run([p], {
      name: 'onboarding-push',
      flags: ['-r', '-p', '-s', 'dune_production'],
    });
    expect(pushed.result.code).toBe(0);
    expect(landedOnNodes(world, p.uid, 'dune_production')).toBe(true);
  });

  it('no database and no UID override: no service assembled, exit 1, nothing started (checks 56, 62)', async () => {
    const s: TokenPushService = { ...dune(), extra: { desiredUIDOverride: undefined } };
    const out = await run([s], { name: 'nodb', top: { dbLocation: '/nonexistent-dir/uid.db' } });
    expect(out.result.code).toBe(1);
    expect(out.log).toContain('Could not open or create ManagedTokensDatabase');
    expect(out.debug).toContain('no valid database to read UID from');
    expect(world.doubles.calls()).toEqual([]);
    expect(existsSync('/nonexistent-dir')).toBe(false);
  });

  it('without a database a UID override still runs and pushes (Q11 fix: no crash)', async () => {
    const s = dune();
    const out = await run([s], {
      name: 'nodb-override',
      top: { dbLocation: '/nonexistent-dir/uid.db' },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(out.log).toContain('Successes: dune_production');
    expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
  });
});

describe('service selection', () => {
  it('-s runs one service, -e every role of one experiment and wins over -s (checks 9, 10)', async () => {
    const d = dune();
    const m: TokenPushService = {
      experiment: 'mu2e',
      role: 'production',
      account: 'mu2epro',
      uid: nextUid(),
    };
    const only = await run([d, m], { name: 'select-s', flags: ['-s', 'mu2e_production'] });
    expect(only.result.code, only.result.stderr).toBe(0);
    expect(storerCalls().map((c) => c.argv[0])).toEqual(['mu2e_production']);
    expect(landedOnNodes(world, m.uid, 'mu2e_production')).toBe(true);
    expect(nothingOnNodes(world, d.uid)).toBe(true);

    world.doubles.reset();
    world.doubles.set(oneScheddAds());
    const both = await run([d, m], {
      name: 'select-e',
      flags: ['-e', 'dune', '-s', 'mu2e_production'],
    });
    expect(both.result.code).toBe(0);
    expect(storerCalls().map((c) => c.argv[0])).toEqual(['dune_production']);
    expect(landedOnNodes(world, d.uid, 'dune_production')).toBe(true);
  });
});

describe('vault server and htgettoken options', () => {
  it('asks condor_config_val when neither env nor config names a vault server (checks 27, 9.12)', async () => {
    world.doubles.set({ condorConfig: { SEC_CREDENTIAL_GETTOKEN_OPTS: '-a cc.mtworld.test' } });
    const s = dune();
    const out = await run([s], { name: 'condor-config-val', top: { vaultServer: undefined } });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(
      world.doubles
        .calls('condor_config_val')
        .filter((c) => c.env['MTFAKE_VIA_STORER'] === undefined)[0]?.argv,
    ).toEqual(['SEC_CREDENTIAL_GETTOKEN_OPTS']);
    expect(storerCalls()[0]?.env['_condor_SEC_CREDENTIAL_GETTOKEN_OPTS']).toBe(
      '-a cc.mtworld.test',
    );
    expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
  });

  it('minTokenLifetime reaches HTGETTOKENOPTS (checks 18, 9.15)', async () => {
    const out = await run([dune()], { name: 'minttl', top: { minTokenLifetime: '3d' } });
    expect(out.result.code).toBe(0);
    expect(storerCalls()[0]?.env['HTGETTOKENOPTS']).toBe(
      `--vaulttokenminttl=3d --credkey=${PRINCIPAL('dunepro')}`,
    );
  });

  it('an experiment name with an underscore fails in the storer and is reported as a store failure (9.35)', async () => {
    const s: TokenPushService = {
      experiment: 'my_expt',
      role: 'production',
      account: 'dunepro',
      uid: nextUid(),
    };
    const out = await run([s], { name: 'underscore' });
    expect(out.result.code).toBe(0);
    expect(storerCalls()[0]?.argv).toEqual(['my_expt_production']);
    expect(out.log).toContain('Failures: my_expt_production');
    expect(nothingOnNodes(world, s.uid)).toBe(true);
  });

  it('MANAGED_TOKENS_STORE_CONCURRENCY=1 restores one store at a time across services (README decision 7)', async () => {
    world.doubles.setTool('condor_vault_storer', 'slow:1');
    const services: TokenPushService[] = [
      dune(),
      { experiment: 'mu2e', role: 'production', account: 'mu2epro', uid: nextUid() },
    ];
    const cfg = writeTokenPushConfig(world, services, { name: 'sequential' });
    const env = { ...world.env, MANAGED_TOKENS_STORE_CONCURRENCY: '1' };
    const result = await world.run(tokenPushArgv(cfg.file), { env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const [a, b] = storerCalls();
    expect(a && b && (a.tEnd <= b.tStart || b.tEnd <= a.tStart)).toBe(true);
    expect(landedOnNodes(world, services[0]?.uid ?? 0, 'dune_production')).toBe(true);
    expect(landedOnNodes(world, services[1]?.uid ?? 0, 'mu2e_production')).toBe(true);
  });

  it('a parent HTGETTOKENOPTS without the credkey gets it appended; minTokenLifetime is then ignored (checks 19, 9.16)', async () => {
    const cfg = writeTokenPushConfig(world, [dune()], {
      name: 'htgopts',
      top: { minTokenLifetime: '3d' },
    });
    const env = { ...world.env, HTGETTOKENOPTS: '--vaulttokenttl=6d' };
    const result = await world.run(tokenPushArgv(cfg.file), { env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(storerCalls()[0]?.env['HTGETTOKENOPTS']).toBe(
      `--vaulttokenttl=6d --credkey=${PRINCIPAL('dunepro')}`,
    );
  });
});

describe('schedd discovery cache and empty collectors', () => {
  it('asks condor_status once per (collector, constraint) (check 31, Q9 fix)', async () => {
    world.doubles.set({
      statusAds: {
        [`${COLLECTOR}|A =?= true`]: [{ Name: 'schedd-a.test' }],
        [`${COLLECTOR}|B =?= true`]: [{ Name: 'schedd-b.test' }],
      },
    });
    const services: TokenPushService[] = [
      dune({ condorScheddConstraintOverride: 'A =?= true' }),
      {
        experiment: 'mu2e',
        role: 'production',
        account: 'mu2epro',
        uid: nextUid(),
        extra: { condorScheddConstraintOverride: 'B =?= true' },
      },
      {
        experiment: 'dune-2',
        experimentOverride: 'dune',
        role: 'production',
        account: 'dunepro',
        uid: nextUid(),
        extra: { condorScheddConstraintOverride: 'A =?= true' },
      },
    ];
    const out = await run(services, { name: 'constraints' });
    expect(out.result.code, out.result.stderr).toBe(0);
    const queries = world.doubles
      .calls('condor_status')
      .map((c) => c.argv[3])
      .sort();
    expect(queries).toEqual(['A =?= true', 'B =?= true']);
    const byService = Object.fromEntries(
      storerCalls().map((c) => [`${c.argv[0]}`, c.env['_condor_CREDD_HOST']]),
    );
    expect(byService).toEqual({
      dune_production: 'schedd-a.test',
      mu2e_production: 'schedd-b.test',
    });
  });

  it('a collector answering with zero schedds fails the store stage with a clear message (check 38, Q10 fix)', async () => {
    world.doubles.set({ statusAds: { [COLLECTOR]: [] } });
    const s = dune();
    const out = await run([s], { name: 'no-schedds' });
    expect(out.result.code).toBe(0);
    expect(storerCalls()).toEqual([]);
    expect(out.debug).toContain(
      `Could not store and get vault tokens; no schedds were found for this service on collector ${COLLECTOR}`,
    );
    expect(out.log).toContain('Failures: dune_production');
    expect(nothingOnNodes(world, s.uid)).toBe(true);
  });
});
