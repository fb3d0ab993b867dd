/**
 * The JWT path to FERRY as intended (spec ferry-and-db.md 3.3, README decision 6; checks 8,
 * 38-42): a real MIT KDC (realm FNAL.GOV) and real kinit/klist, the htgettoken double, and the
 * fake FERRY validating the bearer token. The fake's CA reaches the system trust store of the
 * child through NODE_EXTRA_CA_CERTS (JWT mode never uses ferry.caPath).
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installDoubles, type Doubles } from '../../src/testenv/doubles.js';
import { startKdc, type Kdc } from '../../src/testenv/kdc.js';
import { liveProcessStart } from '../../src/testenv/proc.js';
import {
  createRefreshWorld,
  readLog,
  SYSTEM_PATH,
  type RefreshWorld,
} from '../internal/refresh/harness.js';

const PRINCIPAL = 'svc/host@FNAL.GOV';
const VAULT = 'vault.example.test:8200';
const JWT_SETUP_FAILED =
  'Could not create service config to authenticate to FERRY with a JWT. Exiting';

let w: RefreshWorld;
let kdc: Kdc;
let doubles: Doubles;
let base: string;
let keytab: string;
let tmpDir: string;
let vtDir: string;
let krb5Conf: string;

beforeAll(async () => {
  w = await createRefreshWorld();
  base = mkdtempSync('/var/tmp/mt-refresh-jwt-');
  kdc = await startKdc({ dir: join(base, 'kdc'), realm: 'FNAL.GOV' });
  keytab = join(w.dir, 'ferry.keytab');
  await kdc.writeKeytab(PRINCIPAL, keytab, w.user);
  doubles = installDoubles({ dir: join(w.dir, 'doubles'), runUser: w.user });
  // the KDC's own directory is private; the test user needs a readable copy of its client config
  krb5Conf = join(w.dir, 'krb5.conf');
  writeFileSync(krb5Conf, kdc.renderKrb5Conf(), { mode: 0o644 });
}, 120_000);

afterAll(async () => {
  await kdc?.dispose();
  await w?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

beforeEach(async () => {
  await w.reset();
  doubles.reset();
  // The FERRY JWT path has no _condor_COLLECTOR_HOST (it is removed, not emptied, spec 3.3): the
  // double's strict contract is the token-push one, so argv and env are asserted here instead.
  doubles.set({ strict: false });
  w.ferry.setAuth('bearer');
  // no client certificate in JWT mode: the handshake must not demand one
  await w.ferry.setTls({ clientAuth: 'optional' });
  tmpDir = join(w.dir, `tmp-${Date.now()}`);
  vtDir = join(w.dir, `vt-${Date.now()}`);
  for (const d of [tmpDir, vtDir]) {
    mkdirSync(d);
    chownSync(d, w.user.uid, w.user.gid);
  }
});

function jwtConfig(
  ferry: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): string {
  return w.writeConfig({
    serviceCreddVaultTokenPathRoot: vtDir,
    ferry: {
      host: w.ferry.url,
      port: w.ferry.port,
      serviceExperiment: 'fermilab',
      serviceRole: '',
      serviceKerberosPrincipal: PRINCIPAL,
      serviceKeytabPath: keytab,
      vaultServer: VAULT,
      ...ferry,
    },
    ...extra,
  });
}

function jwtEnv(): Record<string, string> {
  return {
    PATH: `${doubles.binDir}:${SYSTEM_PATH}`,
    KRB5_CONFIG: krb5Conf,
    TMPDIR: tmpDir,
    NODE_EXTRA_CA_CERTS: w.ferry.pki.caCert,
  };
}

describe('JWT authentication', () => {
  it('checks 39, 42: --authmethod jwt → kinit, htgettoken with the vault server, Bearer <jwt>, all cleaned up', async () => {
    const r = await w.run(['-c', jwtConfig(), '--authmethod', 'jwt'], jwtEnv());
    expect(
      r.code,
      readLog(w.debugFile)
        .split('\n')
        .filter((l) => l.includes('FERRY UID'))
        .join('\n'),
    ).toBe(0);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });

    const calls = doubles.calls('htgettoken');
    expect(calls.length).toBeGreaterThanOrEqual(1);
    const call = calls[0]!;
    expect(call.exit).toBe(0);
    const [a, vault, i, issuer, vtFlag, vt, o, out, roleFlag, role, ...rest] = call.argv;
    expect([a, vault, i, issuer, vtFlag, o, roleFlag, role, rest]).toEqual([
      '-a',
      VAULT,
      '-i',
      'fermilab',
      '--vaulttokenfile',
      '-o',
      '--role',
      'Analysis',
      [],
    ]);
    expect(out).toMatch(
      new RegExp(`^${tmpDir}/managed-tokens[^/]+/managed_tokens_ferry_jwt_auth_`),
    );
    // serviceCreddVaultTokenPathRoot is a directory: a private per-run file is used instead (FIX Q1)
    expect(vt?.startsWith(`${tmpDir}/managed-tokens`)).toBe(true);
    expect(call.env['HTGETTOKENOPTS']).toBe('--credkey=svc/host');
    expect(call.env['KRB5CCNAME']).toMatch(
      new RegExp(`^FILE:${tmpDir}/managed-tokens[^/]+/managed-tokens-krb5ccCache-fermilab`),
    );
    expect('_condor_CREDD_HOST' in call.env).toBe(false);
    expect('_condor_COLLECTOR_HOST' in call.env).toBe(false);

    // the fake FERRY (auth bearer) validated "Bearer <three base64url segments>" with no newline
    expect(w.ferry.requests).toHaveLength(3);
    expect(w.ferry.violations).toEqual([]);
    for (const q of w.ferry.requests) {
      expect(q.headers['authorization']).toMatch(
        /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
      );
      expect(q.clientCertCN).toBeNull();
    }
    // the token itself never reaches the logs
    const token = String(w.ferry.requests[0]?.headers['authorization']).slice('Bearer '.length);
    expect(readLog(w.debugFile)).not.toContain(token);
    // check 42 with FIX Q12: cache file, token files and the private temp dir are all gone
    expect(readdirSync(tmpDir)).toEqual([]);
    expect(readdirSync(vtDir)).toEqual([]);
  });

  it('check 8: a config with jwt settings run with --authmethod tls uses TLS and never runs kinit or htgettoken', async () => {
    const cfg = jwtConfig(
      { caPath: w.ferry.caDir, hostCert: w.ferry.clientCert, hostKey: w.ferry.clientKey },
      { authmethod: 'jwt' },
    );
    w.ferry.setAuth('cert');
    await w.ferry.setTls({ clientAuth: 'require' });
    const r = await w.run(['-c', cfg, '--authmethod', 'tls'], jwtEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(doubles.calls('htgettoken')).toEqual([]);
    expect(w.ferry.requests.every((q) => q.clientCertCN === 'managed-tokens-test')).toBe(true);
    expect(readLog(w.debugFile)).not.toContain('Kerberos ticket');
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('check 8 (config check 57 fix): authmethod: jwt only in the file, no flag → warning that it is ignored, no kinit, TLS used', async () => {
    // spies ahead of the real kinit/klist on PATH record every invocation by the executable
    const spyDir = join(w.dir, `spy-${Date.now()}`);
    mkdirSync(spyDir, { mode: 0o755 });
    const spyLog = join(spyDir, 'calls.log');
    writeFileSync(spyLog, '', { mode: 0o666 });
    chmodSync(spyLog, 0o666);
    for (const tool of ['kinit', 'klist']) {
      const real = join('/usr/bin', tool);
      writeFileSync(
        join(spyDir, tool),
        `#!/bin/sh\necho "${tool} $*" >> '${spyLog}'\nexec '${real}' "$@"\n`,
        { mode: 0o755 },
      );
    }
    const spyEnv = { ...jwtEnv(), PATH: `${spyDir}:${doubles.binDir}:${SYSTEM_PATH}` };
    const calls = () => readFileSync(spyLog, 'utf8');
    const cfg = jwtConfig(
      { caPath: w.ferry.caDir, hostCert: w.ferry.clientCert, hostKey: w.ferry.clientKey },
      { authmethod: 'jwt' },
    );

    // control: the same config with the flag does reach kinit through the spy
    const control = await w.run(['-c', cfg, '--authmethod', 'jwt'], spyEnv);
    expect(control.code, control.stderr).toBe(0);
    expect(calls()).toMatch(/^kinit /m);

    writeFileSync(spyLog, '');
    await w.reset();
    doubles.reset();
    w.ferry.setAuth('cert');
    await w.ferry.setTls({ clientAuth: 'require' });
    const r = await w.run(['-c', cfg], spyEnv);
    expect(r.code, r.stderr).toBe(0);
    expect(calls()).toBe('');
    expect(doubles.calls('htgettoken')).toEqual([]);
    expect(w.ferry.requests).toHaveLength(3);
    expect(w.ferry.requests.every((q) => q.clientCertCN === 'managed-tokens-test')).toBe(true);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
    const log = readLog(w.debugFile);
    expect(log).toContain('authmethod: command-line flag key in the file is ignored');
    expect(log).toContain('Using TLS client certificate to authenticate to FERRY');
    expect(log).not.toContain('Using JWT to authenticate to FERRY');
  });

  it('check 38 (FIX Q12): klist shows a different principal → exit 1, 0 requests, admin told, metrics pushed', async () => {
    // kinit svc/host picks the default realm; klist then reports svc/host@FNAL.GOV ≠ svc/host
    const r = await w.run(
      ['-c', jwtConfig({ serviceKerberosPrincipal: 'svc/host' }), '--authmethod', 'jwt'],
      jwtEnv(),
    );
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(doubles.calls('htgettoken')).toEqual([]);
    expect(w.slackTexts('/hooks/admin').join('\n')).toContain(JWT_SETUP_FAILED);
    expect(w.pushgateway.requests.filter((q) => q.method === 'PUT')).toHaveLength(1);
    expect(readLog(w.debugFile)).toContain(
      'klist reports default principal svc/host@FNAL.GOV, expected svc/host',
    );
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('a stale keytab → kinit fails → setup error delivered, exit 1', async () => {
    const stale = join(w.dir, 'stale.keytab');
    await kdc.writeKeytab('other/host@FNAL.GOV', stale, w.user);
    await kdc.invalidateKeys('other/host@FNAL.GOV');
    const r = await w.run(
      [
        '-c',
        jwtConfig({ serviceKerberosPrincipal: 'other/host@FNAL.GOV', serviceKeytabPath: stale }),
        '--authmethod',
        'jwt',
      ],
      jwtEnv(),
    );
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(w.slackTexts('/hooks/admin').join('\n')).toContain(JWT_SETUP_FAILED);
    const log = readLog(w.debugFile);
    expect(log).toContain('kinit for other/host@FNAL.GOV failed');
    expect(log).not.toContain('while initializing Kerberos 5 library');
  });

  it('check 40: htgettokenopts is passed verbatim as HTGETTOKENOPTS', async () => {
    const r = await w.run(
      ['-c', jwtConfig({}, { htgettokenopts: '--foo' }), '--authmethod', 'jwt'],
      jwtEnv(),
    );
    const call = doubles.calls('htgettoken')[0];
    expect(call?.env['HTGETTOKENOPTS']).toBe('--foo');
    // the double rejects the unknown option, so every account fails without a FERRY request
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
  });

  it('check 41: htgettoken writes "not-a-jwt" → every account fails, no FERRY request', async () => {
    doubles.setTool('htgettoken', 'badbearer');
    const r = await w.run(['-c', jwtConfig(), '--authmethod', 'jwt'], jwtEnv());
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    const slack = w.slackTexts('/hooks/admin').join('\n');
    for (const a of ['dunepro', 'mu2epro', 'sbndpro'])
      expect(slack).toContain(`Could not get FERRY UID data for user ${a}`);
    expect(readLog(w.debugFile)).toContain('is not a JWT');
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('check 41: a token without /fermilab in wlcg.groups → warning only, requests proceed', async () => {
    doubles.setTool('htgettoken', 'wronggroups');
    const r = await w.run(['-c', jwtConfig(), '--authmethod', 'jwt'], jwtEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(w.ferry.requests).toHaveLength(3);
    expect(readLog(w.debugFile)).toMatch(
      /level=warning msg="FERRY access token lacks the group \/fermilab in wlcg.groups"/,
    );
  });

  it('the fake refuses a bearer token that does not match the expected one', async () => {
    w.ferry.setAuth('bearer', { bearerToken: 'a.b.c' });
    const r = await w.run(['-c', jwtConfig(), '--authmethod', 'jwt'], jwtEnv());
    expect(r.code).toBe(1);
    expect(w.ferry.violations.map((v) => v.problem)).toContain('bearer token mismatch');
  });

  it('SIGTERM while htgettoken hangs → the child is killed and the Kerberos cache and temp dir are removed', async () => {
    doubles.setTool('htgettoken', 'hang');
    const run = w.run(['-c', jwtConfig(), '--authmethod', 'jwt'], jwtEnv());
    let hung: ReturnType<Doubles['calls']>[number] | undefined;
    for (let i = 0; i < 300 && !hung; i++) {
      await new Promise((r) => setTimeout(r, 50));
      hung = doubles.calls('htgettoken').find((c) => c.hung);
    }
    expect(hung, 'htgettoken double never started').toBeDefined();
    // the double's parent is the executable itself
    process.kill(hung!.ppid, 'SIGTERM');
    const r = await run;
    expect(r.code).toBe(143);
    expect(readdirSync(tmpDir)).toEqual([]);
    // killed with its process group (a zombie awaiting reaping counts as gone)
    const alive = (): boolean => liveProcessStart(hung!.pid) !== undefined;
    for (let i = 0; i < 100 && alive(); i++) await new Promise((res) => setTimeout(res, 20));
    expect(alive()).toBe(false);
    expect(w.ferry.requests).toHaveLength(0);
  });

  it('a hanging htgettoken is bounded by the per-request deadline: every account fails, the run ends, nothing is left', async () => {
    doubles.setTool('htgettoken', 'hang');
    const cfg = jwtConfig(
      {},
      { timeouts: { globalTimeout: '20s', ferryRequestTimeout: '2s', dbTimeout: '1s' } },
    );
    const r = await w.run(['-c', cfg, '--authmethod', 'jwt'], jwtEnv());
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    const slack = w.slackTexts('/hooks/admin').join('\n');
    expect(slack).toContain('Could not get FERRY UID data for user dunepro');
    expect(slack).toContain('no data collected from FERRY');
    expect(readLog(w.debugFile)).toContain(
      'getting the FERRY access token: context deadline exceeded',
    );
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});
