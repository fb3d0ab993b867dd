/**
 * refresh-uids-from-ferry end to end (spec ferry-and-db.md 1.4-1.8, 9): the built executable,
 * run as the unprivileged test user against the fake FERRY over real mutual TLS, with a
 * recording pushgateway, Slack webhook and SMTP server.
 */
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManagedTokensDb } from '../../src/internal/db/index.js';
import * as B from '../../src/testenv/ferry/behaviors.js';
import { parseExposition, type Sample } from '../../src/testenv/pushgateway.js';
import { runAs } from '../../src/testenv/user.js';
import {
  createRefreshWorld,
  readLog,
  SYSTEM_PATH,
  type RefreshWorld,
} from '../internal/refresh/harness.js';

let w: RefreshWorld;
beforeAll(async () => {
  w = await createRefreshWorld();
}, 120_000);
afterAll(async () => {
  await w?.close();
});
beforeEach(async () => {
  await w.reset();
});

/** A v1 file as a previous run would leave it, with extra rows, owned by the test user. */
function seedV1(rows: [string, number][]): void {
  ManagedTokensDb.open(w.dbPath).close();
  const raw = new Database(w.dbPath);
  try {
    const ins = raw.prepare('INSERT INTO uids VALUES (?, ?)');
    for (const [u, id] of rows) ins.run(u, id);
  } finally {
    raw.close();
  }
  chownSync(w.dbPath, w.user.uid, w.user.gid);
}

function pushes(): { path: string; samples: Sample[] }[] {
  return w.pushgateway.requests
    .filter((r) => r.method === 'PUT')
    .map((r) => ({ path: r.path, samples: parseExposition(r.text()) }));
}

function sample(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

function adminSlack(): string {
  return w.slackTexts('/hooks/admin').join('\n');
}

/** Admin emails (to admin@example.com) received after message index `from`. */
async function adminEmailsSince(from: number): Promise<string> {
  const mails = await w.smtp.waitFor(from + 1, 10_000);
  return mails
    .slice(from)
    .filter((m) => m.to.includes('admin@example.com'))
    .map((m) => `${m.subject}\n${m.text}`)
    .join('\n');
}

function logs(): string {
  return readLog(w.debugFile);
}

describe('successful runs', () => {
  it('checks 9, 12, 52: cfg3 with no DB → file created and filled, 3 requests, metrics pushed to the dev job', async () => {
    const cfg = w.writeConfig({ devEnvironmentLabel: 'dev' });
    const before = Math.floor(Date.now() / 1000);
    const r = await w.run(['-c', cfg]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.ferry.requests.map((q) => `${q.method} ${q.path}?${q.rawQuery}`).sort()).toEqual([
      'GET /getUserInfo?username=dunepro',
      'GET /getUserInfo?username=mu2epro',
      'GET /getUserInfo?username=sbndpro',
    ]);
    expect(w.ferry.violations).toEqual([]);
    const raw = new Database(w.dbPath, { readonly: true });
    try {
      expect(raw.pragma('application_id', { simple: true })).toBe(1571300691);
      expect(raw.pragma('user_version', { simple: true })).toBe(1);
      const tables = (
        raw.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as {
          name: string;
        }[]
      ).map((t) => t.name);
      expect(tables).toEqual(['nodes', 'push_errors', 'services', 'setup_errors', 'uids']);
    } finally {
      raw.close();
    }
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });

    const p = pushes();
    expect(p).toHaveLength(1);
    expect(p[0]?.path).toMatch(/^\/metrics\/job\/managed_tokens_dev(\/|$)/);
    const s = p[0]?.samples ?? [];
    for (const stage of ['setup', 'getFERRYData', 'refreshManagedTokensDB']) {
      expect(
        sample(s, 'managed_tokens_stage_duration_seconds', { stage }),
        stage,
      ).toBeGreaterThanOrEqual(0);
    }
    const last = sample(s, 'managed_tokens_last_ferry_refresh') ?? 0;
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(sample(s, 'managed_tokens_ferry_request_duration_seconds_count')).toBe(3);
    expect(sample(s, 'managed_tokens_ferry_request_error_count') ?? 0).toBe(0);
    // no errors → no admin message
    expect(w.slack.requests).toHaveLength(0);
  });

  it('check 10: an account shared by two experiments is queried twice and stored once', async () => {
    const cfg = w.writeConfig({
      experiments: {
        dune: { roles: { production: { account: 'dunepro' } } },
        'dune-2': { roles: { production: { account: 'dunepro' } } },
      },
    });
    const r = await w.run(['-c', cfg]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.ferry.requests.filter((q) => q.username === 'dunepro')).toHaveLength(2);
    expect(w.uids()).toEqual({ dunepro: 10001 });
  });

  it('check 13: a changed uid is updated, unrelated rows are preserved', async () => {
    seedV1([
      ['dunepro', 500],
      ['olduser', 42],
    ]);
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003, olduser: 42 });
  });

  it('check 34: TLS mode ignores HTTPS_PROXY', async () => {
    const r = await w.run(['-c', w.writeConfig()], {
      HTTPS_PROXY: 'http://127.0.0.1:9',
      https_proxy: 'http://127.0.0.1:9',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
  });

  it('check 20: an HTTP 500 with a success body still succeeds', async () => {
    w.ferry.setUser('dunepro', B.status(500, B.ok(10001)));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()?.['dunepro']).toBe(10001);
  });
});

