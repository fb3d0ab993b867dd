/**
 * token-push acceptance checks an audit found untested (token-push.md 7, config.md 8,
 * ferry-and-db.md 9, notifications-observability.md 8, external-tools.md 9), end to end through
 * bin/token-push as mtuser against one test world with a real pushgateway and SMTP receiver.
 * Shims first on PATH record kinit/klist/rsync calls (argv, stdin) and can hang kinit or fail
 * rsync to one node on request.
 */
import { createHash } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManagedTokensDb } from '../../src/internal/db/index.js';
import {
  createWorld,
  runAs,
  type World,
  tokenPushArgv,
  writeTokenPushConfig,
  type TokenPushService,
  oneScheddAds,
  landedOnNodes,
  nothingOnNodes,
} from '../../src/testenv/index.js';
import { installShims } from '../../src/testenv/shims.js';
import { stillRunning, freePort } from '../../src/testenv/proc.js';

let world: World;
let shimDir: string;
let uidCounter = 9100;
const nextUid = (): number => ++uidCounter;
const PRINCIPAL = (account: string): string => `${account}/managedtokens/mtworld.test@MT.TEST`;

const KRB_SHIM = (tool: string): string => `#!/bin/bash
here="$(dirname "$0")"
line="$(printf "%s\\x1f" "${tool}" "$(readlink /proc/$$/fd/0)" "$@")"; printf "%s\\n" "$line" >> "$here/krb.log"
if [ "${tool}" = kinit ] && [ -n "$SHIM_KINIT_HANG" ]; then
  sleep 300 &
  echo "$! $(awk '{print $22}' /proc/$!/stat)" >> "$here/hang.pids"
  echo "$$ $(awk '{print $22}' /proc/$$/stat)" >> "$here/hang.pids"
  wait
fi
exec /usr/bin/${tool} "$@"
`;
const RSYNC_SHIM = `#!/bin/bash
here="$(dirname "$0")"
line="$(printf "%s\\x1f" "$(readlink /proc/$$/fd/0)" "$@")"; printf "%s\\n" "$line" >> "$here/rsync.log"
last="\${@: -1}"
if [ -n "$SHIM_RSYNC_FAIL_NODE" ] && [[ "$last" == *"@$SHIM_RSYNC_FAIL_NODE:/tmp/vt_u"* ]]; then exit 12; fi
exec /usr/bin/rsync "$@"
`;

beforeAll(async () => {
  world = await createWorld({
    nodes: 2,
    services: [
      { name: 'dune_production', account: 'dunepro' },
      { name: 'mu2e_production', account: 'mu2epro' },
    ],
    receivers: { pushgateway: true, smtp: true },
  });
  shimDir = installShims(
    path.join(world.workDir, 'shim'),
    world.runUser,
    { kinit: KRB_SHIM('kinit'), klist: KRB_SHIM('klist'), rsync: RSYNC_SHIM },
    ['krb.log', 'rsync.log', 'hang.pids'],
  );
}, 180_000);
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.doubles.reset();
  world.doubles.set(oneScheddAds());
  for (const f of ['krb.log', 'rsync.log', 'hang.pids']) writeFileSync(path.join(shimDir, f), '');
});

const dune = (extra: Record<string, unknown> = {}): TokenPushService => ({
  experiment: 'dune',
  role: 'production',
  account: 'dunepro',
  uid: nextUid(),
  extra,
});
const mu2e = (extra: Record<string, unknown> = {}): TokenPushService => ({
  experiment: 'mu2e',
  role: 'production',
  account: 'mu2epro',
  uid: nextUid(),
  extra,
});

interface RunOptions {
  name: string;
  top?: Record<string, unknown>;
  flags?: string[];
  env?: Record<string, string>;
  /** runs before token-push starts, with the config paths */
  prepare?: (cfg: ReturnType<typeof writeTokenPushConfig>) => void;
}

