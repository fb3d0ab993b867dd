import { ManagedTokensDb } from '../../../src/internal/db/index.js';
import { describe, expect, it } from 'vitest';
import { parseTokenPushFlags } from '../../../src/internal/cli/flags.js';
import { listServices, parseServiceName } from '../../../src/internal/config/index.js';
import { adminTargetsFromConfig } from '../../../src/internal/notifications/fromConfig.js';
import { resolveTokenPushGating } from '../../../src/internal/notifications/gating.js';
import { BASE, errors, experiments, load, only, service, warnings } from './helpers.js';

const ROLE = 'account: myaccount\n        destinationNodes: [node1]';
const role = (extra: string): string => `${ROLE}\n        ${extra.split('\n').join('\n        ')}`;
const valid = (top = '', roleExtra = ''): string =>
  BASE +
  top +
  (top === '' || top.endsWith('\n') ? '' : '\n') +
  experiments(roleExtra === '' ? ROLE : role(roleExtra));
const lineOf = (text: string, needle: string): number =>
  text.split('\n').findIndex((line) => line.includes(needle)) + 1;

describe('config.md 8: loading and timeouts', () => {
  it('check 5: an empty YAML file loads; token-push then has no services (error-global at experiments)', () => {
    const config = load('');
    expect(config.services).toEqual([]);
    const finding = errors(config).find((f) => f.keyPath === 'experiments');
    expect(finding).toMatchObject({ severity: 'error-global', pos: { line: 1, col: 1 } });
    expect(finding?.message).toMatch(/no services configured/);
  });

  it('check 6: timeout defaults for both executables', () => {
    const tp = load(valid());
    expect(tp.timeouts).toEqual({
      globalMs: 300_000,
      kerberosMs: 20_000,
      vaultStorerMs: 60_000,
      pingMs: 10_000,
      pushMs: 30_000,
      ferryRequestMs: 30_000,
      dbMs: 10_000,
    });
    expect(errors(tp)).toEqual([]);
  });

  it('check 7: partial timeouts keep the other defaults', () => {
    const config = load(
      valid('timeouts: {globalTimeout: 360s, kerberosTimeout: 15s, vaultStorerTimeout: 15s}'),
    );
    expect(config.timeouts).toMatchObject({
      globalMs: 360_000,
      kerberosMs: 15_000,
      vaultStorerMs: 15_000,
      pingMs: 10_000,
      pushMs: 30_000,
    });
    expect(errors(config)).toEqual([]);
  });

  it('check 8: stage timeouts summing above the global timeout refuse start-up', () => {
    const text = valid(
      'timeouts:\n  globalTimeout: 300s\n  kerberosTimeout: 20s\n  vaultStorerTimeout: 360s',
    );
    const finding = only(errors(load(text)));
    expect(finding).toMatchObject({
      severity: 'error-global',
      keyPath: 'timeouts.globalTimeout',
      pos: { line: lineOf(text, 'globalTimeout') },
    });
    expect(finding.message).toMatch(/component timeouts exceed the global timeout/);
  });

  it('check 9 (decision 2): an unparseable timeout keeps the default, as the original, with a warning naming key and line', () => {
    const text = valid('timeouts:\n  vaultStorerTimeout: "60ssss"');
    const config = load(text);
    expect(errors(config)).toEqual([]);
    expect(config.timeouts.vaultStorerMs).toBe(60_000);
    const finding = only(warnings(config).filter((f) => f.keyPath.startsWith('timeouts')));
    expect(finding).toMatchObject({
      keyPath: 'timeouts.vaultStorerTimeout',
      pos: { line: lineOf(text, '60ssss'), col: 23 },
    });
    expect(finding.text).toContain(
      `managedTokens.yml:${lineOf(text, '60ssss')}:23: timeouts.vaultStorerTimeout: not a Go duration, so the default 60s is used, as the original did (got "60ssss"; write a Go duration such as "30s"`,
    );
  });

  it('check 10: timeout keys are case-insensitive and the Timeout suffix is optional', () => {
    expect(load(valid('timeouts: {GLOBAL: 400s}')).timeouts.globalMs).toBe(400_000);
  });

  it('check 11: the RUF sum rule applies to refresh-uids-from-ferry only', () => {
    const text = valid('timeouts: {ferryRequestTimeout: 280s, dbTimeout: 30s}');
    expect(errors(load(text))).toEqual([]);
    const ruf = load(text, { executable: 'refresh-uids-from-ferry' });
    const finding = errors(ruf).find((f) => f.message.includes('component timeouts'));
    expect(finding?.message).toContain('refresh-uids-from-ferry');
    expect(finding?.message).toContain('310s');
  });

  it('check 12 (decision 2): a bare number as timeout keeps the default 10s with a warning', () => {
    const text = valid('timeouts:\n  pingTimeout: 25');
    const config = load(text);
    expect(errors(config)).toEqual([]);
    expect(config.timeouts.pingMs).toBe(10_000);
    const finding = only(warnings(config).filter((f) => f.keyPath.startsWith('timeouts')));
    expect(finding).toMatchObject({
      keyPath: 'timeouts.pingTimeout',
      pos: { line: lineOf(text, 'pingTimeout') },
    });
    expect(finding.message).toMatch(/^not a Go duration, so the default 10s is used.*\(got 25;/);
  });

  it('V15 (decision 2): zero and negative durations are kept with a warning; of two spellings the later wins', () => {
    const text = valid(
      'timeouts:\n  pushTimeout: 0s\n  pingTimeout: -5s\n  global: 200s\n  globalTimeout: 250s\n  push_timeout: 1s',
    );
    const config = load(text);
    expect(errors(config)).toEqual([]);
    expect(config.timeouts).toMatchObject({ pushMs: 0, pingMs: 0, globalMs: 250_000 });
    const byKey = (key: string) => only(warnings(config).filter((f) => f.keyPath === key));
    expect(byKey('timeouts.pushTimeout').message).toMatch(
      /^zero: kept as the original did, so every token copy times out at once/,
    );
    expect(byKey('timeouts.pingTimeout').message).toMatch(
      /^negative: .*every node ping times out at once/,
    );
    expect(byKey('timeouts.globalTimeout')).toMatchObject({
      pos: { line: lineOf(text, 'globalTimeout: 250s') },
    });
    expect(byKey('timeouts.globalTimeout').message).toMatch(
      new RegExp(
        `given twice \\(also as timeouts.global at line ${lineOf(text, 'global: 200s')}\\); this later one is used`,
      ),
    );
    expect(byKey('timeouts.push_timeout').message).toMatch(/unknown timeout/);
    // the later spelling also wins when it comes first in the alphabet
    const reversed = load(valid('timeouts:\n  globalTimeout: 250s\n  global: 200s'));
    expect(reversed.timeouts.globalMs).toBe(200_000);
  });

  it('V16: each stage timeout must fit within the global timeout', () => {
    expect(
      errors(
        load(
          valid(
            'timeouts: {globalTimeout: 30s, kerberosTimeout: 1s, vaultStorerTimeout: 1s, pingTimeout: 1s, pushTimeout: 31s}',
          ),
        ),
      ).length,
    ).toBe(1);
  });
});

describe('config.md 8: principal, HTGETTOKENOPTS, keytab, UID', () => {
  it('check 13: principal from the pattern and default HTGETTOKENOPTS', () => {
    const svc = service(load(valid()), 'dune_production');
    expect(svc.userPrincipal).toBe('myaccount/managedtokenstest/test.fnal.gov@FNAL.GOV');
    expect(svc.credkey).toBe('myaccount/managedtokenstest/test.fnal.gov');
    expect(svc.htgettokenOpts).toBe(
      '--vaulttokenminttl=10s --credkey=myaccount/managedtokenstest/test.fnal.gov',
    );
  });

  it('check 14: minTokenLifetime is passed verbatim', () => {
    expect(service(load(valid('minTokenLifetime: 3d')), 'dune_production').htgettokenOpts).toBe(
      '--vaulttokenminttl=3d --credkey=myaccount/managedtokenstest/test.fnal.gov',
    );
  });

  it('check 15: env HTGETTOKENOPTS is the base and minTokenLifetime is ignored', () => {
    const svc = service(
      load(valid('minTokenLifetime: 3d'), { env: { HTGETTOKENOPTS: 'someotherstuff' } }),
      'dune_production',
    );
    expect(svc.htgettokenOpts).toBe(
      'someotherstuff --credkey=myaccount/managedtokenstest/test.fnal.gov',
    );
  });

  it('check 16: env HTGETTOKENOPTS already holding the credkey is unchanged', () => {
    const env = { HTGETTOKENOPTS: '--credkey=myaccount/managedtokenstest/test.fnal.gov' };
    expect(service(load(valid(), { env }), 'dune_production').htgettokenOpts).toBe(
      env.HTGETTOKENOPTS,
    );
  });

  it('Q22 fix: ORIG_HTGETTOKENOPTS in the file is ignored with a warning', () => {
    const config = load(valid('ORIG_HTGETTOKENOPTS: "--foo"'));
    expect(service(config, 'dune_production').htgettokenOpts).toMatch(/^--vaulttokenminttl=10s /);
    expect(warnings(config).find((f) => f.keyPath === 'ORIG_HTGETTOKENOPTS')?.message).toMatch(
      /environment only/,
    );
  });

  it('check 17: a pattern without a realm gives the same principal and credkey', () => {
    const svc = service(
      load(
        valid().replace(
          /kerberosPrincipalPattern: .*/,
          'kerberosPrincipalPattern: "{{.Account}}-principal"',
        ),
      ),
      'dune_production',
    );
    expect([svc.userPrincipal, svc.credkey]).toEqual([
      'myaccount-principal',
      'myaccount-principal',
    ]);
  });

  it('check 18 (fix): an unknown field in the principal pattern is an error at load, service skipped', () => {
    const text =
      BASE + experiments(role('kerberosPrincipalPatternOverride: "foobar{{.DifferentField}}"'));
    const config = load(text);
    const finding = only(errors(config));
    expect(finding).toMatchObject({
      severity: 'error-service',
      service: 'dune_production',
      keyPath: 'experiments.dune.roles.production.kerberosPrincipalPatternOverride',
      pos: { line: lineOf(text, 'DifferentField') },
    });
    expect(config.services).toEqual([]);
    expect(config.skippedServices.map((s) => s.name.configName)).toEqual(['dune_production']);
  });

  it('check 19: userPrincipalOverride beats any pattern', () => {
    expect(
      service(load(valid('', 'userPrincipalOverride: mykerberosprincipal')), 'dune_production')
        .userPrincipal,
    ).toBe('mykerberosprincipal');
  });

  it('check 20: keytab from the directory, or the override verbatim', () => {
    const base = valid().replace('keytabPath: /opt/keytabs', 'keytabPath: /path/to/keytab/');
    expect(service(load(base), 'dune_production').keytabPath).toBe(
      '/path/to/keytab/myaccount.keytab',
    );
    expect(
      service(load(valid('', 'keytabPathOverride: /k/x.keytab')), 'dune_production').keytabPath,
    ).toBe('/k/x.keytab');
  });

  it('Q13 (decision 2): no keytab source at all keeps the relative <account>.keytab with a warning', () => {
    const text = valid().replace('keytabPath: /opt/keytabs\n', '');
    const config = load(text);
    expect(errors(config)).toEqual([]);
    expect(service(config, 'dune_production').keytabPath).toBe('myaccount.keytab');
    const finding = only(
      warnings(config).filter(
        (f) => f.keyPath === 'experiments.dune.roles.production.keytabPathOverride',
      ),
    );
    expect(finding.message).toMatch(/relative path "myaccount.keytab" is used/);
    expect(finding.pos.line).toBe(lineOf(text, 'production:'));
  });

  it('check 21: desiredUIDOverride is used; absent means a DB lookup at run time', () => {
    expect(
      service(load(valid('', 'desiredUIDOverride: 12345')), 'dune_production').desiredUIDOverride,
    ).toBe(12345);
    expect(service(load(valid()), 'dune_production').desiredUIDOverride).toBeUndefined();
  });

  it('check 22 (fix): a negative UID is an error-service', () => {
    const text = valid('', 'desiredUIDOverride: -5');
    expect(only(errors(load(text)))).toMatchObject({
      severity: 'error-service',
      keyPath: 'experiments.dune.roles.production.desiredUIDOverride',
      pos: { line: lineOf(text, '-5') },
    });
  });
});

describe('config.md 8: role-file destination template', () => {
  const renderFor = (text: string, uid = 12345) => {
    const svc = service(
      load(text),
      text.includes('dune-2:') ? 'dune-2_production' : 'dune_production',
    );
    return svc.roleFileDestination.render({
      Account: svc.account,
      DesiredUID: uid,
      Experiment: svc.name.configExperiment,
      Role: svc.name.role,
      Name: svc.name.realName,
    });
  };

  it('check 23: the default template', () => {
    expect(renderFor(valid())).toBe('/tmp/default_role_dune_12345');
  });

  it('check 24: global template, beaten by a role override', () => {
    const text = valid('defaultRoleFileDestinationTemplate: "/tmp/{{.DesiredUID}}_{{.Account}}"');
    expect(renderFor(text.replace(/myaccount/g, 'dunepro'))).toBe('/tmp/12345_dunepro');
    const overridden =
      BASE +
      'defaultRoleFileDestinationTemplate: "/tmp/{{.DesiredUID}}_{{.Account}}"\n' +
      experiments(role('defaultRoleFileDestinationTemplateOverride: "/r/{{.Role}}"'));
    expect(renderFor(overridden)).toBe('/r/production');
  });

  it('check 25: experimentOverride: .Experiment is the config key, names split as configName/realName', () => {
    const text =
      BASE +
      experiments(role('desiredUIDOverride: 12345'), 'dune-2').replace(
        '    roles:',
        '    experimentOverride: dune\n    roles:',
      );
    const config = load(text);
    const svc = service(config, 'dune-2_production');
    expect(renderFor(text)).toBe('/tmp/default_role_dune-2_12345');
    expect(svc.name.realName).toBe('dune_production');
    expect(`/tmp/vt_u${svc.desiredUIDOverride}-${svc.name.realName}`).toBe(
      '/tmp/vt_u12345-dune_production',
    );
    expect(listServices(config)).toEqual(['dune-2_production']);
  });

  it('check 26 (fix): an unclosed action is an error at load', () => {
    const text = valid('defaultRoleFileDestinationTemplate: "/tmp/{{.DesiredUID"');
    expect(only(errors(load(text)))).toMatchObject({
      severity: 'error-global',
      keyPath: 'defaultRoleFileDestinationTemplate',
      pos: { line: lineOf(text, 'DesiredUID"') },
    });
    const override = valid(
      '',
      'defaultRoleFileDestinationTemplateOverride: "{{printf \\"%d\\" .DesiredUID}}"',
    );
    const finding = only(errors(load(override)));
    expect(finding.severity).toBe('error-service');
    expect(finding.message).toContain(
      'unsupported template action "{{printf \\"%d\\" .DesiredUID}}"; only {{.Field}} placeholders are allowed (Account, DesiredUID, Experiment, Role, Name, UserPrincipal, KeytabPath, ServiceCreddVaultTokenPathRoot, VaultServer)',
    );
  });

  it('check 27: spaces and trim markers', () => {
    expect(
      renderFor(
        valid(
          '',
          'defaultRoleFileDestinationTemplateOverride: "{{ .Account }}_{{- .Role }}"',
        ).replace(/myaccount/g, 'dunepro'),
      ),
    ).toBe('dunepro_production');
  });
});

describe('config.md 8: condor, vault server, options', () => {
  it('check 28: collectors are tried in order (trimmed, empties dropped)', () => {
    expect(
      service(
        load(valid().replace('condorCollectorHost: c1', 'condorCollectorHost: "c1, c2,,"')),
        'dune_production',
      ).collectorHosts,
    ).toEqual(['c1', 'c2']);
  });

  it('check 29: no collector but a credd override → error-service "no collector hosts"', () => {
    const text = valid('', 'condorCreddHostOverride: credd1').replace(
      'condorCollectorHost: c1\n',
      '',
    );
    const finding = only(errors(load(text)));
    expect(finding).toMatchObject({ severity: 'error-service', service: 'dune_production' });
    expect(finding.message).toMatch(/no collector hosts/);
  });

  it('getToken services need no collector', () => {
    const text = valid('', 'tokenGetterOverride: getToken').replace(
      'condorCollectorHost: c1\n',
      '',
    );
    expect(service(load(text), 'dune_production').collectorHosts).toEqual([]);
  });

  it('check 30: global credd host, beaten by the role override', () => {
    const text = valid('condorCreddHost: credd1');
    expect(service(load(text), 'dune_production')).toMatchObject({
      creddHost: 'credd1',
      collectorHosts: ['c1'],
    });
    expect(
      service(
        load(valid('condorCreddHost: credd1', 'condorCreddHostOverride: credd2')),
        'dune_production',
      ).creddHost,
    ).toBe('credd2');
    expect(service(load(valid()), 'dune_production').creddHost).toBeUndefined();
  });

  it('check 31: schedd constraint override, global, none', () => {
    expect(
      service(
        load(valid('condorScheddConstraint: foobar', 'condorScheddConstraintOverride: baz')),
        'dune_production',
      ).scheddConstraint,
    ).toBe('baz');
    expect(
      service(load(valid('condorScheddConstraint: foobar')), 'dune_production').scheddConstraint,
    ).toBe('foobar');
    expect(service(load(valid()), 'dune_production').scheddConstraint).toBeUndefined();
  });

  const vaultEnv = (value: string) => ({ _condor_SEC_CREDENTIAL_GETTOKEN_OPTS: value });
  it('check 32: the environment beats role override and global', () => {
    expect(
      service(
        load(valid('vaultServer: vs-config', 'vaultServerOverride: vs-role'), {
          env: vaultEnv('-a vs-env'),
        }),
        'dune_production',
      ).vaultServer,
    ).toEqual({ kind: 'env', value: 'vs-env' });
  });

  it('check 33: last -a wins; --vaultserver works', () => {
    expect(
      service(load(valid(), { env: vaultEnv('-a v1 -a v2') }), 'dune_production').vaultServer,
    ).toEqual({ kind: 'env', value: 'v2' });
    expect(
      service(load(valid(), { env: vaultEnv('--vaultserver v3') }), 'dune_production').vaultServer,
    ).toEqual({ kind: 'env', value: 'v3' });
  });

  it('check 34: global, then role override; nothing → ask condor', () => {
    expect(service(load(valid('vaultServer: vs-config')), 'dune_production').vaultServer).toEqual({
      kind: 'global',
      value: 'vs-config',
    });
    expect(
      service(
        load(valid('vaultServer: vs-config', 'vaultServerOverride: vs-role')),
        'dune_production',
      ).vaultServer,
    ).toEqual({ kind: 'override', value: 'vs-role' });
    expect(service(load(valid()), 'dune_production').vaultServer).toEqual({ kind: 'askCondor' });
  });

  it('check 35 (fix): env without -a warns and falls through to the config value', () => {
    const config = load(valid('vaultServer: vs-config'), { env: vaultEnv('-foo blah') });
    expect(service(config, 'dune_production').vaultServer).toEqual({
      kind: 'global',
      value: 'vs-config',
    });
    expect(
      warnings(config).some((f) => f.keyPath === '$_condor_SEC_CREDENTIAL_GETTOKEN_OPTS'),
    ).toBe(true);
  });

  it('check 36: pingOptions as words; unset → []', () => {
    expect(
      service(load(valid('pingOptions: "-foo --bar value"')), 'dune_production').pingOptions,
    ).toEqual(['-foo', '--bar', 'value']);
    expect(service(load(valid()), 'dune_production').pingOptions).toEqual([]);
  });

  it('check 37: sshOptions words; a word without "=" is reported as dropped', () => {
    const config = load(valid('sshOptions: "-o ConnectTimeout=10 -o BatchMode=yes -v"'));
    expect(service(config, 'dune_production').sshOptions).toEqual([
      '-o',
      'ConnectTimeout=10',
      '-o',
      'BatchMode=yes',
      '-v',
    ]);
    expect(only(warnings(config).filter((f) => f.keyPath === 'sshOptions')).message).toMatch(
      /"-v" is not a Key=Value option and is dropped/,
    );
  });

  it('check 38: fileCopierOptions unset → no rsync options; overrides replace the global value', () => {
    expect(service(load(valid()), 'dune_production').fileCopierOptions).toEqual([]);
    expect(
      service(
        load(valid('fileCopierOptions: "--perms"', 'fileCopierOptionsOverride: "--a --b"')),
        'dune_production',
      ).fileCopierOptions,
    ).toEqual(['--a', '--b']);
  });

  it('V26/Q20 fix: a split error in an override is an error-service', () => {
    const text = valid('', `pingOptionsOverride: "-W '3"`);
    expect(only(errors(load(text)))).toMatchObject({
      severity: 'error-service',
      keyPath: 'experiments.dune.roles.production.pingOptionsOverride',
      pos: { line: lineOf(text, 'pingOptionsOverride') },
    });
  });
});

describe('config.md 8: notifications, retries, globals', () => {
  const twoMoreRoles = (first: string) =>
    BASE +
    `disableNotifications: ${first}\nexperiments:\n  dune:\n    emails: [a@example.org]\n    roles:\n      r1: {account: a1, destinationNodes: [n1], disableNotificationsOverride: ${first === 'true' ? 'false' : 'true'}}\n      r2: {account: a2, destinationNodes: [n1]}\n      r3: {account: a3, destinationNodes: [n1]}\n`;

  it('check 39: global true with one role false → that role notified, others not', () => {
    const config = load(twoMoreRoles('true'));
    expect(
      config.services.map((s) => [
        s.name.configName,
        s.notificationsDisabled,
        s.notificationsOverridden,
      ]),
    ).toEqual([
      ['dune_r1', false, true],
      ['dune_r2', true, false],
      ['dune_r3', true, false],
    ]);
    expect(errors(config)).toEqual([]);
  });

  it('check 40: global false with one role true', () => {
    const config = load(twoMoreRoles('false'));
    expect(config.services.map((s) => s.notificationsDisabled)).toEqual([true, false, false]);
    expect(config.global.disableNotifications).toBe(false);
  });

  it('V13 (decision 2): missing mail settings warn while notifications are on, and are silent when off', () => {
    const text = valid().replace(/email: .*\n/, '');
    const mailWarnings = (config: ReturnType<typeof load>) =>
      warnings(config)
        .filter((f) => f.keyPath.startsWith('email.'))
        .map((f) => f.keyPath)
        .sort();
    const enabled = load(text);
    expect(errors(enabled)).toEqual([]);
    expect(mailWarnings(enabled)).toEqual(['email.from', 'email.smtpHost', 'email.smtpPort']);
    expect(warnings(enabled).find((f) => f.keyPath === 'email.smtpHost')?.message).toMatch(
      /notification e-mail cannot be sent \(the original tried and failed\)/,
    );
    expect(mailWarnings(load(text, { flags: { notificationsDisabled: true } }))).toEqual([]);
  });

  it('check 41: --dont-notify with disableNotifications: false → admin and every service off (by flag)', () => {
    // one role explicitly re-enabled, so the flag has to beat a role override as well as the global value
    const text = twoMoreRoles('false').replace(
      'disableNotificationsOverride: true',
      'disableNotificationsOverride: false',
    );
    const parsed = parseTokenPushFlags(['--dont-notify', '-c', 'x.yml']);
    if (parsed.kind !== 'ok') throw new Error('--dont-notify did not parse');
    const byFlag = parsed.flags.disableNotifications || parsed.flags.dontNotify;
    expect(byFlag).toBe(true);
    const config = load(text, { flags: { notificationsDisabled: byFlag } });
    expect(errors(config)).toEqual([]);
    expect(config.global.disableNotifications).toBe(false);
    const gate = (disabledByFlag: boolean) =>
      resolveTokenPushGating({
        disabledByFlag,
        globalDisabled: config.global.disableNotifications,
        services: config.services.map((s) => ({
          configName: s.name.configName,
          notificationsDisabled: s.notificationsDisabled,
        })),
      });
    const off = gate(byFlag);
    expect(off.adminBlockedBy).toBe('flag');
    expect([...off.blockedServices].sort()).toEqual(['dune_r1', 'dune_r2', 'dune_r3']);
    // the same config without the flag notifies everyone
    const on = gate(false);
    expect(on.adminBlockedBy).toBeUndefined();
    expect([...on.blockedServices]).toEqual([]);
  });

  it('check 42 (decision 2): disableNotifications: "yes"/"on" is false, as the original, with a warning', () => {
    for (const word of ['yes', 'on']) {
      const text = valid(`disableNotifications: "${word}"`);
      const config = load(text);
      expect(errors(config)).toEqual([]);
      expect(config.global.disableNotifications).toBe(false);
      const finding = only(warnings(config).filter((f) => f.keyPath === 'disableNotifications'));
      expect(finding.pos.line).toBe(lineOf(text, `"${word}"`));
      expect(finding.message).toMatch(
        /the original silently read this as false, and so does this run .*write true or false/,
      );
    }
    const integer = load(valid('disableNotifications: 1'));
    expect(integer.global.disableNotifications).toBe(true);
  });

  it('V38: Go-bool strings are accepted with a warning', () => {
    const config = load(valid('disableNotifications: "True"'));
    expect(config.global.disableNotifications).toBe(true);
    expect(warnings(config).some((f) => f.keyPath === 'disableNotifications')).toBe(true);
  });

  it('check 43 (decision 2): tokenGetterOverride getToken; invalid values warn and use storeAndGetToken', () => {
    expect(
      service(load(valid('', 'tokenGetterOverride: getToken')), 'dune_production').tokenGetter,
    ).toBe('getToken');
    expect(service(load(valid()), 'dune_production').tokenGetter).toBe('storeAndGetToken');
    for (const bad of ['InvalidType', '""', 'GetToken']) {
      const text = valid('', `tokenGetterOverride: ${bad}`);
      const config = load(text);
      expect(errors(config)).toEqual([]);
      expect(service(config, 'dune_production').tokenGetter).toBe('storeAndGetToken');
      const finding = only(
        warnings(config).filter(
          (f) => f.keyPath === 'experiments.dune.roles.production.tokenGetterOverride',
        ),
      );
      expect(finding.pos.line).toBe(lineOf(text, 'tokenGetterOverride'));
      expect(finding.message).toMatch(/storeAndGetToken is used, as the original did/);
    }
  });

  it('check 44 (fix Q9): a retry budget violation disables retries of that worker only, with a warning', () => {
    const text = valid(
      'workerType:\n  pushTokens: {numRetries: 3, retrySleep: 60s}\n  pingAggregator: {numRetries: 1, retrySleep: 5s}',
    );
    const config = load(text);
    expect(config.retries.pushTokens).toEqual({ numRetries: 0, retrySleepMs: 0 });
    expect(config.retries.pingAggregator).toEqual({ numRetries: 1, retrySleepMs: 5000 });
    expect(
      only(warnings(config).filter((f) => f.keyPath === 'workerType.pushTokens')),
    ).toMatchObject({ pos: { line: lineOf(text, 'pushTokens') } });
    expect(errors(config)).toEqual([]);
  });

  it('check 45: retries that fit the budget are kept', () => {
    expect(
      load(valid('workerType:\n  pushTokens: {numRetries: 2, retrySleep: "10s"}')).retries
        .pushTokens,
    ).toEqual({ numRetries: 2, retrySleepMs: 10_000 });
  });

  it('check 46 (decision 2): JSON 3.0 → 3; 42.5 → 0 and a numeric retrySleep → 0s with warnings; negative stays an error', () => {
    const json = (numRetries: string, retrySleep = '"1s"') =>
      `{"keytabPath": "/k", "kerberosPrincipalPattern": "{{.Account}}@R", "condorCollectorHost": "c1", "email": {"from": "a@example.org", "smtpHost": "h", "smtpPort": 25},
 "workerType": {"pushTokens": {"numRetries": ${numRetries}, "retrySleep": ${retrySleep}}},
 "experiments": {"dune": {"emails": ["a@example.org"], "roles": {"production": {"account": "a", "destinationNodes": ["n"]}}}}}`;
    expect(load(json('3.0'), {}, 'managedTokens.json').retries.pushTokens).toEqual({
      numRetries: 3,
      retrySleepMs: 1000,
    });
    const fractional = load(json('42.5'), {}, 'managedTokens.json');
    expect(errors(fractional)).toEqual([]);
    expect(fractional.retries.pushTokens).toEqual({ numRetries: 0, retrySleepMs: 1000 });
    const retriesWarning = only(
      warnings(fractional).filter((f) => f.keyPath === 'workerType.pushTokens.numRetries'),
    );
    expect(retriesWarning.pos.line).toBe(2);
    expect(retriesWarning.message).toMatch(
      /so 0 retries are used, as the original did \(got 42.5;/,
    );
    const sleepText = valid('workerType:\n  pushTokens: {numRetries: 1, retrySleep: 60}');
    const numericSleep = load(sleepText);
    expect(errors(numericSleep)).toEqual([]);
    expect(numericSleep.retries.pushTokens).toEqual({ numRetries: 1, retrySleepMs: 0 });
    expect(
      only(warnings(numericSleep).filter((f) => f.keyPath === 'workerType.pushTokens.retrySleep')),
    ).toMatchObject({ pos: { line: lineOf(sleepText, 'retrySleep: 60') } });
    expect(
      only(errors(load(valid('workerType:\n  pushTokens: {numRetries: -1, retrySleep: 1s}')))),
    ).toMatchObject({ keyPath: 'workerType.pushTokens.numRetries' });
  });

  it('check 47: storeAndGetTokenInteractive has no effect (warning)', () => {
    const config = load(
      valid('workerType:\n  storeAndGetTokenInteractive: {numRetries: 0, retrySleep: "0s"}'),
    );
    expect(
      only(warnings(config).filter((f) => f.keyPath === 'workerType.storeAndGetTokenInteractive'))
        .message,
    ).toMatch(/never read/);
  });

  it('check 48: devEnvironmentLabel: env beats file; empty env = unset; default production', () => {
    const text = valid('devEnvironmentLabel: test_config');
    const env = 'MANAGED_TOKENS_DEV_ENVIRONMENT_LABEL';
    expect(load(text, { env: { [env]: 'test_env' } }).global.devEnvironmentLabel).toBe('test_env');
    expect(load(valid()).global.devEnvironmentLabel).toBe('production');
    expect(load(text, { env: { [env]: '' } }).global.devEnvironmentLabel).toBe('test_config');
  });

  it('check 49: Prometheus job name', () => {
    expect(load(valid()).global.prometheus.jobName).toBe('managed_tokens');
    expect(load(valid('devEnvironmentLabel: test')).global.prometheus.jobName).toBe(
      'managed_tokens_test',
    );
    expect(
      load(valid('devEnvironmentLabel: test\nprometheus: {jobname: myjobname}')).global.prometheus
        .jobName,
    ).toBe('myjobname_test');
    expect(load(valid('prometheus: {jobname: ""}')).global.prometheus.jobName).toBe(
      'managed_tokens',
    );
  });

  it('check 50: dbLocation default', () => {
    expect(load(valid()).global.dbLocation).toBe('/var/lib/managed-tokens/uid.db');
    expect(load(valid('dbLocation: /x/y.db')).global.dbLocation).toBe('/x/y.db');
  });

  it('dbLocation: "" is passed through (the database open then fails naming the key), with a warning', () => {
    const config = load(valid('dbLocation: ""'));
    expect(config.global.dbLocation).toBe('');
    expect(config.hasGlobalErrors).toBe(false);
    const finding = only(warnings(config).filter((f) => f.keyPath === 'dbLocation'));
    expect(finding.message).toMatch(/^empty, so the database cannot be opened/);
    expect(() => ManagedTokensDb.open(config.global.dbLocation)).toThrow(/dbLocation is empty/);
  });

  it('check 51: admin_email default; the test block has none', () => {
    const config = load(valid());
    expect(config.global.notifications.adminEmails).toEqual(['fife-group@fnal.gov']);
    expect(config.global.notificationsTest.adminEmails).toEqual([]);
  });

  it('check 51: the admin targets of a run: default list without -t, empty list with -t and no test block', () => {
    const text = valid('notifications: {slack_alerts_url: "https://hooks.example.org/x"}');
    const normal = load(text);
    expect(adminTargetsFromConfig(normal.global, false)).toEqual({
      emails: ['fife-group@fnal.gov'],
      slackUrl: 'https://hooks.example.org/x',
    });
    const testRun = load(text, { flags: { test: true } });
    expect(errors(testRun)).toEqual([]);
    // test mode never falls back to the production list (or its default)
    expect(adminTargetsFromConfig(testRun.global, true)).toEqual({ emails: [], slackUrl: '' });
  });

  it('check 52: a whitespace-separated string is a list', () => {
    expect(
      load(valid('notifications: {admin_email: "a@x.org b@y.org"}')).global.notifications
        .adminEmails,
    ).toEqual(['a@x.org', 'b@y.org']);
  });

  it('check 53: -e beats -s', () => {
    const text =
      BASE +
      'experiments:\n  experiment1:\n    emails: [a@example.org]\n    roles:\n      role1: {account: a, destinationNodes: [n]}\n      role2: {account: a, destinationNodes: [n]}\n  experiment2:\n    emails: [a@example.org]\n    roles:\n      r1: {account: a, destinationNodes: [n]}\n      r2: {account: a, destinationNodes: [n]}\n';
    const config = load(text, {
      selection: { experiment: 'experiment2', service: 'experiment1_role2' },
    });
    expect(config.services.map((s) => s.name.configName)).toEqual([
      'experiment2_r1',
      'experiment2_r2',
    ]);
    expect(
      load(text, { selection: { service: 'experiment1_role2' } }).services.map(
        (s) => s.name.configName,
      ),
    ).toEqual(['experiment1_role2']);
    expect(load(text).services).toHaveLength(4);
  });

  it('check 54: experiment and role keys are lower-cased into service names', () => {
    const config = load(BASE + experiments(ROLE, 'DUNE', 'Production'));
    expect(listServices(config)).toEqual(['dune_production']);
    expect(config.services[0]?.name.configName).toBe('dune_production');
  });

  it('check 55 (port W): bad loki.response_header_timeout → 1 s with a warning', () => {
    const config = load(valid('loki: {host: "http://loki:3100", response_header_timeout: abc}'));
    expect(config.global.loki).toEqual({ host: 'http://loki:3100', responseHeaderTimeoutMs: 1000 });
    expect(warnings(config).some((f) => f.keyPath === 'loki.response_header_timeout')).toBe(true);
    expect(
      load(valid('loki: {response_header_timeout: 2s}')).global.loki.responseHeaderTimeoutMs,
    ).toBe(2000);
  });

  it('check 56: RUF jwt service name without a role → role Analysis', () => {
    const config = load(valid('ferry: {serviceExperiment: fermilab, serviceRole: ""}'));
    const { serviceExperiment, serviceRole } = config.global.ferry;
    expect(
      parseServiceName(
        serviceRole === '' ? serviceExperiment : `${serviceExperiment}_${serviceRole}`,
      ),
    ).toEqual({ experiment: 'fermilab', role: 'Analysis' });
  });

  it('check 57 (fix): authmethod in the file is ignored with a warning', () => {
    const text = valid('authmethod: JWT');
    const config = load(text, { executable: 'refresh-uids-from-ferry', purpose: 'check' });
    const finding = only(warnings(config).filter((f) => f.keyPath === 'authmethod'));
    expect(finding.message).toMatch(/ignored.*--authmethod/);
    // tls is still the method: its keys are the ones required
    expect(errors(config).map((f) => f.keyPath)).toEqual(
      expect.arrayContaining(['ferry.hostCert', 'ferry.hostKey', 'ferry.caPath']),
    );
    expect(errors(config).map((f) => f.keyPath)).not.toContain('ferry.serviceExperiment');
  });

  it('check 58: FERRY usernames are every account of every role, duplicates kept', () => {
    const text =
      BASE +
      'experiments:\n  e1:\n    roles:\n      r1: {account: a1}\n      r2: {account: a2}\n  dune-2:\n    experimentOverride: e1\n    roles:\n      r1: {account: a1}\n';
    expect(load(text, { executable: 'refresh-uids-from-ferry' }).accounts).toEqual([
      'a1',
      'a2',
      'a1',
    ]);
  });

  it('check 59 (fix): flag keys in the file are ignored with a warning', () => {
    const text = valid('test: true\nlist-services: true');
    const config = load(text);
    expect(
      warnings(config)
        .filter((f) => f.message.includes('command-line flag key'))
        .map((f) => [f.keyPath, f.pos.line]),
    ).toEqual([
      ['test', lineOf(text, 'test: true')],
      ['list-services', lineOf(text, 'list-services')],
    ]);
  });

  it('check 60: rendered jsonnet with experiment-wide otherOverrides copied into roles', () => {
    // makeConfig(..., otherOverrides={disableNotificationsOverride: true}) with one role overriding false renders as:
    const json = JSON.stringify(
      {
        keytabPath: '/k',
        kerberosPrincipalPattern: '{{.Account}}@R',
        condorCollectorHost: 'c1',
        email: { from: 'a@example.org', smtpHost: 'h', smtpPort: 25 },
        experiments: {
          e: {
            emails: ['a@example.org'],
            roles: {
              r1: { account: 'a', destinationNodes: ['n'], disableNotificationsOverride: false },
              r2: { account: 'b', destinationNodes: ['n'], disableNotificationsOverride: true },
            },
          },
        },
      },
      null,
      3,
    );
    const config = load(json, {}, 'managedTokens.json');
    expect(config.services.map((s) => [s.name.configName, s.notificationsDisabled])).toEqual([
      ['e_r1', false],
      ['e_r2', true],
    ]);
  });
});

describe('validation rules beyond the acceptance list', () => {
  it('V2/Q39: keys equal after lower-casing are an error-global (YAML and JSON); YAML exact duplicates too', () => {
    const text = valid('keytabpath: /other');
    const finding = only(errors(load(text)));
    expect(finding).toMatchObject({
      severity: 'error-global',
      keyPath: 'keytabpath',
      pos: { line: lineOf(text, 'keytabpath: /other'), col: 1 },
    });
    expect(finding.message).toContain('"keytabPath" at line 1');
    const json = '{\n"a": 1,\n"A": 2\n}';
    expect(
      only(errors(load(json, {}, 'managedTokens.json')).filter((f) => f.keyPath === 'A')),
    ).toMatchObject({ severity: 'error-global', pos: { line: 3, col: 1 } });
    const yamlTwice = valid('dbLocation: /a.db\ndbLocation: /b.db');
    expect(only(errors(load(yamlTwice)).filter((f) => f.keyPath === 'dbLocation'))).toMatchObject({
      severity: 'error-global',
      pos: { line: lineOf(yamlTwice, '/b.db') },
    });
  });

  it('Q39 (decision 2): a JSON key given twice with the same spelling: the last wins with a warning', () => {
    const json =
      '{"keytabPath": "/k", "kerberosPrincipalPattern": "{{.Account}}@R", "condorCollectorHost": "c1",\n' +
      ' "dbLocation": "/first.db",\n' +
      ' "dbLocation": "/second.db",\n' +
      ' "experiments": {"dune": {"roles": {"production": {"account": "a", "destinationNodes": ["n"]}}}}}';
    const config = load(json, {}, 'managedTokens.json');
    expect(errors(config)).toEqual([]);
    expect(config.global.dbLocation).toBe('/second.db');
    const finding = only(warnings(config).filter((f) => f.keyPath === 'dbLocation'));
    expect(finding.pos).toMatchObject({ line: 3, col: 2 });
    expect(finding.message).toMatch(
      /this later value is used as the original did \(first given at line 2\)/,
    );
  });

  it('V1: unknown keys warn with a did-you-mean', () => {
    const text = valid('', 'keytabPathOveride: /k/x.keytab');
    const finding = only(
      warnings(load(text)).filter((f) => f.keyPath.endsWith('keytabPathOveride')),
    );
    expect(finding.message).toBe('unknown key, ignored; did you mean "keytabPathOverride"?');
    expect(finding.pos.line).toBe(lineOf(text, 'keytabPathOveride'));
  });

  it('V5: an experiment-level override is not read', () => {
    const text =
      BASE + experiments(ROLE).replace('    roles:', '    keytabPathOverride: /x\n    roles:');
    expect(
      only(warnings(load(text)).filter((f) => f.keyPath === 'experiments.dune.keytabPathOverride'))
        .message,
    ).toMatch(/move it under each role/);
  });

  it('V8: a role key with "-" or "_" is an error-service; V7: an experiment with "." skips its services only', () => {
    expect(only(errors(load(BASE + experiments(ROLE, 'dune', 'test_role'))))).toMatchObject({
      severity: 'error-service',
      keyPath: 'experiments.dune.roles.test_role',
    });
    const text =
      BASE +
      'experiments:\n  "foo.bar":\n    emails: [a@example.org]\n    roles:\n      r1: {account: a, destinationNodes: [n]}\n      r2: {account: a, destinationNodes: [n]}\n  dune:\n    emails: [a@example.org]\n    roles:\n      production: {account: a, destinationNodes: [n]}\n';
    const config = load(text);
    expect(config.hasGlobalErrors).toBe(false);
    expect(config.services.map((s) => s.name.configName)).toEqual(['dune_production']);
    expect(config.skippedServices.map((s) => s.name.configName)).toEqual([
      'foo.bar_r1',
      'foo.bar_r2',
    ]);
    for (const skipped of config.skippedServices)
      expect(only(skipped.findings)).toMatchObject({
        severity: 'error-service',
        keyPath: 'experiments.foo.bar',
        service: skipped.name.configName,
        pos: { line: lineOf(text, '"foo.bar"') },
      });
  });

  it('V10/V11/Q27: missing account, empty nodes and bad host names are error-service', () => {
    const config = load(BASE + experiments('destinationNodes: []'));
    expect(
      errors(config)
        .map((f) => f.keyPath)
        .sort(),
    ).toEqual([
      'experiments.dune.roles.production.account',
      'experiments.dune.roles.production.destinationNodes',
    ]);
    expect(
      only(
        errors(
          load(
            BASE +
              experiments(
                'account: myaccount\n        destinationNodes: [good.example.org, "bad host"]',
              ),
          ),
        ),
      ),
    ).toMatchObject({ keyPath: 'experiments.dune.roles.production.destinationNodes' });
  });

  it('YAML merge keys share role blocks', () => {
    const text =
      BASE +
      'experiments:\n  dune:\n    emails: [a@example.org]\n    roles:\n      production: &prod {account: dunepro, destinationNodes: [n1]}\n      test:\n        <<: *prod\n        account: dunetest\n';
    const config = load(text);
    expect(config.services.map((s) => [s.name.configName, s.account, s.nodes])).toEqual([
      ['dune_production', 'dunepro', ['n1']],
      ['dune_test', 'dunetest', ['n1']],
    ]);
  });

  it('a selected but unconfigured service yields no services and a warning', () => {
    const config = load(valid(), { selection: { service: 'foo_bar' } });
    expect(config.services).toEqual([]);
    expect(warnings(config).some((f) => f.message.includes('foo_bar'))).toBe(true);
  });

  it('findings of unselected services are not reported for a selected run', () => {
    const text =
      BASE +
      'experiments:\n  a:\n    emails: [x@example.org]\n    roles:\n      r: {account: a, destinationNodes: [n]}\n  b:\n    emails: [x@example.org]\n    roles:\n      r: {account: "", destinationNodes: [n]}\n';
    expect(errors(load(text))).toHaveLength(1);
    expect(errors(load(text, { selection: { experiment: 'a' } }))).toEqual([]);
  });
});

describe('quirk warnings', () => {
  it('Q19: an unset fileCopierOptions is reported once', () => {
    const config = load(valid());
    expect(only(warnings(config).filter((f) => f.keyPath === 'fileCopierOptions')).message).toMatch(
      /rsync gets no options/,
    );
    expect(
      warnings(load(valid('fileCopierOptions: "--perms"'))).filter(
        (f) => f.keyPath === 'fileCopierOptions',
      ),
    ).toEqual([]);
  });

  it('Q28/V12: an experiment without emails is reported; invalid stakeholder addresses are warnings', () => {
    const text =
      BASE + experiments(ROLE).replace('emails: [ops@example.org]', 'emails: [not-an-address]');
    const config = load(text);
    expect(errors(config)).toEqual([]);
    expect(
      warnings(config).some(
        (f) =>
          f.keyPath === 'experiments.dune.emails' && f.message.includes('not an e-mail address'),
      ),
    ).toBe(true);
    const none = load(BASE + experiments(ROLE).replace('    emails: [ops@example.org]\n', ''));
    expect(
      warnings(none).some(
        (f) =>
          f.keyPath === 'experiments.dune.emails' &&
          f.message.includes('no stakeholder notifications'),
      ),
    ).toBe(true);
  });

  it('Q1: shadowed candidates in the chosen directory are reported', async () => {
    const { tempDir, writeIn } = await import('./helpers.js');
    const { loadAndValidate } = await import('../../../src/internal/config/index.js');
    const dir = tempDir();
    writeIn(dir, 'managedTokens.json', JSON.stringify({ experiments: {} }));
    writeIn(dir, 'managedTokens.yml', '');
    const config = loadAndValidate({
      env: {},
      cwd: dir,
      searchDirs: [dir],
      executable: 'token-push',
    });
    expect(config.format).toBe('json');
    expect(warnings(config).find((f) => f.keyPath === '(file)')?.message).toContain(
      'managedTokens.yml',
    );
  });
});
