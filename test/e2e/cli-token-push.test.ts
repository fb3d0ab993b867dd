/**
 * token-push command line and startup, end to end against the built executable run as the unprivileged
 * test user (token-push.md 1 and acceptance checks 1-15, CLI-level parts only).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  versionLinePattern,
  sandboxPerTest,
  ensureBuilt,
  tokenPushConfig,
} from '../fixtures/cli/harness.js';

beforeAll(() => {
  ensureBuilt();
});
const fresh = sandboxPerTest();

/** The "Selected services" debug line of the startup (what check 9/10/11 look at on the CLI level). */
function selectedServices(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) => l.includes('msg="Selected services"'));
  return line === undefined
    ? undefined
    : (/ services=("[^"]*"|\S*)/.exec(line)?.[1] ?? '').replace(/^"|"$/g, '');
}

describe('check 1-3: root, --version, bad flags', () => {
  it('1. as root: exit 1, nothing on stdout, the root message on stderr', async () => {
    const s = fresh();
    const res = await s.run([BIN.tokenPush, '--version'], { user: 'root' });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      'Current user is root.  Please run this executable as a non-root user',
    );
  });

  it('1b. as root even --help exits 1 (root check precedes flags)', async () => {
    const s = fresh();
    const res = await s.run([BIN.tokenPush, '--help'], { user: 'root' });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
  });

  it('2. --version prints the build identity, exit 0, no config needed', async () => {
    const s = fresh();
    const res = await s.run([BIN.tokenPush, '--version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(versionLinePattern());
    expect(s.calls()).toEqual([]);
  });

  it('3. --bogus: exit 2, error line on stdout, usage on stderr', async () => {
    const s = fresh();
    const res = await s.run([BIN.tokenPush, '--bogus']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('unknown flag: --bogus\n');
    expect(res.stderr).toContain('Usage of token-push:');
    expect(res.stderr).toContain('-s, --service string');
  });

  it('3b. -h: usage on stderr, "pflag: help requested" on stdout, exit 2', async () => {
    const s = fresh();
    const res = await s.run([BIN.tokenPush, '-h']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('pflag: help requested\n');
    expect(res.stderr).toMatch(/^Usage of token-push:\n/);
  });

  it('a required program missing from PATH: exit 1 naming it, even for --version', async () => {
    const s = fresh();
    const { rmSync } = await import('node:fs');
    rmSync(path.join(s.stubs, 'condor_store_cred'));
    const res = await s.run([BIN.tokenPush, '--version']);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(
      /level=fatal msg="Could not find required executable\(s\) in PATH: condor_store_cred"/,
    );
    // checked before flag parsing, as the original does at package initialisation
    const bogus = await s.run([BIN.tokenPush, '--bogus']);
    expect(bogus.code).toBe(1);
    expect(bogus.stdout).toBe('');
  });
});

describe('check 4-5: configuration file', () => {
  it('4. -c /nonexistent.yml: fatal line on stdout, exit 1', async () => {
    const s = fresh();
    const res = await s.run([BIN.tokenPush, '-c', '/nonexistent.yml']);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('Fatal error setting up configuration.  Exiting now\n');
    expect(res.stderr).toContain('/nonexistent.yml');
  });

  it('5. without -c, /etc/managed-tokens wins over ./', async () => {
    const s = fresh();
    const etcDir = path.join(s.dir, 'etc-managed-tokens');
    s.write(
      'etc-managed-tokens/managedTokens.yml',
      tokenPushConfig(s, {
        experiments:
          '\n  frometc:\n    roles:\n      production:\n        account: a\n        destinationNodes: [n1.example.org]\n',
      }),
    );
    s.write(
      'cwd/managedTokens.yml',
      tokenPushConfig(s, {
        experiments:
          '\n  fromcwd:\n    roles:\n      production:\n        account: a\n        destinationNodes: [n1.example.org]\n',
      }),
    );
    // /etc/managed-tokens is replaced inside a private mount namespace only; the host is not touched
    // (an empty mount point is created if absent and removed again).
    const mountPoint = '/etc/managed-tokens';
    const created = !existsSync(mountPoint);
    if (created) mkdirSync(mountPoint);
    try {
      const env = s.env();
      const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (resolve, reject) => {
          const child = spawn(
            'unshare',
            [
              '--mount',
              '--propagation',
              'private',
              '--',
              'sh',
              '-c',
              'mount --bind "$1" /etc/managed-tokens && cd "$2" && shift 2 && exec setpriv --reuid="$UID_" --regid="$GID_" --clear-groups -- "$@"',
              'sh',
              etcDir,
              s.cwd,
              BIN.tokenPush,
              '--list-services',
            ],
            {
              env: {
                ...env,
                UID_: String(s.user.uid),
                GID_: String(s.user.gid),
                PATH: `${env['PATH']}:/usr/sbin:/usr/bin:/sbin`,
              },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        },
      );
      expect(res.stderr).not.toContain('mount:');
      expect(res.code).toBe(0);
      expect(res.stdout).toBe('frometc_production\n');
    } finally {
      if (created && readdirSync(mountPoint).length === 0) rmdirSync(mountPoint);
    }
  });
});

describe('check 6-8: --list-services and -r', () => {
  it('6. lists config keys (not overrides), exit 0, no command, no DB', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, {
        experiments: `
  dune:
    roles:
      production:
        account: dunepro
        destinationNodes: [n1.example.org]
  dune-2:
    experimentOverride: dune
    roles:
      production:
        account: dunepro
        destinationNodes: [n1.example.org]
`,
      }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg, '--list-services']);
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'dune-2_production',
      'dune_production',
    ]);
    expect(res.stdout).toBe('dune-2_production\ndune_production\n');
    expect(s.calls()).toEqual([]);
    expect(existsSync(path.join(s.dir, 'db'))).toBe(false);
  });

  it('7. experiment key DUNE, role Prod → dune_prod', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, {
        experiments:
          '\n  DUNE:\n    roles:\n      Prod:\n        account: dunepro\n        destinationNodes: [n1.example.org]\n',
      }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg, '--list-services']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('dune_prod\n');
  });

  it('--list-services is honoured before the -r check', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s));
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-r', '--list-services']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('dune_production\nmu2e_production\n');
  });

  it('8. -r alone: exit 1 with the onboarding message, no command invoked', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s));
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-r']);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      'run-onboarding flag set without a service for which to run onboarding',
    );
    expect(s.calls()).toEqual([]);
    expect(existsSync(path.join(s.dir, 'db'))).toBe(false);
  });
});

