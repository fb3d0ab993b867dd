import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensureAccount,
  leftoverWorldProcesses,
  provision,
  reapDeadWorlds,
  repoRoot,
  runAs,
  WORLDS_ROOT,
} from '../../src/testenv/index.js';

// Provisioning and the teardown guarantees that do not depend on a test calling stop().

/** Starts a child process that creates a world, prints its id, and then either exits or waits. */
function childWorld(
  behaviour: 'exit' | 'wait',
): Promise<{ id: string; pid: number; exited: Promise<number | null> }> {
  const script = `
    import { createWorld } from ${JSON.stringify(path.join(repoRoot(), 'src/testenv/index.ts'))};
    const world = await createWorld({ nodes: 1 });
    process.stdout.write(world.id + '\\n');
    ${behaviour === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^([0-9a-f]{6})\n/.exec(out);
      if (m?.[1]) resolve({ id: m[1], pid: child.pid!, exited });
    });
    void exited.then((code) =>
      reject(new Error(`child exited ${code} before creating a world: ${out}`)),
    );
  });
}

function traces(id: string): { dir: boolean; hosts: boolean; processes: number } {
  return {
    dir: existsSync(path.join(WORLDS_ROOT, id)),
    hosts: readFileSync('/etc/hosts', 'utf8').includes(`# mtworld ${id}`),
    processes: leftoverWorldProcesses().filter((p) => p.cmdline.includes(`/${id}/`)).length,
  };
}

describe('provisioning', () => {
  it('is idempotent and returns the unprivileged account', () => {
    const first = provision();
    expect(first.name).toBe('mtuser');
    expect(first.uid).toBeGreaterThan(0);
    expect(provision()).toEqual(first);
  });

  it('fails loudly (exit 1, reason on stderr) when something cannot be set up', async () => {
    const r = await runAs(['bash', path.join(repoRoot(), 'scripts', 'provision.sh')], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', MT_TEST_USER: 'mtnosuchuser' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'provision.sh: account mtnosuchuser is missing and creating it needs root\n',
    );
  });

  it('creates destination accounts sshd accepts (password field *, not locked), idempotently', async () => {
    const a = await ensureAccount('dunepro');
    const b = await ensureAccount('dunepro');
    expect(b).toEqual(a);
    const shadow = readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('dunepro:'));
    expect(shadow?.split(':')[1]).toBe('*');
    await expect(ensureAccount('bad name')).rejects.toThrow(/invalid account name/);
  });
});

describe('teardown without stop()', () => {
  it('the process-exit safety net removes a world its owner forgot to stop', async () => {
    const { id, exited } = await childWorld('exit');
    expect(await exited).toBe(0);
    expect(traces(id)).toEqual({ dir: false, hosts: false, processes: 0 });
  });

  it('a world whose owner was SIGKILLed is reaped by the next world (or reapDeadWorlds)', async () => {
    const { id, pid, exited } = await childWorld('wait');
    expect(traces(id)).toMatchObject({ dir: true, hosts: true });
    expect(traces(id).processes).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await exited;
    reapDeadWorlds();
    expect(traces(id)).toEqual({ dir: false, hosts: false, processes: 0 });
  });
});
