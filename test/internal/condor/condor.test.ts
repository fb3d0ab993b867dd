import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  condorStatusArgv,
  createScheddDiscovery,
  parseLongClassAds,
  scheddNames,
  vaultServerFromCondor,
  vaultServerFromOptions,
} from '../../../src/internal/condor/index.js';
import { resolveProgram, runCommand } from '../../../src/internal/exec/index.js';
import type { CommandOutcome, CommandRequest } from '../../../src/internal/pipeline/command.js';
import { execRunner } from '../../../src/internal/pipeline/exec-adapter.js';

const ok = (stdout: string): CommandOutcome => ({
  ok: true,
  output: stdout,
  stdout,
  durationMs: 1,
});
const fail = (code = 1): CommandOutcome => ({
  ok: false,
  reason: 'exit',
  message: `exit status ${code}`,
  output: '',
  excerpt: '',
  durationMs: 1,
});

function fakeRunner(answer: (argv: readonly string[]) => CommandOutcome) {
  const calls: CommandRequest[] = [];
  return {
    calls,
    run: async (req: CommandRequest) => {
      calls.push(req);
      return answer(req.argv);
    },
  };
}

const signal = new AbortController().signal;

describe('long ClassAd parsing', () => {
  it('reads ads separated by blank lines and unquotes Name', () => {
    const text =
      'MyType = "Scheduler"\nName = "s1"\nTotalRunningJobs = 0\n\nName = "s2"\nMyType = "Scheduler"\n';
    const parsed = parseLongClassAds(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.ads).toHaveLength(2);
    expect(parsed.ads[0]?.get('TotalRunningJobs')).toBe(0);
    expect(scheddNames(parsed.ads)).toEqual({ names: ['s1', 's2'], refused: [] });
  });

  it('refuses a line without "=" naming the line', () => {
    const parsed = parseLongClassAds('Name = "s1"\ngarbage line\n');
    expect(parsed).toEqual({ ok: false, error: 'invalid classad attribute: "garbage line"' });
  });

  it('skips ads without a Name and treats empty output as zero ads', () => {
    const parsed = parseLongClassAds('MyType = "Scheduler"\n\n');
    expect(parsed.ok && scheddNames(parsed.ads).names).toEqual([]);
    const empty = parseLongClassAds('');
    expect(empty.ok && empty.ads).toEqual([]);
  });
});

describe('vault server from htgettoken options', () => {
  it.each([
    ['-a v1', 'v1'],
    ['-av2', 'v2'],
    ['-a=v3', 'v3'],
    ['--vaultserver v4', 'v4'],
    ['--vaultserver=v5', 'v5'],
    ['-x y -a env.vault', 'env.vault'],
    ['-a first -a last', 'last'],
  ])('%s → %s', (options, expected) => {
    expect(vaultServerFromOptions(options)).toBe(expected);
  });

  it.each(['--foo', '--foo bar', '', '-a'])('%j has no vault server', (options) => {
    expect(vaultServerFromOptions(options)).toBeUndefined();
  });

  it('asks condor_config_val with a single argument and reads -a from its output', async () => {
    const fake = fakeRunner(() => ok('-a cc.vault\n'));
    const result = await vaultServerFromCondor(
      fake.run,
      { PATH: '/bin' },
      signal,
      '/opt/condor/bin/condor_config_val',
    );
    expect(result).toEqual({ ok: true, vaultServer: 'cc.vault' });
    expect(fake.calls[0]?.argv).toEqual([
      '/opt/condor/bin/condor_config_val',
      'SEC_CREDENTIAL_GETTOKEN_OPTS',
    ]);
    expect(fake.calls[0]?.argv0).toBe('condor_config_val');
    expect(fake.calls[0]?.env).toEqual({ PATH: '/bin' });
  });

  it('fails with the original error text when condor_config_val fails', async () => {
    const fake = fakeRunner(() => fail(1));
    const result = await vaultServerFromCondor(fake.run, {}, signal, '/x/condor_config_val');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(
      'could not find setting for SEC_CREDENTIAL_GETTOKEN_OPTS in environment, configuration, or HTCondor',
    );
  });
});

