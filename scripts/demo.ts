/**
 * The demo behind `npm run demo` (started by scripts/demo.sh after provisioning and building).
 *
 * Starts a local world - a real MIT Kerberos KDC, three real OpenSSH "nodes" with private /tmp, and
 * SIMULATORS for the HTCondor tools and htgettoken - writes a token-push configuration for two
 * experiments, runs the built token-push as the unprivileged account twice (all nodes up, then one
 * node down), shows per service and node what happened and where each token landed, and tears the
 * world down again.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  createWorld,
  decodeVaultToken,
  tokenPushArgv,
  writeTokenPushConfig,
  type TokenPushConfigFiles,
  type World,
  worldServices,
} from '../src/testenv/index.js';

const COLLECTOR = 'collector.demo.test';
const SCHEDD = 'schedd1.demo.test';
const SERVICES = [
  { experiment: 'dune', role: 'production', account: 'dunepro', uid: 5001 },
  { experiment: 'mu2e', role: 'production', account: 'mu2epro', uid: 5002 },
] as const;

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string): string => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string): string => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The demo's configuration: its own host names, operator addresses and a 20 s push timeout. */
function writeConfig(world: World, name: string, uidOffset: number): TokenPushConfigFiles {
  return writeTokenPushConfig(
    world,
    SERVICES.map((s) => ({ ...s, uid: s.uid + uidOffset })),
    {
      name,
      vaultServer: 'vault.demo.test',
      collector: COLLECTOR,
      emails: (experiment) => [`${experiment}-operators@example.com`],
      timeouts: { pushTimeout: '20s' },
      ...(world.pushgateway ? { prometheusHost: world.pushgateway.url } : {}),
    },
  );
}

function shortToken(content: string | undefined): string {
  if (content === undefined) return '-';
  const token = content.trim();
  const decoded = decodeVaultToken(token);
  return `${token.slice(0, 10)}… (issued for ${decoded?.tag ?? 'unknown'})`;
}

