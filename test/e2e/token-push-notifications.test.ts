/**
 * token-push notifications end to end (notifications-observability.md 1.6, 2.7, 3, 8; token-push.md 4):
 * bin/token-push run as mtuser against the test world, with a real SMTP receiver, an HTTP receiver
 * standing in for the Slack webhook, and ONE sqlite file carried over consecutive runs so that the
 * error-count threshold (`errorCountToSendMessage`) is exercised through the database.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorld,
  type Node,
  type World,
  tokenPushArgv,
  writeTokenPushConfig,
  type TokenPushService,
  oneScheddAds,
} from '../../src/testenv/index.js';
import { freePort } from '../../src/testenv/proc.js';
import type { ReceivedMail } from '../../src/testenv/smtp.js';

/** Webhook paths are secrets: only scheme and host may ever appear in a log line. */
const SLACK_OK_PATH = '/services/T0OKTEAM/B0OKHOOK/okSecretPathPart';
const SLACK_500_PATH = '/services/T0BADTEAM/B0BADHOOK/failingSecretPathPart';
const ADMIN = 'admin@example.com';
const FROM = 'managed-tokens@example.com';
/** A principal absent from every keytab: kinit fails fast, a setup error (N2) for the service. */
const UNKNOWN_PRINCIPAL = 'nosuchaccount/managedtokens/mtworld.test@MT.TEST';

let world: World;

