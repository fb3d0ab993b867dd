/**
 * refresh-uids-from-ferry command line and startup, end to end as the unprivileged user
 * (ferry-and-db.md 1.1-1.3 and acceptance checks 1-8, CLI-level parts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  versionLinePattern,
  sandboxPerTest,
  ensureBuilt,
  refreshConfig,
} from '../fixtures/cli/harness.js';

beforeAll(() => ensureBuilt());
/** A sandbox without any HTCondor/Kerberos program on PATH (FIX Q9: TLS needs none). */
const bare = sandboxPerTest([]);

describe('refresh-uids-from-ferry startup', () => {
  it('1. --version without any config or HTCondor tools: version line, exit 0, no DB', async () => {
    const s = bare();
    const res = await s.run([BIN.refresh, '--version'], { env: s.env({ stubs: false }) });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(versionLinePattern());
    expect(existsSync(path.join(s.dir, 'db'))).toBe(false);
  });

  it('2. as root: exit 1, nothing on stdout, no DB', async () => {
    const s = bare();
    const cfg = s.write('cfg.yml', refreshConfig(s));
    const res = await s.run([BIN.refresh, '-c', cfg], { user: 'root' });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      'Current user is root.  Please run this executable as a non-root user',
    );
    expect(existsSync(path.join(s.dir, 'db'))).toBe(false);
  });

  it('3. -c /nonexistent.yml: fatal line on stdout, exit 1', async () => {
    const s = bare();
    const res = await s.run([BIN.refresh, '-c', '/nonexistent.yml']);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('Fatal error setting up configuration.  Exiting now');
  });

  it.each([
    [['--bogus'], 'unknown flag: --bogus\n'],
    [['--help'], 'pflag: help requested\n'],
    [['-s', 'dune_production'], "unknown shorthand flag: 's' in -s\n"],
  ])('4. %j: usage on stderr, exit 2', async (args, stdout) => {
    const s = bare();
    const res = await s.run([BIN.refresh, ...args]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe(stdout);
    expect(res.stderr).toContain('Usage of refresh-uids-from-ferry:');
    expect(res.stderr).toContain('--authmethod string');
  });

  it('5. ferryRequestTimeout + dbTimeout above globalTimeout: exit 1 before anything', async () => {
    const s = bare();
    const cfg = s.write(
      'cfg.yml',
      refreshConfig(s, {
        extra: 'timeouts:\n  globalTimeout: 30s\n  ferryRequestTimeout: 25s\n  dbTimeout: 10s\n',
      }),
    );
    const res = await s.run([BIN.refresh, '-c', cfg]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'configured component timeouts exceed the total configured global timeout',
    );
    expect(existsSync(path.join(s.dir, 'db'))).toBe(false);
  });

  it('6. an unparsable ferryRequestTimeout: warning naming key and line, default kept, run continues (decision 2)', async () => {
    const s = bare();
    const cfg = s.write(
      'cfg.yml',
      refreshConfig(s, { extra: 'timeouts:\n  ferryRequestTimeout: abc\n' }),
    );
    const res = await s.run([BIN.refresh, '-c', cfg, '-t']);
    expect(res.stderr).toMatch(
      /level=warning msg="[^"]*cfg\.yml:\d+:\d+: timeouts\.ferryRequestTimeout: not a Go duration, so the default 30s is used/,
    );
    expect(res.stdout).not.toContain('Fatal error setting up configuration');
    expect(res.stderr).toContain('msg="Configuration loaded"');
    // past the configuration checks: the run goes on to the database (absent in this sandbox)
    expect(res.stderr).toContain('Could not open or create ManagedTokensDatabase');
  });

  it('FIX Q9: TLS needs no HTCondor or Kerberos programs on PATH', async () => {
    const s = bare();
    const cfg = s.write('cfg.yml', refreshConfig(s));
    const res = await s.run([BIN.refresh, '-c', cfg, '-t'], { env: s.env({ stubs: false }) });
    expect(res.stderr).not.toContain('Could not find required executable');
    expect(res.stderr).toContain('msg="Configuration loaded"');
  });

  it('FIX Q9: --authmethod jwt requires kinit, klist and htgettoken', async () => {
    const s = bare();
    const cfg = s.write('cfg.yml', refreshConfig(s, { auth: 'jwt' }));
    const res = await s.run([BIN.refresh, '-c', cfg, '--authmethod', 'jwt'], {
      env: s.env({ stubs: false }),
    });
    expect(res.code).toBe(1);
    // kinit/klist are real Debian programs in /usr/bin here; htgettoken is absent.
    expect(res.stderr).toMatch(
      /level=fatal msg="Could not find required executable\(s\) in PATH for --authmethod jwt: [^"]*htgettoken"/,
    );
  });

  it('the log files named under logs.refresh-uids-from-ferry are written', async () => {
    const s = bare();
    const cfg = s.write('cfg.yml', refreshConfig(s));
    await s.run([BIN.refresh, '-c', cfg, '--no-loki', '-t']);
    expect(existsSync(path.join(s.dir, 'log', 'refresh.log'))).toBe(true);
    expect(existsSync(path.join(s.dir, 'log', 'refresh.debug.log'))).toBe(true);
  });
});
