import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecError, runCommand } from '../../../src/internal/exec/index.js';
import { liveProcessStart } from '../../../src/testenv/proc.js';

let dir: string;
const baseEnv = { PATH: '/usr/bin:/bin' };

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const isAlive = (pid: number): boolean => liveProcessStart(pid) !== undefined;

async function rejection(p: Promise<unknown>): Promise<ExecError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ExecError);
    return err as ExecError;
  }
  throw new Error('expected the command to fail');
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'exec-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('runCommand environment and stdin', () => {
  it('gives the child exactly the environment passed, nothing inherited', async () => {
    process.env['EXEC_TEST_LEAK'] = 'leaked';
    try {
      const res = await runCommand({
        argv: ['/usr/bin/env'],
        env: { A: '1', EMPTY: '', PATH: '/nowhere' },
        capture: 'stdout',
      });
      expect(res.output.split('\n').filter(Boolean).sort()).toEqual([
        'A=1',
        'EMPTY=',
        'PATH=/nowhere',
      ]);
    } finally {
      delete process.env['EXEC_TEST_LEAK'];
    }
  });

  it('connects stdin to the null device', async () => {
    const prog = script('stdin.sh', 'readlink /proc/self/fd/0; cat; echo "rc=$?"');
    const res = await runCommand({ argv: [prog], env: baseEnv, capture: 'combined' });
    expect(res.output).toBe('/dev/null\nrc=0\n');
  });

  it('passes argv elements verbatim without a shell', async () => {
    const prog = script('args.sh', 'for a in "$@"; do printf "<%s>\\n" "$a"; done');
    const res = await runCommand({
      argv: [prog, 'X =?= true', '$HOME', "a'b", ''],
      env: baseEnv,
      capture: 'stdout',
    });
    expect(res.output).toBe("<X =?= true>\n<$HOME>\n<a'b>\n<>\n");
  });

  it('looks up a bare argv[0] in env.PATH', async () => {
    script('bare-tool', 'echo found-via-path');
    const res = await runCommand({ argv: ['bare-tool'], env: { PATH: dir }, capture: 'stdout' });
    expect(res.output).toBe('found-via-path\n');
  });
});

describe('runCommand capture modes', () => {
  it('combined collects stdout and stderr in one buffer', async () => {
    const prog = script('both.sh', 'echo out1; sleep 0.05; echo err1 >&2; sleep 0.05; echo out2');
    const res = await runCommand({ argv: [prog], env: baseEnv, capture: 'combined' });
    expect(res.output).toBe('out1\nerr1\nout2\n');
  });

  it('stdout mode keeps stderr out of output', async () => {
    const prog = script('split.sh', 'echo out; echo err >&2');
    const res = await runCommand({ argv: [prog], env: baseEnv, capture: 'stdout' });
    expect(res.output).toBe('out\n');
    expect(res.stdout).toBe('out\n');
    expect(res.stderr).toBe('err\n');
  });

  it('none captures nothing but still reports the exit status', async () => {
    const prog = script('none.sh', 'echo noisy; echo noisy >&2; exit 12');
    const err = await rejection(runCommand({ argv: [prog], env: baseEnv, capture: 'none' }));
    expect(err.message).toBe('exit status 12');
    expect(err.output).toBe('');
  });

  it('inherit passes the child output through to our own stdout', async () => {
    // Run a node child that uses runCommand with inherit and capture what it prints.
    const outFile = path.join(dir, 'inherit.out');
    const prog = script('say.sh', 'echo through-stdout; echo through-stderr >&2');
    const runner = path.join(dir, 'inherit-runner.mjs');
    const modUrl = new URL('../../../src/internal/exec/index.ts', import.meta.url).href;
    writeFileSync(
      runner,
      `const { runCommand } = await import(${JSON.stringify(modUrl)});\n` +
        `const r = await runCommand({ argv: [${JSON.stringify(prog)}], env: { PATH: '/usr/bin:/bin' }, capture: 'inherit' });\n` +
        `process.stdout.write('captured=' + JSON.stringify(r.output) + '\\n');\n`,
    );
    const res = await runCommand({
      argv: [process.execPath, '--import', 'tsx', runner],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      capture: 'combined',
      cwd: path.resolve('.'),
    });
    writeFileSync(outFile, res.output);
    expect(res.output).toContain('through-stdout\n');
    expect(res.output).toContain('through-stderr\n');
    expect(res.output).toContain('captured=""');
  });

  it('caps the output keeping head and tail', async () => {
    const prog = script(
      'flood.sh',
      'echo FIRST; head -c 300000 /dev/zero | tr "\\0" x; echo; echo LAST',
    );
    const res = await runCommand({
      argv: [prog],
      env: baseEnv,
      capture: 'combined',
      maxOutputBytes: 1000,
    });
    expect(res.truncated).toBe(true);
    expect(res.output.startsWith('FIRST\n')).toBe(true);
    expect(res.output.endsWith('LAST\n')).toBe(true);
    expect(res.output).toContain('bytes of output omitted');
    expect(res.output.length).toBeLessThan(1200);
  });
});

