/**
 * The startup sequence in-process with injected process facts: what the run functions receive.
 * (The same steps are exercised end to end against the built executables in test/e2e/cli-*.test.ts.)
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startRefresh,
  startTokenPush,
  type ProcessFacts,
} from '../../../src/internal/cli/startup.js';

let dir: string;
let out: string[];
let err: string[];
let stubs: string;

function facts(argv: string[], extraEnv: Record<string, string> = {}, uid = 4242): ProcessFacts {
  return {
    argv,
    env: { PATH: stubs, HOME: path.join(dir, 'home'), ...extraEnv },
    cwd: dir,
    uid,
    writeStdout: (t) => void out.push(t),
    writeStderr: (t) => void err.push(t),
    searchDirs: [path.join(dir, 'etc'), path.join(dir, 'home')],
  };
}

function config(extra = ''): string {
  const file = path.join(dir, 'cfg.yml');
  writeFileSync(
    file,
    `
dbLocation: ${dir}/db/x.db
keytabPath: /kt
kerberosPrincipalPattern: "{{.Account}}@EXAMPLE.ORG"
condorCollectorHost: c1.example.org
vaultServer: vault.example.org
fileCopierOptions: "--perms"
email: {from: a@example.org, smtpHost: smtp.example.org, smtpPort: 25}
notifications: {admin_email: admin@example.org}
logs:
  token-push: {logfile: ${dir}/log/tp.log, debugfile: ${dir}/log/tp.debug.log}
  refresh-uids-from-ferry: {logfile: ${dir}/log/r.log, debugfile: ${dir}/log/r.debug.log}
ferry: {host: "https://ferry.example.org", port: 8445, hostCert: ${dir}/cfg.yml, hostKey: ${dir}/cfg.yml, caPath: ${dir}}
${extra}
experiments:
  dune:
    emails: [d@example.org]
    roles:
      production: {account: dunepro, destinationNodes: [n1.example.org], desiredUIDOverride: 5000}
      analysis: {account: duneana, destinationNodes: [n1.example.org], desiredUIDOverride: 5001}
  mu2e:
    emails: [m@example.org]
    roles:
      production: {account: mu2epro, destinationNodes: [n2.example.org], desiredUIDOverride: 5002}
`,
  );
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'startup-'));
  stubs = path.join(dir, 'stubs');
  mkdirSync(stubs);
  for (const p of [
    'kinit',
    'klist',
    'condor_vault_storer',
    'condor_store_cred',
    'condor_status',
    'htgettoken',
  ]) {
    writeFileSync(path.join(stubs, p), '#!/bin/sh\n');
    chmodSync(path.join(stubs, p), 0o755);
  }
  out = [];
  err = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('startTokenPush', () => {
  it('builds the context: PATH extended, programs resolved, all services sorted, notifications per config', async () => {
    const res = await startTokenPush(facts(['-c', config()]));
    expect(res.kind).toBe('run');
    if (res.kind !== 'run') return;
    const { ctx } = res;
    expect(ctx.env['PATH']).toBe(`${stubs}:/usr/bin:/usr/sbin`);
    expect(ctx.programs.kinit).toBe(path.join(stubs, 'kinit'));
    expect(ctx.services.map((s) => s.name.configName)).toEqual([
      'dune_analysis',
      'dune_production',
      'mu2e_production',
    ]);
    expect(ctx.notificationsDisabled).toBe(false);
    expect(ctx.notificationsDisabledByFlag).toBe(false);
    expect(ctx.onboarding).toBe(false);
    expect(ctx.timeouts.globalMs).toBe(300_000);
    expect(out).toEqual([]);
    await res.logger.close();
  });

  it('-e beats -s; --dont-notify disables notifications by flag; -t sets test mode', async () => {
    const res = await startTokenPush(
      facts(['-c', config(), '-e', 'dune', '-s', 'mu2e_production', '--dont-notify', '-t']),
    );
    expect(res.kind).toBe('run');
    if (res.kind !== 'run') return;
    expect(res.ctx.services.map((s) => s.name.configName)).toEqual([
      'dune_analysis',
      'dune_production',
    ]);
    expect(res.ctx.notificationsDisabled).toBe(true);
    expect(res.ctx.notificationsDisabledReason).toBe('flag');
    expect(res.ctx.testMode).toBe(true);
    await res.logger.close();
  });

  it('-r -p -s: onboarding with push, notifications forced off', async () => {
    const res = await startTokenPush(facts(['-c', config(), '-rp', '-s', 'mu2e_production']));
    expect(res.kind).toBe('run');
    if (res.kind !== 'run') return;
    expect(res.ctx.onboarding).toBe(true);
    expect(res.ctx.pushAfterOnboarding).toBe(true);
    expect(res.ctx.notificationsDisabled).toBe(true);
    expect(res.ctx.notificationsDisabledByFlag).toBe(true);
    expect(res.ctx.services.map((s) => s.name.configName)).toEqual(['mu2e_production']);
    await res.logger.close();
  });

  it('-p without -r has no effect', async () => {
    const res = await startTokenPush(facts(['-c', config(), '-p']));
    expect(res.kind === 'run' && res.ctx.pushAfterOnboarding).toBe(false);
    if (res.kind === 'run') await res.logger.close();
  });

  it('disableNotifications: true in the file → disabled by configuration', async () => {
    const res = await startTokenPush(facts(['-c', config('disableNotifications: true')]));
    expect(res.kind).toBe('run');
    if (res.kind !== 'run') return;
    expect(res.ctx.notificationsDisabled).toBe(true);
    expect(res.ctx.notificationsDisabledReason).toBe('configuration');
    expect(res.ctx.notificationsDisabledByFlag).toBe(false);
    await res.logger.close();
  });

  it('root is refused first, before flags', async () => {
    const res = await startTokenPush(facts(['--bogus'], {}, 0));
    expect(res).toMatchObject({ kind: 'exit', code: 1 });
    expect(out).toEqual([]);
    expect(err.join('')).toContain(
      'Current user is root.  Please run this executable as a non-root user',
    );
  });

  it('a config without experiments exits 1 with the fatal stdout line', async () => {
    const file = path.join(dir, 'empty.yml');
    writeFileSync(file, 'dbLocation: /tmp/x.db\n');
    const res = await startTokenPush(facts(['-c', file]));
    expect(res).toMatchObject({ kind: 'exit', code: 1 });
    expect(out.join('')).toBe('Fatal error setting up configuration.  Exiting now\n');
    expect(err.join('')).toMatch(/empty\.yml:\d+:\d+: experiments/);
    if (res.kind === 'exit') await res.logger?.close();
  });

  it('config discovery uses the search directories in order', async () => {
    mkdirSync(path.join(dir, 'etc'));
    mkdirSync(path.join(dir, 'home'));
    writeFileSync(
      path.join(dir, 'etc', 'managedTokens.yml'),
      'experiments: {a: {roles: {r1: {account: x}}}}\n',
    );
    writeFileSync(
      path.join(dir, 'home', 'managedTokens.yml'),
      'experiments: {b: {roles: {r1: {account: x}}}}\n',
    );
    const res = await startTokenPush(facts(['--list-services']));
    expect(res).toMatchObject({ kind: 'exit', code: 0 });
    expect(out.join('')).toBe('a_r1\n');
  });

  it('--list-services with zero services prints a single empty line', async () => {
    const file = path.join(dir, 'none.yml');
    writeFileSync(file, 'experiments: {}\n');
    const res = await startTokenPush(facts(['-c', file, '--list-services']));
    expect(res).toMatchObject({ kind: 'exit', code: 0 });
    expect(out.join('')).toBe('\n');
  });
});

describe('logging set-up', () => {
  it('an unset logs.token-push section gives exactly one warning per key and no file', async () => {
    const file = config().replace(/\n/g, '\n');
    const text = (await import('node:fs'))
      .readFileSync(file, 'utf8')
      .replace(/  token-push: \{[^}]*\}\n/, '');
    writeFileSync(file, text);
    const res = await startTokenPush(facts(['-c', file]));
    expect(res.kind).toBe('run');
    if (res.kind !== 'run') return;
    res.ctx.log.info('hello');
    await res.logger.close();
    const all = err.join('');
    expect(all.match(/logs\.token-push\.logfile/g)).toHaveLength(1);
    expect(all.match(/logs\.token-push\.debugfile/g)).toHaveLength(1);
    expect((await import('node:fs')).existsSync(path.join(dir, 'log', 'tp.log'))).toBe(false);
  });

  it('loki.host without a scheme: Loki stays off and the run says so', async () => {
    const res = await startTokenPush(facts(['-c', config('loki: {host: hostname.domain}')]));
    expect(res.kind === 'run' && res.ctx.lokiEnabled).toBe(false);
    expect(err.join('')).toContain('msg="Loki logging disabled by flag"');
    if (res.kind === 'run') await res.logger.close();
  });
});

describe('Loki wiring', () => {
  it('loki.host set: info+ lines reach Loki with the executable label; --no-loki turns it off', async () => {
    const { createServer } = await import('node:http');
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const cfg = config(`loki: {host: "http://127.0.0.1:${port}"}`);
      const res = await startTokenPush(facts(['-c', cfg]));
      expect(res.kind === 'run' && res.ctx.lokiEnabled).toBe(true);
      if (res.kind !== 'run') return;
      res.ctx.log.debug('debug stays local');
      res.ctx.log.info('hello loki');
      await res.logger.close();
      const all = bodies.join('\n');
      expect(all).toContain('POST /loki/api/v1/push');
      expect(all).toContain('hello loki');
      expect(all).toContain('"command":"token-push"');
      expect(all).not.toContain('debug stays local');

      bodies.length = 0;
      const off = await startTokenPush(facts(['-c', cfg, '--no-loki']));
      expect(off.kind === 'run' && off.ctx.lokiEnabled).toBe(false);
      if (off.kind === 'run') {
        off.ctx.log.info('not shipped');
        await off.logger.close();
      }
      expect(bodies).toEqual([]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('startRefresh', () => {
  it('passes the auth method through and needs no HTCondor programs for tls', async () => {
    const res = await startRefresh(
      facts(['-c', config(), '--authmethod', 'tls'], { PATH: path.join(dir, 'nothing') }),
    );
    expect(res.kind).toBe('run');
    if (res.kind !== 'run') return;
    expect(res.ctx.authMethod).toBe('tls');
    expect(res.ctx.executable).toBe('refresh-uids-from-ferry');
    expect(res.ctx.timeouts.ferryRequestMs).toBe(30_000);
    await res.logger.close();
  });

  it('an unsupported auth method is left for the run to reject', async () => {
    const res = await startRefresh(facts(['-c', config(), '--authmethod=foo']));
    expect(res.kind === 'run' && res.ctx.authMethod).toBe('foo');
    if (res.kind === 'run') await res.logger.close();
  });
});
