/**
 * End-to-end harness for refresh-uids-from-ferry: the fake FERRY over mutual TLS, a recording
 * pushgateway and Slack webhook (HTTP receivers), a real SMTP server, a config in a temp dir,
 * and the built executable run as the unprivileged test user.
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import { startSmtpServer, type SmtpServerHandle } from '../../../src/testenv/smtp.js';
import { ensureUser, runAs, type RunResult, type UnixUser } from '../../../src/testenv/user.js';
import { startFakeFerry, type FakeFerry } from '../../../src/testenv/ferry/server.js';

export const REPO = resolve(import.meta.dirname, '../../..');
export const BIN = join(REPO, 'bin', 'refresh-uids-from-ferry');
export const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

export interface RefreshWorld {
  readonly dir: string;
  readonly dbDir: string;
  readonly dbPath: string;
  readonly logFile: string;
  readonly debugFile: string;
  readonly ferry: FakeFerry;
  readonly pushgateway: HttpReceiver;
  readonly slack: HttpReceiver;
  readonly smtp: SmtpServerHandle;
  readonly user: UnixUser;
  /** A config with the cfg3 accounts; `patch` is merged over the top level (objects shallowly per key). */
  writeConfig(patch?: Record<string, unknown>, name?: string): string;
  run(args: readonly string[], env?: Record<string, string>): Promise<RunResult>;
  /** uids table as {username: uid}, read with a raw connection (undefined when the file is absent). */
  uids(path?: string): Record<string, unknown> | undefined;
  /** Bodies of the admin Slack posts to the given hook path. */
  slackTexts(path: string): string[];
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const CFG3_EXPERIMENTS = {
  dune: { roles: { production: { account: 'dunepro' } } },
  mu2e: { roles: { production: { account: 'mu2epro' } } },
  sbnd: { roles: { production: { account: 'sbndpro' } } },
};

export async function createRefreshWorld(): Promise<RefreshWorld> {
  const user = ensureUser();
  const dir = mkdtempSync(join(tmpdir(), 'mt-refresh-e2e-'));
  chmodSync(dir, 0o755);
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir);
  chownSync(dbDir, user.uid, user.gid);
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  chownSync(logDir, user.uid, user.gid);
  const ferry = await startFakeFerry({ pkiDir: join(dir, 'pki') });
  const pushgateway = await startHttpReceiver();
  const slack = await startHttpReceiver({ fallback: { status: 200, body: 'ok' } });
  const smtp = await startSmtpServer();
  const dbPath = join(dbDir, 'managed-tokens.db');
  const logFile = join(logDir, 'refresh.log');
  const debugFile = join(logDir, 'refresh-debug.log');
  let configCount = 0;

  const world: RefreshWorld = {
    dir,
    dbDir,
    dbPath,
    logFile,
    debugFile,
    ferry,
    pushgateway,
    slack,
    smtp,
    user,
    writeConfig(patch = {}, name) {
      const base: Record<string, unknown> = {
        dbLocation: dbPath,
        ferry: {
          host: ferry.url,
          port: ferry.port,
          caPath: ferry.caDir,
          hostCert: ferry.clientCert,
          hostKey: ferry.clientKey,
        },
        experiments: CFG3_EXPERIMENTS,
        notifications: {
          admin_email: 'admin@example.com',
          slack_alerts_url: `${slack.url}/hooks/admin`,
        },
        notifications_test: {
          admin_email: 'admin-test@example.com',
          slack_alerts_url: `${slack.url}/hooks/test`,
        },
        email: { from: 'managed-tokens@example.com', smtpHost: '127.0.0.1', smtpPort: smtp.port },
        prometheus: { host: pushgateway.url, jobname: 'managed_tokens' },
        logs: { 'refresh-uids-from-ferry': { logfile: logFile, debugfile: debugFile } },
      };
      const config = { ...base, ...patch };
      const path = join(dir, name ?? `managedTokens-${++configCount}.json`);
      writeFileSync(path, JSON.stringify(config, null, 2));
      chmodSync(path, 0o644);
      return path;
    },
    run(args, env = {}) {
      return runAs([process.execPath, BIN, ...args], {
        env: { PATH: SYSTEM_PATH, HOME: user.home, ...env },
        cwd: dir,
        timeoutMs: 60_000,
      });
    },
    uids(path = dbPath) {
      if (!existsSync(path)) return undefined;
      const raw = new Database(path, { readonly: true, fileMustExist: true });
      try {
        const rows = raw.prepare('SELECT username, uid FROM uids ORDER BY username').all() as {
          username: unknown;
          uid: unknown;
        }[];
        return Object.fromEntries(rows.map((r) => [String(r.username), r.uid]));
      } finally {
        raw.close();
      }
    },
    slackTexts(path) {
      return slack.requestsTo(path).map((r) => r.text());
    },
    async reset() {
      await ferry.setTls({ serverCert: 'good', clientAuth: 'require' });
      ferry.setAuth('cert');
      ferry.resetBehaviors();
      ferry.resetLog();
      pushgateway.clear();
      slack.clear();
      for (const f of [dbPath, `${dbPath}-journal`, logFile, debugFile]) rmSync(f, { force: true });
    },
    async close() {
      await Promise.allSettled([ferry.stop(), pushgateway.close(), slack.close(), smtp.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

export function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
