import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  killProcess,
  runTool,
  startDaemon,
  SYSTEM_PATH,
  waitForExit,
  waitForPort,
  type ProcessId,
} from './proc.js';

/** A real MIT KDC (krb5kdc) for one realm, in its own directory, on one loopback address. */
export interface Kdc {
  readonly realm: string;
  readonly address: string;
  readonly port: number;
  /** krb5.conf for clients (kinit, klist, ssh, the doubles): pass as KRB5_CONFIG */
  readonly krb5Conf: string;
  readonly dir: string;
  /** Creates the principal (random key) if missing. */
  addPrincipal(principal: string): Promise<void>;
  /** Creates the principal if missing and exports its current keys into `file` (owned by `owner`, 0600). */
  writeKeytab(
    principal: string,
    file: string,
    owner?: { uid: number; gid: number },
  ): Promise<string>;
  /** Wrong-keytab fault: re-randomises the principal's key, so every keytab exported before is stale. */
  invalidateKeys(principal: string): Promise<void>;
  /** KDC-down fault: the port is closed afterwards, kinit fails in milliseconds. */
  stop(): Promise<void>;
  /** Brings a stopped KDC back on the same address and port (also resumes a hung one). */
  start(): Promise<void>;
  /** KDC-hang fault: connections are accepted but never answered (kinit gives up after ≈25 s). */
  hang(): void;
  readonly running: boolean;
  /** Renders a krb5.conf for this realm with extra [libdefaults] lines (nodes add k5login_directory). */
  renderKrb5Conf(extraLibdefaults?: Record<string, string>): string;
  dispose(): Promise<void>;
}

export interface KdcOptions {
  /** Directory to create the KDC in (created; must live outside /tmp, see registry.ts). */
  readonly dir: string;
  /** Loopback address to listen on; default 127.0.0.1. */
  readonly address?: string;
  readonly realm?: string;
  /** Domain whose hosts belong to the realm ([domain_realm] mapping). */
  readonly hostDomain?: string;
  /** Called with every process started, so the owner can kill it even if dispose() never runs. */
  readonly onProcess?: (id: ProcessId) => void;
}

const PRINCIPAL_RE = /^[A-Za-z0-9._/-]+@[A-Z0-9.-]+$/;

