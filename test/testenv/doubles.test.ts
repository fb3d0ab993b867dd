import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorld,
  decodeJwtClaims,
  decodeVaultToken,
  type World,
} from '../../src/testenv/index.js';

// The HTCondor/htgettoken doubles: contract checks (exit 97), call log, files, knobs.

let world: World;
let uid: number;
let violationsExpected = 0;
const CC = 'FILE:/tmp/krb/dune_production';

function credkey(): string {
  return world.services.dune_production!.principal.replaceAll('@FNAL.GOV', '');
}

/** Recipe F environment for condor_vault_storer (external-tools.md §2.2). */
function storerEnv(schedd: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...world.env,
    KRB5CCNAME: CC,
    _condor_CREDD_HOST: schedd,
    _condor_COLLECTOR_HOST: 'collector.test',
    HTGETTOKENOPTS: `--vaulttokenminttl=10s --credkey=${credkey()}`,
    _condor_SEC_CREDENTIAL_GETTOKEN_OPTS: '-a vault.test',
    ...extra,
  };
}

/** Recipe F environment for a direct (get-token) htgettoken call. */
function getTokenEnv(): Record<string, string> {
  return {
    ...world.env,
    KRB5CCNAME: CC,
    _condor_COLLECTOR_HOST: '',
    HTGETTOKENOPTS: `--vaulttokenminttl=10s --credkey=${credkey()}`,
  };
}

function tmpFile(name: string): string {
  return path.join(world.tmpDir, name);
}

async function expectViolation(
  argv: string[],
  env: Record<string, string> = world.env,
): Promise<string> {
  const r = await world.run(argv, { env });
  expect(r.code).toBe(97);
  expect(r.stderr).toMatch(/^mtfake-contract: /);
  violationsExpected++;
  return r.stderr;
}

beforeAll(async () => {
  world = await createWorld({ nodes: 0 });
  uid = world.runUser.uid;
  const krbDir = tmpFile('krb');
  mkdirSync(krbDir, { mode: 0o700 });
  chownSync(krbDir, uid, world.runUser.gid);
  const svc = world.services.dune_production!;
  const r = await world.run(['kinit', '-k', '-t', svc.keytab, svc.principal], {
    env: { ...world.env, KRB5CCNAME: CC },
  });
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await world?.stop();
});

describe('condor_status', () => {
  it('prints the ads of the pool (or of pool|constraint) and logs the call', async () => {
    world.doubles.set({
      statusAds: {
        'collector.test': [{ Name: 'schedd1.test' }, { Name: 'schedd2.test', TotalRunningJobs: 3 }],
        'collector.test|IsProd =?= true': [{ Name: 'prod.test' }],
      },
    });
    const r = await world.run(['condor_status', '-pool', 'collector.test', '-schedd', '-long']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'MyType = "Scheduler"\nName = "schedd1.test"\n\nMyType = "Scheduler"\nName = "schedd2.test"\nTotalRunningJobs = 3\n',
    );
    const c = await world.run([
      'condor_status',
      '-pool',
      'collector.test',
      '-constraint',
      'IsProd =?= true',
      '-schedd',
      '-long',
    ]);
    expect(c.stdout).toContain('Name = "prod.test"');
    const calls = world.doubles.calls('condor_status');
    expect(calls.map((x) => x.argv)).toEqual([
      ['-pool', 'collector.test', '-schedd', '-long'],
      ['-pool', 'collector.test', '-constraint', 'IsProd =?= true', '-schedd', '-long'],
    ]);
    expect(calls[0]).toMatchObject({ uid, stdin: '/dev/null', exit: 0 });
  });

  it('rejects a wrong argv with 97; fail/malformed modes behave like the real tool', async () => {
    await expectViolation(['condor_status', '-pool', 'collector.test', '-long']);
    world.doubles.setTool('condor_status', {
      rules: [{ pool: 'bad.test', mode: 'malformed' }],
      mode: 'fail',
    });
    const failed = await world.run([
      'condor_status',
      '-pool',
      'collector.test',
      '-schedd',
      '-long',
    ]);
    expect(failed).toMatchObject({
      code: 1,
      stderr: "Error: Couldn't contact the condor_collector on collector.test.\n",
    });
    const bad = await world.run(['condor_status', '-pool', 'bad.test', '-schedd', '-long']);
    expect(bad.code).toBe(0);
    expect(bad.stdout).toContain('this line has no equals sign');
    world.doubles.setTool('condor_status', {});
  });
});

