import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../../src/internal/notifications/types.js';
import { execRunner } from '../../../src/internal/pipeline/exec-adapter.js';
import { runPipeline } from '../../../src/internal/pipeline/stages.js';
import { DEFAULT_CONCURRENCY, type PipelineInput } from '../../../src/internal/pipeline/types.js';
import { exitWith, ok, pipelineInput, scriptedRunner, service } from './helpers.js';

const uid = process.getuid?.() ?? 0;
let dir: string;
let tmp: string;
let root: string;
let state: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pipeline-test-'));
  tmp = path.join(dir, 'tmp');
  root = path.join(dir, 'root');
  state = path.join(dir, 'state');
  for (const d of [tmp, root, state]) await fs.mkdir(d);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/**
 * A condor_vault_storer stand-in (real process) that detects the two ways parallel stores could
 * go wrong: two storers for the same real name at once (they share token files), and a staged
 * token that belongs to another service. Tokens name their service: `hvs.<realName>.<random>`.
 */
const SAFETY_STORER = `#!/bin/bash
svc=$1
loc="$TMPDIR/vt_u$(id -u)-$svc"
mkdir "$STATE/active-$svc" 2>/dev/null || echo "OVERLAP $svc" >> "$STATE/problems"
mkdir "$STATE/running-$$"; ls -d "$STATE"/running-* | wc -l >> "$STATE/concurrency"
staged=$(cat "$loc" 2>/dev/null || true)
if [ -n "$staged" ]; then owner=\${staged#hvs.}; owner=\${owner%%.*}; [ "$owner" = "$svc" ] || echo "WRONG $owner staged for $svc" >> "$STATE/problems"; fi
sleep 0.8
printf 'hvs.%s.%s\\n' "$svc" "$RANDOM$RANDOM" > "$loc"
rmdir "$STATE/running-$$" "$STATE/active-$svc"
`;

describe('safe parallelism of token stores (README decision 7)', () => {
  const realNames = ['dune_production', 'mu2e_production', 'nova_production', 'sbnd_production'];
  const services = (): ReturnType<typeof service>[] =>
    [
      service('dune', 'production'),
      service('dune-2', 'production', { experimentOverride: 'dune' }),
      service('dune-3', 'production', { experimentOverride: 'dune' }),
      service('mu2e', 'production'),
      service('nova', 'production'),
      service('sbnd', 'production'),
    ].map((s) => ({ ...s, serviceCreddVaultTokenPathRoot: root }));

  async function runWith(
    tokenStores: number,
  ): Promise<{ problems: string; maxConcurrent: number }> {
    const storer = path.join(dir, 'condor_vault_storer');
    await fs.writeFile(storer, SAFETY_STORER, { mode: 0o755 });
    for (const name of realNames)
      await fs.writeFile(path.join(root, `vt_u${uid}-s1-${name}`), `hvs.${name}.seed\n`);
    const runner = scriptedRunner((req, tool) =>
      tool === 'condor_vault_storer' ? execRunner(req) : ok(),
    );
    const input = pipelineInput({
      services: services(),
      run: runner.run,
      tempDir: tmp,
      overrides: {
        env: { PATH: '/usr/bin:/bin', TMPDIR: tmp, STATE: state },
        programs: {
          ...pipelineInput({ services: [], run: runner.run, tempDir: tmp }).programs,
          condor_vault_storer: storer,
        },
        mode: { kind: 'test' },
        concurrency: { ...DEFAULT_CONCURRENCY, tokenStores },
      },
    });
    const report = await runPipeline(input);
    expect(report.failures).toEqual([]);
    expect(runner.of('condor_vault_storer')).toHaveLength(6);
    for (const name of realNames) {
      const token = await fs.readFile(path.join(root, `vt_u${uid}-s1-${name}`), 'utf8');
      expect(token).toMatch(new RegExp(`^hvs\\.${name}\\.[0-9]+\\n$`));
    }
    const problems = await fs.readFile(path.join(state, 'problems'), 'utf8').catch(() => '');
    const counts = (await fs.readFile(path.join(state, 'concurrency'), 'utf8'))
      .trim()
      .split('\n')
      .map(Number);
    return { problems, maxConcurrent: Math.max(...counts) };
  }

  it('stores different real names side by side but never two stores of one real name at once', async () => {
    const { problems, maxConcurrent } = await runWith(4);
    expect(problems).toBe('');
    expect(maxConcurrent).toBeGreaterThan(1);
  });

  it('runs strictly one at a time when configured with 1 (the original behaviour)', async () => {
    const { problems, maxConcurrent } = await runWith(1);
    expect(problems).toBe('');
    expect(maxConcurrent).toBe(1);
  });

  it('the stand-in does catch overlapping stores of one real name (the check can fail)', async () => {
    const storer = path.join(dir, 'condor_vault_storer');
    await fs.writeFile(storer, SAFETY_STORER, { mode: 0o755 });
    const env = { PATH: '/usr/bin:/bin', TMPDIR: tmp, STATE: state };
    await Promise.all(
      [1, 2].map(() =>
        execRunner({
          argv: [storer, 'dune_production'],
          env,
          signal: AbortSignal.timeout(5000),
          capture: 'combined',
        }),
      ),
    );
    expect(await fs.readFile(path.join(state, 'problems'), 'utf8')).toContain(
      'OVERLAP dune_production',
    );
  });
});