async function runTokenPush(
  world: World,
  title: string,
  configFile: string,
  logDir: string,
  uidOffset: number,
): Promise<void> {
  say();
  say(bold(`== ${title}`));
  const argv = tokenPushArgv(configFile);
  say(
    `$ ${['token-push', '-c', configFile].join(' ')}    (as ${world.runUser.name}, uid ${world.runUser.uid})`,
  );
  const started = Date.now();
  const result = await world.run(argv, { timeoutMs: 150_000 });
  say(`exit status ${result.code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const log = readFileSync(path.join(logDir, 'token-push.log'), 'utf8');
  const line = (prefix: string): string =>
    log.split('\n').find((l) => l.includes(`msg="${prefix}`) || l.includes(`msg=${prefix}`)) ?? '';
  const listed = (prefix: string): string =>
    /msg="?[A-Za-z]+: ([^"]*)"?/.exec(line(prefix))?.[1] ?? '';
  say(`Successes: ${green(listed('Successes') || '(none)')}`);
  say(`Failures:  ${red(listed('Failures') || '(none)')}`);
  say();
  say(bold("Per service and node (read back from each node's /tmp):"));
  for (const s of SERVICES) {
    const realName = `${s.experiment}_${s.role}`;
    const uid = s.uid + uidOffset;
    say(`  ${bold(realName)}  (account ${s.account}, token files for uid ${uid})`);
    for (const node of world.nodes) {
      const files = [`vt_u${uid}`, `vt_u${uid}-${realName}`, `default_role_${s.experiment}_${uid}`];
      const present = files.filter((f) => node.readTmp(f) !== undefined);
      const ok = present.length === files.length;
      const status = ok ? green('OK    ') : red('FAILED');
      say(`    ${status} ${node.name}`);
      for (const f of files) {
        const content = node.readTmp(f);
        const mode = node.modeOf(f);
        const shown = f.startsWith('default_role')
          ? JSON.stringify(content ?? '')
          : shortToken(content);
        say(
          `           /tmp/${f}  ${content === undefined ? red('missing') : `mode ${mode?.toString(8).padStart(4, '0')}  ${shown}`}`,
        );
      }
    }
  }
  const field = (l: string, key: string): string | undefined =>
    new RegExp(`(?:^| )${key}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(l)?.[1]?.replace(/^"|"$/g, '');
  const summary = log.split('\n').filter((l) => l.includes('Push summary:'));
  if (summary.length > 0) {
    say();
    say(bold("token-push's own summary:"));
    for (const l of summary) say(`  ${field(l, 'msg')?.replace('Push summary: ', '') ?? l}`);
  }
  const errors = log
    .split('\n')
    .filter((l) => l.includes('level=error') && !l.includes('no tracing url configured'));
  if (errors.length > 0) {
    say();
    say(bold('Errors token-push logged:'));
    for (const l of errors.slice(0, 12)) {
      const where = [field(l, 'service'), field(l, 'node')].filter(Boolean).join(' ');
      say(`  ${where ? `[${where}] ` : ''}${field(l, 'msg') ?? l}`);
    }
  }
  // The world directory is removed at the end; keep the logs in the repository's .tmp/.
  const kept = path.resolve('.tmp', 'demo', path.basename(logDir));
  mkdirSync(kept, { recursive: true });
  for (const f of ['token-push.log', 'token-push.debug.log', 'managedTokens.yml']) {
    try {
      copyFileSync(path.join(logDir, f), path.join(kept, f));
    } catch {
      // a missing file is shown by its absence
    }
  }
  say(`Logs and config kept in ${kept}/ (token-push.log, token-push.debug.log, managedTokens.yml)`);
}

/** What a dashboard would see after the last run: a few series from the real pushgateway. */
async function showMetrics(world: World): Promise<void> {
  if (!world.pushgateway) return;
  say();
  say(
    `Metrics on the pushgateway (${world.pushgateway.url}, real prometheus-pushgateway), last run:`,
  );
  const samples = await world.pushgateway.samples('managed_tokens_');
  const wanted = [
    'managed_tokens_failed_services_push_count',
    'managed_tokens_run_exit_code',
    'managed_tokens_last_node_push_success_timestamp',
    'managed_tokens_failed_token_push_count',
  ];
  for (const sample of samples.filter((x) => wanted.includes(x.name))) {
    const labels = Object.entries(sample.labels)
      .filter(([k]) => !['job', 'instance', 'executable'].includes(k))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const value = sample.name.endsWith('_timestamp')
      ? new Date(sample.value * 1000).toISOString()
      : String(sample.value);
    say(
      `  ${sample.name.replace('managed_tokens_', '')}${labels ? ` {${labels}}` : ''} = ${value}`,
    );
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  say(bold('managed-tokens demo: token-push end to end on this machine'));
  say('REAL components : MIT Kerberos KDC + kinit/klist, OpenSSH sshd nodes (GSSAPI), rsync, ping');
  say(
    'SIMULATORS      : condor_status, condor_config_val, condor_vault_storer, condor_store_cred, htgettoken',
  );
  say(
    "                  (test doubles that follow the real tools' contracts; no real HTCondor or Vault is contacted)",
  );
  const world = await createWorld({
    nodes: 3,
    services: worldServices(SERVICES),
    doubles: { statusAds: { [COLLECTOR]: [{ MyType: 'Scheduler', Name: SCHEDD }] } },
    receivers: { pushgateway: true },
  });
  const stop = async (): Promise<void> => {
    await world
      .stop()
      .catch((err: Error) => process.stderr.write(`demo: cleanup: ${err.message}\n`));
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    say(
      `World ${world.id} ready in ${((Date.now() - started) / 1000).toFixed(1)} s: KDC realm ${world.realm}, nodes ${world.nodes.map((n) => n.name).join(', ')}`,
    );

    const healthy = writeConfig(world, 'run1', 0);
    say(
      `Config for experiments ${SERVICES.map((s) => s.experiment).join(' and ')}: ${healthy.file}`,
    );
    await runTokenPush(world, 'Run 1: all three nodes up', healthy.file, healthy.dir, 0);

    const down = world.nodes[2];
    if (down) {
      await down.down();
      // Other destination UIDs, so the table shows only what run 2 delivered.
      const second = writeConfig(world, 'run2', 1000);
      say();
      say(`Taking ${down.name} down (sshd stopped, address unreachable)`);
      await runTokenPush(
        world,
        `Run 2: ${down.name} down - only its pushes fail, the other nodes are served`,
        second.file,
        second.dir,
        1000,
      );
    }
    await showMetrics(world);
    say();
    say(`Vault tokens token-push keeps on this host (serviceCreddVaultTokenPathRoot, mode 0600):`);
    for (const f of readdirSync(healthy.tokenRoot).sort()) {
      const mode = statSync(path.join(healthy.tokenRoot, f)).mode & 0o777;
      say(`  ${path.join(healthy.tokenRoot, f)}  mode ${mode.toString(8).padStart(4, '0')}`);
    }
    say(bold(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s; cleaning up.`));
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
