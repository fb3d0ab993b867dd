/**
 * The push stage end to end: real rsync and ssh to the world's kerberized sshd nodes. A logging
 * shim named `rsync` (first on PATH, it execs /usr/bin/rsync) records every attempt's argv so
 * retries and the exact command line can be asserted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWorld,
  type World,
  FILE_COPIER_OPTIONS,
  SCHEDD,
  tokenPushArgv,
  writeTokenPushConfig,
  type TokenPushService,
  oneScheddAds,
} from '../../src/testenv/index.js';
import { installShims } from '../../src/testenv/shims.js';

let world: World;
let shimDir: string;
let shimLog: string;
let uid = 8000;

const KRB_SHIM = (tool: 'kinit' | 'klist'): string =>
  `#!/bin/bash\n[ -n "$SHIM_${tool.toUpperCase()}_SLEEP" ] && sleep "$SHIM_${tool.toUpperCase()}_SLEEP"\ncache="\${KRB5CCNAME#FILE:}"\nline="$(printf "%s\\x1f" "${tool}" "$KRB5CCNAME" "$(stat -c %a "$(dirname "$cache")")" "$@")"; printf "%s\\n" "$line" >> "$(dirname "$0")/krb.log"\nexec /usr/bin/${tool} "$@"\n`;

beforeAll(async () => {
  world = await createWorld({
    nodes: 2,
    services: [{ name: 'dune_production', account: 'dunepro' }],
  });
  // rsync shim: argv; kinit/klist shims: argv, KRB5CCNAME and the mode of the cache's directory at call time
  shimDir = installShims(
    path.join(world.workDir, 'shim'),
    world.runUser,
    {
      rsync:
        '#!/bin/bash\nline="$(printf "%s\\x1f" "$@")"; printf "%s\\n" "$line" >> "$(dirname "$0")/rsync.log"\nexec /usr/bin/rsync "$@"\n',
      kinit: KRB_SHIM('kinit'),
      klist: KRB_SHIM('klist'),
    },
    ['rsync.log', 'krb.log'],
  );
  shimLog = path.join(shimDir, 'rsync.log');
}, 180_000);
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.doubles.reset();
  world.doubles.set(oneScheddAds());
  writeFileSync(shimLog, '');
});

function attempts(): string[][] {
  return readFileSync(shimLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\x1f').slice(0, -1));
}

async function run(
  extra: Record<string, unknown>,
  name: string,
  top: Record<string, unknown> = {},
  extraEnv: Record<string, string> = {},
) {
  const s: TokenPushService = {
    experiment: 'dune',
    role: 'production',
    account: 'dunepro',
    uid: ++uid,
    extra,
  };
  const cfg = writeTokenPushConfig(world, [s], { name, top });
  const env = { ...world.env, PATH: `${shimDir}:${world.env['PATH']}`, ...extraEnv };
  const result = await world.run(tokenPushArgv(cfg.file), { env, timeoutMs: 120_000 });
  const debug = readFileSync(path.join(path.dirname(cfg.file), 'token-push.debug.log'), 'utf8');
  return { s, cfg, result, debug, log: readFileSync(cfg.logFile, 'utf8') };
}

describe('push stage', () => {
  it('rsync argv: -e "<ssh> merged options" as one element, fileCopierOptions, source, account@node:dest (checks 44, 45, 9.27, 9.29)', async () => {
    const out = await run({}, 'argv', { sshOptions: `-o ConnectTimeout=10 ${world.sshOptions}` });
    expect(out.result.code, out.result.stderr).toBe(0);
    const all = attempts();
    expect(all).toHaveLength(3 * world.nodes.length);
    const node = world.nodes[0]?.name ?? '';
    const token = all.find((a) => a.at(-1) === `dunepro@${node}:/tmp/vt_u${out.s.uid}`);
    expect(token?.[0]).toBe('-e');
    expect(token?.[1]).toMatch(
      /^\/usr\/bin\/ssh -o ConnectTimeout=10 -o ServerAliveCountMax=1 -o ServerAliveInterval=30 -o Port=\d+ -o UserKnownHostsFile=\S+ -o StrictHostKeyChecking=yes -o GSSAPIAuthentication=yes$/,
    );
    expect(token?.slice(2, 4)).toEqual(FILE_COPIER_OPTIONS.split(' '));
    expect(token?.[4]).toBe(
      path.join(out.cfg.tokenRoot, `vt_u${world.runUser.uid}-${SCHEDD}-dune_production`),
    );
    const targets = all
      .filter((a) => (a.at(-1) ?? '').startsWith(`dunepro@${node}:`))
      .map((a) => a.at(-1));
    expect(targets.sort()).toEqual(
      [
        `/tmp/default_role_dune_${out.s.uid}`,
        `/tmp/vt_u${out.s.uid}`,
        `/tmp/vt_u${out.s.uid}-dune_production`,
      ].map((d) => `dunepro@${node}:${d}`),
    );
  });

  it('without fileCopierOptions nothing sits between the -e value and the source (check 46)', async () => {
    const out = await run({}, 'no-copier-options', { fileCopierOptions: '' });
    expect(out.result.code).toBe(0);
    for (const a of attempts()) expect(a).toHaveLength(4);
  });

  it('a failing role-file copy does not fail the service (checks 47, 9.29)', async () => {
    const out = await run(
      { defaultRoleFileDestinationTemplateOverride: '/nonexistent-dir/role_{{.DesiredUID}}' },
      'role-fails',
    );
    expect(out.result.code).toBe(0);
    expect(out.log).toContain('Successes: dune_production');
    expect(out.debug).toContain('Could not push role file');
  });

  it('a pingable node refusing the login gets numRetries extra attempts per token file, the role file one (checks 49, 9.31)', async () => {
    const bad = world.nodes[1];
    if (!bad) throw new Error('need 2 nodes');
    bad.refuseAuth();
    try {
      const out = await run({}, 'retries', {
        workerType: { pushTokens: { numRetries: 2, retrySleep: '1s' } },
      });
      expect(out.result.code).toBe(0);
      const toBad = attempts().filter((a) => (a.at(-1) ?? '').startsWith(`dunepro@${bad.name}:`));
      const count = (suffix: string): number =>
        toBad.filter((a) => a.at(-1)?.endsWith(suffix)).length;
      expect(count(`:/tmp/vt_u${out.s.uid}`), out.debug).toBe(3);
      expect(count(`-dune_production`), out.debug).toBe(3);
      expect(count(`default_role_dune_${out.s.uid}`), out.debug).toBe(1);
      // ssh ends a refused login with 255; under load the connection may end earlier (12)
      expect(out.debug).toMatch(
        new RegExp(
          `Error pushing vault tokens to destination node ${bad.name.replace(/\./g, '\\.')}: rsync command failed: exit status (255|12)`,
        ),
      );
      expect(out.log).toContain('Failures: dune_production');
    } finally {
      await bad.heal();
    }
  });

  it('an unpingable node is tried once per file and named in the ping notification (checks 50, 53, 9.26)', async () => {
    const bad = world.nodes[1];
    if (!bad) throw new Error('need 2 nodes');
    await bad.down();
    try {
      const out = await run({}, 'unpingable', {
        workerType: { pushTokens: { numRetries: 2, retrySleep: '1s' } },
      });
      expect(out.result.code).toBe(0);
      const toBad = attempts().filter((a) => (a.at(-1) ?? '').startsWith(`dunepro@${bad.name}:`));
      expect(toBad).toHaveLength(3);
      expect(out.debug).toContain(`Could not ping the following nodes: ${bad.name}`);
      expect(out.debug).toContain('was not pingable earlier prior to attempt to push tokens');
      const good = world.nodes[0];
      expect(good?.readTmp(`vt_u${out.s.uid}-dune_production`)).toBeDefined();
    } finally {
      await bad.heal();
    }
  });

  it('a node that accepts TCP but never answers ends in a push timeout (9.32)', async () => {
    const bad = world.nodes[1];
    if (!bad) throw new Error('need 2 nodes');
    bad.hang();
    try {
      const out = await run({}, 'hung', {
        timeouts: {
          globalTimeout: '60s',
          kerberosTimeout: '10s',
          vaultStorerTimeout: '20s',
          pingTimeout: '5s',
          pushTimeout: '3s',
        },
      });
      expect(out.result.code).toBe(0);
      expect(out.debug).toContain(
        `Error pushing vault tokens to destination node ${bad.name}: (timeout error)`,
      );
      expect(world.nodes[0]?.readTmp(`vt_u${out.s.uid}`)).toBeDefined();
    } finally {
      await bad.heal();
    }
  });

  it('kinit -k -t <keytab> <principal> then klist without arguments, same FILE: cache in a 0700 run directory (checks 16, 9.6)', async () => {
    const out = await run({}, 'kerberos');
    expect(out.result.code).toBe(0);
    const calls = readFileSync(path.join(shimDir, 'krb.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\x1f').slice(0, -1));
    const [kinit, klist] = calls.slice(-2);
    expect(kinit?.[0]).toBe('kinit');
    expect(kinit?.slice(3)).toEqual([
      '-k',
      '-t',
      path.join(world.keytabDir, 'dunepro.keytab'),
      'dunepro/managedtokens/mtworld.test@MT.TEST',
    ]);
    expect(kinit?.[1]).toMatch(
      /^FILE:\/tmp\/managed-tokens[^/]+\/managed-tokens-krb5ccCache-dune_production\S+$/,
    );
    expect(kinit?.[2]).toBe('700');
    expect(klist?.slice(0, 2)).toEqual(['klist', kinit?.[1]]);
    expect(klist?.slice(3)).toEqual([]);
  });

  it('kinit outliving kerberosTimeout is killed and reported as "Timeout error" (checks 23, 9.8)', async () => {
    const out = await run(
      {},
      'kinit-timeout',
      {
        timeouts: {
          globalTimeout: '60s',
          kerberosTimeout: '2s',
          vaultStorerTimeout: '20s',
          pingTimeout: '5s',
          pushTimeout: '10s',
        },
      },
      { SHIM_KINIT_SLEEP: '30' },
    );
    expect(out.result.code).toBe(0);
    expect(out.debug).toMatch(/Failed to obtain kerberos ticket.*notification="Timeout error"/);
    expect(world.doubles.calls('condor_vault_storer')).toEqual([]);
    expect(out.log).toContain('Failures: dune_production');
  });
});
