import { describe, expect, it } from 'vitest';
import {
  parseRefreshFlags,
  parseTokenPushFlags,
  usageText,
  TOKEN_PUSH_FLAGS,
} from '../../../src/internal/cli/flags.js';

function ok<T>(outcome: { kind: string; flags?: T }): T {
  expect(outcome.kind).toBe('ok');
  return (outcome as { flags: T }).flags;
}

describe('token-push flag parsing (pflag semantics)', () => {
  it('defaults', () => {
    expect(ok(parseTokenPushFlags([]))).toEqual({
      admin: '',
      configfile: '',
      disableNotifications: false,
      dontNotify: false,
      experiment: '',
      listServices: false,
      noLoki: false,
      pushTokens: false,
      runOnboarding: false,
      service: '',
      test: false,
      verbose: false,
      version: false,
    });
  });

  it.each([
    [['--service=dune_production'], { service: 'dune_production' }],
    [['--service', 'dune_production'], { service: 'dune_production' }],
    [['-sdune_production'], { service: 'dune_production' }],
    [['-s', 'dune_production'], { service: 'dune_production' }],
    [['-s=dune_production'], { service: 'dune_production' }],
    [['-c', '/etc/x.yml', '-e', 'dune'], { configfile: '/etc/x.yml', experiment: 'dune' }],
    [['--configfile=a=b.yml'], { configfile: 'a=b.yml' }],
    [['--service', '-t'], { service: '-t', test: false }],
    [['-s', 'a', '-s', 'b'], { service: 'b' }],
    [['--test'], { test: true }],
    [['--test=false'], { test: false }],
    [['--test=0', '--verbose=T'], { test: false, verbose: true }],
    [['-t=false'], { test: false }],
    [['-tv'], { test: true, verbose: true }],
    [['-rps', 'dune'], { runOnboarding: true, pushTokens: true, service: 'dune' }],
    [['-tsdune'], { test: true, service: 'dune' }],
    [
      ['--disable-notifications', '--dont-notify', '--no-loki', '--list-services', '--version'],
      {
        disableNotifications: true,
        dontNotify: true,
        noLoki: true,
        listServices: true,
        version: true,
      },
    ],
    [['--admin', 'x@y.org'], { admin: 'x@y.org' }],
    [['--', '--bogus'], {}],
  ] as const)('%j', (argv, expected) => {
    expect(ok(parseTokenPushFlags(argv))).toMatchObject(expected);
  });

  it('keeps interspersed positional arguments and everything after --', () => {
    const out = parseTokenPushFlags(['extra', '-t', '-', '--', '-s', 'x']);
    expect(out.kind).toBe('ok');
    if (out.kind === 'ok') {
      expect(out.positionals).toEqual(['extra', '-', '-s', 'x']);
      expect(out.flags.test).toBe(true);
      expect(out.flags.service).toBe('');
      expect([...out.changed]).toEqual(['test']);
    }
  });

  it.each([
    [['--bogus'], 'unknown flag: --bogus'],
    [['--bogus=1'], 'unknown flag: --bogus'],
    [['-x'], "unknown shorthand flag: 'x' in -x"],
    [['-tx'], "unknown shorthand flag: 'x' in -x"],
    [['--service'], 'flag needs an argument: --service'],
    [['-s'], "flag needs an argument: 's' in -s"],
    [
      ['--test=maybe'],
      'invalid argument "maybe" for "-t, --test" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    ],
    [['---x'], 'bad flag syntax: ---x'],
    [['--=x'], 'bad flag syntax: --=x'],
  ] as const)('%j → exit 2 with the error on stdout and usage on stderr', (argv, message) => {
    const out = parseTokenPushFlags(argv);
    expect(out.kind).toBe('exit');
    if (out.kind === 'exit') {
      expect(out.code).toBe(2);
      expect(out.stdout).toBe(`${message}\n`);
      expect(out.stderr.startsWith(`${message}\nUsage of token-push:\n`)).toBe(true);
    }
  });

  it.each([['-h'], ['--help'], ['-th']])('%s → help requested, exit 2', (arg) => {
    const out = parseTokenPushFlags([arg]);
    expect(out).toMatchObject({ kind: 'exit', code: 2, stdout: 'pflag: help requested\n' });
    if (out.kind === 'exit') expect(out.stderr).toMatch(/^Usage of token-push:\n/);
  });
});

describe('refresh-uids-from-ferry flags', () => {
  it('authmethod defaults to tls and accepts any value (the run validates it)', () => {
    expect(ok(parseRefreshFlags([])).authmethod).toBe('tls');
    expect(ok(parseRefreshFlags(['--authmethod', 'jwt'])).authmethod).toBe('jwt');
    expect(ok(parseRefreshFlags(['--authmethod=foo'])).authmethod).toBe('foo');
  });

  it('has no token-push-only flags', () => {
    for (const arg of ['-s', '--service', '-e', '--list-services', '-r', '-p']) {
      const out = parseRefreshFlags([arg, 'x']);
      expect(out.kind).toBe('exit');
    }
  });

  it('shares -c, -t, -v and the notification flags', () => {
    expect(ok(parseRefreshFlags(['-c', 'f.yml', '-tv', '--dont-notify']))).toMatchObject({
      configfile: 'f.yml',
      test: true,
      verbose: true,
      dontNotify: true,
    });
  });
});

describe('usage text', () => {
  it('lists flags sorted by name, aligned like pflag, with string defaults', () => {
    const usage = usageText('refresh-uids-from-ferry', [
      ...TOKEN_PUSH_FLAGS.filter((f) => f.name === 'version' || f.name === 'configfile'),
      { key: 'authmethod', name: 'authmethod', type: 'string', default: 'tls', usage: 'Auth' },
    ]);
    expect(usage).toBe(
      'Usage of refresh-uids-from-ferry:\n' +
        '      --authmethod string   Auth (default "tls")\n' +
        '  -c, --configfile string   Specify alternate config file\n' +
        '      --version             Version of Managed Tokens library\n',
    );
  });
});