describe('condor_config_val', () => {
  it('answers from _condor_ env overrides, then from the configured values; 97 on other names', async () => {
    world.doubles.set({ condorConfig: { SEC_CREDENTIAL_GETTOKEN_OPTS: '-a vault.cfg' } });
    const fromConfig = await world.run(['condor_config_val', 'SEC_CREDENTIAL_GETTOKEN_OPTS']);
    expect(fromConfig).toMatchObject({ code: 0, stdout: '-a vault.cfg\n' });
    const fromEnv = await world.run(['condor_config_val', 'SEC_CREDENTIAL_GETTOKEN_OPTS'], {
      env: { ...world.env, _CONDOR_SEC_CREDENTIAL_GETTOKEN_OPTS: '-a vault.env' },
    });
    expect(fromEnv.stdout).toBe('-a vault.env\n');
    await expectViolation(['condor_config_val', 'COLLECTOR_HOST']);
    world.doubles.set({ condorConfig: {} });
    const undefinedName = await world.run(['condor_config_val', 'SEC_CREDENTIAL_GETTOKEN_OPTS']);
    expect(undefinedName).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'Not defined: SEC_CREDENTIAL_GETTOKEN_OPTS\n',
    });
  });
});

describe('condor_store_cred', () => {
  it('needs the credd and collector in its environment (97), answers query-oauth 1 when nothing is stored', async () => {
    await expectViolation(['condor_store_cred', 'query-oauth', '-s', 'dune_production']);
    const q = await world.run(['condor_store_cred', 'query-oauth', '-s', 'dune_production'], {
      env: storerEnv('empty.test'),
    });
    expect(q.code).toBe(1);
    const usage = await world.run(['condor_store_cred', 'frobnicate', '-s', 'x'], {
      env: storerEnv('empty.test'),
    });
    expect(usage.code).toBe(1);
  });
});