async function run(services: TokenPushService[], opts: RunOptions) {
  const cfg = writeTokenPushConfig(world, services, { name: opts.name, top: opts.top ?? {} });
  opts.prepare?.(cfg);
  const env = { ...world.env, PATH: `${shimDir}:${world.env['PATH']}`, ...opts.env };
  const result = await world.run(tokenPushArgv(cfg.file, ...(opts.flags ?? [])), {
    env,
    timeoutMs: 120_000,
  });
  const debug = readFileSync(path.join(path.dirname(cfg.file), 'token-push.debug.log'), 'utf8');
  expect(world.doubles.violations()).toEqual([]);
  return { ...cfg, result, debug, log: readFileSync(cfg.logFile, 'utf8') };
}

const shimLines = (file: string): string[][] =>
  readFileSync(path.join(shimDir, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\x1f').slice(0, -1));
const kinits = (): string[][] => shimLines('krb.log').filter((l) => l[0] === 'kinit');
const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

function writeOwned(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  chownSync(file, world.runUser.uid, world.runUser.gid);
}

const closedPort = (): Promise<number> => freePort('127.0.0.1');

describe('UIDs from the database', () => {
  it('config 21 / ferry 54 / ferry 56: without desiredUIDOverride the uids row gives the UID; a service without a row is skipped, counted as a failure, the others pushed', async () => {
    const withRow = dune({ desiredUIDOverride: undefined });
    const noRow = mu2e({ desiredUIDOverride: undefined });
    const out = await run([withRow, noRow], {
      name: 'db-uid',
      prepare: (cfg) => {
        const db = ManagedTokensDb.open(cfg.dbFile);
        try {
          db.insertUidsIntoTableFromFerry([{ username: 'dunepro', uid: withRow.uid }]);
        } finally {
          db.close();
        }
        const dir = path.dirname(cfg.dbFile);
        for (const f of readdirSync(dir).filter((x) => x.startsWith('uid.db')))
          chownSync(path.join(dir, f), world.runUser.uid, world.runUser.gid);
      },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(landedOnNodes(world, withRow.uid, 'dune_production')).toBe(true);
    expect(out.log + out.debug).toContain(
      'could not get UID by username: sql: no rows in result set',
    );
    expect(out.log).toContain('Successes: dune_production');
    expect(out.log).toContain('Failures: mu2e_production');
    expect(kinits().map((k) => k.at(-1))).toEqual([PRINCIPAL('dunepro')]);
  });

  it('dbLocation: "" is a database-open failure (N1), not the default file; services with a UID override still push', async () => {
    const withOverride = dune();
    const out = await run([withOverride], { name: 'db-empty', top: { dbLocation: '' } });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(out.log).toContain('Could not open or create ManagedTokensDatabase');
    expect(out.debug).not.toContain('dbLocation=/var/lib/managed-tokens/uid.db');
    expect(landedOnNodes(world, withOverride.uid, 'dune_production')).toBe(true);
  });
});

describe('services skipped at load', () => {
  it('token-push 21: a {{.Nope}} principal pattern skips the service: never kinit-ed, in Failures, no notification; others unaffected', async () => {
    const smtp = world.smtp;
    if (!smtp) throw new Error('world has no SMTP receiver');
    const bad = dune({ kerberosPrincipalPatternOverride: '{{.Nope}}' });
    const good = mu2e();
    const before = smtp.messages.length;
    const out = await run([bad, good], {
      name: 'skipped-at-load',
      top: {
        disableNotifications: false,
        email: { from: 'managed-tokens@example.com', smtpHost: smtp.host, smtpPort: smtp.port },
        notifications: { admin_email: 'admin@example.com' },
        errorCountToSendMessage: 0,
      },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(kinits().map((k) => k.at(-1))).toEqual([PRINCIPAL('mu2epro')]);
    expect(out.log).toContain('Successes: mu2e_production');
    expect(out.log).toContain('Failures: dune_production');
    expect(nothingOnNodes(world, bad.uid)).toBe(true);
    expect(landedOnNodes(world, good.uid, 'mu2e_production')).toBe(true);
    // give any (wrong) notification time to arrive, then none names the skipped service
    await new Promise((r) => setTimeout(r, 1000));
    const mails = smtp.messages.slice(before);
    expect(mails.filter((m) => m.to.includes('dune@example.com'))).toEqual([]);
    for (const m of mails) expect(m.text ?? '').not.toContain('dune_production');
  });

  it('token-push 21: an invalid node name skips that service only', async () => {
    const bad = dune({ destinationNodes: ['bad node!'] });
    const good = mu2e();
    const out = await run([bad, good], { name: 'bad-node' });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(kinits().map((k) => k.at(-1))).toEqual([PRINCIPAL('mu2epro')]);
    expect(out.log).toContain('Failures: dune_production');
    expect(landedOnNodes(world, good.uid, 'mu2e_production')).toBe(true);
  });
});

describe('staged token files', () => {
  it('token-push 35 / 9.34: an OLD service token is not what the storer sees and is gone after a successful store; /tmp/vt_u<uid> is deleted; bt_u* remain', async () => {
    const runUid = world.runUser.uid;
    const oldService = path.join(world.tmpDir, `vt_u${runUid}-dune_production`);
    const oldDefault = path.join(world.tmpDir, `vt_u${runUid}`);
    const s = dune();
    const out = await run([s], {
      name: 'staged-old',
      prepare: () => {
        for (const f of readdirSync(world.tmpDir).filter((x) => x.startsWith('bt_u')))
          rmSync(path.join(world.tmpDir, f));
        writeOwned(oldService, 'OLD\n');
        writeOwned(oldDefault, 'OLD-DEFAULT\n');
      },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    const [storer] = world.doubles.calls('condor_vault_storer');
    expect(storer?.files['vtService']).toBeDefined();
    expect(storer?.files['vtService']?.sha256).not.toBe(sha256('OLD\n'));
    expect(existsSync(oldService)).toBe(false);
    expect(existsSync(oldDefault)).toBe(false);
    expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
    const bearer = readdirSync(world.tmpDir).filter((f) => f.startsWith(`bt_u${runUid}`));
    expect(bearer.sort()).toEqual([`bt_u${runUid}`, `bt_u${runUid}-dune_production`]);
  });
  it('token-push 35: when the store fails, the OLD service token is restored and survives', async () => {
    world.doubles.setTool('condor_vault_storer', 'authneeded-403');
    const oldService = path.join(world.tmpDir, `vt_u${world.runUser.uid}-dune_production`);
    const out = await run([dune()], {
      name: 'staged-old-failed',
      prepare: () => writeOwned(oldService, 'OLD\n'),
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(out.log).toContain('Failures: dune_production');
    expect(world.doubles.calls('condor_vault_storer')[0]?.files['vtService']?.sha256).not.toBe(
      sha256('OLD\n'),
    );
    expect(readFileSync(oldService, 'utf8')).toBe('OLD\n');
    rmSync(oldService);
  });
});

describe('kerberos deadline', () => {
  it('token-push 23: the timed-out kinit and its child are killed', async () => {
    const s = dune();
    const out = await run([s], {
      name: 'kinit-kill',
      env: { SHIM_KINIT_HANG: '1' },
      top: {
        timeouts: {
          globalTimeout: '60s',
          kerberosTimeout: '2s',
          vaultStorerTimeout: '20s',
          pingTimeout: '5s',
          pushTimeout: '10s',
        },
      },
    });
    expect(out.result.code).toBe(0);
    expect(out.debug).toMatch(/notification="Timeout error"/);
    const held = readFileSync(path.join(shimDir, 'hang.pids'), 'utf8').split('\n').filter(Boolean);
    expect(held).toHaveLength(2);
    for (const line of held) expect(stillRunning(line), `kinit process ${line}`).toBe(false);
  });
});

describe('metrics at the pushgateway', () => {
  it('token-push 48 / notifications 32: rsync failing to one node gives failed_services_push_count 1 and a pushTokens stage', async () => {
    const gateway = world.pushgateway;
    if (!gateway) throw new Error('world has no pushgateway');
    const failing = world.nodes[0]?.name ?? '';
    const s = dune();
    const out = await run([s], {
      name: 'rsync-one-node',
      top: { prometheus: { host: gateway.url } },
      env: { SHIM_RSYNC_FAIL_NODE: failing },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(out.debug).toContain(
      `Error pushing vault tokens to destination node ${failing}: rsync command failed: exit status 12`,
    );
    expect(out.log).toContain('Failures: dune_production');
    const samples = await gateway.samples('managed_tokens_');
    const tp = samples.filter((x) => x.labels['executable'] === 'token-push');
    expect(
      tp.filter((x) => x.name === 'managed_tokens_failed_services_push_count').map((x) => x.value),
    ).toEqual([1]);
    const stages = tp
      .filter((x) => x.name === 'managed_tokens_stage_duration_seconds')
      .map((x) => x.labels['stage']);
    expect(stages).toContain('pushTokens');
    expect(stages).toContain('pingNodes');
  });

  it('notifications 33: a -t run pushes the setup..cleanup stages and not pingNodes/pushTokens', async () => {
    const gateway = world.pushgateway;
    if (!gateway) throw new Error('world has no pushgateway');
    const out = await run([dune()], {
      name: 'metrics-test-mode',
      top: { prometheus: { host: gateway.url } },
      flags: ['-t'],
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    const stages = (await gateway.samples('managed_tokens_stage_duration_seconds'))
      .filter((x) => x.labels['executable'] === 'token-push')
      .map((x) => x.labels['stage'])
      .sort();
    expect(stages).toEqual(
      ['cleanup', 'getKerberosTickets', 'getTokens', 'setup', 'storeAndGetTokens'].sort(),
    );
  });

  it('notifications 28: a scheme-less unresolvable prometheus.host logs the error at setup, the run goes on, nothing is pushed', async () => {
    const s = dune();
    const out = await run([s], {
      name: 'metrics-schemeless',
      top: { prometheus: { host: 'pushgateway.nowhere.invalid' } },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(out.log).toContain('Error contacting prometheus pushgateway');
    expect(out.debug).not.toContain('Could not push metrics');
    expect(out.debug).not.toContain('Finished pushing metrics');
    expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
  });

  it('notifications 29: a pushgateway down at start is logged, exit 0, no push is attempted at the end', async () => {
    const s = dune();
    const out = await run([s], {
      name: 'metrics-down',
      top: { prometheus: { host: `http://127.0.0.1:${await closedPort()}` } },
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(out.log).toContain('Error contacting prometheus pushgateway');
    expect(out.debug).not.toContain('Could not push metrics');
    expect(out.debug).not.toContain('Finished pushing metrics');
    expect(out.log).toContain('Successes: dune_production');
  });
});

describe('external tools', () => {
  it.each([
    ['badbearer', 'is not a JWT'],
    ['expiredbearer', 'is expired'],
    ['wronggroups', 'lacks group /dune'],
  ])(
    '9.24: htgettoken %s only warns (%s); the service succeeds and is pushed',
    async (mode, warning) => {
      world.doubles.setTool('htgettoken', mode);
      const s = dune({ tokenGetterOverride: 'getToken' });
      const out = await run([s], { name: `bearer-${mode}` });
      expect(out.result.code, out.result.stderr).toBe(0);
      const warned = out.debug
        .split('\n')
        .filter((l) => l.includes('level=warning') && /msg="Bearer \S+ check"/.test(l));
      expect(
        warned.some((l) => l.includes(warning)),
        warned.join('\n'),
      ).toBe(true);
      expect(out.log).toContain('Successes: dune_production');
      expect(landedOnNodes(world, s.uid, 'dune_production')).toBe(true);
    },
  );

  it('9.2: ping missing from PATH is only logged; nodes are reported "exec: no command"; pushes still attempted', async () => {
    // token-push always appends /usr/bin:/usr/sbin to PATH, so ping is hidden the only way that
    // works on a shared machine: /dev/null bind-mounted over /usr/bin/ping in a child mount
    // namespace of the world's (private, so nothing leaks to the host).
    const s = dune();
    const cfg = writeTokenPushConfig(world, [s], { name: 'no-ping' });
    const wrapped = world.wrap(tokenPushArgv(cfg.file));
    const at = wrapped.indexOf('/usr/bin/setpriv');
    expect(at).toBeGreaterThan(0);
    const argv = [
      ...wrapped.slice(0, at),
      '/usr/bin/unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      'mount --bind /dev/null /usr/bin/ping && exec "$@"',
      'hide-ping',
      ...wrapped.slice(at),
    ];
    const env = { ...world.env, PATH: `${shimDir}:${world.env['PATH']}` };
    const result = await runAs(argv, { user: 'root', env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(
      existsSync('/usr/bin/ping') && !readFileSync('/usr/bin/ping').equals(Buffer.alloc(0)),
    ).toBe(true);
    const debug = readFileSync(path.join(path.dirname(cfg.file), 'token-push.debug.log'), 'utf8');
    expect(result.stderr + debug).toContain('Could not find ping in PATH');
    for (const n of world.nodes)
      expect(debug).toMatch(new RegExp(`${n.name}.*exec: no command|exec: no command.*${n.name}`));
    const rsyncTargets = shimLines('rsync.log').map((a) => a.at(-1) ?? '');
    for (const n of world.nodes)
      expect(rsyncTargets).toContain(`dunepro@${n.name}:/tmp/vt_u${s.uid}`);
  });

  it('9.3: as root token-push starts no child process', async () => {
    const cfg = writeTokenPushConfig(world, [dune()], { name: 'as-root' });
    const env = { ...world.env, PATH: `${shimDir}:${world.env['PATH']}` };
    const res = await runAs(tokenPushArgv(cfg.file), { user: 'root', env, timeoutMs: 60_000 });
    expect(res.code).not.toBe(0);
    expect(world.doubles.calls()).toEqual([]);
    expect(shimLines('krb.log')).toEqual([]);
    expect(shimLines('rsync.log')).toEqual([]);
  });

  it('9.4: in onboarding mode (-r -s) every child started by token-push has /dev/null as stdin', async () => {
    const s = dune();
    const out = await run([s], {
      name: 'onboard-stdin',
      flags: ['-r', '-p', '-s', 'dune_production'],
    });
    expect(out.result.code, out.result.stderr).toBe(0);
    const direct = world.doubles.calls().filter((c) => !('MTFAKE_VIA_STORER' in c.env));
    expect(direct.map((c) => c.tool)).toContain('condor_vault_storer');
    for (const c of direct) expect(c.stdin, c.tool).toBe('/dev/null');
    const krb = shimLines('krb.log');
    expect(krb.map((k) => k[0])).toEqual(['kinit', 'klist']);
    for (const k of krb) expect(k[1]).toBe('/dev/null');
    const rsync = shimLines('rsync.log');
    expect(rsync.length).toBeGreaterThan(0);
    for (const r of rsync) expect(r[0]).toBe('/dev/null');
  });

  it('9.16: an empty parent HTGETTOKENOPTS is treated as unset', async () => {
    const out = await run([dune()], { name: 'htgopts-empty', env: { HTGETTOKENOPTS: '' } });
    expect(out.result.code, out.result.stderr).toBe(0);
    expect(world.doubles.calls('condor_vault_storer')[0]?.env['HTGETTOKENOPTS']).toBe(
      `--vaulttokenminttl=10s --credkey=${PRINCIPAL('dunepro')}`,
    );
  });
});
