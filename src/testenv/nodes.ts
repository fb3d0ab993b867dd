import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kdc } from './kdc.js';
import { createPrivateTmpNamespace, type PrivateTmpNamespace } from './namespace.js';
import {
  freePort,
  killProcess,
  processesInMountNamespace,
  runTool,
  startDaemon,
  SYSTEM_PATH,
  waitForExit,
  waitForPort,
  type ProcessId,
} from './proc.js';

/** One "node": a real sshd on its own loopback address with its own host key, keytab and private /tmp. */
export interface Node {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Host directory that is the node's /tmp: read here what rsync landed on the node. */
  readonly tmpDir: string;
  /** `<name> <keytype> <key>` / `[<name>]:<port> …` line for known_hosts */
  readonly knownHostsLine: string;
  readonly faults: Readonly<NodeFaults>;
  /** Node down: sshd stopped and the address blackholed (ping exits 2, connects fail). */
  down(): Promise<void>;
  /** sshd stopped but the address still answers ping: rsync exits 12 (connection refused). */
  stopSshd(): Promise<void>;
  /** sshd restarted with a different host key than known_hosts lists: rsync exits 255, never prompts. */
  changeHostKey(): Promise<void>;
  /** sshd hangs after connect: the TCP handshake completes but no banner ever comes (SIGSTOP). */
  hang(): void;
  /** GSSAPI authentication succeeds but no principal is authorised for any account (empty k5login). */
  refuseAuth(): void;
  /** The node's /tmp becomes read-only (rsync exit 23). */
  readOnly(): Promise<void>;
  /** Clears every fault. */
  heal(): Promise<void>;
  /** Contents of a file in the node's /tmp (`vt_u5000`), or undefined when absent. */
  readTmp(name: string): string | undefined;
  /** Mode bits (e.g. 0o400) of a file in the node's /tmp, or undefined when absent. */
  modeOf(name: string): number | undefined;
  listTmp(): string[];
}

export interface NodeFaults {
  down: boolean;
  sshdStopped: boolean;
  hostKeyChanged: boolean;
  hung: boolean;
  authRefused: boolean;
  readOnly: boolean;
}

export interface NodeSpec {
  readonly name: string;
  readonly address: string;
}

export interface StartNodesOptions {
  readonly kdc: Kdc;
  /** parent directory; each node gets `<dir>/<name>/` (must live outside /tmp) */
  readonly dir: string;
  readonly nodes: readonly NodeSpec[];
  /** account → Kerberos principals allowed to log in to it (written as the node's k5login files) */
  readonly logins: Readonly<Record<string, readonly string[]>>;
  /** the node-down fault adds/removes a blackhole route; supplied by the world so it can be undone on crash */
  readonly blackhole: (address: string, on: boolean) => void;
  readonly onProcess?: (id: ProcessId) => void;
  readonly onNamespace?: (nsLink: string) => void;
}

/** Starts all nodes in parallel on one shared port (each on its own address). */
export async function startNodes(opts: StartNodesOptions): Promise<Node[]> {
  const first = opts.nodes[0];
  const port = first ? await freePort(first.address) : 0;
  return Promise.all(opts.nodes.map((spec) => startNode(spec, port, opts)));
}

