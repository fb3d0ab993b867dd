/**
 * refresh-uids-from-ferry admin notifications end to end (ferry-and-db.md 1.4,
 * notifications-observability.md 1.4, 2.7, 3, 8 checks 17, 18, 27): the built executable as the
 * unprivileged user against the fake FERRY, with the SMTP receiver and a Slack webhook stand-in.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as B from '../../src/testenv/ferry/behaviors.js';
import { freePort } from '../../src/testenv/proc.js';
import { createRefreshWorld, readLog, type RefreshWorld } from '../internal/refresh/harness.js';

/** A webhook path is a secret: only scheme and host may appear in the logs. */
const SLACK_PATH = '/services/T0REFRESH/B0REFRESH/refreshSecretPathPart';
const ADMIN = 'admin@example.com';
const FAILURE = 'Could not get FERRY UID data for user mu2epro';

let w: RefreshWorld;
beforeAll(async () => {
  w = await createRefreshWorld();
}, 120_000);
afterAll(async () => {
  await w?.close();
});
beforeEach(async () => {
  await w.reset();
  w.slack.setRoute(SLACK_PATH, { status: 200, body: 'ok' });
});

const closedPort = (): Promise<number> => freePort('127.0.0.1');

function slackTexts(): string[] {
  return w.slack.requestsTo(SLACK_PATH).map((r) => r.json<{ text: string }>().text);
}

describe('refresh-uids-from-ferry delivery failures', () => {
  it('SMTP down, Slack 500, one FERRY account failing: exit 0, good rows stored, both delivery failures logged without the webhook path', async () => {
    w.ferry.setUser('mu2epro', B.ferryFailure(['No such user']));
    w.slack.setRoute(SLACK_PATH, { status: 500, body: 'internal_error' });
    const smtpPort = await closedPort();
    const mailsBefore = w.smtp.messages.length;
    const config = w.writeConfig({
      email: { from: 'managed-tokens@example.com', smtpHost: '127.0.0.1', smtpPort },
      notifications: { admin_email: ADMIN, slack_alerts_url: `${w.slack.url}${SLACK_PATH}` },
    });
    const r = await w.run(['-c', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({ dunepro: 10001, sbndpro: 10003 });

    // the Slack message was attempted once (no retry) and carried the failure
    const slack = slackTexts();
    expect(slack).toHaveLength(1);
    expect(slack[0]).toContain(`refresh-uids-from-ferry: ${FAILURE}`);
    expect(w.smtp.messages.length).toBe(mailsBefore);

    const log = readLog(w.logFile);
    const errorLines = log.split('\n').filter((l) => l.includes('level=error'));
    const has = (needle: string) => errorLines.filter((l) => l.includes(needle));
    const emailLines = has('Error sending email');
    expect(emailLines).toHaveLength(1);
    expect(emailLines[0]).toContain(`127.0.0.1:${smtpPort}`);
    expect(emailLines[0]).toContain(`recipient=${ADMIN}`);
    expect(has('Failed to send admin email')).toHaveLength(1);
    const slackLines = has('could not send slack message');
    expect(slackLines).toHaveLength(1);
    expect(slackLines[0]).toMatch(/response status"?=500/);
    expect(slackLines[0]).toContain('internal_error');
    expect(slackLines[0]).toContain(w.slack.url);
    expect(has('Failed to send slack message')).toHaveLength(1);
    expect(has('Error sending admin notifications')).toHaveLength(1);
    for (const text of [log, readLog(w.debugFile), r.stdout, r.stderr]) {
      expect(text).not.toContain('refreshSecretPathPart');
      expect(text).not.toContain('/services/T0REFRESH');
    }
  });
});

describe('refresh-uids-from-ferry has no threshold', () => {
  it('errorCountToSendMessage 3 is ignored: the same FERRY failure is sent on every run, nothing is counted in the DB', async () => {
    w.ferry.setUser('mu2epro', B.ferryFailure(['No such user']));
    const config = w.writeConfig({
      errorCountToSendMessage: 3,
      notifications: { admin_email: ADMIN, slack_alerts_url: `${w.slack.url}${SLACK_PATH}` },
    });
    for (const run of [1, 2]) {
      const mailsBefore = w.smtp.messages.length;
      const r = await w.run(['-c', config]);
      expect(r.code, r.stderr).toBe(0);
      const mails = w.smtp.messages.slice(mailsBefore);
      expect(
        mails.map((m) => m.to),
        `run ${run}`,
      ).toEqual([[ADMIN]]);
      expect(mails[0]?.subject).toMatch(/^Managed Tokens Errors \S/);
      expect(mails[0]?.text).toContain(FAILURE);
      expect(slackTexts()).toHaveLength(run);
      expect(slackTexts()[run - 1]).toContain(`refresh-uids-from-ferry: ${FAILURE}`);
    }
    const db = new Database(w.dbPath, { readonly: true, fileMustExist: true });
    try {
      for (const table of ['setup_errors', 'push_errors', 'services'])
        expect(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get(), `${table} rows`).toEqual({
          n: 0,
        });
    } finally {
      db.close();
    }
    expect(w.uids()).toEqual({ dunepro: 10001, sbndpro: 10003 });
  });
});