describe('schedd discovery', () => {
  it('builds condor_status argv with the constraint as one element', () => {
    expect(condorStatusArgv('c1', 'X =?= true')).toEqual([
      'condor_status',
      '-pool',
      'c1',
      '-constraint',
      'X =?= true',
      '-schedd',
      '-long',
    ]);
    expect(condorStatusArgv('c1', undefined)).toEqual([
      'condor_status',
      '-pool',
      'c1',
      '-schedd',
      '-long',
    ]);
  });

  it('falls through a failing collector to the next one', async () => {
    const fake = fakeRunner((argv) =>
      argv[2] === 'c1' ? fail(1) : ok('Name = "s1"\n\nName = "s2"\n'),
    );
    const discovery = createScheddDiscovery({
      run: fake.run,
      env: {},
      signal,
      programPath: '/x/condor_status',
    });
    const found = await discovery.discover(['c1', 'c2'], undefined);
    expect(found).toEqual({ ok: true, collector: 'c2', schedds: ['s1', 's2'], refused: [] });
  });

  it('caches answers by (collector, constraint), remembering failures (Q9 fix)', async () => {
    const fake = fakeRunner((argv) => {
      if (argv[2] === 'dead') return fail(1);
      return argv.includes('-constraint') ? ok(`Name = "${argv[4]}"\n`) : ok('Name = "plain"\n');
    });
    const discovery = createScheddDiscovery({
      run: fake.run,
      env: {},
      signal,
      programPath: '/x/condor_status',
    });
    const [a, b, c, d] = await Promise.all([
      discovery.discover(['dead', 'c1'], 'A'),
      discovery.discover(['dead', 'c1'], 'B'),
      discovery.discover(['dead', 'c1'], 'A'),
      discovery.discover(['c1'], undefined),
    ]);
    expect(a).toEqual({ ok: true, collector: 'c1', schedds: ['A'], refused: [] });
    expect(b).toEqual({ ok: true, collector: 'c1', schedds: ['B'], refused: [] });
    expect(c).toEqual(a);
    expect(d).toEqual({ ok: true, collector: 'c1', schedds: ['plain'], refused: [] });
    const deadQueries = fake.calls.filter((call) => call.argv[2] === 'dead');
    // one per constraint, never twice for the same question
    expect(deadQueries.map((q) => q.argv[4]).sort()).toEqual(['A', 'B']);
    expect(discovery.queries).toBe(5);
  });

  it('reports every collector failure when none answers', async () => {
    const fake = fakeRunner(() => fail(1));
    const discovery = createScheddDiscovery({
      run: fake.run,
      env: {},
      signal,
      programPath: '/x/condor_status',
    });
    const found = await discovery.discover(['c1', 'c2'], undefined);
    expect(found.ok).toBe(false);
    expect(!found.ok && found.error).toMatch(
      /^could not retrieve schedds from configured collectors: condor_status -pool c1: exit status 1; condor_status -pool c2/,
    );
  });
});