describe('pipeline stages with scripted tools', () => {
  async function seedStored(names: string[]): Promise<void> {
    for (const n of names)
      await fs.writeFile(path.join(root, `vt_u${uid}-s1-${n}`), `hvs.${n}.seedtoken\n`);
  }

  it('test mode stops before ping and push and counts survivors as successes (check 54)', async () => {
    const runner = scriptedRunner(() => ok());
    const services = [service('dune', 'production', { serviceCreddVaultTokenPathRoot: root })];
    const report = await runPipeline(
      pipelineInput({
        services,
        run: runner.run,
        tempDir: tmp,
        overrides: { mode: { kind: 'test' } },
      }),
    );
    expect(report.successes).toEqual(['dune_production']);
    expect(runner.of('condor_vault_storer')).toHaveLength(1);
    expect(runner.of('ping')).toEqual([]);
    expect(runner.of('rsync')).toEqual([]);
  });

  it('a kerberos failure notifies that service only; the others are stored, pinged and pushed (checks 22, 53, 48)', async () => {
    await seedStored(['dune_production', 'mu2e_production']);
    const notifications: Notification[] = [];
    const runner = scriptedRunner((req, tool) => {
      if (tool === 'ping') return req.argv.at(-1) === 'n1' ? exitWith(1) : ok();
      if (tool === 'rsync') return (req.argv.at(-1) ?? '').includes('@n1:') ? exitWith(12) : ok();
      return ok();
    });
    const base = { serviceCreddVaultTokenPathRoot: root, nodes: ['n1', 'n2'] };
    const services = [
      service('dune', 'production', base),
      service('mu2e', 'production', base),
      service('nova', 'production', { ...base, userPrincipal: 'nova@OTHER' }),
    ];
    // klist will report a principal other than the configured one for nova
    const run = scriptedRunner(async (req, tool) => runner.run(req).then((r) => r));
    const input = pipelineInput({
      services,
      tempDir: tmp,
      notifications,
      run: async (req) => {
        const tool = (req.argv[0] ?? '').split('/').pop();
        if (tool === 'klist' && req.env['KRB5CCNAME']?.includes('nova'))
          return ok('Default principal: somebody@ELSE\n');
        return run.run(req);
      },
    });
    const report = await runPipeline(input);
    expect(report.successes).toEqual([]);
    expect(report.failures).toEqual(['dune_production', 'mu2e_production', 'nova_production']);
    const text = notifications
      .map((n) => `${n.kind}|${n.service}|${'node' in n ? n.node : ''}|${n.message}`)
      .sort();
    expect(text).toEqual([
      'push|dune_production|n1|Error pushing vault tokens to destination node n1: failed to push file to destination node: Node n1 was not pingable earlier prior to attempt to push tokens; ',
      'push|mu2e_production|n1|Error pushing vault tokens to destination node n1: failed to push file to destination node: Node n1 was not pingable earlier prior to attempt to push tokens; ',
      'setup|dune_production||Could not ping the following nodes: n1',
      'setup|mu2e_production||Could not ping the following nodes: n1',
      'setup|nova_production||Could not obtain and verify kerberos ticket',
    ]);
    const storerServices = runner
      .of('condor_vault_storer')
      .map((r) => r.argv[1])
      .sort();
    expect(storerServices).toEqual(['dune_production', 'mu2e_production']);
    const n2Pushes = runner.of('rsync').filter((r) => (r.argv.at(-1) ?? '').includes('@n2:'));
    expect(n2Pushes).toHaveLength(6);
    // the token pushed is the stored one, to both fixed names
    expect(
      n2Pushes
        .filter((r) => r.argv.at(-1) === 'dunepro@n2:/tmp/vt_u5000-dune_production')[0]
        ?.argv.at(-2),
    ).toBe(path.join(root, `vt_u${uid}-s1-dune_production`));
    // kerberos directory removed (check 24)
    expect((await fs.readdir(tmp)).filter((f) => f.startsWith('managed-tokens'))).toEqual([]);
  });

  it('every get-token service is processed even after a failure (Q1 fix, check 43)', async () => {
    const notifications: Notification[] = [];
    const runner = scriptedRunner((req, tool) => (tool === 'htgettoken' ? exitWith(1) : ok()));
    const services = ['dune', 'mu2e', 'nova'].map((e) =>
      service(e, 'production', { tokenGetter: 'getToken', serviceCreddVaultTokenPathRoot: root }),
    );
    const report = await runPipeline(
      pipelineInput({ services, run: runner.run, tempDir: tmp, notifications }),
    );
    expect(runner.of('htgettoken')).toHaveLength(3);
    expect(report.failures).toEqual(['dune_production', 'mu2e_production', 'nova_production']);
    expect(notifications.map((n) => n.service).sort()).toEqual([
      'dune_production',
      'mu2e_production',
      'nova_production',
    ]);
    expect(runner.of('rsync')).toEqual([]);
  });

  it('a malformed stored token is never pushed (caught when the storer leaves it in place)', async () => {
    await fs.writeFile(path.join(root, `vt_u${uid}-s1-dune_production`), 'garbage\n');
    const notifications: Notification[] = [];
    const runner = scriptedRunner(() => ok());
    const services = [service('dune', 'production', { serviceCreddVaultTokenPathRoot: root })];
    const report = await runPipeline(
      pipelineInput({ services, run: runner.run, tempDir: tmp, notifications }),
    );
    expect(report.failures).toEqual(['dune_production']);
    expect(runner.of('rsync')).toEqual([]);
    expect(notifications.map((n) => n.message)).toEqual([
      'Could not store and get vault tokens; s1: condor_vault_storer left a malformed vault token (content does not look like a vault token (hvs.… or s.…))',
    ]);
    expect(await fs.readFile(path.join(root, `vt_u${uid}-s1-dune_production`), 'utf8')).toBe(
      'garbage\n',
    );
  });

  it('nothing assembled: no DB for the UID lookup → reported, no kinit, kerberos dir removed (checks 56, 62)', async () => {
    const runner = scriptedRunner(() => ok());
    const services = [service('dune', 'production', { desiredUIDOverride: undefined })];
    const report = await runPipeline(pipelineInput({ services, run: runner.run, tempDir: tmp }));
    expect(report.nothingAssembled).toBe(true);
    expect(report.failures).toEqual(['dune_production']);
    expect(runner.of('kinit')).toEqual([]);
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('an unexpected error in one service fails that service only', async () => {
    await seedStored(['dune_production', 'mu2e_production']);
    const runner = scriptedRunner((req, tool) => {
      if (tool === 'condor_vault_storer' && req.argv[1] === 'dune_production')
        throw new Error('boom');
      return ok();
    });
    const services = ['dune', 'mu2e'].map((e) =>
      service(e, 'production', { serviceCreddVaultTokenPathRoot: root }),
    );
    const report = await runPipeline(pipelineInput({ services, run: runner.run, tempDir: tmp }));
    expect(report.successes).toEqual(['mu2e_production']);
    expect(report.failures).toEqual(['dune_production']);
    expect(runner.of('rsync').every((r) => (r.argv.at(-1) ?? '').includes('mu2e'))).toBe(true);
    expect(runner.of('rsync')).toHaveLength(3);
  });

  it('reports metric events with the real name, credd and node labels', async () => {
    await seedStored(['dune_production']);
    const events: string[] = [];
    const record =
      (name: string) =>
      (...args: unknown[]): void => {
        events.push(`${name}(${args.filter((a) => typeof a === 'string').join(',')})`);
      };
    const metrics = new Proxy({} as PipelineInput['metrics'], {
      get: (_t, prop) => record(String(prop)),
    });
    const runner = scriptedRunner((req, tool) =>
      tool === 'ping' && req.argv.at(-1) === 'n2' ? exitWith(1) : ok(),
    );
    const services = [
      service('dune-2', 'production', {
        experimentOverride: 'dune',
        serviceCreddVaultTokenPathRoot: root,
        nodes: ['n1', 'n2'],
      }),
    ];
    await runPipeline(
      pipelineInput({ services, run: runner.run, tempDir: tmp, overrides: { metrics } }),
    );
    expect(events).toEqual(
      expect.arrayContaining([
        'kinitSucceeded(dune_production)',
        'tokenStoreSucceeded(dune_production,s1)',
        'pingSucceeded(n1)',
        'pingFailed(n2)',
        'tokenPushItemSucceeded(dune_production,n1)',
        'servicePushedToNodes(dune_production)',
        'failedServices()',
        'stageDuration(setup)',
        'stageDuration(cleanup)',
      ]),
    );
    expect(events.filter((e) => e.startsWith('tokenPushItemSucceeded'))).toHaveLength(6);
  });
});

describe('stage duration of getKerberosTickets (token-push.md 3.18)', () => {
  async function stagesRecorded(kerberosFailsFor: (ccache: string) => boolean): Promise<string[]> {
    const stages: string[] = [];
    const metrics = new Proxy({} as PipelineInput['metrics'], {
      get:
        (_t, prop) =>
        (...args: unknown[]): void => {
          if (prop === 'stageDuration') stages.push(String(args[0]));
        },
    });
    const scripted = scriptedRunner(() => ok());
    const services = [
      service('dune', 'production', { serviceCreddVaultTokenPathRoot: root }),
      service('mu2e', 'production', { serviceCreddVaultTokenPathRoot: root }),
    ];
    await runPipeline(
      pipelineInput({
        services,
        tempDir: tmp,
        // klist reporting another principal fails that service's Kerberos step
        run: async (req) => {
          const tool = (req.argv[0] ?? '').split('/').pop();
          if (tool === 'klist' && kerberosFailsFor(req.env['KRB5CCNAME'] ?? ''))
            return ok('Default principal: somebody@ELSE\n');
          return scripted.run(req);
        },
        overrides: { metrics },
      }),
    );
    return stages;
  }

  it('is not recorded when every service failed Kerberos', async () => {
    const stages = await stagesRecorded(() => true);
    expect(stages).not.toContain('getKerberosTickets');
    expect(stages).toEqual(expect.arrayContaining(['setup', 'cleanup']));
  });

  it('is recorded when some service survived it', async () => {
    const stages = await stagesRecorded((ccache) => ccache.includes('mu2e'));
    expect(stages).toContain('getKerberosTickets');
  });
});

/** A pino logger whose records land in `lines` (one parsed object each). */
function capturingLogger(lines: Record<string, unknown>[]) {
  return pino(
    { level: 'debug' },
    {
      write: (chunk: string) => {
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
      },
    },
  );
}

describe('schedd names from the collector (token root confinement)', () => {
  it('skips ads whose Name would leave the token root, warning with collector and value', async () => {
    const ads = [
      'Name = "../../escape"',
      'Name = "sub/dir"',
      'Name = ".hidden"',
      'Name = "-opt"',
      'Name = "has space"',
      'Name = "good.schedd"',
    ].join('\n\n');
    const runner = scriptedRunner((_req, tool) => (tool === 'condor_status' ? ok(ads) : ok()));
    const lines: Record<string, unknown>[] = [];
    const s = { ...service('dune', 'production'), creddHost: undefined };
    const report = await runPipeline(
      pipelineInput({
        services: [{ ...s, serviceCreddVaultTokenPathRoot: root }],
        run: runner.run,
        tempDir: tmp,
        overrides: { mode: { kind: 'test' }, log: capturingLogger(lines) },
      }),
    );
    expect(report.successes).toEqual(['dune_production']);
    const storerEnvs = runner.of('condor_vault_storer').map((r) => r.env['_condor_CREDD_HOST']);
    expect(storerEnvs).toEqual(['good.schedd']);
    const warnings = lines.filter((l) => String(l['msg']).startsWith('Skipping schedd ad'));
    expect(warnings.map((w) => [w['collector'], w['schedd']])).toEqual([
      ['c1', '../../escape'],
      ['c1', 'sub/dir'],
      ['c1', '.hidden'],
      ['c1', '-opt'],
      ['c1', 'has space'],
    ]);
    expect(String(warnings[0]?.['msg'])).toContain('from collector c1: Name "../../escape"');
    // nothing was written outside the token root
    expect(await fs.readdir(dir)).toEqual(['root', 'state', 'tmp']);
  });
});

describe('unpingable nodes are per service (as the original records them)', () => {
  it("one service's failed ping of a shared node neither stops another's retries nor changes its N7 text", async () => {
    for (const name of ['dune_production', 'mu2e_production'])
      await fs.writeFile(path.join(root, `vt_u${uid}-s1-${name}`), `hvs.${name}.seedtoken\n`);
    const notifications: Notification[] = [];
    // dune's pingOptions make its ping of n1 fail; mu2e pings n1 fine. rsync to n1 always fails.
    const runner = scriptedRunner((req, tool) => {
      if (tool === 'ping') return req.argv.includes('-4') ? exitWith(1) : ok();
      if (tool === 'rsync') return exitWith(12);
      return ok();
    });
    const base = { serviceCreddVaultTokenPathRoot: root, nodes: ['n1'] };
    const report = await runPipeline(
      pipelineInput({
        services: [
          service('dune', 'production', { ...base, pingOptions: ['-4'] }),
          service('mu2e', 'production', base),
        ],
        run: runner.run,
        tempDir: tmp,
        notifications,
        overrides: { pushRetry: { numRetries: 2, retrySleepMs: 0 } },
      }),
    );
    expect(report.failures).toEqual(['dune_production', 'mu2e_production']);
    // token-file rsyncs only (the role file is tried once, never retried)
    const rsyncsFor = (realName: string): number =>
      runner
        .of('rsync')
        .filter(
          (r) =>
            (r.env['KRB5CCNAME'] ?? '').includes(realName) &&
            (r.argv.at(-1) ?? '').includes(':/tmp/vt_u'),
        ).length;
    // two token files each: dune tried once per file, mu2e three times per file
    expect(rsyncsFor('dune_production')).toBe(2);
    expect(rsyncsFor('mu2e_production')).toBe(6);
    const pushTexts = notifications
      .filter((n) => n.kind === 'push')
      .map((n) => `${n.service}|${n.message}`)
      .sort();
    expect(pushTexts).toEqual([
      'dune_production|Error pushing vault tokens to destination node n1: failed to push file to destination node: Node n1 was not pingable earlier prior to attempt to push tokens; ',
      'mu2e_production|Error pushing vault tokens to destination node n1: rsync command failed: exit status 12',
    ]);
  });
});

describe('token tool output in the log (external-tools.md 2.4)', () => {
  it("logs a failing storer's and htgettoken's output at error level, redacted, to the log file", async () => {
    const storer = path.join(dir, 'condor_vault_storer');
    await fs.writeFile(
      storer,
      '#!/bin/sh\necho "storer: vault said no to $1, token hvs.SECRETSECRETSECRET42 rejected" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const htgettoken = path.join(dir, 'htgettoken');
    await fs.writeFile(
      htgettoken,
      '#!/bin/sh\necho "htgettoken: Failure getting token, had hvs.OTHERSECRETVALUE99"\nexit 1\n',
      { mode: 0o755 },
    );
    const logFile = path.join(dir, 'run.log');
    const destination = pino.destination({ dest: logFile, sync: true });
    const runner = scriptedRunner((req, tool) =>
      tool === 'condor_vault_storer' || tool === 'htgettoken' ? execRunner(req) : ok(),
    );
    const base = pipelineInput({ services: [], run: runner.run, tempDir: tmp });
    const report = await runPipeline(
      pipelineInput({
        services: [
          service('dune', 'production', { serviceCreddVaultTokenPathRoot: root }),
          service('mu2e', 'production', {
            serviceCreddVaultTokenPathRoot: root,
            tokenGetter: 'getToken',
          }),
        ],
        run: runner.run,
        tempDir: tmp,
        overrides: {
          log: pino({ level: 'debug' }, destination),
          programs: { ...base.programs, condor_vault_storer: storer, htgettoken },
          mode: { kind: 'test' },
        },
      }),
    );
    destination.flushSync();
    expect(report.failures).toEqual(['dune_production', 'mu2e_production']);
    const records = (await fs.readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string; output?: string });
    const outputs = records.filter((r) => r.output !== undefined);
    expect(outputs.map((r) => [r.level, r.output])).toEqual(
      expect.arrayContaining([
        [50, 'storer: vault said no to dune_production, token hvs.[REDACTED] rejected'],
        [50, 'htgettoken: Failure getting token, had hvs.[REDACTED]'],
      ]),
    );
    const text = await fs.readFile(logFile, 'utf8');
    expect(text).not.toContain('SECRETSECRET');
    expect(text).not.toContain('OTHERSECRET');
  });
});
