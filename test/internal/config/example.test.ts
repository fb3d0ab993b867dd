import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkConfig, type Severity } from '../../../src/internal/config/index.js';
import { tempDir, writeIn } from './helpers.js';

const EXAMPLE_PATH = fileURLToPath(new URL('../../../config.example.yaml', import.meta.url));
const EXAMPLE = readFileSync(EXAMPLE_PATH, 'utf8');

describe('config.example.yaml', () => {
  it('passes check-config for both executables with no warnings', () => {
    const result = checkConfig({ configFile: EXAMPLE_PATH, env: {}, cwd: '/', executable: 'both' });
    expect(result).toEqual({
      exitCode: 0,
      lines: [`${EXAMPLE_PATH}: OK: 4 services, 5 distinct nodes, 0 warnings`],
    });
  });

  it('passes check-config for token-push', () => {
    expect(
      checkConfig({ configFile: EXAMPLE_PATH, env: {}, cwd: '/', executable: 'token-push' })
        .exitCode,
    ).toBe(0);
  });

  it('for refresh-uids-from-ferry also checks that the TLS files exist (they do not on a test machine)', () => {
    const result = checkConfig({
      configFile: EXAMPLE_PATH,
      env: {},
      cwd: '/',
      executable: 'refresh-uids-from-ferry',
    });
    expect(result.exitCode).toBe(1);
    const errorKeys = result.lines
      .filter((line) => line.includes(': error'))
      .map((line) => line.split(': ')[1]);
    expect(errorKeys.sort()).toEqual(['ferry.caPath', 'ferry.hostCert', 'ferry.hostKey']);
    expect(result.lines.find((line) => line.includes('ferry.hostCert'))).toMatch(
      /does not exist \(got "\/etc\/grid-security\/hostcert.pem"/,
    );
  });

  it('with readable TLS files refresh-uids-from-ferry passes', () => {
    const dir = tempDir();
    const cert = writeIn(dir, 'hostcert.pem', 'x');
    const key = writeIn(dir, 'hostkey.pem', 'x');
    writeIn(dir, 'certificates/ca.pem', 'x');
    const text = EXAMPLE.replace('/etc/grid-security/hostcert.pem', cert)
      .replace('/etc/grid-security/hostkey.pem', key)
      .replace('/etc/grid-security/certificates', `${dir}/certificates`);
    const file = writeIn(dir, 'managedTokens.yml', text);
    const result = checkConfig({
      configFile: file,
      env: {},
      cwd: '/',
      executable: 'refresh-uids-from-ferry',
    });
    expect(result).toEqual({
      exitCode: 0,
      lines: [`${file}: OK: 4 services, 0 distinct nodes, 0 warnings`],
    });
  });
});

interface Variant {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly keyPath: string;
  readonly severity: Severity;
  /** text on the reported line (defaults to `to`) */
  readonly lineHas?: string;
  readonly message: RegExp;
}

const ROLE = 'experiments.dune.roles.production';
const MU2E = 'experiments.mu2e.roles.production';
const VARIANTS: readonly Variant[] = [
  {
    name: 'typo in a timeout value',
    from: 'vaultStorerTimeout: 60s',
    to: 'vaultStorerTimeout: 60ssss',
    keyPath: 'timeouts.vaultStorerTimeout',
    severity: 'warning',
    message: /not a Go duration, so the default 60s is used, as the original did \(got "60ssss"/,
  },
  {
    name: 'bare number timeout',
    from: 'pingTimeout: 10s',
    to: 'pingTimeout: 10',
    keyPath: 'timeouts.pingTimeout',
    severity: 'warning',
    message: /not a Go duration, so the default 10s is used, as the original did \(got 10;/,
  },
  {
    name: 'days in a timeout',
    from: 'globalTimeout: 300s',
    to: 'globalTimeout: 1d',
    keyPath: 'timeouts.globalTimeout',
    severity: 'warning',
    message: /not a Go duration, so the default 300s is used.*\(got "1d"/,
  },
  {
    name: 'stage timeouts above the global one',
    from: 'globalTimeout: 300s',
    to: 'globalTimeout: 100s',
    keyPath: 'timeouts.globalTimeout',
    severity: 'error-global',
    message:
      /component timeouts exceed the global timeout .*150s; expected at most globalTimeout 100s/,
  },
  {
    name: 'disableNotifications: yes',
    from: 'disableNotifications: false',
    to: 'disableNotifications: "yes"',
    keyPath: 'disableNotifications',
    severity: 'warning',
    message: /the original silently read this as false.*write true or false/,
  },
  {
    name: 'negative numRetries',
    from: 'pushTokens:         {numRetries: 2,',
    to: 'pushTokens:         {numRetries: -2,',
    keyPath: 'workerType.pushTokens.numRetries',
    severity: 'error-global',
    message: /negative \(got -2; expected an integer >= 0/,
  },
  {
    name: 'numeric retrySleep',
    from: 'retrySleep: "15s"}',
    to: 'retrySleep: 15}',
    keyPath: 'workerType.pushTokens.retrySleep',
    severity: 'warning',
    message: /not a Go duration string, so 0s is used, as the original did \(got 15/,
  },
  {
    name: 'broken role-file template',
    from: '"/tmp/default_role_{{.Experiment}}_{{.DesiredUID}}"  # built-in',
    to: '"/tmp/default_role_{{.Experiment}}_{{.DesiredUID"  # built-in',
    keyPath: 'defaultRoleFileDestinationTemplate',
    severity: 'error-global',
    message: /unclosed template action/,
  },
  {
    name: 'template function in an override',
    from: '"/tmp/default_role_dune_{{.DesiredUID}}"',
    to: `'/tmp/x_{{printf "%d" .DesiredUID}}'`,
    keyPath: 'experiments.dune-pool2.roles.production.defaultRoleFileDestinationTemplateOverride',
    severity: 'error-service',
    message: /unsupported template action/,
  },
  {
    name: 'unknown field in the principal pattern',
    from: 'kerberosPrincipalPatternOverride: "{{.Account}}/test',
    to: 'kerberosPrincipalPatternOverride: "{{.Acount}}/test',
    keyPath: 'experiments.mu2e.roles.test.kerberosPrincipalPatternOverride',
    severity: 'error-service',
    message: /unknown template field "\.Acount"/,
  },
  {
    name: 'negative UID',
    from: 'desiredUIDOverride: 12345',
    to: 'desiredUIDOverride: -5',
    keyPath: 'experiments.dune-pool2.roles.production.desiredUIDOverride',
    severity: 'error-service',
    message: /not a valid UID; the original would push to UID 0 \(got -5/,
  },
  {
    name: 'invalid token getter',
    from: 'tokenGetterOverride: getToken',
    to: 'tokenGetterOverride: GetToken',
    keyPath: `${MU2E}.tokenGetterOverride`,
    severity: 'warning',
    message:
      /storeAndGetToken is used, as the original did .*write "getToken" or "storeAndGetToken"/,
  },
  {
    name: 'unclosed quote in ssh options',
    from: 'sshOptionsOverride: "-o ConnectTimeout=45"',
    to: `sshOptionsOverride: "-o 'ConnectTimeout=45"`,
    keyPath: `${MU2E}.sshOptionsOverride`,
    severity: 'error-service',
    message: /unclosed single quote/,
  },
  {
    name: 'empty destination nodes',
    from: 'destinationNodes: [dunegpvm01.example.org, dunegpvm02.example.org]',
    to: 'destinationNodes: []',
    keyPath: `${ROLE}.destinationNodes`,
    severity: 'error-service',
    message: /missing or empty/,
  },
  {
    name: 'role name with underscore',
    from: '      production:                         # role names',
    to: '      prod_uction:                         # role names',
    keyPath: 'experiments.dune.roles.prod_uction',
    severity: 'error-service',
    message: /invalid role name/,
  },
  {
    name: 'account that is not a user name',
    from: 'account: dunepro                  #',
    to: 'account: "dune pro"                  #',
    keyPath: `${ROLE}.account`,
    severity: 'error-service',
    message: /not a Unix user name/,
  },
  {
    name: 'duplicate key after lower-casing',
    from: 'dbLocation: /var/lib/managed-tokens/managed-tokens.db',
    to: 'dbLocation: /a.db\nDBLOCATION: /var/lib/managed-tokens/managed-tokens.db',
    lineHas: 'DBLOCATION',
    keyPath: 'DBLOCATION',
    severity: 'error-global',
    message: /duplicate key/,
  },
  {
    name: 'list where a string is expected',
    from: '\nvaultServer: vault.example.org ',
    to: '\nvaultServer: [vault.example.org] ',
    lineHas: 'vaultServer: [vault',
    keyPath: 'vaultServer',
    severity: 'warning',
    message: /wrong type, read as "" as the original did \(got a list; expected a string\)/,
  },
  {
    name: 'string smtpPort',
    from: 'smtpPort: 25',
    to: 'smtpPort: "25"',
    keyPath: 'email.smtpPort',
    severity: 'warning',
    message: /not an integer; read as 25 as the original did \(got "25"/,
  },
  {
    name: 'negative errorCountToSendMessage',
    from: 'errorCountToSendMessage: 3 ',
    to: 'errorCountToSendMessage: -3 ',
    keyPath: 'errorCountToSendMessage',
    severity: 'warning',
    message: /negative, so every error is notified at once/,
  },
  {
    name: 'invalid experiment name',
    from: '  mu2e:\n',
    to: '  "mu2e.v2":\n',
    keyPath: 'experiments.mu2e.v2',
    severity: 'error-service',
    message: /invalid experiment name, its services are skipped/,
  },
  {
    name: 'ferry host with a port',
    from: 'host: https://ferry.example.org ',
    to: 'host: https://ferry.example.org:8445 ',
    keyPath: 'ferry.host',
    severity: 'error-global',
    message: /not a FERRY base URL/,
  },
  {
    name: 'bad e-mail sender',
    from: 'from: managed-tokens@example.org',
    to: 'from: managed-tokens',
    keyPath: 'email.from',
    severity: 'warning',
    message: /not an e-mail address, so notification e-mail cannot be sent/,
  },
  {
    name: 'store concurrency of 0 (ours)',
    from: 'concurrency: 4}',
    to: 'concurrency: 0}',
    keyPath: 'workerType.storeAndGetToken.concurrency',
    severity: 'warning',
    message: /not an integer >= 1, so the default 4 is used \(got 0; write e\.g\. 4, or 1 to store/,
  },
  {
    name: 'quoted singleGroup (ours)',
    from: 'singleGroup: false ',
    to: 'singleGroup: "true" ',
    keyPath: 'prometheus.singleGroup',
    severity: 'warning',
    message: /not a boolean, so the default false is used \(got "true"; write true or false/,
  },
  {
    name: 'typo in a role key',
    from: 'keytabPathOverride: /opt/',
    to: 'keytabPathOveride: /opt/',
    keyPath: `${MU2E}.keytabPathOveride`,
    severity: 'warning',
    message: /did you mean "keytabPathOverride"/,
  },
];

describe('broken variants of config.example.yaml report the exact key path and line', () => {
  it.each(VARIANTS)('$name', (variant) => {
    expect(
      EXAMPLE.split(variant.from).length - 1,
      `"${variant.from}" must occur exactly once in the example`,
    ).toBe(1);
    const text = EXAMPLE.replace(variant.from, variant.to);
    const marker = variant.lineHas ?? variant.to.split('\n')[0] ?? variant.to;
    const expectedLine = text.split('\n').findIndex((line) => line.includes(marker.trim())) + 1;
    expect(expectedLine).toBeGreaterThan(0);
    const file = writeIn(tempDir(), 'managedTokens.yml', text);
    const result = checkConfig({ configFile: file, env: {}, cwd: '/', executable: 'both' });
    const label =
      variant.severity === 'warning'
        ? 'warning'
        : variant.severity === 'error-global'
          ? 'error'
          : 'error (service skipped)';
    const matching = result.lines.filter(
      (line) =>
        line.startsWith(`${file}:${expectedLine}:`) &&
        line.includes(`: ${variant.keyPath}: ${label}`),
    );
    expect(matching, result.lines.join('\n')).toHaveLength(1);
    expect(matching[0]).toMatch(variant.message);
    expect(result.exitCode).toBe(variant.severity === 'warning' ? 0 : 1);
  });
});
