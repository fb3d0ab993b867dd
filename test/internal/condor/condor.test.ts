import { describe, expect, it } from 'vitest';
import {
  condorStatusArgv,
  createScheddDiscovery,
  parseLongClassAds,
  scheddNames,
  vaultServerFromCondor,
  vaultServerFromOptions,
} from '../../../src/internal/condor/index.js';
import type { CommandOutcome, CommandRequest } from '../../../src/internal/pipeline/command.js';

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
    expect(scheddNames(parsed.ads)).toEqual(['s1', 's2']);
  });

  it('refuses a line without "=" naming the line', () => {
    const parsed = parseLongClassAds('Name = "s1"\ngarbage line\n');
    expect(parsed).toEqual({ ok: false, error: 'invalid classad attribute: "garbage line"' });
  });

  it('skips ads without a Name and treats empty output as zero ads', () => {
    const parsed = parseLongClassAds('MyType = "Scheduler"\n\n');
    expect(parsed.ok && scheddNames(parsed.ads)).toEqual([]);
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
    const result = await vaultServerFromCondor(fake.run, { PATH: '/bin' }, signal);
    expect(result).toEqual({ ok: true, vaultServer: 'cc.vault' });
    expect(fake.calls[0]?.argv).toEqual(['condor_config_val', 'SEC_CREDENTIAL_GETTOKEN_OPTS']);
    expect(fake.calls[0]?.env).toEqual({ PATH: '/bin' });
  });

  it('fails with the original error text when condor_config_val fails', async () => {
    const fake = fakeRunner(() => fail(1));
    const result = await vaultServerFromCondor(fake.run, {}, signal);
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
    const discovery = createScheddDiscovery({ run: fake.run, env: {}, signal });
    const found = await discovery.discover(['c1', 'c2'], undefined);
    expect(found).toEqual({ ok: true, collector: 'c2', schedds: ['s1', 's2'] });
  });

  it('caches answers by (collector, constraint), remembering failures (Q9 fix)', async () => {
    const fake = fakeRunner((argv) => {
      if (argv[2] === 'dead') return fail(1);
      return argv.includes('-constraint') ? ok(`Name = "${argv[4]}"\n`) : ok('Name = "plain"\n');
    });
    const discovery = createScheddDiscovery({ run: fake.run, env: {}, signal });
    const [a, b, c, d] = await Promise.all([
      discovery.discover(['dead', 'c1'], 'A'),
      discovery.discover(['dead', 'c1'], 'B'),
      discovery.discover(['dead', 'c1'], 'A'),
      discovery.discover(['c1'], undefined),
    ]);
    expect(a).toEqual({ ok: true, collector: 'c1', schedds: ['A'] });
    expect(b).toEqual({ ok: true, collector: 'c1', schedds: ['B'] });
    expect(c).toEqual(a);
    expect(d).toEqual({ ok: true, collector: 'c1', schedds: ['plain'] });
    const deadQueries = fake.calls.filter((call) => call.argv[2] === 'dead');
    // one per constraint, never twice for the same question
    expect(deadQueries.map((q) => q.argv[4]).sort()).toEqual(['A', 'B']);
    expect(discovery.queries).toBe(5);
  });

  it('reports every collector failure when none answers', async () => {
    const fake = fakeRunner(() => fail(1));
    const discovery = createScheddDiscovery({ run: fake.run, env: {}, signal });
    const found = await discovery.discover(['c1', 'c2'], undefined);
    expect(found.ok).toBe(false);
    expect(!found.ok && found.error).toMatch(
      /^could not retrieve schedds from configured collectors: condor_status -pool c1: exit status 1; condor_status -pool c2/,
    );
  });
});