beforeAll(async () => {
  world = await createWorld({
    nodes: 2,
    services: [
      { name: 'dune_production', account: 'dunepro' },
      { name: 'mu2e_production', account: 'mu2epro' },
    ],
    doubles: oneScheddAds(),
    receivers: {
      smtp: true,
      http: {
        routes: {
          [SLACK_OK_PATH]: { status: 200, body: 'ok' },
          [SLACK_500_PATH]: { status: 500, body: 'internal_error' },
        },
      },
    },
  });
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

function receivers() {
  const { smtp, http } = world;
  if (!smtp || !http) throw new Error('world lacks the SMTP or HTTP receiver');
  return { smtp, http };
}

function nodePair(): { down: Node; healthy: Node } {
  const [healthy, down] = world.nodes;
  if (!healthy || !down) throw new Error('world has fewer than 2 nodes');
  return { down, healthy };
}

interface ErrorCounts {
  /** service name → setup_errors.count */
  readonly setup: Record<string, number>;
  /** "service@node" → push_errors.count */
  readonly push: Record<string, number>;
}

/** The error-count tables, read from the sqlite file with a raw read-only connection. */
function readErrorCounts(dbFile: string): ErrorCounts {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const setupRows = db
      .prepare(
        'SELECT s.name AS service, e.count AS count FROM setup_errors e JOIN services s ON s.id = e.service_id',
      )
      .all() as { service: string; count: number }[];
    const pushRows = db
      .prepare(
        `SELECT s.name AS service, n.name AS node, e.count AS count FROM push_errors e
         JOIN services s ON s.id = e.service_id JOIN nodes n ON n.id = e.node_id`,
      )
      .all() as { service: string; node: string; count: number }[];
    return {
      setup: Object.fromEntries(setupRows.map((r) => [r.service, r.count])),
      push: Object.fromEntries(pushRows.map((r) => [`${r.service}@${r.node}`, r.count])),
    };
  } finally {
    db.close();
  }
}

const closedPort = (): Promise<number> => freePort('127.0.0.1');

/** What one run delivered: the emails and Slack posts that arrived while it ran. */
interface Delivered {
  readonly mails: readonly ReceivedMail[];
  readonly slack: readonly string[];
}

async function runOnce(configFile: string, slackPath: string): Promise<Delivered> {
  const { smtp, http } = receivers();
  const mailsBefore = smtp.messages.length;
  const slackBefore = http.requestsTo(slackPath).length;
  const result = await world.run(tokenPushArgv(configFile), { timeoutMs: 180_000 });
  expect(result.code, result.stderr).toBe(0);
  expect(world.doubles.violations()).toEqual([]);
  // the SMTP receiver records a message before acknowledging its DATA, and token-push delivers
  // before exiting, so everything this run sent is already recorded
  return {
    mails: smtp.messages.slice(mailsBefore),
    slack: http
      .requestsTo(slackPath)
      .slice(slackBefore)
      .map((r) => r.json<{ text: string }>().text),
  };
}

describe('error-count threshold over consecutive runs, one database file', () => {
  it('errorCountToSendMessage 3: runs 1-2 silent (counts 1, 2), run 3 sends once and resets to 0; quiet runs keep/reset counts to 0 and send nothing', async () => {
    const { smtp, http } = receivers();
    const { down, healthy } = nodePair();
    const dune: TokenPushService = {
      experiment: 'dune',
      role: 'production',
      account: 'dunepro',
      uid: 7101,
    };
    const mu2eBroken: TokenPushService = {
      experiment: 'mu2e',
      role: 'production',
      account: 'mu2epro',
      uid: 7102,
      extra: { userPrincipalOverride: UNKNOWN_PRINCIPAL },
    };
    // fixed, and served by the healthy node only, so the down node does not touch its counts
    const mu2eFixed: TokenPushService = {
      ...mu2eBroken,
      extra: { destinationNodes: [healthy.name] },
    };
    const top = {
      disableNotifications: false,
      errorCountToSendMessage: 3,
      email: { from: FROM, smtpHost: smtp.host, smtpPort: smtp.port },
      notifications: { admin_email: ADMIN, slack_alerts_url: `${http.url}${SLACK_OK_PATH}` },
    };
    const configure = (mu2e: TokenPushService) =>
      writeTokenPushConfig(world, [dune, mu2e], { name: 'threshold', top });
    const DUNE_DOWN = `dune_production@${down.name}`;

    // runs 1-3: the down node gives dune a ping setup error and a push error each run (N5, N7);
    // mu2e's kinit fails each run (N2)
    const cfg = configure(mu2eBroken);
    await down.down();
    try {
      for (const expected of [1, 2]) {
        const run = await runOnce(cfg.file, SLACK_OK_PATH);
        expect(run.mails, `run ${expected}: no email below the threshold`).toEqual([]);
        expect(run.slack, `run ${expected}: no Slack below the threshold`).toEqual([]);
        expect(readErrorCounts(cfg.dbFile)).toEqual({
          setup: { dune_production: expected, mu2e_production: expected },
          push: { [DUNE_DOWN]: expected },
        });
      }

      const third = await runOnce(cfg.file, SLACK_OK_PATH);
      expect(readErrorCounts(cfg.dbFile)).toEqual({
        setup: { dune_production: 0, mu2e_production: 0 },
        push: { [DUNE_DOWN]: 0 },
      });
      // exactly one stakeholder email (dune's; mu2e had setup errors only) and one admin email
      expect(third.mails.map((m) => m.to)).toEqual(
        expect.arrayContaining([['dune@example.com'], [ADMIN]]),
      );
      expect(third.mails).toHaveLength(2);
      const stakeholder = third.mails.find((m) => m.to.includes('dune@example.com'));
      expect(stakeholder?.from).toBe(FROM);
      expect(stakeholder?.subject).toMatch(/^Managed Tokens Push Errors for dune_production - \S/);
      expect(stakeholder?.text).toContain('NODE');
      expect(stakeholder?.text).toContain(down.name);
      expect(stakeholder?.text).not.toContain(healthy.name);
      expect(stakeholder?.text).not.toContain('Could not ping');
      expect(stakeholder?.text).not.toContain('kerberos');

      const admin = third.mails.find((m) => m.to.includes(ADMIN));
      expect(admin?.subject).toMatch(/^Managed Tokens Errors \S/);
      const adminText = admin?.text ?? '';
      expect(adminText).toContain('while performing operation token-push:');
      expect(adminText).toContain(`dune_production\nSetup errors:`);
      expect(adminText).toContain(`Could not ping the following nodes: ${down.name}`);
      expect(adminText).toContain(`  ${down.name} | Error pushing vault`);
      expect(adminText).toContain(`mu2e_production\nSetup errors:`);
      expect(adminText).toContain('Could not obtain and verify kerberos ticket');
      expect(adminText.indexOf('dune_production')).toBeLessThan(
        adminText.indexOf('mu2e_production'),
      );

      expect(third.slack).toHaveLength(1);
      const slack = third.slack[0] ?? '';
      expect(slack).toContain(
        `    • dune_production: Could not ping the following nodes: ${down.name}`,
      );
      expect(slack).toContain(
        `    • ${DUNE_DOWN}: Error pushing vault tokens to destination node ${down.name}`,
      );
      expect(slack).toContain('    • mu2e_production: Could not obtain and verify kerberos ticket');
    } finally {
      await down.heal();
    }

    // run 4: the node is back, mu2e still fails once → nothing sent; dune's rows stay 0, mu2e at 1
    const fourth = await runOnce(cfg.file, SLACK_OK_PATH);
    expect(fourth.mails).toEqual([]);
    expect(fourth.slack).toEqual([]);
    expect(readErrorCounts(cfg.dbFile)).toEqual({
      setup: { dune_production: 0, mu2e_production: 1 },
      push: { [DUNE_DOWN]: 0 },
    });

    // run 5: mu2e fixed (its streak of 1 is reset), the node fails once more (dune at 1)
    configure(mu2eFixed);
    await down.down();
    try {
      const fifth = await runOnce(cfg.file, SLACK_OK_PATH);
      expect(fifth.mails).toEqual([]);
      expect(fifth.slack).toEqual([]);
      expect(readErrorCounts(cfg.dbFile)).toEqual({
        setup: { dune_production: 1, mu2e_production: 0 },
        push: { [DUNE_DOWN]: 1 },
      });
    } finally {
      await down.heal();
    }

    // run 6: everything succeeds → dune's non-zero counts are reset, nothing sent
    const sixth = await runOnce(cfg.file, SLACK_OK_PATH);
    expect(sixth.mails).toEqual([]);
    expect(sixth.slack).toEqual([]);
    expect(readErrorCounts(cfg.dbFile)).toEqual({
      setup: { dune_production: 0, mu2e_production: 0 },
      push: { [DUNE_DOWN]: 0 },
    });
    expect(readFileSync(cfg.logFile, 'utf8')).toContain(
      'Successes: dune_production, mu2e_production',
    );
  });
});

describe('delivery failures', () => {
  it('SMTP down and Slack answering 500: the run exits 0 and logs each delivery failure, never the webhook path', async () => {
    const { http } = receivers();
    const { down } = nodePair();
    const smtpPort = await closedPort();
    const services: TokenPushService[] = [
      { experiment: 'dune', role: 'production', account: 'dunepro', uid: 7201 },
      {
        experiment: 'mu2e',
        role: 'production',
        account: 'mu2epro',
        uid: 7202,
        extra: { userPrincipalOverride: UNKNOWN_PRINCIPAL },
      },
    ];
    const cfg = writeTokenPushConfig(world, services, {
      name: 'delivery-down',
      top: {
        disableNotifications: false,
        errorCountToSendMessage: 0,
        email: { from: FROM, smtpHost: '127.0.0.1', smtpPort },
        notifications: { admin_email: ADMIN, slack_alerts_url: `${http.url}${SLACK_500_PATH}` },
      },
    });
    await down.down();
    let delivered: Delivered;
    try {
      delivered = await runOnce(cfg.file, SLACK_500_PATH);
    } finally {
      await down.heal();
    }
    // one Slack attempt, no retry; nothing reached the (unrelated) SMTP receiver
    expect(delivered.slack).toHaveLength(1);
    expect(delivered.mails).toEqual([]);

    const log = readFileSync(cfg.logFile, 'utf8');
    const debug = readFileSync(cfg.logFile.replace('.log', '.debug.log'), 'utf8');
    const errorLines = log.split('\n').filter((l) => l.includes('level=error'));
    const has = (needle: string) => errorLines.filter((l) => l.includes(needle));
    // email: the admin email and dune's stakeholder email each fail once, at the closed port
    expect(has('Error sending email').length).toBe(2);
    for (const l of has('Error sending email')) expect(l).toContain(`127.0.0.1:${smtpPort}`);
    expect(
      has('Error sending email')
        .map((l) => /recipient=(\S+)/.exec(l)?.[1])
        .sort(),
    ).toEqual([ADMIN, 'dune@example.com']);
    expect(has('Failed to send admin email')).toHaveLength(1);
    expect(has('Error sending service email')).toHaveLength(1);
    // Slack: the 500 with its status and body, the URL reduced to scheme and host
    const slackLines = has('could not send slack message');
    expect(slackLines).toHaveLength(1);
    expect(slackLines[0]).toMatch(/response status"?=500/);
    expect(slackLines[0]).toContain('internal_error');
    expect(slackLines[0]).toContain(http.url);
    expect(has('Failed to send slack message')).toHaveLength(1);
    expect(has('Error sending admin notifications')).toHaveLength(1);
    // the run itself is reported as usual
    expect(log).toContain('Failures: dune_production, mu2e_production');
    for (const text of [log, debug, delivered.slack.join('\n')]) {
      expect(text).not.toContain('failingSecretPathPart');
      expect(text).not.toContain('/services/T0BADTEAM');
    }
  });
});