describe('check 9-11: service selection (CLI level)', () => {
  it('9. -e dune -s mu2e_production: only dune is selected and mu2e is never kinit-ed; a warning says -e wins', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s));
    const res = await s.run([
      BIN.tokenPush,
      '-c',
      cfg,
      '-t',
      '-e',
      'dune',
      '-s',
      'mu2e_production',
    ]);
    expect(selectedServices(res.stderr)).toBe('dune_production');
    expect(res.stderr).toMatch(
      /level=warning msg="Both --experiment and --service were given; --experiment wins/,
    );
    expect(s.calls().some((c) => c.includes('mu2epro'))).toBe(false);
    expect(s.calls().some((c) => c.startsWith('kinit') && c.includes('dunepro'))).toBe(true);
  });

  it('10. -s dune selects the Analysis role of dune', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, {
        experiments: `
  dune:
    roles:
      Analysis:
        account: duneana
        destinationNodes: [n1.example.org]
        desiredUIDOverride: 5002
      production:
        account: dunepro
        destinationNodes: [n1.example.org]
        desiredUIDOverride: 5000
`,
      }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-t', '-s', 'dune']);
    expect(selectedServices(res.stderr)?.toLowerCase()).toBe('dune_analysis');
    expect(s.calls().some((c) => c.includes('dunepro'))).toBe(false);
  });

  it('11. -s dune-2_production selects the overridden service by its config name', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, {
        experiments: `
  dune:
    roles:
      production:
        account: dunepro
        destinationNodes: [n1.example.org]
        desiredUIDOverride: 5000
  dune-2:
    experimentOverride: dune
    roles:
      production:
        account: dunepro2
        destinationNodes: [n1.example.org]
        desiredUIDOverride: 5001
`,
      }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-t', '-s', 'dune-2_production']);
    expect(selectedServices(res.stderr)).toBe('dune-2_production');
    expect(s.calls().some((c) => c.includes(' dunepro/'))).toBe(false);
  });

  it('-r -s X disables notifications and says so', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s));
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-t', '-r', '-s', 'dune_production']);
    expect(res.stderr).toContain('Running onboarding for service dune_production');
    expect(res.stderr).toContain('Will disable notifications because run-onboarding flag is set');
    expect(selectedServices(res.stderr)).toBe('dune_production');
  });
});

