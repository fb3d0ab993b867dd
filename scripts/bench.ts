/**
 * Timing goals of the project, measured on this machine (never asserted in tests):
 *   - start-up: `token-push --version` and `--list-services` on a 500-service config (< 300 ms),
 *     and proof that neither loads prom-client, OpenTelemetry, sqlite or nodemailer;
 *   - refresh-uids-from-ferry: 2,000 accounts against the fake FERRY over mutual TLS (< 10 s);
 *   - token-push: 3 services x 3 nodes against the local world (real KDC, sshd, rsync).
 * Run with `npm run bench` (as root: the executables run as the unprivileged test user).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createWorld,
  tokenPushArgv,
  writeTokenPushConfig,
  oneScheddAds,
  worldServices,
} from '../src/testenv/index.js';
import { benchRefresh } from '../src/testenv/ferry/bench.js';
import { ensureUser, runAs } from '../src/testenv/user.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function report(name: string, value: string, goal?: string): void {
  console.log(`${name.padEnd(66)} ${value.padStart(12)}${goal ? `   (goal ${goal})` : ''}`);
}

/** A directory of trivially present HTCondor/htgettoken stand-ins: only the start-up check sees them. */
function stubPrograms(dir: string): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  for (const name of ['condor_vault_storer', 'condor_store_cred', 'condor_status', 'htgettoken']) {
    const file = path.join(bin, name);
    writeFileSync(file, '#!/bin/sh\nexit 0\n', { flag: 'w', mode: 0o755 });
  }
  return bin;
}

function serviceConfig(services: number): string {
  const lines = ['experiments:'];
  for (let i = 0; i < services; i++) {
    lines.push(`  exp${i}:`, `    emails: [ops${i}@example.org]`, '    roles:');
    lines.push(
      '      production:',
      `        account: acct${i}`,
      `        destinationNodes: [node${i % 50}.example.org]`,
    );
  }
  return lines.join('\n') + '\n';
}

async function timeRuns(argv: string[], env: Record<string, string>): Promise<{ ms: number }> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const res = await runAs(argv, { env });
    samples.push(performance.now() - start);
    if (res.code !== 0) throw new Error(`${argv.join(' ')} exited ${res.code}: ${res.stderr}`);
  }
  return { ms: median(samples) };
}

async function heavyModulesLoaded(argv: string[], env: Record<string, string>): Promise<string[]> {
  // These packages are CommonJS, so even an ESM import of them lands in require.cache:
  // a preload lists, at exit, which of them the run loaded.
  const dir = mkdtempSync(path.join(tmpdir(), 'mt-bench-rec-'));
  const recorder = path.join(dir, 'rec.cjs');
  writeFileSync(
    recorder,
    `const heavy = /node_modules\\/(prom-client|@opentelemetry|better-sqlite3|nodemailer|undici)\\//;\n` +
      `process.on('exit', () => { const seen = new Set(); for (const k of Object.keys(require.cache)) { const m = heavy.exec(k); if (m) seen.add(m[1]); } process.stderr.write('LOADED:' + [...seen].join(',') + '\\n'); });\n`,
  );
  chmodSync(dir, 0o755);
  chmodSync(recorder, 0o644);
  const res = await runAs(argv, { env: { ...env, NODE_OPTIONS: `--require ${recorder}` } });
  rmSync(dir, { recursive: true, force: true });
  const line = res.stderr.split('\n').find((l) => l.startsWith('LOADED:'));
  if (line === undefined)
    throw new Error(`module recorder printed nothing: ${res.stderr.slice(-500)}`);
  return line.slice('LOADED:'.length).split(',').filter(Boolean);
}

async function benchStartup(): Promise<void> {
  const user = ensureUser();
  const dir = mkdtempSync(path.join(tmpdir(), 'mt-bench-'));
  chmodSync(dir, 0o755);
  try {
    const bin = stubPrograms(dir);
    const cfg = path.join(dir, 'managedTokens.yml');
    writeFileSync(cfg, serviceConfig(500), { mode: 0o644 });
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: user.home, USER: user.name };
    const tp = path.join(ROOT, 'bin', 'token-push');
    const node = await timeRuns([process.execPath, '-e', '0'], env);
    report('node -e 0 (baseline, median)', `${node.ms.toFixed(0)} ms`);
    const version = await timeRuns([process.execPath, tp, '--version'], env);
    report('token-push --version (median)', `${version.ms.toFixed(0)} ms`);
    const list = await timeRuns([process.execPath, tp, '-c', cfg, '--list-services'], env);
    report(
      'token-push --list-services, 500 services (median)',
      `${list.ms.toFixed(0)} ms`,
      '< 300 ms',
    );
    for (const args of [['--version'], ['-c', cfg, '--list-services']]) {
      const loaded = await heavyModulesLoaded([process.execPath, tp, ...args], env);
      report(
        `heavy modules loaded by ${args.at(-1)}`,
        loaded.length ? loaded.join(',') : 'none',
        'none',
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchTokenPush(): Promise<void> {
  const services = [
    { experiment: 'dune', role: 'production', account: 'dunepro', uid: 5001 },
    { experiment: 'mu2e', role: 'production', account: 'mu2epro', uid: 5002 },
    { experiment: 'nova', role: 'production', account: 'novapro', uid: 5003 },
  ];
  const start = performance.now();
  const world = await createWorld({
    nodes: 3,
    services: worldServices(services),
    doubles: oneScheddAds(),
  });
  report(
    'local world up (KDC, 3 sshd nodes, doubles)',
    `${(performance.now() - start).toFixed(0)} ms`,
  );
  try {
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const cfg = writeTokenPushConfig(world, services, { name: `bench-${i}` });
      const t0 = performance.now();
      const res = await world.run(tokenPushArgv(cfg.file), { timeoutMs: 120_000 });
      samples.push(performance.now() - t0);
      if (res.code !== 0)
        throw new Error(`token-push exited ${res.code}: ${res.stderr.slice(-2000)}`);
    }
    report('token-push 3 services x 3 nodes (median of 3)', `${median(samples).toFixed(0)} ms`);
  } finally {
    await world.stop();
  }
}

async function main(): Promise<void> {
  await benchStartup();
  // Without latency the client's TLS handshakes dominate; with 50 ms per answer (closer to a
  // remote FERRY) the bounded concurrency is what keeps the run short.
  for (const delayMs of [0, 50]) {
    const refresh = await benchRefresh({ accounts: 2000, delayMs });
    if (refresh.exitCode !== 0 || refresh.rows !== 2000)
      throw new Error(`refresh bench failed: ${JSON.stringify(refresh)}`);
    report(
      `refresh-uids-from-ferry, 2,000 accounts, FERRY answers in ${delayMs} ms`,
      `${refresh.seconds.toFixed(2)} s`,
      '< 10 s',
    );
    report('  FERRY requests in flight at most', String(refresh.maxInFlight));
  }
  await benchTokenPush();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
