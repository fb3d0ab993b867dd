import { describe, expect, it } from 'vitest';
import {
  kinitArgv,
  obtainTicket,
  parseDefaultPrincipal,
} from '../../../src/internal/kerberos/index.js';
import type { CommandOutcome, CommandRequest } from '../../../src/internal/pipeline/command.js';

const ok = (output: string): CommandOutcome => ({ ok: true, output, stdout: '', durationMs: 1 });

function runner(answers: Record<string, CommandOutcome>) {
  const calls: CommandRequest[] = [];
  return {
    calls,
    run: async (req: CommandRequest) => {
      calls.push(req);
      const answer = answers[req.argv[0] ?? ''];
      if (!answer) throw new Error(`unexpected ${req.argv[0]}`);
      return answer;
    },
  };
}

const base = {
  kinitPath: '/usr/bin/kinit',
  klistPath: '/usr/bin/klist',
  keytab: '/kt/dunepro.keytab',
  principal: 'dunepro/managedtokens/h.fnal.gov@FNAL.GOV',
  cache: '/tmp/managed-tokens1/managed-tokens-krb5ccCache-dune_production1',
  env: { PATH: '/bin', KRB5CCNAME: 'FILE:/operator/cache', KRB5_CONFIG: '/lab/krb5.conf' },
};

describe('kerberos stage', () => {
  it('builds kinit argv like the original', () => {
    expect(kinitArgv('/usr/bin/kinit', '/kt/dunepro.keytab', 'p@R')).toEqual([
      '/usr/bin/kinit',
      '-k',
      '-t',
      '/kt/dunepro.keytab',
      'p@R',
    ]);
  });

  it('reads the first Default principal line', () => {
    expect(
      parseDefaultPrincipal(
        'Ticket cache: FILE:/x\nDefault principal: a/b@R\n\nDefault principal: other',
      ),
    ).toBe('a/b@R');
    expect(parseDefaultPrincipal('klist: No credentials cache found')).toBeUndefined();
  });

  it('runs kinit then klist (no arguments) with only KRB5CCNAME replaced', async () => {
    const fake = runner({
      '/usr/bin/kinit': ok(''),
      '/usr/bin/klist': ok(
        `Ticket cache: FILE:${base.cache}\nDefault principal: ${base.principal}\n`,
      ),
    });
    const result = await obtainTicket({
      ...base,
      deadline: AbortSignal.timeout(5000),
      run: fake.run,
    });
    expect(result.ok).toBe(true);
    expect(fake.calls.map((c) => c.argv)).toEqual([
      ['/usr/bin/kinit', '-k', '-t', '/kt/dunepro.keytab', base.principal],
      ['/usr/bin/klist'],
    ]);
    for (const call of fake.calls) {
      expect(call.env).toEqual({
        PATH: '/bin',
        KRB5CCNAME: `FILE:${base.cache}`,
        KRB5_CONFIG: '/lab/krb5.conf',
      });
    }
  });

  it('fails on a principal mismatch, naming both principals', async () => {
    const fake = runner({
      '/usr/bin/kinit': ok(''),
      '/usr/bin/klist': ok('Default principal: other@FNAL.GOV\n'),
    });
    const result = await obtainTicket({
      ...base,
      deadline: AbortSignal.timeout(5000),
      run: fake.run,
    });
    expect(result).toEqual({
      ok: false,
      timedOut: false,
      error: `klist reports default principal other@FNAL.GOV, expected ${base.principal}`,
    });
  });

  it('reports a failure after the deadline as a timeout and does not run klist', async () => {
    const controller = new AbortController();
    const fake = runner({});
    const result = await obtainTicket({
      ...base,
      deadline: controller.signal,
      run: async (req) => {
        fake.calls.push(req);
        controller.abort();
        return {
          ok: false,
          reason: 'signal',
          message: 'signal: killed',
          output: '',
          excerpt: '',
          durationMs: 5,
        };
      },
    });
    expect(result).toMatchObject({ ok: false, timedOut: true });
    expect(fake.calls).toHaveLength(1);
  });
});
