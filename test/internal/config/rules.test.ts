import { describe, expect, it } from 'vitest';
import type { Severity } from '../../../src/internal/config/index.js';
import { BASE, experiments, load, only } from './helpers.js';

const ROLE = 'account: myaccount\n        destinationNodes: [node1]';
const withRole = (extra: string): string => `${ROLE}\n        ${extra}`;
const FERRY_TLS =
  'ferry: {host: "https://ferry.example.org", port: 8445, caPath: /c, hostCert: /h, hostKey: /k}';

interface Rule {
  readonly rule: string;
  readonly text: string;
  readonly keyPath: string;
  readonly severity: Severity;
  readonly message: RegExp;
  readonly options?: Parameters<typeof load>[1];
}

const RULES: readonly Rule[] = [
  {
    rule: 'V9 roles missing',
    text: BASE + 'experiments:\n  dune:\n    emails: [a@example.org]\n',
    keyPath: 'experiments.dune.roles',
    severity: 'warning',
    message: /contributes no services/,
  },
  {
    rule: 'V11 duplicate node',
    text: BASE + experiments('account: a\n        destinationNodes: [n1, n1]'),
    keyPath: 'experiments.dune.roles.production.destinationNodes',
    severity: 'warning',
    message: /duplicate node "n1"/,
  },
  {
    rule: 'V13 port range',
    text: BASE.replace('smtpPort: 25', 'smtpPort: 70000') + experiments(),
    keyPath: 'email.smtpPort',
    severity: 'warning',
    message: /out of range, so notification e-mail cannot be sent .*\(got 70000/,
  },
  {
    rule: 'V14 Slack URL not https',
    text:
      BASE +
      'notifications: {SLACK_ALERTS_URL: "http://hooks.example.org/secret/path"}\n' +
      experiments(),
    keyPath: 'notifications.SLACK_ALERTS_URL',
    severity: 'warning',
    message: /not an absolute https URL \(got "http:\/\/hooks.example.org\/\.\.\."/,
  },
  {
    rule: 'V14 Slack URL missing',
    text: BASE + experiments(),
    keyPath: 'notifications.SLACK_ALERTS_URL',
    severity: 'warning',
    message: /Slack alerts are disabled/,
  },
  {
    rule: 'V22 bad collector entry',
    text:
      BASE + experiments(withRole('condorCollectorHostOverride: "good.example.org, bad_host!"')),
    keyPath: 'experiments.dune.roles.production.condorCollectorHostOverride',
    severity: 'error-service',
    message: /not a host\[:port\] \(got "bad_host!"/,
  },
  {
    rule: 'V23 bad credd host',
    text: BASE + experiments(withRole('condorCreddHostOverride: "credd host"')),
    keyPath: 'experiments.dune.roles.production.condorCreddHostOverride',
    severity: 'error-service',
    message: /not a host name/,
  },
  {
    rule: 'V24 odd vault server',
    text: BASE + 'vaultServer: "my vault"\n' + experiments(),
    keyPath: 'vaultServer',
    severity: 'warning',
    message: /not a host name or URL/,
  },
  {
    rule: 'V27 minTokenLifetime',
    text: BASE + 'minTokenLifetime: 3 days\n' + experiments(),
    keyPath: 'minTokenLifetime',
    severity: 'warning',
    message: /not an htgettoken duration/,
  },
  {
    rule: 'V30 jwt keys',
    text: BASE + FERRY_TLS + '\n' + experiments(),
    keyPath: 'ferry.serviceKerberosPrincipal',
    severity: 'error-global',
    message: /required for authentication method jwt/,
    options: {
      executable: 'refresh-uids-from-ferry',
      flags: { authMethod: 'jwt' },
      purpose: 'check',
    },
  },
  {
    rule: 'V31 Prometheus host without scheme',
    text: BASE + 'prometheus: {host: pushgateway.example.org}\n' + experiments(),
    keyPath: 'prometheus.host',
    severity: 'warning',
    message: /http:\/\/ is assumed for the pushgateway \(the original disabled metrics\)/,
  },
  {
    rule: 'experiment without emails: its errors go to the admins (FIX Q5), not dropped',
    text: BASE + experiments().replace('    emails: [ops@example.org]\n', ''),
    keyPath: 'experiments.dune.emails',
    severity: 'warning',
    message: /^empty; no stakeholder notifications: this service's errors reach the admins only$/,
  },
  {
    rule: 'V33 log file unset',
    text: BASE.replace('logfile: /tmp/tp.log, ', '') + experiments(),
    keyPath: 'logs.token-push.logfile',
    severity: 'warning',
    message: /writes no log file/,
  },
  {
    rule: 'V34 label',
    text: BASE + 'devEnvironmentLabel: "dev env"\n' + experiments(),
    keyPath: 'devEnvironmentLabel',
    severity: 'warning',
    message: /letters, digits and _/,
  },
  {
    rule: 'V35 invalid experimentOverride',
    text: BASE + experiments().replace('    roles:', '    experimentOverride: "a.b"\n    roles:'),
    keyPath: 'experiments.dune.experimentOverride',
    severity: 'error-service',
    message: /invalid experiment name, its services are skipped \(got "a.b"/,
  },
  {
    rule: 'V35 experimentOverride equal to its key',
    text: BASE + experiments().replace('    roles:', '    experimentOverride: dune\n    roles:'),
    keyPath: 'experiments.dune.experimentOverride',
    severity: 'warning',
    message: /equal to its own experiment key/,
  },
  {
    rule: 'V37 --test without notifications_test',
    text: BASE + experiments(),
    keyPath: 'notifications_test.admin_email',
    severity: 'warning',
    message: /missing while running with --test/,
    options: { flags: { test: true } },
  },
  {
    rule: 'V12 admin address',
    text: BASE + 'notifications: {admin_email: [ok@example.org, broken]}\n' + experiments(),
    keyPath: 'notifications.admin_email',
    severity: 'warning',
    message: /not an e-mail address, so the admin e-mail to it fails \(got "broken"/,
  },
  {
    rule: 'V3 mapping where a list is expected: read as [] (warning) ...',
    text: BASE + experiments('account: a\n        destinationNodes: {a: 1}'),
    keyPath: 'experiments.dune.roles.production.destinationNodes',
    severity: 'warning',
    message:
      /wrong type, read as an empty list as the original did \(got a mapping; expected a list of strings\)/,
  },
  {
    rule: '... which leaves the service without nodes (error-service)',
    text: BASE + experiments('account: a\n        destinationNodes: {a: 1}'),
    keyPath: 'experiments.dune.roles.production.destinationNodes',
    severity: 'error-service',
    message: /missing or empty; nothing would be pushed/,
  },
  {
    rule: 'V3 list where a string is expected (role): read as "" (warning) ...',
    text: BASE + experiments('account: [a, b]\n        destinationNodes: [n]'),
    keyPath: 'experiments.dune.roles.production.account',
    severity: 'warning',
    message: /wrong type, read as "" as the original did \(got a list; expected a string\)/,
  },
  {
    rule: '... which leaves the service without an account (error-service)',
    text: BASE + experiments('account: [a, b]\n        destinationNodes: [n]'),
    keyPath: 'experiments.dune.roles.production.account',
    severity: 'error-service',
    message: /missing \(expected the Unix account/,
  },
  {
    rule: 'V3 mapping where a mapping of timeouts is expected: defaults kept',
    text: BASE + 'timeouts: 30s\n' + experiments(),
    keyPath: 'timeouts',
    severity: 'warning',
    message: /read as an empty mapping as the original did/,
  },
  {
    rule: 'V3 string UID: read as the number (warning)',
    text:
      BASE +
      experiments('account: a\n        destinationNodes: [n]\n        desiredUIDOverride: "12345"'),
    keyPath: 'experiments.dune.roles.production.desiredUIDOverride',
    severity: 'warning',
    message: /not an integer; read as 12345 as the original did/,
  },
  {
    rule: 'V18 UID out of range (error-service)',
    text:
      BASE +
      experiments(
        'account: a\n        destinationNodes: [n]\n        desiredUIDOverride: 4294967296',
      ),
    keyPath: 'experiments.dune.roles.production.desiredUIDOverride',
    severity: 'error-service',
    message: /the original would push to UID 0 \(got 4294967296/,
  },
  {
    rule: 'V20 no principal source',
    text: BASE.replace(/kerberosPrincipalPattern: .*\n/, '') + experiments(),
    keyPath: 'experiments.dune.roles.production.userPrincipalOverride',
    severity: 'error-service',
    message: /no Kerberos principal/,
  },
  {
    rule: 'V28 FERRY port missing',
    text:
      BASE +
      'ferry: {host: "https://ferry.example.org", caPath: /c, hostCert: /h, hostKey: /k}\n' +
      experiments(),
    keyPath: 'ferry.port',
    severity: 'error-global',
    message: /missing/,
    options: { executable: 'both', purpose: 'check' },
  },
];

describe('validation rules (config.md 6.2)', () => {
  it.each(RULES)('$rule', (rule) => {
    const config = load(rule.text, rule.options);
    const found = config.findings.filter(
      (f) => f.keyPath === rule.keyPath && f.severity === rule.severity,
    );
    expect(
      found.length,
      config.findings.map((f) => `${f.severity} ${f.text}`).join('\n'),
    ).toBeGreaterThanOrEqual(1);
    expect(found.some((f) => rule.message.test(f.message))).toBe(true);
    if (rule.severity === 'error-service') {
      expect(config.skippedServices.map((s) => s.name.configName)).toEqual(['dune_production']);
      expect(found[0]?.service).toBe('dune_production');
    }
    if (rule.severity === 'error-global') expect(config.hasGlobalErrors).toBe(true);
  });

  it('Slack URLs are never printed in full', () => {
    const config = load(
      BASE +
        'notifications: {SLACK_ALERTS_URL: "http://hooks.example.org/T000/B000/SECRET"}\n' +
        experiments(),
    );
    expect(config.findings.map((f) => f.text).join('\n')).not.toContain('SECRET');
  });
});

describe('only the running executable refuses its own keys', () => {
  it('a bad ferry.port stops refresh-uids-from-ferry but only warns token-push', () => {
    const text = BASE + 'ferry: {port: "x"}\nerrorCountToSendMessage: -1\n' + experiments();
    const severities = (config: ReturnType<typeof load>, keyPath: string) =>
      config.findings.filter((f) => f.keyPath === keyPath).map((f) => f.severity);
    const tp = load(text, { executable: 'token-push' });
    expect(severities(tp, 'ferry.port')).toEqual(['warning']);
    expect(severities(tp, 'errorCountToSendMessage')).toEqual(['warning']);
    expect(tp.global.errorCountToSendMessage).toBe(0);
    const ruf = load(text, { executable: 'refresh-uids-from-ferry', purpose: 'check' });
    // "x" is read as 0 like the original (warning); port 0 makes every FERRY request fail (error)
    expect(severities(ruf, 'ferry.port').sort()).toEqual(['error-global', 'warning']);
    expect(severities(ruf, 'errorCountToSendMessage')).toEqual(['warning']);
  });
});

describe('FERRY settings: errors for check-config, warnings for a refresh run', () => {
  const cases = [
    { what: 'host missing', ferry: 'port: 8445', keyPath: 'ferry.host' },
    {
      what: 'host without scheme',
      ferry: 'host: ferry.example.org, port: 8445',
      keyPath: 'ferry.host',
    },
    { what: 'port missing', ferry: 'host: "https://ferry.example.org"', keyPath: 'ferry.port' },
    {
      what: 'unreadable hostKey',
      ferry: 'host: "https://ferry.example.org", port: 8445, hostKey: /nonexistent/host.key',
      keyPath: 'ferry.hostKey',
    },
  ];
  it.each(cases)('$what', ({ ferry, keyPath }) => {
    const text = `${BASE}ferry: {${ferry}}
${experiments()}`;
    const options = { executable: 'refresh-uids-from-ferry' as const };
    const severities = (config: ReturnType<typeof load>) =>
      config.findings.filter((f) => f.keyPath === keyPath).map((f) => f.severity);
    const check = load(text, { ...options, purpose: 'check' });
    expect(severities(check)).toEqual(['error-global']);
    const run = load(text, options);
    expect(severities(run)).toEqual(['warning']);
    expect(run.findings.find((f) => f.keyPath === keyPath)?.message).toMatch(
      /; every FERRY request will fail$/,
    );
    expect(run.hasGlobalErrors).toBe(false);
  });
});

describe('only the running executable refuses its own keys (continued)', () => {
  it('Go-style integer strings are read as the original read them', () => {
    const port = (value: string) =>
      load(BASE + `ferry: {port: ${value}}\n` + experiments()).global.ferry.port;
    expect(port('"8445"')).toBe(8445);
    expect(port('"0x20FD"')).toBe(8445);
    expect(port('"020375"')).toBe(8445);
    expect(port('"8_445"')).toBe(8445);
    expect(port('"8445.00"')).toBe(8445);
    expect(port('8445.9')).toBe(8445);
    expect(port('true')).toBe(1);
    expect(port('"8445."')).toBe(0);
    expect(port('"84 45"')).toBe(0);
    expect(port('[1]')).toBe(0);
  });
});

describe('did-you-mean for timeouts', () => {
  it('suggests the closest timeout name', () => {
    const config = load(BASE + 'timeouts: {pushTimout: 30s}\n' + experiments());
    expect(config.findings.find((f) => f.keyPath === 'timeouts.pushTimout')?.message).toBe(
      'unknown timeout, ignored; did you mean "pushTimeout"?',
    );
  });
});

describe('global hosts fail only the services that use them (decision 2)', () => {
  const twoServices = (top: string) =>
    BASE.replace('condorCollectorHost: c1\n', '') +
    top +
    'experiments:\n  dune:\n    emails: [a@example.org]\n    roles:\n      production: {account: a, destinationNodes: [n]}\n      getter: {account: b, destinationNodes: [n], tokenGetterOverride: getToken}\n';

  it.each([
    [
      'condorCreddHost',
      'condorCollectorHost: c1\ncondorCreddHost: "credd host"\n',
      /not a host name, so this service is skipped/,
    ],
    [
      'condorCollectorHost',
      'condorCollectorHost: "c1, -oops"\n',
      /not a host\[:port\] \(got "-oops"/,
    ],
  ])(
    'a bad global %s skips store-mode services; the run and getToken services go on',
    (key, top, message) => {
      const text = twoServices(top);
      const config = load(text);
      expect(config.hasGlobalErrors).toBe(false);
      expect(config.services.map((s) => s.name.configName)).toEqual(['dune_getter']);
      const skipped = only(config.skippedServices);
      expect(skipped.name.configName).toBe('dune_production');
      const finding = only(skipped.findings);
      expect(finding).toMatchObject({
        severity: 'error-service',
        keyPath: key,
        pos: { line: text.split('\n').findIndex((l) => l.startsWith(`${key}:`)) + 1 },
      });
      expect(finding.message).toMatch(message);
    },
  );
});

describe('errorCountToSendMessage is read as the original read it (decision 2)', () => {
  it.each([
    ['"3"', 3],
    ['2.7', 2],
    ['true', 1],
    ['"three"', 0],
  ])('%s → %i with a warning', (value, expected) => {
    const config = load(BASE + `errorCountToSendMessage: ${value}\n` + experiments());
    expect(config.global.errorCountToSendMessage).toBe(expected);
    expect(config.hasGlobalErrors).toBe(false);
    expect(
      only(config.findings.filter((f) => f.keyPath === 'errorCountToSendMessage')),
    ).toMatchObject({ severity: 'warning', pos: { line: BASE.split('\n').length } });
  });
});

describe('a bad global value fails only the services that inherit it (token-push)', () => {
  const twoRoles = (extra: string): string =>
    `experiments:\n  dune:\n    emails: [a@example.org]\n    roles:\n      production: {account: a, destinationNodes: [n]}\n      own: {account: b, destinationNodes: [n], ${extra}}\n`;
  const severitiesOf = (config: ReturnType<typeof load>, keyPath: string) =>
    config.findings
      .filter((f) => f.keyPath === keyPath)
      .map((f) => `${f.severity} ${f.service ?? ''}`);

  it('kerberosPrincipalPattern that does not compile: the role with an override runs', () => {
    const text =
      BASE.replace(
        /kerberosPrincipalPattern: .*\n/,
        'kerberosPrincipalPattern: "{{.Acount}}@R"\n',
      ) + twoRoles('kerberosPrincipalPatternOverride: "{{.Account}}@X"');
    const config = load(text, { executable: 'token-push' });
    expect(config.hasGlobalErrors).toBe(false);
    expect(config.services.map((s) => [s.name.configName, s.userPrincipal])).toEqual([
      ['dune_own', 'b@X'],
    ]);
    expect(config.skippedServices.map((s) => s.name.configName)).toEqual(['dune_production']);
    expect(severitiesOf(config, 'kerberosPrincipalPattern').sort()).toEqual([
      'error-service dune_production',
      'warning ',
    ]);
    const skipped = config.skippedServices[0]?.findings[0];
    expect(skipped?.message).toMatch(/this service inherits it/);
  });

  it.each(['pingOptions', 'sshOptions', 'fileCopierOptions'])(
    'global %s that cannot be split: the role with an override runs',
    (key) => {
      const text = `${BASE}${key}: "-o 'unterminated"\n${twoRoles(`${key}Override: "-v"`)}`;
      const config = load(text, { executable: 'token-push' });
      expect(config.hasGlobalErrors).toBe(false);
      expect(config.services.map((s) => s.name.configName)).toEqual(['dune_own']);
      expect(config.skippedServices.map((s) => s.name.configName)).toEqual(['dune_production']);
      expect(severitiesOf(config, key).sort()).toEqual([
        'error-service dune_production',
        'warning ',
      ]);
      // check-config still fails (a skipped service is an error there)
      expect(config.findings.some((f) => f.severity === 'error-service')).toBe(true);
    },
  );
});

describe('negative numRetries', () => {
  it('is an error under pushTokens (the original never attempted the copy) and a warning elsewhere', () => {
    const text = (worker: string) =>
      `${BASE}workerType:\n  ${worker}: {numRetries: -1, retrySleep: 1s}\n${experiments()}`;
    const push = load(text('pushTokens'), { executable: 'token-push' });
    expect(push.hasGlobalErrors).toBe(true);
    expect(
      push.findings.find((f) => f.keyPath === 'workerType.pushTokens.numRetries')?.message,
    ).toMatch(/never attempted the copy and reported it successful/);
    for (const worker of ['getKerberosTickets', 'getToken', 'storeAndGetToken', 'pingAggregator']) {
      const config = load(text(worker), { executable: 'token-push' });
      expect(config.hasGlobalErrors, worker).toBe(false);
      const finding = config.findings.find((f) => f.keyPath === `workerType.${worker}.numRetries`);
      expect(finding?.severity).toBe('warning');
      expect(finding?.message).toMatch(/^negative, so 0 retries are used/);
      expect(config.retries[worker as 'getToken']).toEqual({ numRetries: 0, retrySleepMs: 1000 });
    }
  });
});
