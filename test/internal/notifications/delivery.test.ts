/**
 * Acceptance checks of notifications-observability.md section 8 concerning notifications, against
 * a real SMTP server (smtp-server) and a recording HTTP server standing in for Slack.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAndValidate } from '../../../src/internal/config/index.js';
import { ManagedTokensDb } from '../../../src/internal/db/index.js';
import {
  adminTargetsFromConfig,
  createRefreshNotifications,
  createTokenPushNotifications,
  emailSettingsFromConfig,
  pushError,
  resolveTokenPushGating,
  setupError,
  type ErrorCountStore,
  type ServiceNotificationTarget,
  type TokenPushNotificationOptions,
} from '../../../src/internal/notifications/index.js';
import { REDACTED } from '../../../src/internal/logging/index.js';
import { renderPushTable } from '../../../src/internal/notifications/table.js';
import { startSmtpServer, type SmtpServerHandle } from '../../../src/testenv/smtp.js';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import { memoryLog, recordingMetrics, recordingTracing } from './helpers.js';

const SLACK_PATH = '/services/T000/B000/very-secret-token';
const TEST_SLACK_PATH = '/services/T000/B000/test-secret-token';
const NOW = new Date('2024-11-26T10:16:00Z');
const TS = '26 Nov 24 04:16 CST';
const FROM = 'managed-tokens@example.org';
const DUNE = 'dune_production';
const MU2E = 'mu2e_production';
const NODE1_ERROR =
  'Error pushing vault tokens to destination node node1: rsync command failed: exit status 12';

let smtp: SmtpServerHandle;
let slack: HttpReceiver;
let dir: string;

beforeEach(async () => {
  smtp = await startSmtpServer();
  slack = await startHttpReceiver({ fallback: { status: 200, body: 'ok' } });
  dir = mkdtempSync(join(tmpdir(), 'mt-notif-'));
});

afterEach(async () => {
  await smtp.stop();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function services(
  overrides: Partial<Record<string, Partial<ServiceNotificationTarget>>> = {},
): ServiceNotificationTarget[] {
  return [
    { configName: DUNE, emails: ['d@x.org'], blocked: false, ...overrides[DUNE] },
    { configName: MU2E, emails: ['m@x.org'], blocked: false, ...overrides[MU2E] },
  ];
}

function tokenPush(partial: Partial<TokenPushNotificationOptions> = {}) {
  const log = memoryLog();
  const metrics = recordingMetrics();
  const notifications = createTokenPushNotifications({
    log,
    metrics,
    errorCountToSendMessage: 3,
    testMode: false,
    email: { from: FROM, smtpHost: smtp.host, smtpPort: smtp.port },
    admin: { emails: ['admin1@x.org', 'admin2@x.org'], slackUrl: slack.url + SLACK_PATH },
    services: services(),
    executable: 'token-push',
    now: () => NOW,
    timeZone: 'America/Chicago',
    deliveryTimeoutMs: 20_000,
    ...partial,
  });
  return { ...notifications, log, metrics };
}

function openDb(): ManagedTokensDb {
  const db = ManagedTokensDb.open(join(dir, 'uid.db'));
  db.updateServices([DUNE, MU2E, 'dune-2_production']);
  db.updateNodes(['node1', 'node2']);
  return db;
}

function pushCount(db: ManagedTokensDb, service: string, node: string): number | undefined {
  try {
    return db.getPushErrorsInfoByService(service).find((r) => r.node === node)?.count;
  } catch {
    return undefined;
  }
}

function slackTexts(path = SLACK_PATH): string[] {
  return slack.requestsTo(path).map((r) => r.json<{ text: string }>().text);
}

function allLogText(log: ReturnType<typeof memoryLog>): string {
  return JSON.stringify(log.entries);
}

describe('nothing failed', () => {
  it('non-test: no SMTP session and no Slack request (check 1)', async () => {
    const run = tokenPush();
    const report = await run.finish();
    expect(report).toEqual({ adminEmail: 'skipped', adminSlack: 'skipped', serviceEmails: {} });
    expect(smtp.connections).toBe(0);
    expect(slack.requests).toHaveLength(0);
  });

  it('test mode: exactly one Slack POST "Test run completed successfully" to the test URL, no email (check 2)', async () => {
    const run = tokenPush({
      testMode: true,
      admin: { emails: ['t@x.org'], slackUrl: slack.url + TEST_SLACK_PATH },
    });
    const report = await run.finish();
    expect(report.adminSlack).toBe('sent');
    expect(slack.requests).toHaveLength(1);
    const request = slack.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(TEST_SLACK_PATH);
    expect(request.json()).toEqual({ text: 'Test run completed successfully' });
    expect(smtp.connections).toBe(0);
  });
});

describe('threshold over consecutive runs with the real database', () => {
  it('fail, fail, fail -> one stakeholder email + admin email + Slack; a quiet run resets (checks 3-6)', async () => {
    const db = openDb();
    try {
      const failingRun = async () => {
        const run = tokenPush({ db });
        run.sink.send(pushError(DUNE, 'node1', NODE1_ERROR));
        return { report: await run.finish(), metrics: run.metrics };
      };
      const run1 = await failingRun();
      expect(run1.report).toEqual({
        adminEmail: 'skipped',
        adminSlack: 'skipped',
        serviceEmails: {},
      });
      expect(pushCount(db, DUNE, 'node1')).toBe(1);
      expect(run1.metrics.calls).toContainEqual(['pushErrorCount', DUNE, 'node1', 1]);

      const run2 = await failingRun();
      expect(run2.report.adminEmail).toBe('skipped');
      expect(pushCount(db, DUNE, 'node1')).toBe(2);
      expect(smtp.connections).toBe(0);
      expect(slack.requests).toHaveLength(0);

      const run3 = await failingRun();
      expect(run3.report).toEqual({
        adminEmail: 'sent',
        adminSlack: 'sent',
        serviceEmails: { [DUNE]: 'sent' },
      });
      expect(pushCount(db, DUNE, 'node1')).toBe(0);
      expect(run3.metrics.calls).toContainEqual(['pushErrorCount', DUNE, 'node1', 0]);
      const mails = await smtp.waitFor(2);
      expect(mails).toHaveLength(2);
      const stakeholder = mails.find((m) => m.to.includes('d@x.org'))!;
      expect(stakeholder.to).toEqual(['d@x.org']);
      expect(stakeholder.subject).toBe(`Managed Tokens Push Errors for ${DUNE} - ${TS}`);
      const adminMail = mails.find((m) => m.to.includes('admin1@x.org'))!;
      expect(adminMail.to).toEqual(['admin1@x.org', 'admin2@x.org']);
      expect(adminMail.envelopeTo).toEqual(['admin1@x.org', 'admin2@x.org']);
      expect(slack.requests).toHaveLength(1);

      // Run 4 succeeds: the zero stays, no gauge is set for node1.
      const run4 = tokenPush({ db });
      await run4.finish();
      expect(pushCount(db, DUNE, 'node1')).toBe(0);
      expect(run4.metrics.calls.filter((c) => c[0] === 'pushErrorCount')).toEqual([]);

      // A count of 2 followed by a successful run becomes 0 (check 6).
      await failingRun();
      await failingRun();
      expect(pushCount(db, DUNE, 'node1')).toBe(2);
      await tokenPush({ db }).finish();
      expect(pushCount(db, DUNE, 'node1')).toBe(0);
      expect(smtp.messages).toHaveLength(2);
    } finally {
      db.close();
    }
  });

  it('kerberos failures of mu2e: runs 1-2 silent, run 3 admin email with its setup error, no stakeholder email (check 7)', async () => {
    const db = openDb();
    try {
      for (let i = 1; i <= 3; i++) {
        const run = tokenPush({ db });
        run.sink.send(setupError(MU2E, 'Timeout error'));
        const report = await run.finish();
        expect(report.adminEmail).toBe(i < 3 ? 'skipped' : 'sent');
        expect(report.serviceEmails).toEqual({});
      }
      const [mail] = await smtp.waitFor(1);
      expect(smtp.messages).toHaveLength(1);
      expect(mail!.to).not.toContain('m@x.org');
      expect(mail!.text).toContain(`\n${MU2E}\nSetup errors:\n\nTimeout error\n`);
      expect(db.getSetupErrorsInfoByService(MU2E).count).toBe(0);
    } finally {
      db.close();
    }
  });

  it('threshold 1: the first-ever push error on a new node is sent (FIX of Q6; the original needed a second run, check 9)', async () => {
    const db = openDb();
    try {
      const run = tokenPush({ db, errorCountToSendMessage: 1 });
      run.sink.send(
        pushError(DUNE, 'node2', 'Error pushing vault tokens to destination node node2: boom'),
      );
      expect((await run.finish()).serviceEmails).toEqual({ [DUNE]: 'sent' });
      expect(pushCount(db, DUNE, 'node2')).toBe(0);
      await smtp.waitFor(2);
    } finally {
      db.close();
    }
  });

  it('test mode never writes error counts (FIX Q7)', async () => {
    const db = openDb();
    try {
      db.updatePushErrorsTable([{ service: DUNE, node: 'node1', count: 2 }]);
      const run = tokenPush({ db, testMode: true });
      run.sink.send(setupError(DUNE, 'Could not obtain and verify kerberos ticket'));
      await run.finish();
      expect(pushCount(db, DUNE, 'node1')).toBe(2);
      expect(() => db.getSetupErrorsInfoByService(DUNE)).toThrow('no rows');
    } finally {
      db.close();
    }
  });
});

describe('message content', () => {
  it('threshold 0: a setup error is sent on its first occurrence (check 8)', async () => {
    const run = tokenPush({ errorCountToSendMessage: 0, db: undefined });
    run.sink.send(setupError(DUNE, 'Could not obtain and verify kerberos ticket'));
    expect((await run.finish()).adminEmail).toBe('sent');
    await smtp.waitFor(1);
  });

  it('subjects, From, To, body layout, push table, Slack payload (checks 10, 11, 13-16)', async () => {
    const db = openDb();
    try {
      db.updatePushErrorsTable([{ service: DUNE, node: 'node1', count: 2 }]);
      db.updateSetupErrorsTable([{ service: DUNE, count: 2 }]);
      const run = tokenPush({ db });
      run.sink.send(setupError(DUNE, 'Could not ping the following nodes: node1'));
      run.sink.send(
        pushError(
          DUNE,
          'node1',
          'Error pushing vault tokens to destination node node1: (timeout error)',
        ),
      );
      run.sink.send(setupError(MU2E, 'Timeout error')); // first mu2e error: suppressed
      await run.finish();
      const mails = await smtp.waitFor(2);
      const admin = mails.find((m) => m.subject.startsWith('Managed Tokens Errors'))!;
      const stakeholder = mails.find((m) => m.subject.startsWith('Managed Tokens Push Errors'))!;

      expect(admin.subject).toBe(`Managed Tokens Errors ${TS}`);
      expect(admin.from).toBe(FROM);
      expect(admin.envelopeFrom).toBe(FROM);
      expect(admin.heloName).toBe('localhost');
      expect(admin.headers.get('content-type')).toContain('text/plain; charset=utf-8');
      expect(admin.headers.get('content-transfer-encoding')).toContain('quoted-printable');
      expect(admin.headers.get('mime-version')).toContain('1.0');
      expect(admin.headers.has('date')).toBe(true);
      const lines = admin.text.split('\n');
      expect(lines[0]).toBe(
        `The following errors were reported by the Managed Tokens service at ${TS} while performing operation token-push:`,
      );
      expect(admin.text).toContain(
        '\ndune_production\nSetup errors:\n\nCould not ping the following nodes: node1\n',
      );
      expect(admin.text).toContain(
        'Processing errors:\nThe following is a list of nodes on which all vault tokens were not refreshed',
      );
      expect(admin.text).not.toContain(MU2E);

      expect(stakeholder.subject).toBe(`Managed Tokens Push Errors for dune_production - ${TS}`);
      expect(stakeholder.to).toEqual(['d@x.org']);
      const textLines = stakeholder.text.split('\n');
      const headerIndex = textLines.findIndex((l) => l.includes('NODE') && l.includes('ERROR'));
      const tableLines = textLines.slice(headerIndex, textLines.indexOf('', headerIndex));
      const [header, separator, ...rows] = tableLines;
      expect(header).toMatch(/^ +NODE +\| +ERROR +$/);
      expect(separator).toMatch(/^-+\+-+$/);
      expect(rows.join('\n')).toMatch(/node1 +\| Error pushing vault/);
      expect(rows.length).toBeGreaterThan(1);
      expect(rows.every((r) => r.length === separator!.length)).toBe(true);
      expect(stakeholder.text).toMatch(/\(timeout +\n +\| error\)|\(timeout error\)/);
      expect(stakeholder.text).not.toContain('Could not ping');
      expect(stakeholder.text).toContain(
        renderPushTable(
          new Map([
            ['node1', 'Error pushing vault tokens to destination node node1: (timeout error)'],
          ]),
        ),
      );

      expect(slack.requests).toHaveLength(1);
      const post = slack.requests[0]!;
      expect(post.headers['content-type']).toBe('application/json');
      const payload = post.json<Record<string, unknown>>();
      expect(Object.keys(payload)).toEqual(['text']);
      const text = payload['text'] as string;
      expect(text).toContain(
        '\nSetup errors:\n\n    \u2022 dune_production: Could not ping the following nodes: node1\n',
      );
      expect(text).toContain(
        '\nProcessing errors:\n\n    \u2022 dune_production@node1: Error pushing vault tokens to destination node node1: (timeout error)\n',
      );
    } finally {
      db.close();
    }
  });

  it('a token-looking string in an error reaches no email or Slack text (defense in depth, check 44)', async () => {
    const vaultToken = 'hvs.CAESIJ1a2b3c4d5e6f7g8h9i0jKLMNOP';
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkdW5lcHJvIn0.c2lnbmF0dXJlX3BhcnQ';
    const run = tokenPush({ errorCountToSendMessage: 0, db: undefined });
    run.sink.send(setupError(DUNE, `htgettoken failed: stored ${vaultToken}`));
    run.sink.send(pushError(DUNE, 'node1', `rsync failed: Authorization: Bearer ${jwt}`));
    await run.finish();
    const mails = await smtp.waitFor(2);
    const texts = [...mails.flatMap((m) => [m.subject, m.text]), ...slackTexts()];
    expect(slackTexts()).toHaveLength(1);
    for (const text of texts) {
      expect(text).not.toContain(vaultToken);
      expect(text).not.toContain(jwt);
    }
    expect(mails.some((m) => m.text.includes(REDACTED))).toBe(true);
    expect(slackTexts()[0]).toContain(REDACTED);
  });

  it('a service with experimentOverride is addressed by its configName (check 45)', async () => {
    const run = tokenPush({
      errorCountToSendMessage: 0,
      services: [{ configName: 'dune-2_production', emails: ['dune2@x.org'], blocked: false }],
    });
    run.sink.send(
      pushError(
        'dune-2_production',
        'node2',
        'Error pushing vault tokens to destination node node2: boom',
      ),
    );
    await run.finish();
    const mails = await smtp.waitFor(2);
    const stakeholder = mails.find((m) => m.to.includes('dune2@x.org'))!;
    expect(stakeholder.subject).toBe(`Managed Tokens Push Errors for dune-2_production - ${TS}`);
  });
});

describe('from the configuration file', () => {
  function loadConfig(extra: string) {
    const file = join(dir, 'managedTokens.yml');
    writeFileSync(
      file,
      [
        'email:',
        `  from: ${FROM}`,
        `  smtpHost: ${smtp.host}`,
        `  smtpPort: ${smtp.port}`,
        'notifications:',
        `  SLACK_ALERTS_URL: ${slack.url}${SLACK_PATH}`,
        'notifications_test:',
        '  admin_email: [t1@x.org, t2@x.org]',
        `  slack_alerts_url: ${slack.url}${TEST_SLACK_PATH}`,
        extra,
      ].join('\n'),
    );
    return loadAndValidate({ configFile: file, env: {}, cwd: dir, executable: 'token-push' })
      .global;
  }

  it('admin email unset: goes to fife-group@fnal.gov from email.from (checks 11, 12)', async () => {
    const global = loadConfig('');
    const run = tokenPush({
      email: emailSettingsFromConfig(global),
      admin: adminTargetsFromConfig(global, false),
      errorCountToSendMessage: 0,
    });
    run.sink.send(setupError(DUNE, 'boom'));
    await run.finish();
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['fife-group@fnal.gov']);
    expect(mail!.from).toBe(FROM);
    expect(slack.requestsTo(SLACK_PATH)).toHaveLength(1);
  });

  it('test mode uses notifications_test.* (admin list and Slack URL)', async () => {
    const global = loadConfig('');
    const run = tokenPush({
      testMode: true,
      email: emailSettingsFromConfig(global),
      admin: adminTargetsFromConfig(global, true),
      errorCountToSendMessage: 0,
    });
    run.sink.send(setupError(DUNE, 'boom'));
    await run.finish();
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['t1@x.org', 't2@x.org']);
    expect(slack.requestsTo(TEST_SLACK_PATH)).toHaveLength(1);
    expect(slack.requestsTo(SLACK_PATH)).toHaveLength(0);
  });
});

describe('routing and disabling', () => {
  it('a service without emails still reaches the admins (FIX Q5, check 25)', async () => {
    const run = tokenPush({
      errorCountToSendMessage: 0,
      services: services({ [MU2E]: { emails: [] } }),
    });
    expect(run.log.messages('warn').some((m) => m.startsWith('No emails found'))).toBe(true);
    run.sink.send(
      pushError(MU2E, 'node2', 'Error pushing vault tokens to destination node node2: boom'),
    );
    const report = await run.finish();
    expect(report.serviceEmails).toEqual({});
    const [admin] = await smtp.waitFor(1);
    expect(admin!.text).toContain(`\n${MU2E}\n`);
    expect(smtp.messages).toHaveLength(1);
  });

  it('flag or onboarding: nothing sent, DB unchanged (checks 20, 24)', async () => {
    const db = openDb();
    try {
      const gating = resolveTokenPushGating({
        disabledByFlag: true,
        globalDisabled: false,
        services: [{ configName: DUNE, notificationsDisabled: false }],
      });
      expect(gating.adminBlockedBy).toBe('flag');
      const run = tokenPush({ db, admin: 'blocked', errorCountToSendMessage: 0 });
      run.sink.send(setupError(DUNE, 'x'));
      run.sink.send(pushError(DUNE, 'node1', 'y'));
      await run.finish();
      expect(smtp.connections).toBe(0);
      expect(slack.requests).toHaveLength(0);
      expect(pushCount(db, DUNE, 'node1')).toBeUndefined();
      expect(() => db.getSetupErrorsInfo()).toThrow('no rows');
    } finally {
      db.close();
    }
  });

  it('global true, no overrides: admin blocked by configuration (check 21)', () => {
    const gating = resolveTokenPushGating({
      disabledByFlag: false,
      globalDisabled: true,
      services: [
        { configName: DUNE, notificationsDisabled: true },
        { configName: MU2E, notificationsDisabled: true },
      ],
    });
    expect(gating.adminBlockedBy).toBe('configuration');
  });

  it('global true, dune override false: only dune reaches admins and stakeholders (check 22)', async () => {
    const gating = resolveTokenPushGating({
      disabledByFlag: false,
      globalDisabled: true,
      services: [
        { configName: DUNE, notificationsDisabled: false },
        { configName: MU2E, notificationsDisabled: true },
      ],
    });
    expect(gating.adminBlockedBy).toBeUndefined();
    const db = openDb();
    try {
      const run = tokenPush({
        db,
        errorCountToSendMessage: 0,
        services: services({
          [MU2E]: { blocked: gating.blockedServices.has(MU2E) },
          [DUNE]: { blocked: gating.blockedServices.has(DUNE) },
        }),
      });
      run.sink.send(pushError(DUNE, 'node1', 'dune failed'));
      run.sink.send(pushError(MU2E, 'node2', 'mu2e failed'));
      run.sink.send(setupError(MU2E, 'mu2e setup failed'));
      const report = await run.finish();
      expect(report.serviceEmails).toEqual({ [DUNE]: 'sent' });
      const mails = await smtp.waitFor(2);
      expect(mails.flatMap((m) => m.to)).not.toContain('m@x.org');
      const admin = mails.find((m) => m.subject.startsWith('Managed Tokens Errors'))!;
      expect(admin.text).toContain(DUNE);
      expect(admin.text).not.toContain(MU2E);
      // mu2e's counts are untouched (check 23 as well).
      expect(pushCount(db, MU2E, 'node2')).toBeUndefined();
      expect(() => db.getSetupErrorsInfoByService(MU2E)).toThrow('no rows');
    } finally {
      db.close();
    }
  });

  it('executable-level error without a database goes straight to the admins (check 26)', async () => {
    const run = tokenPush({ db: undefined });
    run.sink.send(setupError('token-push', 'Could not open or create ManagedTokensDatabase'));
    run.sink.send(setupError('unknown_service', 'dropped'));
    await run.finish();
    const [admin] = await smtp.waitFor(1);
    expect(admin!.text).toContain(
      '\ntoken-push\nSetup errors:\n\nCould not open or create ManagedTokensDatabase\n',
    );
    expect(admin!.text).not.toContain('dropped');
    expect(slackTexts()[0]).toContain(
      '    \u2022 token-push: Could not open or create ManagedTokensDatabase',
    );
  });

  it('without a database every service notification passes (counting off)', async () => {
    const run = tokenPush({ db: undefined });
    run.sink.send(pushError(DUNE, 'node1', NODE1_ERROR));
    expect((await run.finish()).serviceEmails).toEqual({ [DUNE]: 'sent' });
  });

  it('a failed count read turns counting off for that service only', async () => {
    const failing: ErrorCountStore = {
      getSetupErrorsInfoByService: () => {
        throw new Error('database is locked');
      },
      getPushErrorsInfoByService: () => [],
      updateSetupErrorsTable: () => undefined,
      updatePushErrorsTable: () => undefined,
    };
    const run = tokenPush({ db: failing });
    expect(run.log.messages('error')).toContain(
      'Error setting error counts.  Will not track errors.',
    );
    run.sink.send(setupError(DUNE, 'kerberos'));
    expect((await run.finish()).adminEmail).toBe('sent');
  });
});

describe('refresh-uids-from-ferry', () => {
  it('every run sends the admin email and Slack message, no threshold (check 27)', async () => {
    for (let i = 0; i < 2; i++) {
      const log = memoryLog();
      const run = createRefreshNotifications({
        log,
        testMode: false,
        email: { from: FROM, smtpHost: smtp.host, smtpPort: smtp.port },
        admin: { emails: ['admin@x.org'], slackUrl: slack.url + SLACK_PATH },
        executable: 'refresh-uids-from-ferry',
        now: () => NOW,
        timeZone: 'America/Chicago',
      });
      run.sink.send(
        setupError('refresh-uids-from-ferry', 'Could not get FERRY UID data for user alice'),
      );
      expect(await run.finish()).toEqual({
        adminEmail: 'sent',
        adminSlack: 'sent',
        serviceEmails: {},
      });
    }
    const mails = await smtp.waitFor(2);
    for (const mail of mails) {
      expect(mail.subject).toBe(`Managed Tokens Errors ${TS}`);
      expect(mail.text).toContain('while performing operation refresh-uids-from-ferry:');
    }
    expect(slackTexts()).toHaveLength(2);
    for (const text of slackTexts()) {
      expect(text).toContain(
        '    \u2022 refresh-uids-from-ferry: Could not get FERRY UID data for user alice',
      );
    }
  });

  it('test mode without errors posts the success line only', async () => {
    const run = createRefreshNotifications({
      log: memoryLog(),
      testMode: true,
      email: { from: FROM, smtpHost: smtp.host, smtpPort: smtp.port },
      admin: { emails: [], slackUrl: slack.url + TEST_SLACK_PATH },
      executable: 'refresh-uids-from-ferry',
    });
    await run.finish();
    expect(slackTexts(TEST_SLACK_PATH)).toEqual(['Test run completed successfully']);
    expect(smtp.connections).toBe(0);
  });

  it('blocked: nothing is sent', async () => {
    const run = createRefreshNotifications({
      log: memoryLog(),
      testMode: false,
      email: { from: FROM, smtpHost: smtp.host, smtpPort: smtp.port },
      admin: 'blocked',
      executable: 'refresh-uids-from-ferry',
    });
    run.sink.send(setupError('refresh-uids-from-ferry', 'x'));
    await run.finish();
    expect(smtp.connections).toBe(0);
    expect(slack.requests).toHaveLength(0);
  });
});

describe('failures', () => {
  it('Slack answers 500: logged with status and body, URL redacted, email still sent (check 17, 44)', async () => {
    slack.setRoute(SLACK_PATH, { status: 500, body: 'internal trouble' });
    const run = tokenPush({ errorCountToSendMessage: 0 });
    run.sink.send(setupError(DUNE, 'boom'));
    const report = await run.finish();
    expect(report).toMatchObject({ adminEmail: 'sent', adminSlack: 'failed' });
    const failure = run.log.entries.find((e) => e.msg === 'could not send slack message')!;
    expect(failure.level).toBe('error');
    expect(failure.fields['response status']).toBe(500);
    expect(failure.fields['response body']).toBe('internal trouble');
    expect(failure.fields['url']).toBe(slack.url);
    expect(run.log.messages('error')).toEqual(
      expect.arrayContaining(['Failed to send slack message', 'Error sending admin notifications']),
    );
    expect(allLogText(run.log)).not.toContain('very-secret-token');
    expect(run.metrics.calls).toContainEqual([
      'adminNotificationAttempt',
      'slack_message',
      false,
      expect.any(Number),
    ]);
    expect(run.metrics.calls).toContainEqual([
      'adminNotificationAttempt',
      'email',
      true,
      expect.any(Number),
    ]);
    await smtp.waitFor(1);
  });

  it('spans carry the original names and attributes, the webhook URL redacted', async () => {
    slack.setRoute(SLACK_PATH, { status: 500 });
    const tracing = recordingTracing();
    const run = tokenPush({ errorCountToSendMessage: 0, tracing });
    run.sink.send(pushError(DUNE, 'node1', 'boom'));
    await run.finish();
    const byName = (name: string) => tracing.spans.filter((s) => s.name === name);
    expect(byName('notifications.SendAdminNotifications')).toEqual([
      { name: 'notifications.SendAdminNotifications', attributes: { operation: 'token-push' } },
    ]);
    expect(byName('notifications.sendServiceEmailIfErrors')[0]?.attributes).toEqual({
      service: DUNE,
    });
    const emails = byName('notifications.email.sendMessage');
    expect(emails).toHaveLength(2);
    expect(emails.map((s) => s.attributes['to'])).toEqual(
      expect.arrayContaining([['d@x.org'], ['admin1@x.org', 'admin2@x.org']]),
    );
    expect(emails[0]?.attributes).toMatchObject({
      from: FROM,
      smtpHost: smtp.host,
      smtpPort: smtp.port,
    });
    const slackSpan = byName('notifications.slackMessage.sendMessage')[0]!;
    expect(slackSpan.attributes).toEqual({ url: slack.url, 'response status': 500 });
    expect(slackSpan.error).toBe('could not send slack message');
    expect(JSON.stringify(tracing.spans)).not.toContain('very-secret-token');
  });

  it('Slack answering 204 counts as a failure (only 200 is success)', async () => {
    slack.setRoute(SLACK_PATH, { status: 204 });
    const run = tokenPush({ errorCountToSendMessage: 0 });
    run.sink.send(setupError(DUNE, 'boom'));
    expect((await run.finish()).adminSlack).toBe('failed');
  });

  it('SMTP server drops the connection: one attempt per email, logged, run unaffected (check 18)', async () => {
    const dropped = await startDroppingServer();
    try {
      const run = tokenPush({
        errorCountToSendMessage: 0,
        email: { from: FROM, smtpHost: '127.0.0.1', smtpPort: dropped.port },
      });
      run.sink.send(setupError(DUNE, 'boom'));
      run.sink.send(pushError(DUNE, 'node1', 'push boom'));
      const report = await run.finish();
      expect(report).toEqual({
        adminEmail: 'failed',
        adminSlack: 'sent',
        serviceEmails: { [DUNE]: 'failed' },
      });
      expect(dropped.connections()).toBe(2);
      const errors = run.log.entries.filter((e) => e.level === 'error');
      expect(errors.filter((e) => e.msg.startsWith('Error sending email'))).toHaveLength(2);
      expect(
        errors.find(
          (e) => e.msg.startsWith('Error sending email') && e.fields['recipient'] === 'd@x.org',
        ),
      ).toBeDefined();
      expect(run.log.messages('error')).toEqual(
        expect.arrayContaining([
          'Failed to send admin email',
          'Error sending admin notifications',
          'Error sending service email',
        ]),
      );
      expect(run.metrics.calls).toContainEqual([
        'serviceEmailAttempt',
        DUNE,
        false,
        expect.any(Number),
      ]);
    } finally {
      await dropped.stop();
    }
  });

  it('without email.from nothing is sent and the failure is logged', async () => {
    const run = tokenPush({
      errorCountToSendMessage: 0,
      email: { from: '', smtpHost: smtp.host, smtpPort: smtp.port },
    });
    run.sink.send(setupError(DUNE, 'boom'));
    expect((await run.finish()).adminEmail).toBe('failed');
    expect(run.log.messages('error')).toContain(
      'Error sending email: no sender address (email.from is not set)',
    );
    expect(smtp.messages).toHaveLength(0);
  });

  it('email.smtpPort unset (0): the send fails instead of falling back to a default port', async () => {
    const run = tokenPush({
      errorCountToSendMessage: 0,
      email: { from: FROM, smtpHost: smtp.host, smtpPort: 0 },
    });
    run.sink.send(setupError(DUNE, 'boom'));
    expect((await run.finish()).adminEmail).toBe('failed');
    expect(run.log.messages('error')).toContain(
      'Error sending email: invalid SMTP port 0 (email.smtpPort)',
    );
  });

  it('SMTP server down and Slack answering 500: delivery finishes and logs both failures', async () => {
    const closedPort = await freePort();
    slack.setRoute(SLACK_PATH, { status: 500 });
    const run = tokenPush({
      errorCountToSendMessage: 0,
      email: { from: FROM, smtpHost: '127.0.0.1', smtpPort: closedPort },
    });
    run.sink.send(setupError(DUNE, 'boom'));
    const report = await run.finish();
    expect(report).toMatchObject({ adminEmail: 'failed', adminSlack: 'failed' });
    expect(run.log.messages('error')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Error sending email: .*ECONNREFUSED/),
        'could not send slack message',
        'Failed to send admin email',
        'Failed to send slack message',
        'Error sending admin notifications',
      ]),
    );
  });

  it('a silent SMTP server and a hanging Slack endpoint are cut off by the delivery deadline', async () => {
    const silent = await startSilentServer();
    slack.setRoute(SLACK_PATH, { status: 200, delayMs: 30_000 });
    try {
      const run = tokenPush({
        errorCountToSendMessage: 0,
        deliveryTimeoutMs: 1_500,
        email: { from: FROM, smtpHost: '127.0.0.1', smtpPort: silent.port },
      });
      run.sink.send(setupError(DUNE, 'boom'));
      run.sink.send(pushError(DUNE, 'node1', 'push boom'));
      const report = await run.finish();
      expect(report).toEqual({
        adminEmail: 'failed',
        adminSlack: 'failed',
        serviceEmails: { [DUNE]: 'failed' },
      });
      expect(run.log.messages('error')).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^Error sending email: notification delivery deadline of 1500 ms exceeded/,
          ),
        ]),
      );
      // Later sends are dropped, and finish() is idempotent.
      run.sink.send(setupError(DUNE, 'late'));
      expect(await run.finish()).toBe(report);
    } finally {
      await silent.stop();
    }
  });
});

describe('STARTTLS (check 19)', () => {
  let tlsDir: string;
  let key: string;
  let cert: string;

  beforeEach(() => {
    tlsDir = mkdtempSync(join(tmpdir(), 'mt-notif-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(tlsDir, 'key.pem'),
        '-out',
        join(tlsDir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    key = readFileSync(join(tlsDir, 'key.pem'), 'utf8');
    cert = readFileSync(join(tlsDir, 'cert.pem'), 'utf8');
  });
  afterEach(() => rmSync(tlsDir, { recursive: true, force: true }));

  it('upgrades when the server offers STARTTLS and never authenticates', async () => {
    const tlsSmtp = await startSmtpServer({ tls: { key, cert } });
    try {
      const run = tokenPush({
        errorCountToSendMessage: 0,
        email: { from: FROM, smtpHost: tlsSmtp.host, smtpPort: tlsSmtp.port, tlsCa: cert },
      });
      run.sink.send(setupError(DUNE, 'boom'));
      expect((await run.finish()).adminEmail).toBe('sent');
      const [mail] = await tlsSmtp.waitFor(1);
      expect(mail!.secure).toBe(true);
      expect(tlsSmtp.authAttempts).toBe(0);
    } finally {
      await tlsSmtp.stop();
    }
  });

  it('an unverifiable certificate aborts the send', async () => {
    const tlsSmtp = await startSmtpServer({ tls: { key, cert } });
    try {
      const run = tokenPush({
        errorCountToSendMessage: 0,
        email: { from: FROM, smtpHost: tlsSmtp.host, smtpPort: tlsSmtp.port },
      });
      run.sink.send(setupError(DUNE, 'boom'));
      expect((await run.finish()).adminEmail).toBe('failed');
      expect(tlsSmtp.messages).toHaveLength(0);
      expect(run.log.messages('error').some((m) => m.startsWith('Error sending email'))).toBe(true);
    } finally {
      await tlsSmtp.stop();
    }
  });
});

// ---- tiny TCP servers for failure modes ----

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts and immediately closes every connection. */
async function startDroppingServer() {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  const port = await listen(server);
  return {
    port,
    connections: () => connections,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Accepts connections and never says anything. */
async function startSilentServer() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listen(server);
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