describe('runCommand failures have Go-shaped messages', () => {
  it('exit status N with a redacted excerpt', async () => {
    const prog = script(
      'fail.sh',
      'echo "token hvs.CAESIJabcdefghijklmnopqrstuvwxyz012345 and secretpassword"; exit 3',
    );
    const err = await rejection(
      runCommand({ argv: [prog], env: baseEnv, capture: 'combined', secrets: ['secretpassword'] }),
    );
    expect(err.message).toBe('exit status 3');
    expect(err.reason).toBe('exit');
    expect(err.exitCode).toBe(3);
    expect(err.output).toContain('hvs.CAESIJ');
    expect(err.excerpt).not.toContain('CAESIJ');
    expect(err.excerpt).not.toContain('secretpassword');
    expect(err.excerpt).toContain('hvs.[REDACTED]');
  });

  it('signal: terminated when the child is killed by SIGTERM', async () => {
    const prog = script('term.sh', 'kill -TERM $$; sleep 5');
    const err = await rejection(runCommand({ argv: [prog], env: baseEnv, capture: 'combined' }));
    expect(err.message).toBe('signal: terminated');
    expect(err.reason).toBe('signal');
    expect(err.signal).toBe('SIGTERM');
  });

  it('fork/exec <path>: no such file or directory for a missing absolute path', async () => {
    const missing = path.join(dir, 'does-not-exist');
    const err = await rejection(runCommand({ argv: [missing], env: baseEnv, capture: 'combined' }));
    expect(err.message).toBe(`fork/exec ${missing}: no such file or directory`);
    expect(err.reason).toBe('spawn');
  });

  it('fork/exec <path>: permission denied for a non-executable file', async () => {
    const file = path.join(dir, 'not-exec');
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o644);
    const err = await rejection(runCommand({ argv: [file], env: baseEnv, capture: 'combined' }));
    expect(err.message).toBe(`fork/exec ${file}: permission denied`);
  });

  it('Go LookPath text for a bare name not on PATH', async () => {
    const err = await rejection(
      runCommand({ argv: ['condor_status'], env: { PATH: dir }, capture: 'stdout' }),
    );
    expect(err.message).toBe('exec: "condor_status": executable file not found in $PATH');
  });

  it('exec: no command for an empty resolved path', async () => {
    const err = await rejection(
      runCommand({ argv: ['', '-c', '1'], env: baseEnv, capture: 'combined' }),
    );
    expect(err.message).toBe('exec: no command');
    expect(err.reason).toBe('spawn');
  });
});