async function startNode(spec: NodeSpec, port: number, opts: StartNodesOptions): Promise<Node> {
  const dir = path.join(opts.dir, spec.name);
  mkdirSync(path.join(dir, 'k5login'), { recursive: true, mode: 0o755 });
  const files = {
    config: path.join(dir, 'sshd_config'),
    hostKey: path.join(dir, 'hostkey'),
    otherHostKey: path.join(dir, 'hostkey-other'),
    keytab: path.join(dir, 'host.keytab'),
    krb5Conf: path.join(dir, 'krb5.conf'),
    log: path.join(dir, 'sshd.log'),
    k5loginDir: path.join(dir, 'k5login'),
  };
  const tmpDir = path.join(dir, 'tmp');
  const hostPrincipal = `host/${spec.name}@${opts.kdc.realm}`;
  const [, , , ns] = await Promise.all([
    runTool(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', spec.name, '-f', files.hostKey]),
    runTool([
      'ssh-keygen',
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      spec.name,
      '-f',
      files.otherHostKey,
    ]),
    opts.kdc.writeKeytab(hostPrincipal, files.keytab),
    createPrivateTmpNamespace(tmpDir, {
      logFile: files.log,
      env: { MTWORLD_DIR: dir },
      onProcess: opts.onProcess,
    }),
  ]);
  opts.onNamespace?.(ns.nsLink);
  writeFileSync(
    files.krb5Conf,
    opts.kdc.renderKrb5Conf({ k5login_directory: files.k5loginDir, k5login_authoritative: 'true' }),
  );
  writeK5logins(files.k5loginDir, opts.logins);
  writeFileSync(files.config, sshdConfig(spec.address, port, files.hostKey));
  const pubKey = readFileSync(`${files.hostKey}.pub`, 'utf8')
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(' ');
  const knownHostsLine = `[${spec.name}]:${port} ${pubKey}`;

  const env = {
    PATH: SYSTEM_PATH,
    KRB5_CONFIG: files.krb5Conf,
    KRB5_KTNAME: `FILE:${files.keytab}`,
    MTWORLD_DIR: dir,
  };
  let sshd: ProcessId | undefined;
  const startSshd = async (): Promise<void> => {
    const started = startDaemon(ns.enter(['/usr/sbin/sshd', '-D', '-e', '-f', files.config]), {
      env,
      logFile: files.log,
    });
    opts.onProcess?.(started.id);
    sshd = started.id;
    await waitForPort(spec.address, port, {
      name: `sshd of ${spec.name}`,
      id: started.id,
      logFile: files.log,
    });
  };
  const stopSshd = async (): Promise<void> => {
    if (!sshd) return;
    const id = sshd;
    sshd = undefined;
    killProcess(id);
    killProcess(id, 'SIGCONT');
    await waitForExit(id);
    // Sessions forked by sshd live on in the namespace; a downed node must not finish transfers.
    killSessions(ns);
  };
  await startSshd();

  const faults: NodeFaults = {
    down: false,
    sshdStopped: false,
    hostKeyChanged: false,
    hung: false,
    authRefused: false,
    readOnly: false,
  };
  const restartWithKey = async (key: string): Promise<void> => {
    await stopSshd();
    writeFileSync(files.config, sshdConfig(spec.address, port, key));
    await startSshd();
  };
  const node: Node = {
    name: spec.name,
    address: spec.address,
    port,
    tmpDir,
    knownHostsLine,
    faults,
    async down() {
      if (faults.down) return;
      faults.down = true;
      faults.hung = false;
      await stopSshd();
      opts.blackhole(spec.address, true);
    },
    async stopSshd() {
      if (faults.down || faults.sshdStopped) return;
      faults.hung = false;
      await stopSshd();
      faults.sshdStopped = true;
    },
    async changeHostKey() {
      if (faults.down || faults.sshdStopped)
        throw new Error(`node ${spec.name} has no sshd running; heal() it first`);
      faults.hung = false;
      await restartWithKey(files.otherHostKey);
      faults.hostKeyChanged = true;
    },
    hang() {
      if (faults.down || faults.sshdStopped)
        throw new Error(`node ${spec.name} is down; heal() it before making it hang`);
      if (sshd) process.kill(sshd.pid, 'SIGSTOP');
      faults.hung = true;
    },
    refuseAuth() {
      writeK5logins(
        files.k5loginDir,
        Object.fromEntries(Object.keys(opts.logins).map((a) => [a, []])),
      );
      faults.authRefused = true;
    },
    async readOnly() {
      await ns.setReadOnly(true);
      faults.readOnly = true;
    },
    async heal() {
      if (faults.hung && sshd) process.kill(sshd.pid, 'SIGCONT');
      faults.hung = false;
      if (faults.down) opts.blackhole(spec.address, false);
      if (faults.hostKeyChanged)
        writeFileSync(files.config, sshdConfig(spec.address, port, files.hostKey));
      if (faults.hostKeyChanged && !faults.down && !faults.sshdStopped) await stopSshd();
      if (!sshd) await startSshd();
      faults.down = false;
      faults.sshdStopped = false;
      faults.hostKeyChanged = false;
      if (faults.authRefused) writeK5logins(files.k5loginDir, opts.logins);
      faults.authRefused = false;
      if (faults.readOnly) await ns.setReadOnly(false);
      faults.readOnly = false;
    },
    readTmp(name) {
      const file = path.join(tmpDir, name);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
    modeOf(name) {
      const file = path.join(tmpDir, name);
      return existsSync(file) ? statSync(file).mode & 0o7777 : undefined;
    },
    listTmp() {
      return readdirSync(tmpDir).sort();
    },
  };
  return node;
}

function killSessions(ns: PrivateTmpNamespace): void {
  for (const pid of processesInMountNamespace(ns.nsLink)) {
    if (pid === ns.holder.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** k5login files are owned by root (krb5 accepts root or the account as owner) and world-readable. */
function writeK5logins(dir: string, logins: Readonly<Record<string, readonly string[]>>): void {
  for (const [account, principals] of Object.entries(logins)) {
    writeFileSync(path.join(dir, account), principals.map((p) => `${p}\n`).join(''), {
      mode: 0o644,
    });
  }
}

function sshdConfig(address: string, port: number, hostKey: string): string {
  return [
    `ListenAddress ${address}:${port}`,
    `HostKey ${hostKey}`,
    'PidFile none',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication no',
    'AuthorizedKeysFile none',
    'HostbasedAuthentication no',
    'GSSAPIAuthentication yes',
    // The accepting principal is host/<node name>, not host/<this machine's hostname>.
    'GSSAPIStrictAcceptorCheck no',
    'GSSAPICleanupCredentials yes',
    'StrictModes no',
    'UseDNS no',
    'PermitRootLogin no',
    'MaxStartups 200:30:400',
    'MaxSessions 100',
    'LoginGraceTime 30',
    'PrintMotd no',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}
