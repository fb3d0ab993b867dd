import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandOutcome, CommandRequest } from '../../../src/internal/pipeline/command.js';
import { execRunner } from '../../../src/internal/pipeline/exec-adapter.js';
import {
  mergeSshOptions,
  pushFailureMessage,
  pushService,
  rsyncArgv,
  unsafeDestination,
  withRetries,
} from '../../../src/internal/push/index.js';

describe('ssh option merging (3.13 step 5)', () => {
  it('replaces defaults in place and appends other K=V words (check 45)', () => {
    expect(
      mergeSshOptions(['-o', 'StrictHostKeyChecking=no', '-o', 'ConnectTimeout=10']).join(' '),
    ).toBe(
      '-o ConnectTimeout=10 -o ServerAliveCountMax=1 -o ServerAliveInterval=30 -o StrictHostKeyChecking=no',
    );
  });
  it('drops words without "=" (external-tools check 28)', () => {
    expect(mergeSshOptions(['-o', 'ConnectTimeout=5', 'Port=2222', '-p', '22']).join(' ')).toBe(
      '-o ConnectTimeout=5 -o ServerAliveCountMax=1 -o ServerAliveInterval=30 -o Port=2222',
    );
  });
  it('appends a case-mismatched key instead of merging it', () => {
    expect(mergeSshOptions(['connecttimeout=3']).join(' ')).toBe(
      '-o ConnectTimeout=30 -o ServerAliveCountMax=1 -o ServerAliveInterval=30 -o connecttimeout=3',
    );
  });
});

describe('rsync argv', () => {
  const common = {
    rsyncPath: '/usr/bin/rsync',
    sshPath: '/usr/bin/ssh',
    source: '/root/vt_u1000-s1-dune_production',
    account: 'dunepro',
    node: 'n1',
    destination: '/tmp/vt_u5000',
  };
  it('has the -e value as one element and the options between it and the source (check 45)', () => {
    expect(
      rsyncArgv({
        ...common,
        sshOptions: ['-o', 'StrictHostKeyChecking=no', '-o', 'ConnectTimeout=10'],
        fileCopierOptions: ['--perms', '--chmod=u=r,go='],
      }),
    ).toEqual([
      '/usr/bin/rsync',
      '-e',
      '/usr/bin/ssh -o ConnectTimeout=10 -o ServerAliveCountMax=1 -o ServerAliveInterval=30 -o StrictHostKeyChecking=no',
      '--perms',
      '--chmod=u=r,go=',
      '/root/vt_u1000-s1-dune_production',
      'dunepro@n1:/tmp/vt_u5000',
    ]);
  });
  it('has nothing between -e value and source without fileCopierOptions (check 46)', () => {
    const argv = rsyncArgv({ ...common, sshOptions: [], fileCopierOptions: [] });
    expect(argv.slice(3)).toEqual([common.source, 'dunepro@n1:/tmp/vt_u5000']);
  });
});

describe('destination validation (Q5 fix)', () => {
  it('accepts ordinary values and refuses metacharacters', () => {
    expect(
      unsafeDestination('dunepro', '127.0.0.2', '/tmp/default_role_dune_5000'),
    ).toBeUndefined();
    expect(unsafeDestination('dunepro', 'node with space', '/tmp/x')).toMatch(/node name/);
    expect(unsafeDestination('dune;pro', 'n1', '/tmp/x')).toMatch(/account/);
    expect(unsafeDestination('dunepro', 'n1', '/tmp/$(reboot)')).toMatch(/destination/);
  });
});