describe('condor tools run by absolute path with a bare argv[0]', () => {
  let dir: string;
  let cwd: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'condor-path-'));
    cwd = process.cwd();
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A tool that prints its own $0 plus a marker, placed at `<dir>/<sub>/<name>`. */
  function tool(sub: string, name: string, body: string): string {
    mkdirSync(path.join(dir, sub), { recursive: true });
    const file = path.join(dir, sub, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  it('never runs a condor_status from the working directory, even with an empty PATH entry', async () => {
    tool('cwd', 'condor_status', 'printf \'Name = "planted-in-cwd"\\n\'');
    tool('cwd', 'condor_config_val', 'echo "-a planted.vault"');
    const goodStatus = tool('bin', 'condor_status', 'printf \'Name = "real"\\n\'');
    const goodConfig = tool('bin', 'condor_config_val', 'echo "-a real.vault"');
    const env = { PATH: `/nonexistent::${path.join(dir, 'bin')}` };
    process.chdir(path.join(dir, 'cwd'));

    const statusPath = resolveProgram('condor_status', env.PATH) ?? '';
    const configPath = resolveProgram('condor_config_val', env.PATH) ?? '';
    expect([statusPath, configPath]).toEqual([goodStatus, goodConfig]);
    const discovery = createScheddDiscovery({
      run: execRunner,
      env,
      signal,
      programPath: statusPath,
    });
    expect(await discovery.discover(['c1'], undefined)).toEqual({
      ok: true,
      collector: 'c1',
      schedds: ['real'],
      refused: [],
    });
    expect(await vaultServerFromCondor(execRunner, env, signal, configPath)).toEqual({
      ok: true,
      vaultServer: 'real.vault',
    });
  });

  it('gives the child the bare name as argv[0]', async () => {
    const res = await runCommand({
      argv: ['/bin/sh', '-c', 'printf "%s" "$0"'],
      argv0: 'condor_status',
      env: { PATH: '/usr/bin:/bin' },
      capture: 'stdout',
    });
    expect(res.output).toBe('condor_status');
  });

  it('reports a tool that was not found with the look-up text, without spawning', async () => {
    const fake = fakeRunner(() => ok('-a never.vault\n'));
    const result = await vaultServerFromCondor(fake.run, {}, signal, '');
    expect(fake.calls).toHaveLength(0);
    expect(!result.ok && result.error).toContain(
      'condor_config_val: exec: "condor_config_val": executable file not found in $PATH',
    );
  });
});

describe('condor_status output size', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'condor-size-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A condor_status that prints `count` schedd ads of about 1 KiB each, then `Name = "last"`. */
  function bigStatus(count: number): string {
    const ad = `MyType = "Scheduler"\nPadding = "${'x'.repeat(1000)}"\nName = "s"\n\n`;
    writeFileSync(path.join(dir, 'ads'), ad.repeat(count) + 'Name = "last"\n');
    const file = path.join(dir, 'condor_status');
    writeFileSync(file, `#!/bin/sh\nexec cat ${path.join(dir, 'ads')}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  it('reads an answer larger than 1 MiB whole', async () => {
    const programPath = bigStatus(1300); // about 1.3 MB
    const discovery = createScheddDiscovery({
      run: execRunner,
      env: { PATH: '/usr/bin:/bin' },
      signal,
      programPath,
    });
    const found = await discovery.discover(['c1'], undefined);
    expect(found.ok && found.schedds.length).toBe(1301);
    expect(found.ok && found.schedds.at(-1)).toBe('last');
  });

  it('fails explicitly, naming the cap, when the answer exceeds it', async () => {
    const programPath = bigStatus(20);
    const discovery = createScheddDiscovery({
      run: execRunner,
      env: { PATH: '/usr/bin:/bin' },
      signal,
      programPath,
      maxOutputBytes: 8192,
    });
    const found = await discovery.discover(['c1'], undefined);
    expect(found).toEqual({
      ok: false,
      error:
        'could not retrieve schedds from configured collectors: condor_status -pool c1: condor_status output exceeded 8192 bytes',
    });
  });
});

describe('schedd names unfit for a file name', () => {
  it.each([
    ['../x', 'contains "/"'],
    ['a..b', 'contains ".."'],
    ['a\u0000b', 'contains whitespace, NUL or a control character'],
    ['a b', 'contains whitespace, NUL or a control character'],
    ['a\tb', 'contains whitespace, NUL or a control character'],
    ['.hidden', 'starts with "." or "-"'],
    ['-rf', 'starts with "." or "-"'],
  ])('%j is refused (%s)', (name, reason) => {
    const parsed = parseLongClassAds(`Name = "${name}"\n\nName = "ok@host.example"\n`);
    expect(parsed.ok && scheddNames(parsed.ads)).toEqual({
      names: ['ok@host.example'],
      refused: [{ name, reason }],
    });
  });

  it('discovery reports refused names with their collector', async () => {
    const fake = fakeRunner(() => ok('Name = "a/b"\n\nName = "fine"\n'));
    const discovery = createScheddDiscovery({ run: fake.run, env: {}, signal, programPath: '/x' });
    expect(await discovery.discover(['c9'], undefined)).toEqual({
      ok: true,
      collector: 'c9',
      schedds: ['fine'],
      refused: [{ collector: 'c9', name: 'a/b', reason: 'contains "/"' }],
    });
  });
});
