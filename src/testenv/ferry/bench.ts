/**
 * Benchmark: refresh-uids-from-ferry with N accounts against the fake FERRY over mutual TLS
 * (issue 4: 2,000 accounts in under 10 s). Needs root (the executable runs as the test user)
 * and a prior `npm run build`.
 *
 *   node dist/src/testenv/ferry/bench.js [--accounts 2000] [--concurrency N] [--delay-ms 0]
 *
 * Prints one JSON line: {"accounts":N,"seconds":S,"exitCode":0,"rows":N,"requests":N,"maxInFlight":M}.
 * `seconds` is the wall time of the whole executable (start-up included).
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { ensureUser, runAs } from '../user.js';
import { delay, ok } from './behaviors.js';
import { startFakeFerry } from './server.js';

export interface BenchOptions {
  readonly accounts: number;
  /** MANAGED_TOKENS_FERRY_CONCURRENCY for the run; default: the executable's own default. */
  readonly concurrency?: number;
  /** Simulated FERRY latency per request. */
  readonly delayMs?: number;
  /** Path of bin/refresh-uids-from-ferry; default: found from this file. */
  readonly bin?: string;
}

export interface BenchResult {
  readonly accounts: number;
  readonly seconds: number;
  readonly exitCode: number | null;
  readonly rows: number;
  readonly requests: number;
  readonly maxInFlight: number;
}

function defaultBin(): string {
  // dist/src/testenv/ferry → repo root, or src/testenv/ferry → repo root
  const here = import.meta.dirname;
  const root = here.includes('/dist/') ? resolve(here, '../../../..') : resolve(here, '../../..');
  return join(root, 'bin', 'refresh-uids-from-ferry');
}

export async function benchRefresh(opts: BenchOptions): Promise<BenchResult> {
  const user = ensureUser();
  const dir = mkdtempSync(join(tmpdir(), 'mt-ferry-bench-'));
  chmodSync(dir, 0o755);
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir);
  chownSync(dbDir, user.uid, user.gid);
  const names = Array.from(
    { length: opts.accounts },
    (_, i) => `bench${String(i).padStart(5, '0')}`,
  );
  const uids = Object.fromEntries(names.map((n, i) => [n, 30000 + i]));
  const ferry = await startFakeFerry({ pkiDir: join(dir, 'pki'), uids });
  try {
    if (opts.delayMs)
      for (const n of names) ferry.setUser(n, delay(opts.delayMs, ok(uids[n] ?? 0)));
    const experiments = Object.fromEntries(
      names.map((n) => [n, { roles: { production: { account: n } } }]),
    );
    const dbPath = join(dbDir, 'managed-tokens.db');
    const config = join(dir, 'managedTokens.json');
    writeFileSync(
      config,
      JSON.stringify({
        dbLocation: dbPath,
        disableNotifications: true,
        ferry: {
          host: ferry.url,
          port: ferry.port,
          caPath: ferry.caDir,
          hostCert: ferry.clientCert,
          hostKey: ferry.clientKey,
        },
        experiments,
      }),
    );
    chmodSync(config, 0o644);
    const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: user.home };
    if (opts.concurrency !== undefined)
      env['MANAGED_TOKENS_FERRY_CONCURRENCY'] = String(opts.concurrency);
    const started = performance.now();
    const result = await runAs([process.execPath, opts.bin ?? defaultBin(), '-c', config], {
      env,
      cwd: dir,
      timeoutMs: 120_000,
    });
    const seconds = (performance.now() - started) / 1000;
    let rows = 0;
    try {
      const raw = new Database(dbPath, { readonly: true, fileMustExist: true });
      rows = (raw.prepare('SELECT count(*) AS n FROM uids').get() as { n: number }).n;
      raw.close();
    } catch {
      rows = 0;
    }
    if (result.code !== 0) process.stderr.write(result.stderr.slice(-4000));
    return {
      accounts: opts.accounts,
      seconds: Math.round(seconds * 1000) / 1000,
      exitCode: result.code,
      rows,
      requests: ferry.requests.length,
      maxInFlight: ferry.maxInFlight,
    };
  } finally {
    await ferry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      accounts: { type: 'string', default: '2000' },
      concurrency: { type: 'string' },
      'delay-ms': { type: 'string' },
    },
  });
  const result = await benchRefresh({
    accounts: Number(values.accounts),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values['delay-ms'] ? { delayMs: Number(values['delay-ms']) } : {}),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.exitCode === 0 && result.rows === result.accounts ? 0 : 1);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
