import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { installDoubles, type DoubleKnobs, type Doubles } from './doubles.js';
import { startFakeFerry, type FakeFerry, type FakeFerryOptions } from './ferry/server.js';
import { startHttpReceiver, type HttpReceiver, type HttpReceiverOptions } from './http-receiver.js';
import { startKdc, type Kdc } from './kdc.js';
import { createPrivateTmpNamespace, type PrivateTmpNamespace } from './namespace.js';
import { startNodes, type Node } from './nodes.js';
import { SYSTEM_PATH, type ProcessId } from './proc.js';
import { ensureAccount, provision } from './provision.js';
import { startPushgateway, type Pushgateway } from './pushgateway.js';
import {
  addBlackhole,
  addHostNames,
  allocateWorld,
  destroyWorldSync,
  removeBlackhole,
  saveRecord,
  trackWorld,
  untrackWorld,
  withAccountsLock,
  type WorldRecord,
} from './registry.js';
import { startSmtpServer, type SmtpServerHandle } from './smtp.js';
import { runAs, type RunAsOptions, type RunResult, type UnixUser } from './user.js';

export interface ServiceSpec {
  /** service name as token-push knows it, e.g. `dune_production` */
  readonly name: string;
  /** destination account on the nodes, e.g. `dunepro` (a real Unix user is created) */
  readonly account: string;
  /** Kerberos principal; default `<account>/managedtokens/mtworld.test@<realm>` */
  readonly principal?: string;
}

export interface WorldOptions {
  /** number of sshd nodes (default 2) */
  readonly nodes?: number;
  /** extra destination accounts besides the services' ones */
  readonly accounts?: readonly string[];
  /** default: dune_production → dunepro */
  readonly services?: readonly ServiceSpec[];
  /** default MT.TEST; use FNAL.GOV to exercise the credkey rule of external-tools.md §2.2 */
  readonly realm?: string;
  readonly doubles?: Partial<DoubleKnobs>;
  /** other engineers' receivers, started only when asked for */
  readonly receivers?: {
    readonly smtp?: boolean;
    readonly pushgateway?: boolean;
    readonly http?: boolean | HttpReceiverOptions;
    readonly ferry?: boolean | Omit<FakeFerryOptions, 'pkiDir'>;
  };
}

export interface WorldService {
  readonly name: string;
  readonly account: string;
  readonly principal: string;
  /** `<keytabDir>/<account>.keytab`, owned by the run user, 0600 */
  readonly keytab: string;
}

export interface World {
  readonly id: string;
  readonly dir: string;
  readonly realm: string;
  /** the unprivileged account the executables run as (mtuser) */
  readonly runUser: UnixUser;
  /**
   * Complete environment for the executables: PATH (doubles first), HOME (per-world, owned by the run
   * user), USER, LOGNAME, KRB5_CONFIG. TMPDIR is deliberately absent (see index.ts).
   */
  readonly env: Readonly<Record<string, string>>;
  /** host directory that is /tmp for processes started with `run()` */
  readonly tmpDir: string;
  readonly kdc: Kdc;
  readonly nodes: readonly Node[];
  readonly doubles: Doubles;
  readonly accounts: Readonly<Record<string, UnixUser>>;
  readonly services: Readonly<Record<string, WorldService>>;
  /** directory with `<account>.keytab` files (config key `keytabPath`) */
  readonly keytabDir: string;
  /** value for config key `kerberosPrincipalPattern` matching the generated principals */
  readonly principalPattern: string;
  readonly knownHostsFile: string;
  /** value for config key `sshOptions` (the run user's ~/.ssh config carries the same settings) */
  readonly sshOptions: string;
  /** a directory owned by the run user for config files, databases, token roots */
  readonly workDir: string;
  readonly smtp?: SmtpServerHandle;
  readonly pushgateway?: Pushgateway;
  readonly http?: HttpReceiver;
  readonly ferry?: FakeFerry;
  /**
   * The argv that runs `argv` as the run user inside the world's private /tmp (nsenter + setpriv; the
   * caller spawns it as root with `env`) — for callers that manage the child themselves (bench, demo).
   */
  wrap(argv: readonly string[]): string[];
  /** Runs argv as the run user inside the world's private /tmp, with `env` unless given. */
  run(argv: readonly string[], opts?: Omit<RunAsOptions, 'user'>): Promise<RunResult>;
  /** Tears everything down; idempotent; usable as `afterAll(world.stop)`. */
  stop(): Promise<void>;
}

const HOST_DOMAIN = 'mtworld.test';