describe('IP address nodes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'push-ip-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('accepts bare IPv4 and IPv6 addresses (as the config does) and brackets IPv6 for rsync', () => {
    for (const node of ['192.0.2.7', '2001:db8::7', '::1', 'fe80::1', '[2001:db8::7]'])
      expect(unsafeDestination('dunepro', node, '/tmp/x'), node).toBeUndefined();
    const target = (node: string): string | undefined =>
      rsyncArgv({
        rsyncPath: 'rsync',
        sshPath: 'ssh',
        sshOptions: [],
        fileCopierOptions: [],
        source: '/s',
        account: 'dunepro',
        node,
        destination: '/tmp/x',
      }).at(-1);
    expect(target('2001:db8::7')).toBe('dunepro@[2001:db8::7]:/tmp/x');
    expect(target('[2001:db8::7]')).toBe('dunepro@[2001:db8::7]:/tmp/x');
    expect(target('192.0.2.7')).toBe('dunepro@192.0.2.7:/tmp/x');
    expect(unsafeDestination('dunepro', '2001:db8::7;reboot', '/tmp/x')).toMatch(/node name/);
  });

  it('real rsync hands ssh the whole IPv6 address as the host', async () => {
    // A remote shell that records its arguments and fails: what rsync made of the target.
    const fakeSsh = path.join(dir, 'ssh');
    await fs.writeFile(fakeSsh, `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/args\nexit 1\n`, {
      mode: 0o755,
    });
    const source = path.join(dir, 'token');
    await fs.writeFile(source, 'hvs.x\n');
    const outcome = await pushService({
      rsyncPath: '/usr/bin/rsync',
      sshPath: fakeSsh,
      source,
      account: 'dunepro',
      desiredUID: 5000,
      realName: 'dune_production',
      role: 'production',
      nodes: ['::1'],
      unpingable: new Set(),
      roleFileDestination: undefined,
      sshOptions: [],
      fileCopierOptions: [],
      cache: path.join(dir, 'cache'),
      env: { PATH: '/usr/bin:/bin' },
      tempDir: dir,
      policy: { numRetries: 0, retrySleepMs: 0 },
      signal: new AbortController().signal,
      perItemMs: 20_000,
      run: execRunner,
      limit: pLimit(1),
    });
    expect(outcome.ok).toBe(false);
    const args = (await fs.readFile(path.join(dir, 'args'), 'utf8')).split('\n');
    const login = args.indexOf('-l');
    expect(args.slice(login, login + 4)).toEqual(['-l', 'dunepro', '::1', 'rsync']);
    expect(args).toContain('/tmp/vt_u5000-dune_production');
  });
});

describe('retries (3.13 step 6)', () => {
  const noSleep = async (): Promise<void> => undefined;
  it('makes numRetries+1 attempts on a pingable node and returns the last error', async () => {
    let attempts = 0;
    const result = await withRetries({
      policy: { numRetries: 2, retrySleepMs: 1000 },
      deadline: new AbortController().signal,
      nodeWasPingable: true,
      node: 'n1',
      sleep: noSleep,
      attempt: async () => ({
        ok: false,
        error: `rsync command failed: exit status ${12 + attempts++}`,
      }),
    });
    expect(attempts).toBe(3);
    expect(result).toEqual({
      ok: false,
      attempts: 3,
      timedOut: false,
      error: 'rsync command failed: exit status 14',
    });
  });
  it('does not retry an unpingable node', async () => {
    let attempts = 0;
    const result = await withRetries({
      policy: { numRetries: 2, retrySleepMs: 0 },
      deadline: new AbortController().signal,
      nodeWasPingable: false,
      node: 'n1',
      attempt: async () => {
        attempts++;
        return { ok: false, error: 'rsync command failed: exit status 12' };
      },
    });
    expect(attempts).toBe(1);
    expect(result).toEqual({
      ok: false,
      attempts: 1,
      timedOut: false,
      error:
        'failed to push file to destination node: Node n1 was not pingable earlier prior to attempt to push tokens; ',
      cause: 'rsync command failed: exit status 12',
    });
  });
  it('names an unpingable node even when the deadline fired during its attempt', async () => {
    const controller = new AbortController();
    const result = await withRetries({
      policy: { numRetries: 2, retrySleepMs: 0 },
      deadline: controller.signal,
      nodeWasPingable: false,
      node: 'n1',
      attempt: async () => {
        controller.abort();
        return { ok: false, error: 'rsync command failed: signal: killed' };
      },
    });
    expect(result).toMatchObject({
      ok: false,
      timedOut: false,
      error:
        'failed to push file to destination node: Node n1 was not pingable earlier prior to attempt to push tokens; ',
    });
  });
  it('stops retrying when the deadline fires during the sleep and reports a timeout', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const result = await withRetries({
      policy: { numRetries: 5, retrySleepMs: 60_000 },
      deadline: controller.signal,
      nodeWasPingable: true,
      node: 'n1',
      attempt: async () => {
        attempts++;
        setTimeout(() => controller.abort(), 10);
        return { ok: false, error: 'rsync command failed: exit status 12' };
      },
    });
    expect(attempts).toBe(1);
    expect(result).toMatchObject({ ok: false, timedOut: true });
  });
  it('treats negative numRetries as no retry (Q2 fix): one attempt still runs', async () => {
    let attempts = 0;
    const result = await withRetries({
      policy: { numRetries: -1, retrySleepMs: 0 },
      deadline: new AbortController().signal,
      nodeWasPingable: true,
      node: 'n1',
      attempt: async () => {
        attempts++;
        return { ok: true };
      },
    });
    expect(result).toEqual({ ok: true, attempts: 1 });
    expect(attempts).toBe(1);
  });
});