describe('runCommand deadlines', () => {
  it('kills the whole process group, including a grandchild holding the pipes, and returns promptly', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    const prog = script('hang.sh', `sleep 300 &\necho $! > ${pidFile}\necho started\nwait`);
    // Waiting for the 300 s grandchild would blow the test timeout below: returning at all proves we did not.
    const err = await rejection(
      runCommand({ argv: [prog], env: baseEnv, capture: 'combined', deadline: 500 }),
    );
    expect(err.reason).toBe('timeout');
    expect(err.timedOut).toBe(true);
    expect(err.message).toBe('signal: killed');
    expect(err.output).toBe('started\n');
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(grandchild)).toBe(false);
  }, 30_000);

  it('stops waiting for pipes held by an escaped grandchild after a bounded drain', async () => {
    const pidFile = path.join(dir, 'escaped.pid');
    // setsid puts the grandchild in another session: the group kill cannot reach it, yet it holds our pipes.
    const prog = script('escape.sh', `setsid sleep 120 &\necho $! > ${pidFile}\nexit 0`);
    try {
      const res = await runCommand({
        argv: [prog],
        env: baseEnv,
        capture: 'combined',
        drainMs: 200,
      });
      expect(res.output).toBe('');
    } finally {
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }, 15_000); // an unbounded wait would take the escaped grandchild's 120 s

  it('kills what is left of the group when the child exited and the drain time is up', async () => {
    const pidFile = path.join(dir, 'left-behind.pid');
    // The direct child exits at once; its background grandchild stays in the group holding stdout.
    const prog = script('leave.sh', `sleep 120 &\necho $! > ${pidFile}\necho done\nexit 0`);
    let grandchild: number | undefined;
    try {
      const res = await runCommand({
        argv: [prog],
        env: baseEnv,
        capture: 'combined',
        drainMs: 200,
      });
      expect(res.output).toBe('done\n');
      grandchild = Number(readFileSync(pidFile, 'utf8').trim());
      await new Promise((r) => setTimeout(r, 100));
      expect(isAlive(grandchild)).toBe(false);
    } finally {
      if (grandchild !== undefined && isAlive(grandchild)) process.kill(grandchild, 'SIGKILL');
    }
  }, 15_000);

  it('at the deadline also kills descendants that escaped into sessions of their own, at any depth (external-tools.md 9.20)', async () => {
    const escaped = path.join(dir, 'escaped-deadline.pid');
    const deeper = path.join(dir, 'escaped-deeper.pid');
    // One grandchild leaves via setsid; another setsid shell starts a great-grandchild (its parent is
    // outside the child's group and session too). Then the child hangs, holding nothing but time.
    const prog = script(
      'escape-hang.sh',
      [
        `setsid sleep 120 &`,
        `echo $! > ${escaped}`,
        `setsid sh -c 'sleep 120 & echo $! > ${deeper}; wait' &`,
        `while [ ! -s ${deeper} ]; do sleep 0.05; done`,
        `echo ready`,
        `sleep 300`,
      ].join('\n'),
    );
    const pids = (): number[] =>
      [escaped, deeper]
        .filter((file) => existsSync(file))
        .map((file) => Number(readFileSync(file, 'utf8').trim()));
    try {
      const err = await rejection(
        runCommand({
          argv: [prog],
          env: baseEnv,
          capture: 'combined',
          deadline: 1500,
          drainMs: 200,
        }),
      );
      expect(err.reason).toBe('timeout');
      expect(err.output).toBe('ready\n');
      expect(pids()).toHaveLength(2);
      for (const pid of pids()) {
        for (let tries = 0; tries < 50 && isAlive(pid); tries++)
          await new Promise((r) => setTimeout(r, 50));
        expect(isAlive(pid), `escaped descendant ${pid} still running`).toBe(false);
      }
    } finally {
      for (const pid of pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }, 30_000);

  it('honours an AbortSignal deadline', async () => {
    const controller = new AbortController();
    const prog = script('sleep.sh', 'sleep 30');
    setTimeout(() => controller.abort(), 200);
    const err = await rejection(
      runCommand({ argv: [prog], env: baseEnv, capture: 'none', deadline: controller.signal }),
    );
    expect(err.reason).toBe('timeout');
    expect(err.signal).toBe('SIGKILL');
  });

  it('does not start a command whose deadline already passed', async () => {
    const marker = path.join(dir, 'should-not-exist');
    const prog = script('touch.sh', `touch ${marker}`);
    const err = await rejection(
      runCommand({ argv: [prog], env: baseEnv, capture: 'none', deadline: AbortSignal.abort() }),
    );
    expect(err.reason).toBe('timeout');
    expect(existsSync(marker)).toBe(false);
  });

  it('a child that exits 0 before the deadline is a success', async () => {
    const res = await runCommand({
      argv: ['/bin/echo', 'ok'],
      env: baseEnv,
      capture: 'combined',
      deadline: 10_000,
    });
    expect(res.output).toBe('ok\n');
  });
});