describe('command line (checks 1, 3, 4)', () => {
  it('check 1: --version prints the version line, exit 0, no DB file', async () => {
    const r = await w.run(['--version', '-c', w.writeConfig()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Managed tokens library version \S+, build \S+/);
    expect(w.uids()).toBeUndefined();
    expect(w.ferry.requests).toHaveLength(0);
  });

  it('check 3: a missing config file → the fatal line on stdout, exit 1', async () => {
    const r = await w.run(['-c', '/nonexistent.yml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Fatal error setting up configuration.  Exiting now');
  });

  it('check 4: an unknown flag and --help both exit 2', async () => {
    const bogus = await w.run(['--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stdout + bogus.stderr).toMatch(/bogus/);
    expect((await w.run(['--help'])).code).toBe(2);
  });
});

describe('timeouts', () => {
  it('check 5: ferryRequestTimeout + dbTimeout above globalTimeout → exit 1 before any request', async () => {
    const r = await w.run([
      '-c',
      w.writeConfig({
        timeouts: { globalTimeout: '30s', ferryRequestTimeout: '25s', dbTimeout: '10s' },
      }),
    ]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(w.uids()).toBeUndefined();
  });

  it('check 6: an unparsable ferryRequestTimeout → warning, default kept, run succeeds', async () => {
    const r = await w.run(['-c', w.writeConfig({ timeouts: { ferryRequestTimeout: 'abc' } })]);
    expect(r.code, r.stderr).toBe(0);
    expect(readLog(w.debugFile)).toMatch(/level=warning.*ferryRequestTimeout.*default 30s/);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
  });
});

describe('test mode', () => {
  it('check 14: -t queries FERRY, leaves uids untouched, logs the data, Slack test success, last refresh 0', async () => {
    seedV1([['dunepro', 500]]);
    const before = readFileSync(w.dbPath);
    const r = await w.run(['-c', w.writeConfig(), '-t']);
    expect(r.code, r.stderr).toBe(0);
    expect(w.ferry.requests).toHaveLength(3);
    expect(readFileSync(w.dbPath).equals(before)).toBe(true);
    const log = logs();
    expect(log).toContain('Finished gathering data from FERRY');
    expect(log).toContain('Username: dunepro, Uid: 10001');
    expect(log).toContain('Test mode finished');
    expect(w.slackTexts('/hooks/test').join('\n')).toContain('Test run completed successfully');
    expect(w.slackTexts('/hooks/admin')).toEqual([]);
    const p = pushes();
    expect(p).toHaveLength(1);
    expect(sample(p[0]?.samples ?? [], 'managed_tokens_last_ferry_refresh')).toBe(0);
    expect(
      sample(p[0]?.samples ?? [], 'managed_tokens_stage_duration_seconds', {
        stage: 'refreshManagedTokensDB',
      }),
    ).toBeUndefined();
  });

  it('check 15: -t with no DB file creates and migrates it, with an empty uids table', async () => {
    const r = await w.run(['-c', w.writeConfig(), '--test']);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({});
  });
});

describe('partial and total failures', () => {
  it('check 16: one FERRY failure → the others are stored, its old row stays, exit 0, admin told, error count 1', async () => {
    seedV1([['mu2epro', 777]]);
    w.ferry.setUser('mu2epro', B.ferryFailure(['No such user']));
    const mailsBefore = w.smtp.messages.length;
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 777, sbndpro: 10003 });
    const slack = adminSlack();
    expect(slack).toContain('Could not get FERRY UID data for user mu2epro');
    expect(slack).not.toContain('dunepro');
    expect(await adminEmailsSince(mailsBefore)).toContain(
      'Could not get FERRY UID data for user mu2epro',
    );
    const s = pushes()[0]?.samples ?? [];
    expect(sample(s, 'managed_tokens_ferry_request_error_count')).toBe(1);
    expect(sample(s, 'managed_tokens_ferry_request_duration_seconds_count')).toBe(2);
    // notifications go out before the push (notifications-observability Q2 fix), so their metrics arrive
    expect(
      sample(s, 'managed_tokens_admin_error_email_last_sent_timestamp', {
        notification_type: 'slack_message',
        success: 'true',
      }),
    ).toBeGreaterThan(0);
    expect(sample(s, 'managed_tokens_run_exit_code')).toBe(0);
  });

  it('check 17: FERRY down → exit 1, rows unchanged, 3 per-user errors and "no data", error count 3', async () => {
    seedV1([['dunepro', 500]]);
    await w.ferry.stop();
    try {
      const r = await w.run(['-c', w.writeConfig()]);
      expect(r.code).toBe(1);
    } finally {
      await w.ferry.restart();
    }
    expect(w.uids()).toEqual({ dunepro: 500 });
    const slack = adminSlack();
    for (const a of ['dunepro', 'mu2epro', 'sbndpro'])
      expect(slack).toContain(`Could not get FERRY UID data for user ${a}`);
    expect(slack).toContain('no data collected from FERRY');
    const s = pushes()[0]?.samples ?? [];
    expect(sample(s, 'managed_tokens_ferry_request_error_count')).toBe(3);
    expect(sample(s, 'managed_tokens_ferry_request_duration_seconds_count')).toBe(0);
    expect(sample(s, 'managed_tokens_last_ferry_refresh')).toBe(0);
  });

  it('check 18: all hang with ferryRequestTimeout 1s → exit 1, error count 3', async () => {
    w.ferry.setDefault(B.hang);
    const r = await w.run(['-c', w.writeConfig({ timeouts: { ferryRequestTimeout: '1s' } })]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(3);
    expect(sample(pushes()[0]?.samples ?? [], 'managed_tokens_ferry_request_error_count')).toBe(3);
    expect(logs()).toContain('context deadline exceeded');
  });

  it('check 21 (FIX Q3): an HTML page fails only that account and is counted as an error', async () => {
    w.ferry.setUser('sbndpro', B.raw('<html><body>Service Unavailable</body></html>', 'text/html'));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002 });
    expect(sample(pushes()[0]?.samples ?? [], 'managed_tokens_ferry_request_error_count')).toBe(1);
    expect(adminSlack()).toContain('Could not get FERRY UID data for user sbndpro');
  });

  it('check 23 (FIX Q4): a response without a uid fails that account instead of storing uid 0', async () => {
    w.ferry.setUser('dunepro', B.missingUid);
    w.ferry.setUser('mu2epro', B.raw('{}'));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({ sbndpro: 10003 });
  });

  it('check 27: two accounts with the same uid → the whole upsert fails, nothing stored, exit 1', async () => {
    seedV1([['olduser', 42]]);
    w.ferry.setUser('dunepro', B.ok(5000));
    w.ferry.setUser('mu2epro', B.ok(5000));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(w.uids()).toEqual({ olduser: 42 });
    expect(adminSlack()).toContain('Could not insert FERRY data into database');
    expect(logs()).toContain('UNIQUE constraint failed: uids.uid');
  });

  it('check 28: a stale row holding the uid fails the whole batch', async () => {
    seedV1([['olduser', 5000]]);
    w.ferry.setUser('dunepro', B.ok(5000));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(w.uids()).toEqual({ olduser: 5000 });
    expect(adminSlack()).toContain('Could not insert FERRY data into database');
  });

  it('check 50: a username stored as INTEGER fails verification', async () => {
    seedV1([['12345', 42]]);
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(adminSlack()).toContain('Error running verification of INSERT');
    // the upsert itself was committed
    expect(w.uids()?.['dunepro']).toBe(10001);
  });

  it('check 51: no experiments → exit 1 with 0 requests (the config validation refuses it before the run)', async () => {
    const r = await w.run(['-c', w.writeConfig({ experiments: {} })]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(r.stdout + r.stderr).toContain('experiments');
  });

  it('every account failing FERRY → "no data collected from FERRY" as the last admin error', async () => {
    w.ferry.setDefault(B.ferryFailure(['User does not exist.']));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(3);
    expect(adminSlack()).toContain('no data collected from FERRY');
  });

  it('notifications disabled by flag → nothing sent even on errors, exit code unchanged', async () => {
    w.ferry.setDefault(B.ferryFailure(['User does not exist.']));
    const r = await w.run(['-c', w.writeConfig(), '--disable-notifications']);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(3);
    expect(w.slack.requests).toHaveLength(0);
  });
});

describe('admin recipients and disabled notifications', () => {
  const NO_ADMIN_EMAIL = 'No admin email addresses configured; admin email not sent';
  /** Admin sections without any admin_email: the default applies to production runs only. */
  function configWithoutAdminEmails(): string {
    return w.writeConfig({
      notifications: { slack_alerts_url: `${w.slack.url}/hooks/admin` },
      notifications_test: { slack_alerts_url: `${w.slack.url}/hooks/test` },
    });
  }

  it('config check 51: -t without notifications_test.admin_email → no admin email (warning), Slack still told', async () => {
    w.ferry.setUser('mu2epro', B.ferryFailure(['No such user']));
    const connectionsBefore = w.smtp.connections;
    const r = await w.run(['-c', configWithoutAdminEmails(), '-t']);
    expect(r.code, r.stderr).toBe(0);
    expect(w.slackTexts('/hooks/test').join('\n')).toContain(
      'Could not get FERRY UID data for user mu2epro',
    );
    expect(w.smtp.connections).toBe(connectionsBefore);
    expect(logs()).toContain(NO_ADMIN_EMAIL);
  });

  it('config check 51: without -t the default admin list fife-group@fnal.gov receives the email', async () => {
    w.ferry.setUser('mu2epro', B.ferryFailure(['No such user']));
    const mailsBefore = w.smtp.messages.length;
    const r = await w.run(['-c', configWithoutAdminEmails()]);
    expect(r.code, r.stderr).toBe(0);
    const mails = (await w.smtp.waitFor(mailsBefore + 1, 10_000)).slice(mailsBefore);
    expect(mails.map((m) => m.to)).toEqual([['fife-group@fnal.gov']]);
    expect(mails[0]?.text).toContain('Could not get FERRY UID data for user mu2epro');
    expect(logs()).not.toContain(NO_ADMIN_EMAIL);
  });

  /** A run with a FERRY error while notifications are off: the run is unchanged, nothing is sent. */
  async function expectNothingSent(
    flags: readonly string[],
    patch: Record<string, unknown>,
    by: 'flag' | 'configuration',
  ): Promise<void> {
    w.ferry.setUser('mu2epro', B.ferryFailure(['No such user']));
    const connectionsBefore = w.smtp.connections;
    const r = await w.run(['-c', w.writeConfig(patch), ...flags]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.uids()).toEqual({ dunepro: 10001, sbndpro: 10003 });
    const log = logs();
    expect(log).toContain('Could not get FERRY UID data for user mu2epro');
    expect(log).toContain(`Admin notifications disabled by ${by}`);
    expect(w.smtp.connections).toBe(connectionsBefore);
    expect(w.slack.requests).toHaveLength(0);
    expect(pushes()).toHaveLength(1);
  }

  it('notifications check 20: --dont-notify with a FERRY error → "Admin notifications disabled by flag", no SMTP session, no Slack request', async () => {
    await expectNothingSent(['--dont-notify'], {}, 'flag');
  });

  it('notifications check 20: --disable-notifications with a FERRY error → "Admin notifications disabled by flag", nothing sent', async () => {
    await expectNothingSent(['--disable-notifications'], {}, 'flag');
  });

  it('notifications check 21: disableNotifications: true with a FERRY error → "Admin notifications disabled by configuration", nothing sent', async () => {
    await expectNothingSent([], { disableNotifications: true }, 'configuration');
  });
});

describe('authentication and transport failures', () => {
  it('check 7: --authmethod foo → exit 1, no FERRY request, no admin message, one PUT', async () => {
    const r = await w.run(['-c', w.writeConfig(), '--authmethod', 'foo']);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(w.slack.requests).toHaveLength(0);
    expect(pushes()).toHaveLength(1);
    expect(logs()).toContain('unsupported authentication method to communicate with FERRY');
  });

  it('config check 57: --authmethod JWT (wrong case) → "unsupported authentication method", exit 1, no request', async () => {
    const r = await w.run(['-c', w.writeConfig(), '--authmethod', 'JWT']);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    const log = logs();
    expect(log).toContain('unsupported authentication method to communicate with FERRY');
    expect(log).toContain('authmethod=JWT');
    expect(log).not.toContain('Using JWT to authenticate to FERRY');
  });

  it('check 31: a key that does not match the certificate → all fail, 0 requests, exit 1', async () => {
    const cfg = w.writeConfig({
      ferry: {
        host: w.ferry.url,
        port: w.ferry.port,
        caPath: w.ferry.caDir,
        hostCert: w.ferry.clientCert,
        hostKey: w.ferry.pki.otherKey,
      },
    });
    const r = await w.run(['-c', cfg]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(sample(pushes()[0]?.samples ?? [], 'managed_tokens_ferry_request_error_count')).toBe(3);
  });

  it('check 33: a client certificate from a rogue CA fails the handshake → exit 1, 0 requests', async () => {
    const p = w.ferry.pki;
    const cfg = w.writeConfig({
      ferry: {
        host: w.ferry.url,
        port: w.ferry.port,
        caPath: w.ferry.caDir,
        hostCert: p.rogueClientCert,
        hostKey: p.rogueClientKey,
      },
    });
    const r = await w.run(['-c', cfg]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
  });

  it('check 32 (variant): the rogue CA trusted process-wide (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) is still not trusted by the FERRY client', async () => {
    // a copy the test user can read; an unreadable NODE_EXTRA_CA_CERTS would be ignored and prove nothing
    const rogueCa = join(w.dir, 'system-like-rogue-ca.pem');
    writeFileSync(rogueCa, readFileSync(w.ferry.pki.rogueCaCert), { mode: 0o644 });
    const trustEnvs: Record<string, string>[] = [
      { NODE_EXTRA_CA_CERTS: rogueCa },
      { SSL_CERT_FILE: rogueCa, NODE_OPTIONS: '--use-openssl-ca' },
    ];
    // control: with the rogue server certificate, a plain Node TLS client run as the same user
    // trusts the server exactly when one of these environments is set
    await w.ferry.setTls({ serverCert: 'rogue', clientAuth: 'optional' });
    const probe = `const s=require('node:tls').connect({host:'127.0.0.1',port:${w.ferry.port},servername:'localhost'},()=>{console.log('trusted');s.destroy()});s.on('error',(e)=>console.log('refused '+e.code))`;
    const trust = async (env: Record<string, string>) =>
      (
        await runAs([process.execPath, '-e', probe], { env: { PATH: SYSTEM_PATH, ...env } })
      ).stdout.trim();
    expect(await trust({})).toMatch(/^refused /);
    for (const env of trustEnvs) expect(await trust(env), JSON.stringify(env)).toBe('trusted');

    await w.ferry.setTls({ serverCert: 'rogue', clientAuth: 'require' });
    for (const env of trustEnvs) {
      w.ferry.resetLog();
      const r = await w.run(['-c', w.writeConfig()], env);
      expect(r.code, JSON.stringify(env)).toBe(1);
      expect(w.ferry.requests, JSON.stringify(env)).toHaveLength(0);
      expect(w.uids()).toEqual({});
      expect(adminSlack()).toContain('no data collected from FERRY');
    }
  });

  it('check 35: ferry.host without a scheme → warning, every account fails and is reported, exit 1, no request', async () => {
    const cfg = w.writeConfig({
      ferry: {
        host: 'localhost',
        port: w.ferry.port,
        caPath: w.ferry.caDir,
        hostCert: w.ferry.clientCert,
        hostKey: w.ferry.clientKey,
      },
    });
    const r = await w.run(['-c', cfg]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(logs()).toMatch(/ferry\.host.*every FERRY request will fail/);
    const slack = adminSlack();
    for (const a of ['dunepro', 'mu2epro', 'sbndpro'])
      expect(slack).toContain(`Could not get FERRY UID data for user ${a}`);
    const s = pushes()[0]?.samples ?? [];
    expect(sample(s, 'managed_tokens_ferry_request_error_count')).toBe(3);
    expect(sample(s, 'managed_tokens_last_ferry_refresh')).toBe(0);
  });

  it('an unreadable ferry.hostKey (e.g. after a rotation) is not silent: admin email and Slack, error metrics, exit 1', async () => {
    const mailsBefore = w.smtp.messages.length;
    const cfg = w.writeConfig({
      ferry: {
        host: w.ferry.url,
        port: w.ferry.port,
        caPath: w.ferry.caDir,
        hostCert: w.ferry.clientCert,
        hostKey: join(w.ferry.caDir, 'rotated-away.key'),
      },
    });
    const r = await w.run(['-c', cfg]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(logs()).toMatch(/ferry\.hostKey.*does not exist.*every FERRY request will fail/);
    const mail = await adminEmailsSince(mailsBefore);
    const slack = adminSlack();
    for (const a of ['dunepro', 'mu2epro', 'sbndpro']) {
      expect(mail).toContain(`Could not get FERRY UID data for user ${a}`);
      expect(slack).toContain(`Could not get FERRY UID data for user ${a}`);
    }
    const s = pushes()[0]?.samples ?? [];
    expect(sample(s, 'managed_tokens_ferry_request_error_count')).toBe(3);
    expect(sample(s, 'managed_tokens_last_ferry_refresh')).toBe(0);
  });

  it('check 53: pushgateway unreachable → no PUT, exit code unaffected', async () => {
    const r = await w.run(['-c', w.writeConfig({ prometheus: { host: 'http://127.0.0.1:9' } })]);
    expect(r.code, r.stderr).toBe(0);
    expect(w.pushgateway.requests).toHaveLength(0);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
  });

  it('check 2: as root → exit 1, no FERRY request, no DB file', async () => {
    const { runAs } = await import('../../src/testenv/user.js');
    const { BIN, SYSTEM_PATH } = await import('../internal/refresh/harness.js');
    const r = await runAs([process.execPath, BIN, '-c', w.writeConfig()], {
      user: 'root',
      env: { PATH: SYSTEM_PATH },
    });
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(w.uids()).toBeUndefined();
  });
});