/** Builds a complete world; on any failure everything already started is torn down before rethrowing. */
export async function createWorld(opts: WorldOptions = {}): Promise<World> {
  const runUser = provision();
  const record = await allocateWorld();
  trackWorld(record);
  const closers: Array<() => Promise<void>> = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const errors: string[] = [];
    for (const close of closers.reverse())
      await close().catch((e: Error) => errors.push(e.message));
    try {
      destroyWorldSync(record);
    } catch (e) {
      errors.push((e as Error).message);
    }
    untrackWorld(record);
    if (errors.length) throw new Error(`world ${record.id} stop: ${errors.join('; ')}`);
  };
  try {
    return await buildWorld(opts, record, runUser, closers, stop);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

async function buildWorld(
  opts: WorldOptions,
  record: WorldRecord,
  runUser: UnixUser,
  closers: Array<() => Promise<void>>,
  stop: () => Promise<void>,
): Promise<World> {
  const realm = opts.realm ?? 'MT.TEST';
  const domain = `${record.id}.${HOST_DOMAIN}`;
  const onProcess = (id: ProcessId): void => {
    record.processes.push(id);
    saveRecord(record);
  };
  const onNamespace = (ns: string): void => {
    record.namespaces.push(ns);
    saveRecord(record);
  };
  const specs: readonly ServiceSpec[] = opts.services ?? [
    { name: 'dune_production', account: 'dunepro' },
  ];
  const accountNames = [...new Set([...specs.map((s) => s.account), ...(opts.accounts ?? [])])];

  const dirs = {
    kdc: path.join(record.dir, 'kdc'),
    nodes: path.join(record.dir, 'nodes'),
    doubles: path.join(record.dir, 'doubles'),
    keytabs: path.join(record.dir, 'keytabs'),
    home: path.join(record.dir, 'home'),
    work: path.join(record.dir, 'work'),
    ssh: path.join(record.dir, 'ssh'),
    tmp: path.join(record.dir, 'tmp'),
  };
  for (const d of [dirs.keytabs, dirs.home, dirs.work]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    chownSync(d, runUser.uid, runUser.gid);
  }
  mkdirSync(dirs.ssh, { recursive: true, mode: 0o755 });

  const nodeSpecs = Array.from({ length: opts.nodes ?? 2 }, (_, i) => ({
    name: `node${i + 1}.${domain}`,
    address: `${record.prefix}${11 + i}`,
  }));
  const kdcAddress = `${record.prefix}1`;
  const hostsReady = addHostNames(record, [
    { address: kdcAddress, name: `kdc.${domain}` },
    ...nodeSpecs,
  ]);
  const accountsReady = Promise.all(
    accountNames.map(async (a) => [a, await ensureAccount(a)] as const),
  );
  const [kdc, accountList] = await Promise.all([
    startKdc({ dir: dirs.kdc, address: kdcAddress, realm, hostDomain: HOST_DOMAIN, onProcess }),
    accountsReady,
    hostsReady,
  ]);
  chmodSync(dirs.kdc, 0o755); // krb5.conf must be readable by the run user; the database stays 0600
  closers.push(() => kdc.dispose());

  const services: Record<string, WorldService> = {};
  const logins: Record<string, string[]> = Object.fromEntries(accountNames.map((a) => [a, []]));
  for (const spec of specs) {
    const principal = spec.principal ?? `${spec.account}/managedtokens/${HOST_DOMAIN}@${realm}`;
    const keytab = await kdc.writeKeytab(
      principal,
      path.join(dirs.keytabs, `${spec.account}.keytab`),
      runUser,
    );
    services[spec.name] = { name: spec.name, account: spec.account, principal, keytab };
    logins[spec.account]?.push(principal);
  }

  const [nodes, controller] = await Promise.all([
    startNodes({
      kdc,
      dir: dirs.nodes,
      nodes: nodeSpecs,
      logins,
      blackhole: (address, on) =>
        on ? addBlackhole(record, address) : removeBlackhole(record, address),
      onProcess,
      onNamespace,
    }),
    createPrivateTmpNamespace(dirs.tmp, {
      logFile: path.join(record.dir, 'controller.log'),
      env: { MTWORLD_DIR: record.dir },
      onProcess,
    }),
  ]);
  onNamespace(controller.nsLink);

  const knownHostsFile = path.join(dirs.ssh, 'known_hosts');
  writeFileSync(knownHostsFile, nodes.map((n) => `${n.knownHostsLine}\n`).join(''), {
    mode: 0o644,
  });
  const port = nodes[0]?.port ?? 22;
  await installSshClientConfig(record, runUser, domain, port, knownHostsFile);

  const doubles = installDoubles({ dir: dirs.doubles, runUser, knobs: opts.doubles });
  const env: Record<string, string> = {
    PATH: `${doubles.binDir}:${SYSTEM_PATH}`,
    HOME: dirs.home,
    USER: runUser.name,
    LOGNAME: runUser.name,
    KRB5_CONFIG: kdc.krb5Conf,
    LANG: 'C.UTF-8',
  };

  const receivers = await startReceivers(opts.receivers ?? {}, record.dir, closers);

  const run = (
    argv: readonly string[],
    runOpts: Omit<RunAsOptions, 'user'> = {},
  ): Promise<RunResult> => runInNamespace(controller, runUser, argv, { env, ...runOpts });

  return {
    id: record.id,
    dir: record.dir,
    realm,
    runUser,
    env,
    tmpDir: dirs.tmp,
    kdc,
    nodes,
    doubles,
    accounts: Object.fromEntries(accountList),
    services,
    keytabDir: dirs.keytabs,
    principalPattern: `{{.Account}}/managedtokens/${HOST_DOMAIN}@${realm}`,
    knownHostsFile,
    sshOptions: `Port=${port} UserKnownHostsFile=${knownHostsFile} StrictHostKeyChecking=yes GSSAPIAuthentication=yes`,
    workDir: dirs.work,
    ...receivers,
    wrap: (argv) => asRunUser(controller, runUser, argv),
    run,
    stop,
  };
}

/**
 * ssh reads the user config from the passwd home, not $HOME, so each world drops a file into
 * ~<runUser>/.ssh/mtworld/ that the user config includes; it only matches this world's host names.
 */
async function installSshClientConfig(
  record: WorldRecord,
  runUser: UnixUser,
  domain: string,
  port: number,
  knownHostsFile: string,
): Promise<void> {
  const sshDir = path.join(runUser.home, '.ssh');
  const includeDir = path.join(sshDir, 'mtworld');
  const mainConfig = path.join(sshDir, 'config');
  // Absolute: ssh finds ~/.ssh/config through the passwd entry but expands relative Includes with $HOME.
  const includeLine = `Include ${includeDir}/*.conf`;
  await withAccountsLock(() => {
    for (const d of [sshDir, includeDir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      chownSync(d, runUser.uid, runUser.gid);
      chmodSync(d, 0o700);
    }
    const current = existsSync(mainConfig) ? readFileSync(mainConfig, 'utf8') : '';
    if (!current.split('\n').includes(includeLine)) {
      // Include must precede any Host block to apply to every host.
      writeFileSync(mainConfig, `${includeLine}\n${current}`, { mode: 0o600 });
      chownSync(mainConfig, runUser.uid, runUser.gid);
    }
  });
  const worldConfig = path.join(includeDir, `${record.id}.conf`);
  writeFileSync(
    worldConfig,
    [
      `Host *.${domain}`,
      `  Port ${port}`,
      `  UserKnownHostsFile ${knownHostsFile}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  GSSAPIAuthentication yes',
      '  PasswordAuthentication no',
      '  KbdInteractiveAuthentication no',
      '  PubkeyAuthentication no',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chownSync(worldConfig, runUser.uid, runUser.gid);
  record.files.push(worldConfig);
  saveRecord(record);
}

function runInNamespace(
  ns: PrivateTmpNamespace,
  user: UnixUser,
  argv: readonly string[],
  opts: Omit<RunAsOptions, 'user'>,
): Promise<RunResult> {
  return runAs(asRunUser(ns, user, argv), { ...opts, user: 'root', env: { ...(opts.env ?? {}) } });
}

function asRunUser(ns: PrivateTmpNamespace, user: UnixUser, argv: readonly string[]): string[] {
  return ns.enter([
    '/usr/bin/setpriv',
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    '--init-groups',
    '--',
    ...argv,
  ]);
}

async function startReceivers(
  wanted: NonNullable<WorldOptions['receivers']>,
  dir: string,
  closers: Array<() => Promise<void>>,
): Promise<Pick<World, 'smtp' | 'pushgateway' | 'http' | 'ferry'>> {
  const out: {
    smtp?: SmtpServerHandle;
    pushgateway?: Pushgateway;
    http?: HttpReceiver;
    ferry?: FakeFerry;
  } = {};
  if (wanted.smtp) {
    out.smtp = await startSmtpServer();
    const s = out.smtp;
    closers.push(() => s.stop());
  }
  if (wanted.pushgateway) {
    out.pushgateway = await startPushgateway();
    const p = out.pushgateway;
    closers.push(() => p.stop());
  }
  if (wanted.http) {
    out.http = await startHttpReceiver(wanted.http === true ? {} : wanted.http);
    const h = out.http;
    closers.push(() => h.close());
  }
  if (wanted.ferry) {
    out.ferry = await startFakeFerry({
      ...(wanted.ferry === true ? {} : wanted.ferry),
      pkiDir: path.join(dir, 'ferry-pki'),
    });
    const f = out.ferry;
    closers.push(() => f.stop());
  }
  return out;
}