describe('check 12-15: timeouts', () => {
  it('12. component timeouts above the global one: exit 1 before any kinit', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, {
        extra: 'timeouts:\n  kerberosTimeout: 20s\n  vaultStorerTimeout: 360s\n',
      }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'configured component timeouts exceed the total configured global timeout.  Please check all configured timeouts',
    );
    expect(s.calls()).toEqual([]);
  });

  it('13. component timeouts summing exactly to the global one are accepted', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, {
        extra:
          'timeouts:\n  globalTimeout: 120s\n  kerberosTimeout: 20s\n  vaultStorerTimeout: 60s\n  pingTimeout: 10s\n  pushTimeout: 30s\n',
      }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-t']);
    expect(res.stderr).not.toContain('component timeouts exceed');
    expect(selectedServices(res.stderr)).toBe('dune_production, mu2e_production');
    expect(res.code).toBe(0);
  });

  it('14. an unparsable timeout: warning naming key and line, 60 s default kept, run continues (decision 2)', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, { extra: 'timeouts:\n  vaultStorerTimeout: "60ssss"\n' }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-t']);
    expect(res.stderr).toMatch(
      /level=warning msg="[^"]*cfg\.yml:\d+:\d+: timeouts\.vaultStorerTimeout: not a Go duration, so the default 60s is used, as the original did/,
    );
    expect(res.stdout).not.toContain('Fatal error setting up configuration');
    expect(selectedServices(res.stderr)).toBe('dune_production, mu2e_production');
    expect(res.code).toBe(0);
  });

  it('15. ferryRequestTimeout is ignored by token-push', async () => {
    const s = fresh();
    const cfg = s.write(
      'cfg.yml',
      tokenPushConfig(s, { extra: 'timeouts:\n  ferryRequestTimeout: 1s\n' }),
    );
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-t']);
    expect(res.stderr).not.toMatch(/level=error msg="[^"]*ferryRequestTimeout/);
    expect(selectedServices(res.stderr)).toBe('dune_production, mu2e_production');
    expect(res.code).toBe(0);
  });
});

describe('logging set-up', () => {
  it('writes the log file (info+) and the debug file (debug+) named in the config, in the logrus format', async () => {
    const s = fresh();
    const cfg = s.write('cfg.yml', tokenPushConfig(s));
    const res = await s.run([BIN.tokenPush, '-c', cfg, '-t', '--no-loki']);
    expect(res.code).toBe(0);
    const info = readFileSync(path.join(s.dir, 'log', 'token-push.log'), 'utf8');
    const debug = readFileSync(path.join(s.dir, 'log', 'token-push.debug.log'), 'utf8');
    expect(info).not.toContain('level=debug');
    expect(debug).toContain('level=debug');
    expect(info).toContain('msg="Loki logging disabled by flag" executable=token-push');
    for (const line of info.split('\n').filter(Boolean)) {
      expect(line).toMatch(
        /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=\w+ msg=/,
      );
    }
  });
});
