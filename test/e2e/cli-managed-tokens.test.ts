/** `managed-tokens check-config` and `--version`, end to end as the unprivileged user. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  versionLinePattern,
  sandboxPerTest,
  ensureBuilt,
  refreshConfig,
  tokenPushConfig,
} from '../fixtures/cli/harness.js';

beforeAll(() => ensureBuilt());
const fresh = sandboxPerTest([]);

describe('managed-tokens check-config', () => {
  it('a valid token-push config: exit 0 and an OK summary', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s));
    const res = await s.run([
      BIN.managedTokens,
      'check-config',
      '-c',
      cfg,
      '--executable',
      'token-push',
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/cfg\.yml: OK: 2 services, 2 distinct nodes, \d+ warnings?\n$/);
  });

  it('an error-global finding: exit 1, one line per finding with file:line:col and key', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, { extra: 'timeouts:\n  globalTimeout: 100s\n' }),
    );
    const res = await s.run([
      BIN.managedTokens,
      'check-config',
      '-c',
      cfg,
      '--executable=token-push',
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(
      /cfg\.yml:\d+:\d+: timeouts\.globalTimeout: error: token-push: component timeouts exceed/,
    );
    expect(res.stdout).toMatch(/cfg\.yml: 1 error, \d+ warnings?\n$/);
  });

  it('warnings alone (a value the original misread): every one is printed, exit 0 with the OK summary', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s, { extra: 'timeouts:\n  pingTimeout: 10\n' }));
    const res = await s.run([
      BIN.managedTokens,
      'check-config',
      '-c',
      cfg,
      '--executable=token-push',
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /cfg\.yml:\d+:\d+: timeouts\.pingTimeout: warning: not a Go duration, so the default 10s is used, as the original did/,
    );
    expect(res.stdout).toMatch(/cfg\.yml: OK: 2 services, 2 distinct nodes, \d+ warnings?\n$/);
  });

  it('checks both executables by default (a token-push-only file fails for refresh: no ferry settings)', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s));
    const res = await s.run([BIN.managedTokens, 'check-config', '-c', cfg]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('ferry');
  });

  it('a refresh config checked for refresh-uids-from-ferry: exit 0', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', refreshConfig(s));
    const res = await s.run([
      BIN.managedTokens,
      'check-config',
      '-c',
      cfg,
      '--executable',
      'refresh-uids-from-ferry',
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(': OK:');
  });

  it('a missing file: exit 1 naming it', async () => {
    const s = fresh();
    const res = await s.run([BIN.managedTokens, 'check-config', '-c', '/nonexistent.yml']);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('/nonexistent.yml');
  });

  it('finds managedTokens.yml in $HOME/.managed-tokens without -c', async () => {
    const s = fresh();
    s.write('home/.managed-tokens/managedTokens.yml', tokenPushConfig(s));
    const res = await s.run([BIN.managedTokens, 'check-config', '--executable', 'token-push']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('.managed-tokens/managedTokens.yml: OK:');
  });

  it.each([
    [['check-config', '--bogus'], 2],
    [['check-config', '--executable', 'nope'], 2],
    [['frobnicate'], 2],
    [[], 2],
  ])('%j → exit %i with usage on stderr', async (args, code) => {
    const s = fresh();
    const res = await s.run([BIN.managedTokens, ...args]);
    expect(res.code).toBe(code);
    expect(res.stderr).toMatch(/Usage/);
  });

  it('--version prints the build identity', async () => {
    const s = fresh();
    const res = await s.run([BIN.managedTokens, '--version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(versionLinePattern());
  });
});
