/**
 * A token-push configuration for a test world: one writer for the end-to-end tests, `npm run demo`
 * and `npm run bench`. Every path (token root, uid.db, logs) lives in its own directory under
 * `world.workDir`, owned by the unprivileged run user so token-push can write there.
 */
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { DoubleKnobs } from './doubles.js';
import type { ServiceSpec, World } from './world.js';

/** One experiment/role of the configuration. */
export interface TokenPushService {
  /** experiment key in the config */
  readonly experiment: string;
  readonly role: string;
  readonly account: string;
  /** written as desiredUIDOverride */
  readonly uid: number;
  readonly experimentOverride?: string;
  /** further role keys; they override the defaults above (e.g. destinationNodes) */
  readonly extra?: Record<string, unknown>;
}

export const COLLECTOR = 'collector.mtworld.test';
export const SCHEDD = 'schedd1.mtworld.test';
export const VAULT = 'vault.mtworld.test';
export const FILE_COPIER_OPTIONS = '--perms --chmod=u=r,go=';

/** Doubles knob: condor_status at COLLECTOR answers with the one schedd SCHEDD (a fresh object each call). */
export function oneScheddAds(): Pick<DoubleKnobs, 'statusAds'> {
  return { statusAds: { [COLLECTOR]: [{ MyType: 'Scheduler', Name: SCHEDD }] } };
}

/** Both token copies token-push pushes for `uid` (vt_u<uid>, vt_u<uid>-<service>) are in every node's /tmp. */
export function landedOnNodes(world: World, uid: number, realName: string): boolean {
  return world.nodes.every(
    (n) =>
      n.readTmp(`vt_u${uid}`) !== undefined && n.readTmp(`vt_u${uid}-${realName}`) !== undefined,
  );
}

/** No node's /tmp holds a file naming `uid`. */
export function nothingOnNodes(world: World, uid: number): boolean {
  return world.nodes.every((n) => n.listTmp().every((f) => !f.includes(`${uid}`)));
}

/** The world's services for these token-push services: `<experiment>_<role>` run by the account. */
export function worldServices(services: readonly TokenPushService[]): ServiceSpec[] {
  return services.map((s) => ({ name: `${s.experiment}_${s.role}`, account: s.account }));
}

type TimeoutKey =
  'globalTimeout' | 'kerberosTimeout' | 'vaultStorerTimeout' | 'pingTimeout' | 'pushTimeout';

const DEFAULT_TIMEOUTS: Readonly<Record<TimeoutKey, string>> = {
  globalTimeout: '120s',
  kerberosTimeout: '20s',
  vaultStorerTimeout: '30s',
  pingTimeout: '10s',
  pushTimeout: '30s',
};

export interface TokenPushConfigOptions {
  /** directory under world.workDir holding config, token root, uid.db and logs; default 'run' */
  readonly name?: string;
  /** destination nodes of every role; default all of the world's nodes */
  readonly nodes?: readonly string[];
  /** default VAULT */
  readonly vaultServer?: string;
  /** default COLLECTOR */
  readonly collector?: string;
  /** an experiment's notification addresses; default `<experiment>@example.com` */
  readonly emails?: (experiment: string) => readonly string[];
  /** merged over the defaults (globalTimeout 120s, kerberos 20s, storer 30s, ping 10s, push 30s) */
  readonly timeouts?: Partial<Record<TimeoutKey, string>>;
  /** prometheus.host; no prometheus section when absent */
  readonly prometheusHost?: string;
  /** top-level keys written last (before experiments), replacing any default of the same name */
  readonly top?: Record<string, unknown>;
}

export interface TokenPushConfigFiles {
  readonly file: string;
  readonly dir: string;
  readonly tokenRoot: string;
  readonly dbFile: string;
  readonly logFile: string;
}

interface ExperimentEntry {
  experimentOverride?: string;
  emails: string[];
  roles: Record<string, unknown>;
}

function experimentsSection(
  services: readonly TokenPushService[],
  nodes: readonly string[],
  emails: (experiment: string) => readonly string[],
): Record<string, ExperimentEntry> {
  const experiments: Record<string, ExperimentEntry> = {};
  for (const s of services) {
    const exp = (experiments[s.experiment] ??= { emails: [...emails(s.experiment)], roles: {} });
    if (s.experimentOverride !== undefined) exp.experimentOverride = s.experimentOverride;
    exp.roles[s.role] = {
      account: s.account,
      destinationNodes: nodes,
      desiredUIDOverride: s.uid,
      ...s.extra,
    };
  }
  return experiments;
}

/** Writes `<workDir>/<name>/managedTokens.yml` (0644, owned by the run user) and returns its paths. */
export function writeTokenPushConfig(
  world: World,
  services: readonly TokenPushService[],
  opts: TokenPushConfigOptions = {},
): TokenPushConfigFiles {
  const dir = path.join(world.workDir, opts.name ?? 'run');
  const tokenRoot = path.join(dir, 'tokens');
  const dbFile = path.join(dir, 'uid.db');
  const logFile = path.join(dir, 'token-push.log');
  mkdirSync(tokenRoot, { recursive: true, mode: 0o700 });
  for (const d of [dir, tokenRoot]) chownSync(d, world.runUser.uid, world.runUser.gid);
  const experiments = experimentsSection(
    services,
    opts.nodes ?? world.nodes.map((n) => n.name),
    opts.emails ?? ((experiment) => [`${experiment}@example.com`]),
  );
  const config = {
    kerberosPrincipalPattern: world.principalPattern,
    keytabPath: world.keytabDir,
    vaultServer: opts.vaultServer ?? VAULT,
    condorCollectorHost: opts.collector ?? COLLECTOR,
    serviceCreddVaultTokenPathRoot: tokenRoot,
    dbLocation: dbFile,
    sshOptions: world.sshOptions,
    fileCopierOptions: FILE_COPIER_OPTIONS,
    disableNotifications: true,
    ...(opts.prometheusHost !== undefined ? { prometheus: { host: opts.prometheusHost } } : {}),
    logs: {
      'token-push': {
        logfile: logFile,
        debugfile: path.join(dir, 'token-push.debug.log'),
      },
    },
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
    ...opts.top,
    experiments,
  };
  const file = path.join(dir, 'managedTokens.yml');
  writeFileSync(file, stringify(config), { mode: 0o644 });
  chownSync(file, world.runUser.uid, world.runUser.gid);
  return { file, dir, tokenRoot, dbFile, logFile };
}

/** argv running the built token-push (bin/ relative to the current directory, the repository). */
export function tokenPushArgv(configFile: string, ...flags: string[]): string[] {
  return [process.execPath, path.resolve('bin/token-push'), '-c', configFile, ...flags];
}
