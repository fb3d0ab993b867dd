/**
 * Keys of ours that the original does not know (it ignores unknown keys): prometheus.singleGroup
 * (README decision 9) and workerType.storeAndGetToken.concurrency (decision 7). Also the notification
 * routing carried by skipped services.
 */
import { describe, expect, it } from 'vitest';
import { BASE, experiments, load, only, warnings } from './helpers.js';

const CONCURRENCY_PATH = 'workerType.storeAndGetToken.concurrency';

function findingsAt(config: ReturnType<typeof load>, keyPath: string) {
  return config.findings.filter((finding) => finding.keyPath === keyPath);
}

describe('prometheus.singleGroup', () => {
  it('defaults to false', () => {
    const config = load(BASE + experiments());
    expect(config.global.prometheus.singleGroup).toBe(false);
  });

  it.each([true, false])('%s is read without any finding (a known key)', (value) => {
    const config = load(
      BASE + `prometheus:\n  host: http://pgw:9091\n  singleGroup: ${value}\n` + experiments(),
    );
    expect(config.global.prometheus.singleGroup).toBe(value);
    expect(config.findings.filter((f) => f.keyPath.startsWith('prometheus'))).toEqual([]);
  });

  it('is a known key in any spelling and in JSON files', () => {
    const config = load(
      JSON.stringify({
        keytabPath: '/opt/keytabs',
        condorCollectorHost: 'c1',
        email: { from: 'admin@example.org', smtpHost: 'localhost', smtpPort: 25 },
        prometheus: { SingleGroup: true },
        experiments: {
          dune: {
            emails: ['ops@example.org'],
            roles: { production: { account: 'a', destinationNodes: ['n1'] } },
          },
        },
      }),
      {},
      'managedTokens.json',
    );
    expect(config.global.prometheus.singleGroup).toBe(true);
    expect(config.findings.filter((f) => f.keyPath.startsWith('prometheus'))).toEqual([]);
  });

  it.each([
    ['"true"', '"true"'],
    ['1', '1'],
    ['[true]', 'a list'],
  ])('%s is not a boolean: warning naming what to write, default false', (value, got) => {
    const config = load(BASE + `prometheus:\n  singleGroup: ${value}\n` + experiments());
    expect(config.global.prometheus.singleGroup).toBe(false);
    expect(config.hasGlobalErrors).toBe(false);
    const finding = only(findingsAt(config, 'prometheus.singleGroup'));
    expect(finding.severity).toBe('warning');
    expect(finding.message).toBe(
      `not a boolean, so the default false is used (got ${got}; write true or false, without quotes)`,
    );
    expect(finding.pos.line).toBe(BASE.split('\n').length + 1);
  });
});