describe('htgettoken (direct get-token call)', () => {
  it('writes a tagged hvs. vault token and a WLCG bearer JWT, 0600 with a newline', async () => {
    const argv = [
      'htgettoken',
      '-a',
      'vault.test',
      '-i',
      'dune',
      '--vaulttokenfile',
      '/tmp/gt_vault',
      '-o',
      '/tmp/gt_bearer',
      '--role',
      'production',
    ];
    const r = await world.run(argv, { env: getTokenEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const vault = readFileSync(tmpFile('gt_vault'), 'utf8');
    expect(vault).toMatch(/^hvs\.[A-Za-z0-9_-]+\n$/);
    expect(decodeVaultToken(vault)?.tag).toBe('dune_production');
    expect(statSync(tmpFile('gt_vault')).mode & 0o777).toBe(0o600);
    const claims = decodeJwtClaims(readFileSync(tmpFile('gt_bearer'), 'utf8'));
    expect(claims['wlcg.groups']).toEqual(['/dune', '/dune/production']);
    expect(claims['wlcg.ver']).toBe('1.0');
    expect(claims.exp as number).toBeGreaterThan(Date.now() / 1000);
    const call = world.doubles.calls('htgettoken').at(-1)!;
    expect(call.argv).toEqual(argv.slice(1));
    expect(call.env._condor_COLLECTOR_HOST).toBe('');
    expect('_condor_CREDD_HOST' in call.env).toBe(false);
  });

  it('rejects a wrong argv or a wrong environment with 97', async () => {
    await expectViolation(
      [
        'htgettoken',
        '-a',
        'vault.test',
        '-i',
        'dune',
        '--vaulttokenfile',
        '/tmp/v',
        '-o',
        '/tmp/b',
      ],
      getTokenEnv(),
    );
    await expectViolation(
      [
        'htgettoken',
        '-a',
        'vault.test',
        '-i',
        'dune',
        '--vaulttokenfile',
        '/tmp/v',
        '-o',
        '/tmp/b',
        '--role',
        'production',
      ],
      { ...getTokenEnv(), _condor_CREDD_HOST: 'schedd1.test' },
    );
  });

  it('forbidden-legacy prints the 403 text; badbearer writes a non-JWT', async () => {
    const argv = [
      'htgettoken',
      '-a',
      'vault.test',
      '-i',
      'dune',
      '--vaulttokenfile',
      '/tmp/gt2_vault',
      '-o',
      '/tmp/gt2_bearer',
      '--role',
      'production',
    ];
    world.doubles.setTool('htgettoken', 'forbidden-legacy');
    const f = await world.run(argv, { env: getTokenEnv() });
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/htgettoken:.*403.*permission denied/);
    world.doubles.setTool('htgettoken', 'badbearer');
    const b = await world.run(argv, { env: getTokenEnv() });
    expect(b.code).toBe(0);
    expect(readFileSync(tmpFile('gt2_bearer'), 'utf8')).toBe('not-a-jwt\n');
    world.doubles.setTool('htgettoken', {});
  });
});

describe('condor_vault_storer', () => {
  it('flow mode reproduces the real file choreography and stores the credential in the credd', async () => {
    const before = world.doubles.calls().length;
    const r = await world.run(['condor_vault_storer', 'dune_production'], {
      env: storerEnv('schedd1.test'),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const service = readFileSync(tmpFile(`vt_u${uid}-dune_production`), 'utf8');
    expect(decodeVaultToken(service)?.tag).toBe('dune_production@schedd1.test');
    expect(readFileSync(tmpFile(`vt_u${uid}`), 'utf8')).toBe(service);
    expect(existsSync(tmpFile(`bt_u${uid}-dune_production`))).toBe(true);
    expect(existsSync(tmpFile(`bt_u${uid}`))).toBe(true);
    const cred = JSON.parse(
      readFileSync(
        path.join(
          world.doubles.creddDir,
          'schedd1.test',
          world.runUser.name,
          'dune_production.top',
        ),
        'utf8',
      ),
    );
    expect(cred.vault_url).toBe(
      `https://vault.test:8200/v1/secret/oauth-dune/creds/${credkey()}:production`,
    );
    const tools = world.doubles
      .calls()
      .slice(before)
      .map((c) => `${c.tool} ${c.argv[0]}`);
    expect(tools).toEqual([
      'condor_config_val SEC_CREDENTIAL_GETTOKEN_OPTS',
      'condor_store_cred query-oauth',
      'htgettoken --vaulttokenttl=28d',
      'htgettoken -a',
      'condor_store_cred add-oauth',
      'condor_vault_storer dune_production',
    ]);
  });

  it('a second call with a still-valid staged token stores nothing new', async () => {
    const staged = readFileSync(tmpFile(`vt_u${uid}-dune_production`), 'utf8');
    const before = world.doubles.calls().length;
    const r = await world.run(['condor_vault_storer', 'dune_production'], {
      env: storerEnv('schedd1.test'),
    });
    expect(r.code).toBe(0);
    expect(readFileSync(tmpFile(`vt_u${uid}-dune_production`), 'utf8')).toBe(staged);
    const storer = world.doubles.calls().slice(before).at(-1)!;
    expect(storer.files.vtService?.tag).toBe('dune_production@schedd1.test');
    expect(world.doubles.calls('condor_store_cred').slice(-1)[0]!.argv[0]).toBe('query-oauth');
  });

  it('tokens are distinct per schedd, so a token in the wrong file is detectable', async () => {
    const r = await world.run(['condor_vault_storer', 'dune_production'], {
      env: storerEnv('schedd2.test'),
    });
    expect(r.code).toBe(0);
    expect(decodeVaultToken(readFileSync(tmpFile(`vt_u${uid}-dune_production`), 'utf8'))?.tag).toBe(
      'dune_production@schedd2.test',
    );
  });

  it('without Kerberos auth it prints the auth-needed text and fails like the real script', async () => {
    world.doubles.setTool('htgettoken', { rules: [{ schedd: 'noauth.test', mode: 'noauth' }] });
    const r = await world.run(['condor_vault_storer', 'dune_production'], {
      env: storerEnv('noauth.test'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Authentication needed for dune_production\n');
    expect(r.stderr).toContain('condor_vault_storer: htgettoken failed\n');
    world.doubles.setTool('htgettoken', {});
  });

  it('rejects flags, extra words and an incomplete environment with 97', async () => {
    await expectViolation(
      ['condor_vault_storer', '-v', 'dune_production'],
      storerEnv('schedd1.test'),
    );
    const env = storerEnv('schedd1.test');
    delete env._condor_COLLECTOR_HOST;
    await expectViolation(['condor_vault_storer', 'dune_production'], env);
    await expectViolation(
      ['condor_vault_storer', 'dune_production'],
      storerEnv('schedd1.test', { _condor_SEC_CREDENTIAL_GETTOKEN_OPTS: '-x -a vault.test' }),
    );
  });

  it('two underscores fail in flow mode with the real message', async () => {
    const r = await world.run(['condor_vault_storer', 'dune_pro_x'], {
      env: storerEnv('schedd1.test'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Only one underscore allowed in use_oauth_services name');
  });

  it('seq consumes one mode per call; ok-notoken writes nothing; emptytoken an empty file', async () => {
    world.doubles.setTool('condor_vault_storer', { seq: ['fail', 'ok-notoken', 'emptytoken'] });
    const first = await world.run(['condor_vault_storer', 'mu2e_production'], {
      env: storerEnv('schedd1.test'),
    });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('Failed to store condor credentials for mu2e_production');
    const second = await world.run(['condor_vault_storer', 'mu2e_production'], {
      env: storerEnv('schedd1.test'),
    });
    expect(second.code).toBe(0);
    expect(existsSync(tmpFile(`vt_u${uid}-mu2e_production`))).toBe(false);
    const third = await world.run(['condor_vault_storer', 'mu2e_production'], {
      env: storerEnv('schedd1.test'),
    });
    expect(third.code).toBe(0);
    expect(readFileSync(tmpFile(`vt_u${uid}-mu2e_production`), 'utf8')).toBe('');
    expect(
      world.doubles
        .calls('condor_vault_storer')
        .slice(-3)
        .map((c) => c.mode),
    ).toEqual(['fail', 'ok-notoken', 'emptytoken']);
    world.doubles.setTool('condor_vault_storer', {});
  });

  it('hang is killed at the deadline; hang-hold leaves a recorded grandchild holding the pipes', async () => {
    world.doubles.setTool('condor_vault_storer', 'hang');
    const hung = await world.run(['condor_vault_storer', 'dune_production'], {
      env: storerEnv('schedd1.test'),
      timeoutMs: 1500,
    });
    expect(hung.signal).toBe('SIGKILL');
    expect(world.doubles.calls('condor_vault_storer').at(-1)).toMatchObject({
      hung: true,
      exit: null,
      mode: 'hang',
    });

    world.doubles.setTool('condor_vault_storer', 'hang-hold');
    const child = spawn(
      world.wrap(['condor_vault_storer', 'dune_production'])[0]!,
      world.wrap(['condor_vault_storer', 'dune_production']).slice(1),
      {
        env: storerEnv('schedd1.test'),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    const heldFile = path.join(world.doubles.stateDir, 'held.pids');
    for (let i = 0; i < 100 && !existsSync(heldFile); i++)
      await new Promise((r) => setTimeout(r, 50));
    const [pid] = readFileSync(heldFile, 'utf8').trim().split(' ');
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(existsSync(`/proc/${pid}`)).toBe(true); // the grandchild survived the group kill ...
    let closed = false;
    child.on('close', () => (closed = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false); // ... and still holds the pipes; world.stop() kills it
    child.stdout!.destroy();
    child.stderr!.destroy();
    world.doubles.setTool('condor_vault_storer', {});
  });

  it('world.run stops waiting one second after the double was killed, even with held pipes', async () => {
    world.doubles.setTool('condor_vault_storer', 'hang-hold');
    const r = await world.run(['condor_vault_storer', 'dune_production'], {
      env: storerEnv('schedd1.test'),
      timeoutMs: 1000,
    });
    expect(r.signal).toBe('SIGKILL');
    world.doubles.setTool('condor_vault_storer', {});
  });

  it('every contract violation seen was a deliberate one', () => {
    expect(world.doubles.violations()).toHaveLength(violationsExpected);
  });
});