describe('pushService with a recording runner', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'push-test-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('copies 2 token files + role file per node; role file once; token files retried; node failures isolated', async () => {
    const calls: CommandRequest[] = [];
    const roleContents: string[] = [];
    const run = async (req: CommandRequest): Promise<CommandOutcome> => {
      calls.push(req);
      const src = req.argv[req.argv.length - 2] ?? '';
      if (src.includes('managed_tokens_default_role_file_'))
        roleContents.push(await fs.readFile(src, 'utf8'));
      const target = req.argv[req.argv.length - 1] ?? '';
      if (target.startsWith('dunepro@n1:')) {
        return {
          ok: false,
          reason: 'exit',
          message: 'exit status 12',
          output: '',
          excerpt: '',
          durationMs: 1,
        };
      }
      return { ok: true, output: '', stdout: '', durationMs: 1 };
    };
    const outcome = await pushService({
      rsyncPath: '/usr/bin/rsync',
      sshPath: '/usr/bin/ssh',
      source: '/root/vt',
      account: 'dunepro',
      desiredUID: 5000,
      realName: 'dune_production',
      role: 'production',
      nodes: ['n1', 'n2'],
      unpingable: new Set(),
      roleFileDestination: '/tmp/default_role_dune_5000',
      sshOptions: [],
      fileCopierOptions: ['--perms', '--chmod=u=r,go='],
      cache: '/tmp/cache',
      env: { PATH: '/bin' },
      tempDir: dir,
      policy: { numRetries: 2, retrySleepMs: 1 },
      signal: new AbortController().signal,
      perItemMs: 10_000,
      run,
      limit: pLimit(4),
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.nodes.map((n) => [n.node, n.ok])).toEqual([
      ['n1', false],
      ['n2', true],
    ]);
    expect(outcome.nodes[0]?.error).toBe('rsync command failed: exit status 12');
    expect(pushFailureMessage('n1', outcome.nodes[0]?.error ?? '')).toBe(
      'Error pushing vault tokens to destination node n1: rsync command failed: exit status 12',
    );
    const targets = (node: string): string[] =>
      calls
        .map((c) => c.argv[c.argv.length - 1] ?? '')
        .filter((t) => t.startsWith(`dunepro@${node}:`));
    expect(targets('n2').sort()).toEqual([
      'dunepro@n2:/tmp/default_role_dune_5000',
      'dunepro@n2:/tmp/vt_u5000',
      'dunepro@n2:/tmp/vt_u5000-dune_production',
    ]);
    // n1: 3 attempts per token file, 1 for the role file
    expect(targets('n1').filter((t) => t.endsWith(':/tmp/vt_u5000'))).toHaveLength(3);
    expect(targets('n1').filter((t) => t.endsWith('-dune_production'))).toHaveLength(3);
    expect(targets('n1').filter((t) => t.includes('default_role'))).toHaveLength(1);
    expect(roleContents.every((c) => c === 'production\n')).toBe(true);
    for (const call of calls)
      expect(call.env).toEqual({ PATH: '/bin', KRB5CCNAME: 'FILE:/tmp/cache' });
    // role temp file removed afterwards (Q16 fix)
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