describe('workerType.storeAndGetToken.concurrency', () => {
  it('defaults to 4, also when workerType or the worker is missing', () => {
    expect(load(BASE + experiments()).storeConcurrency).toBe(4);
    const config = load(
      BASE + 'workerType:\n  storeAndGetToken: {numRetries: 1, retrySleep: "1s"}\n' + experiments(),
    );
    expect(config.storeConcurrency).toBe(4);
    expect(config.retries.storeAndGetToken).toEqual({ numRetries: 1, retrySleepMs: 1000 });
  });

  it.each([1, 2, 16])('%i is read without any finding (a known key)', (value) => {
    const config = load(
      BASE +
        `workerType:\n  storeAndGetToken:\n    concurrency: ${value}\n    numRetries: 1\n    retrySleep: "1s"\n` +
        experiments(),
    );
    expect(config.storeConcurrency).toBe(value);
    expect(config.retries.storeAndGetToken).toEqual({ numRetries: 1, retrySleepMs: 1000 });
    expect(warnings(config).filter((f) => f.keyPath.startsWith('workerType'))).toEqual([]);
  });

  it.each([
    ['0', '0'],
    ['-2', '-2'],
    ['2.5', '2.5'],
    ['"4"', '"4"'],
    ['true', 'true'],
    ['[4]', 'a list'],
  ])('%s: warning saying what was expected, default 4', (value, got) => {
    const config = load(
      BASE + `workerType:\n  storeAndGetToken: {concurrency: ${value}}\n` + experiments(),
    );
    expect(config.storeConcurrency).toBe(4);
    expect(config.hasGlobalErrors).toBe(false);
    const finding = only(findingsAt(config, CONCURRENCY_PATH));
    expect(finding.severity).toBe('warning');
    expect(finding.message).toBe(
      `not an integer >= 1, so the default 4 is used (got ${got}; write e.g. 4, or 1 to store one service at a time as the original did)`,
    );
  });

  it('is read even when the retry policy beside it is refused', () => {
    const config = load(
      BASE +
        'workerType:\n  storeAndGetToken: {numRetries: 1000, retrySleep: "1h", concurrency: 1}\n' +
        experiments(),
    );
    // the retries do not fit the stage timeout: the policy is refused (warning), concurrency still read
    expect(config.retries.storeAndGetToken).toEqual({ numRetries: 0, retrySleepMs: 0 });
    expect(findingsAt(config, 'workerType.storeAndGetToken')[0]?.message).toMatch(
      /runs without retries/,
    );
    expect(config.storeConcurrency).toBe(1);
  });

  it('under another worker type it is ignored with a warning saying where it belongs', () => {
    const config = load(BASE + 'workerType:\n  pushTokens: {concurrency: 2}\n' + experiments());
    expect(config.storeConcurrency).toBe(4);
    expect(only(findingsAt(config, 'workerType.pushTokens.concurrency')).message).toBe(
      'only read under workerType.storeAndGetToken; ignored here',
    );
  });

  it('refresh-uids-from-ferry resolves it without reporting on it (not its key)', () => {
    const config = load(
      BASE + 'workerType:\n  storeAndGetToken: {concurrency: 0}\n' + experiments(),
      { executable: 'refresh-uids-from-ferry' },
    );
    expect(config.storeConcurrency).toBe(4);
    expect(findingsAt(config, CONCURRENCY_PATH)).toEqual([]);
  });
});

describe('skipped services carry their notification routing', () => {
  const broken = 'account: myaccount\n        destinationNodes: []';

  it('emails of the experiment and the global disable setting', () => {
    for (const disabled of [false, true]) {
      const config = load(BASE + `disableNotifications: ${disabled}\n` + experiments(broken));
      expect(config.services).toEqual([]);
      const skipped = only(config.skippedServices);
      expect(skipped.name.configName).toBe('dune_production');
      expect(skipped.emails).toEqual(['ops@example.org']);
      expect(skipped.notificationsDisabled).toBe(disabled);
      expect(skipped.findings.map((f) => f.keyPath)).toEqual([
        'experiments.dune.roles.production.destinationNodes',
      ]);
    }
  });

  it("the role's disableNotificationsOverride wins over the global value, as for a resolved service", () => {
    const config = load(
      BASE +
        'disableNotifications: false\n' +
        experiments(`${broken}\n        disableNotificationsOverride: true`),
    );
    expect(only(config.skippedServices).notificationsDisabled).toBe(true);
    const enabled = load(
      BASE +
        'disableNotifications: true\n' +
        experiments(`${broken}\n        disableNotificationsOverride: false`),
    );
    expect(only(enabled.skippedServices).notificationsDisabled).toBe(false);
  });

  it('a role that is not a mapping: experiment emails, global setting', () => {
    const config = load(
      BASE +
        'experiments:\n  dune:\n    emails: [a@example.org, b@example.org]\n    roles:\n      production: oops\n',
    );
    expect(only(config.skippedServices)).toMatchObject({
      emails: ['a@example.org', 'b@example.org'],
      notificationsDisabled: false,
    });
  });

  it('no emails configured: an empty list', () => {
    const config = load(
      BASE +
        'experiments:\n  dune:\n    roles:\n      production: {account: a, destinationNodes: []}\n',
    );
    expect(only(config.skippedServices).emails).toEqual([]);
  });
});