export async function startKdc(opts: KdcOptions): Promise<Kdc> {
  const realm = opts.realm ?? 'MT.TEST';
  const address = opts.address ?? '127.0.0.1';
  const dir = opts.dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const port = await freePort(address);
  const files = {
    krb5Conf: path.join(dir, 'krb5.conf'),
    kdcConf: path.join(dir, 'kdc.conf'),
    acl: path.join(dir, 'kadm5.acl'),
    log: path.join(dir, 'kdc.log'),
    pid: path.join(dir, 'kdc.pid'),
  };
  const renderKrb5Conf = (extra: Record<string, string> = {}): string =>
    [
      '[libdefaults]',
      `  default_realm = ${realm}`,
      '  dns_lookup_kdc = false',
      '  dns_lookup_realm = false',
      '  rdns = false',
      '  dns_canonicalize_hostname = false',
      '  udp_preference_limit = 1',
      '  ignore_acceptor_hostname = true',
      ...Object.entries(extra).map(([k, v]) => `  ${k} = ${v}`),
      '[realms]',
      `  ${realm} = {`,
      `    kdc = ${address}:${port}`,
      '  }',
      '[domain_realm]',
      ...(opts.hostDomain
        ? [`  .${opts.hostDomain} = ${realm}`, `  ${opts.hostDomain} = ${realm}`]
        : []),
      '',
    ].join('\n');
  writeFileSync(files.krb5Conf, renderKrb5Conf(), { mode: 0o644 });
  writeFileSync(
    files.kdcConf,
    [
      '[kdcdefaults]',
      `  kdc_listen = ${address}:${port}`,
      `  kdc_tcp_listen = ${address}:${port}`,
      '[realms]',
      `  ${realm} = {`,
      `    database_name = ${path.join(dir, 'principal')}`,
      `    key_stash_file = ${path.join(dir, 'stash')}`,
      `    acl_file = ${files.acl}`,
      `    kdc_listen = ${address}:${port}`,
      `    kdc_tcp_listen = ${address}:${port}`,
      '    max_life = 1d',
      '    max_renewable_life = 7d',
      '  }',
      '[logging]',
      `  kdc = FILE:${files.log}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(files.acl, '', { mode: 0o600 });
  const env = {
    PATH: SYSTEM_PATH,
    KRB5_CONFIG: files.krb5Conf,
    KRB5_KDC_PROFILE: files.kdcConf,
    MTWORLD_DIR: dir,
  };
  await runTool(
    ['kdb5_util', '-r', realm, 'create', '-s', '-P', randomBytes(18).toString('base64url')],
    { env },
  );

  const kadmin = async (command: string): Promise<string> => {
    const { stdout, stderr } = await runTool(['kadmin.local', '-r', realm, '-q', command], { env });
    // kadmin.local reports many failures on stderr with exit status 0.
    const problem = stderr
      .split('\n')
      .find((l) => l.trim() && !/^No policy specified|^Authenticating as principal/.test(l));
    if (problem) throw new Error(`kadmin.local -q "${command}": ${problem}`);
    return stdout;
  };
  const checkPrincipal = (p: string): void => {
    if (!PRINCIPAL_RE.test(p) || !p.endsWith(`@${realm}`)) {
      throw new Error(`principal ${JSON.stringify(p)} must look like name[/inst…]@${realm}`);
    }
  };
  const known = new Set<string>();
  const addPrincipal = async (p: string): Promise<void> => {
    checkPrincipal(p);
    if (known.has(p)) return;
    const out = await kadmin(`getprinc ${p}`).catch(() => '');
    if (!out.includes(`Principal: ${p}`)) await kadmin(`addprinc -randkey ${p}`);
    known.add(p);
  };

  let daemon: ProcessId | undefined;
  let hung = false;
  const start = async (): Promise<void> => {
    if (daemon && hung) process.kill(daemon.pid, 'SIGCONT');
    hung = false;
    if (daemon) return;
    rmSync(files.pid, { force: true });
    const started = startDaemon(['/usr/sbin/krb5kdc', '-n', '-r', realm, '-P', files.pid], {
      env,
      logFile: files.log,
    });
    opts.onProcess?.(started.id);
    daemon = started.id;
    await waitForPort(address, port, { name: 'krb5kdc', id: started.id, logFile: files.log });
  };
  const stop = async (): Promise<void> => {
    if (!daemon) return;
    const id = daemon;
    daemon = undefined;
    killProcess(id);
    await waitForExit(id);
  };
  await start();

  return {
    realm,
    address,
    port,
    dir,
    krb5Conf: files.krb5Conf,
    renderKrb5Conf,
    addPrincipal,
    async writeKeytab(principal, file, owner) {
      await addPrincipal(principal);
      rmSync(file, { force: true });
      // -norandkey: export the current key; re-exporting for a second file must not invalidate the first.
      await kadmin(`ktadd -norandkey -k ${file} ${principal}`);
      if (!existsSync(file))
        throw new Error(`kadmin.local did not write keytab ${file} for ${principal}`);
      chmodSync(file, 0o600);
      if (owner) chownSync(file, owner.uid, owner.gid);
      return file;
    },
    async invalidateKeys(principal) {
      checkPrincipal(principal);
      await kadmin(`cpw -randkey ${principal}`);
    },
    stop,
    start,
    hang() {
      if (!daemon) throw new Error('the KDC is stopped; start() it before making it hang');
      process.kill(daemon.pid, 'SIGSTOP');
      hung = true;
    },
    get running() {
      return daemon !== undefined;
    },
    async dispose() {
      await stop();
    },
  };
}
