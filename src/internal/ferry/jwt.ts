/**
 * The JWT path to FERRY as it was meant to work (spec ferry-and-db.md 3.3, README decision 6):
 * once per run a Kerberos ticket from the FERRY service keytab into a private cache, then a
 * bearer token from htgettoken (vault server `ferry.vaultServer`), checked to be a JWT.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildChildEnv, ExecError, runCommand } from '../exec/index.js';

export interface JwtSettings {
  readonly serviceExperiment: string;
  readonly serviceRole: string;
  readonly serviceKerberosPrincipal: string;
  readonly serviceKeytabPath: string;
  readonly vaultServer: string;
  /** Top-level `htgettokenopts`; undefined when unset. */
  readonly htgettokenopts: string | undefined;
  /** Top-level `serviceCreddVaultTokenPathRoot`; '' when unset. */
  readonly serviceCreddVaultTokenPathRoot: string;
}

export interface JwtPrograms {
  readonly kinit: string;
  readonly klist: string;
  readonly htgettoken: string;
}

export interface JwtLog {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** Service name → (experiment, role) with the original's unanchored greedy pattern; no match → role Analysis. */
export function splitServiceName(name: string): { experiment: string; role: string } {
  const m = /(.+)_([A-Za-z0-9]+)/.exec(name);
  if (m && m[1] !== undefined && m[2] !== undefined) return { experiment: m[1], role: m[2] };
  return { experiment: name, role: 'Analysis' };
}

export function serviceNameOf(
  settings: Pick<JwtSettings, 'serviceExperiment' | 'serviceRole'>,
): string {
  return settings.serviceRole === ''
    ? settings.serviceExperiment
    : `${settings.serviceExperiment}_${settings.serviceRole}`;
}

export function htgettokenOptsFor(
  settings: Pick<JwtSettings, 'htgettokenopts' | 'serviceKerberosPrincipal'>,
): string {
  return (
    settings.htgettokenopts ??
    `--credkey=${settings.serviceKerberosPrincipal.replaceAll('@FNAL.GOV', '')}`
  );
}

function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** Creates an empty private file (0600) that did not exist before. */
function createPrivateFile(dir: string, prefix: string): string {
  for (;;) {
    const path = join(dir, `${prefix}${randomSuffix()}`);
    try {
      closeSync(openSync(path, 'wx', 0o600));
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What one run of the JWT path owns on disk; `cleanup()` removes all of it (FIX Q12). */
export class JwtSession {
  private tokenPromise: Promise<string> | undefined;
  private readonly files: string[] = [];

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
    readonly cacheFile: string,
    readonly experiment: string,
    readonly role: string,
    private readonly settings: JwtSettings,
    private readonly programs: JwtPrograms,
    private readonly env: Readonly<Record<string, string>>,
    private readonly log: JwtLog,
    private readonly runSignal: AbortSignal,
  ) {}

  get krb5ccname(): string {
    return `FILE:${this.cacheFile}`;
  }

  /** Steps 1-5 of the once-per-run part: private dir + cache, kinit, klist principal check. */
  static async start(
    settings: JwtSettings,
    programs: JwtPrograms,
    env: Readonly<Record<string, string>>,
    log: JwtLog,
    signal: AbortSignal,
    makeTempDir: (prefix: string) => string = mkdtempSync,
  ): Promise<JwtSession> {
    const serviceName = serviceNameOf(settings);
    const { experiment, role } = splitServiceName(serviceName);
    const tmpRoot = env['TMPDIR'] && env['TMPDIR'] !== '' ? env['TMPDIR'] : '/tmp';
    let dir = tmpRoot;
    let ownsDir = false;
    try {
      dir = makeTempDir(join(tmpRoot, 'managed-tokens'));
      ownsDir = true;
    } catch (err) {
      log.warn(
        { tmpRoot },
        `Could not create a private temporary directory, using ${tmpRoot}: ${(err as Error).message}`,
      );
    }
    const cacheFile = createPrivateFile(dir, `managed-tokens-krb5ccCache-${serviceName}`);
    const session = new JwtSession(
      dir,
      ownsDir,
      cacheFile,
      experiment,
      role,
      settings,
      programs,
      env,
      log,
      signal,
    );
    // A signal ends the process through process.exit: the credentials must not outlive it.
    process.once('exit', session.onExit);
    try {
      await session.kinit(signal);
      return session;
    } catch (err) {
      session.cleanup();
      throw err;
    }
  }

  private async kinit(signal: AbortSignal): Promise<void> {
    const principal = this.settings.serviceKerberosPrincipal;
    const env = buildChildEnv(this.env, 'K', { KRB5CCNAME: this.krb5ccname });
    const kinitArgv = [this.programs.kinit, '-k', '-t', this.settings.serviceKeytabPath, principal];
    try {
      await runCommand({ argv: kinitArgv, env, capture: 'combined', deadline: signal });
    } catch (err) {
      throw new Error(`kinit for ${principal} failed: ${describeExec(err)}`);
    }
    let output: string;
    try {
      output = (
        await runCommand({
          argv: [this.programs.klist],
          env,
          capture: 'combined',
          deadline: signal,
        })
      ).output;
    } catch (err) {
      throw new Error(`klist failed: ${describeExec(err)}`);
    }
    const found = /Default principal: (.+)/.exec(output)?.[1]?.replace(/\r$/, '');
    if (found !== principal) {
      throw new Error(
        found === undefined
          ? 'klist output has no "Default principal:" line'
          : `klist reports default principal ${found}, expected ${principal}`,
      );
    }
    this.log.debug({ principal }, 'Obtained and verified the FERRY service Kerberos ticket');
  }

  /**
   * The bearer token, obtained once per run (an optimisation the spec allows: a failure still
   * fails every account individually). Bounded by the run's deadline; each account races it
   * against its own. The token never reaches a log.
   */
  bearerToken(): Promise<string> {
    this.tokenPromise ??= this.fetchToken(this.runSignal);
    return this.tokenPromise;
  }

  /**
   * The vault token file htgettoken reads and writes, and whether this session made it up (only
   * then is it ours to delete: an operator's own vault token, e.g. /tmp/vt_u<uid>, is never removed,
   * even when the private directory could not be created and the session works in /tmp itself).
   */
  private vaultTokenFile(): { readonly path: string; readonly ours: boolean } {
    const configured = this.settings.serviceCreddVaultTokenPathRoot;
    const vt = configured !== '' ? configured : `/tmp/vt_u${process.getuid?.() ?? 0}`;
    // htgettoken cannot use a directory as a token file (FIX Q1): use a private per-run file instead.
    if (isDirectory(vt))
      return { path: join(this.dir, `vaulttoken-${randomSuffix()}`), ours: true };
    return { path: vt, ours: false };
  }

  private async fetchToken(signal: AbortSignal): Promise<string> {
    if (this.settings.vaultServer === '')
      throw new Error('could not create htgettoken client: vault server cannot be empty');
    const out = createPrivateFile(this.dir, 'managed_tokens_ferry_jwt_auth_');
    this.files.push(out);
    const { path: vt, ours } = this.vaultTokenFile();
    if (ours) this.files.push(vt);
    const argv = [
      this.programs.htgettoken,
      '-a',
      this.settings.vaultServer,
      '-i',
      this.experiment,
      '--vaulttokenfile',
      vt,
      '-o',
      out,
      ...(this.role !== '' ? ['--role', this.role] : []),
    ];
    const env = buildChildEnv(this.env, 'F', {
      KRB5CCNAME: this.krb5ccname,
      HTGETTOKENOPTS: htgettokenOptsFor(this.settings),
    });
    try {
      await runCommand({ argv, env, capture: 'combined', deadline: signal });
    } catch (err) {
      const authNeeded = err instanceof ExecError && /Authentication needed for/.test(err.output);
      throw new Error(
        `htgettoken failed${authNeeded ? ' (authentication needed)' : ''}: ${describeExec(err)}`,
      );
    }
    const content = readFileSync(out, 'utf8');
    const claims = parseJwt(content.trim());
    if (claims === undefined) throw new Error(`the token htgettoken wrote to ${out} is not a JWT`);
    for (const warning of tokenWarnings(claims, this.experiment, this.role)) {
      this.log.warn({ experiment: this.experiment, role: this.role }, warning);
    }
    return content.endsWith('\n') ? content.slice(0, -1) : content;
  }

  private readonly onExit = (): void => this.cleanup();

  /** Removes the cache file, the files this session created and its private directory. Idempotent. */
  cleanup(): void {
    process.removeListener('exit', this.onExit);
    for (const f of [...this.files, this.cacheFile]) rmSync(f, { force: true });
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function describeExec(err: unknown): string {
  if (err instanceof ExecError) return err.excerpt ? `${err.message}: ${err.excerpt}` : err.message;
  return err instanceof Error ? err.message : String(err);
}

type Claims = Record<string, unknown>;

function wellTypedClaims(value: unknown): value is Claims {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const c = value as Claims;
  const optional = (k: string, ok: (v: unknown) => boolean): boolean =>
    c[k] === undefined || ok(c[k]);
  const isStr = (v: unknown): boolean => typeof v === 'string';
  const isNum = (v: unknown): boolean => typeof v === 'number';
  return (
    optional('iss', isStr) &&
    optional('sub', isStr) &&
    optional('jti', isStr) &&
    optional('aud', (v) => isStr(v) || (Array.isArray(v) && v.every(isStr))) &&
    optional('exp', isNum) &&
    optional('nbf', isNum) &&
    optional('iat', isNum)
  );
}

/** Claims of a compact JWS (signature not checked) or a bare JSON claims object; undefined if neither. */
export function parseJwt(text: string): Claims | undefined {
  if (text === '') return undefined;
  if (text.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(text);
      return wellTypedClaims(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }
  const parts = text.split('.');
  if (
    parts.length !== 3 ||
    !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p)) ||
    parts[0] === '' ||
    parts[1] === ''
  ) {
    return undefined;
  }
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8'));
    if (typeof header !== 'object' || header === null) return undefined;
    const payload: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
    return wellTypedClaims(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** Warnings only (spec 3.3 step 3): group membership and time validity. */
export function tokenWarnings(
  claims: Claims,
  experiment: string,
  role: string,
  nowSeconds = Date.now() / 1000,
): string[] {
  const warnings: string[] = [];
  const groups = Array.isArray(claims['wlcg.groups']) ? (claims['wlcg.groups'] as unknown[]) : [];
  const wanted = [`/${experiment}`, ...(role !== '' ? [`/${experiment}/${role}`] : [])];
  for (const g of wanted) {
    if (!groups.includes(g))
      warnings.push(`FERRY access token lacks the group ${g} in wlcg.groups`);
  }
  const exp = claims['exp'];
  const nbf = claims['nbf'];
  const iat = claims['iat'];
  if (typeof exp === 'number' && exp < nowSeconds) warnings.push('FERRY access token is expired');
  if (typeof nbf === 'number' && nbf > nowSeconds)
    warnings.push('FERRY access token is not valid yet');
  if (typeof iat === 'number' && iat > nowSeconds + 60)
    warnings.push('FERRY access token was issued in the future');
  return warnings;
}
