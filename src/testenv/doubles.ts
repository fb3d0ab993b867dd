import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The programs replaced by doubles (not in Debian bookworm). */
export const DOUBLE_TOOLS = [
  'condor_status',
  'condor_config_val',
  'condor_vault_storer',
  'condor_store_cred',
  'htgettoken',
] as const;
export type DoubleTool = (typeof DOUBLE_TOOLS)[number];

/**
 * Behaviour of one double. Resolution per call: the next unused `seq` entry, else the first `rules`
 * entry whose fields all equal the call's facts, else `mode`, else the default (`flow` for the
 * storer, `ok` for the others).
 * Facts: condor_status {pool}; condor_vault_storer {service, schedd}; htgettoken {issuer, role,
 * service: issuer_role, schedd}; condor_store_cred {service, schedd}.
 * Universal modes: ok, fail, exit:<n>, slow:<s> (sleep, then the default behaviour), hang, hang-hold.
 * Tool modes (external-tools.md §5): condor_status empty|malformed|noname|noisy; condor_config_val
 * garbage; condor_store_cred mismatch; htgettoken noauth|forbidden|forbidden-legacy|polltimeout|
 * badvault|emptyvault|badbearer|emptybearer|expiredbearer|wronggroups|nobearerfile|usage;
 * condor_vault_storer flow|ok|authneeded|authneeded-403|mismatch|ok-notoken|badtoken|emptytoken.
 */
export interface ToolKnob {
  mode?: string;
  seq?: string[];
  rules?: Array<{
    mode: string;
    pool?: string;
    service?: string;
    schedd?: string;
    issuer?: string;
    role?: string;
  }>;
}

export type ScheddAd = Record<string, string | number>;

export interface DoubleKnobs {
  /** contract checks (exit 97 on violation); default true */
  strict: boolean;
  /** `yes`: htgettoken's Kerberos step always succeeds; `klist`: it runs the real klist on KRB5CCNAME */
  htgKerberos: 'klist' | 'yes';
  /** embed `<service>@<schedd>` in every vault token and bearer token so misplaced tokens are detectable */
  tagTokens: boolean;
  /** condor_status output per pool, or per `<pool>|<constraint>` */
  statusAds: Record<string, ScheddAd[] | string>;
  /** HTCondor configuration condor_config_val answers from (after _condor_/_CONDOR_ env overrides) */
  condorConfig: Record<string, string>;
  tools: Partial<Record<DoubleTool, ToolKnob>>;
}

/** One invocation as logged by a double. */
export interface DoubleCall {
  tool: DoubleTool;
  argv: string[];
  /** managed variables (presence preserved) plus KRB5_CONFIG, XDG_RUNTIME_DIR, BEARER_TOKEN_FILE, PATH, HOME, TMPDIR */
  env: Record<string, string>;
  uid: number;
  cwd: string;
  stdin: string | null;
  stdoutTty: boolean;
  stderrTty: boolean;
  pid: number;
  ppid: number;
  tStart: number;
  tEnd: number;
  /** null when the double was left hanging */
  exit: number | null;
  mode: string;
  /** files seen at start: sha256, size and the token tag when the content is a double's vault token */
  files: Record<
    string,
    { path: string; sha256?: string; size?: number; tag?: string | null; absent?: boolean }
  >;
  violation?: string;
  hung?: boolean;
  /** htgettoken: tag of the vault token it produced */
  wroteTag?: string | null;
  /** condor_store_cred add-oauth: tag of the stored token */
  storedTag?: string | null;
}

export interface Doubles {
  readonly binDir: string;
  readonly stateDir: string;
  /** where condor_store_cred keeps credentials: `<creddDir>/<credd>/<user>/<service>.top` */
  readonly creddDir: string;
  /** Current knobs; change them with `set()` (written to disk for the doubles to read). */
  readonly knobs: Readonly<DoubleKnobs>;
  set(patch: Partial<DoubleKnobs>): void;
  /** Shorthand for set({tools: {...knobs.tools, [tool]: knob}}); a string means {mode}. */
  setTool(tool: DoubleTool, knob: ToolKnob | string): void;
  /** Back to defaults: knobs, sequence counters and call log (credentials are kept). */
  reset(): void;
  calls(tool?: DoubleTool): DoubleCall[];
  /** Calls that ended in a contract violation (exit 97). Expected to be empty after every test. */
  violations(): DoubleCall[];
}

export const DEFAULT_KNOBS: DoubleKnobs = {
  strict: true,
  htgKerberos: 'klist',
  tagTokens: true,
  statusAds: {},
  condorConfig: {},
  tools: {},
};

/** The double script; dist/ builds do not copy .mjs files, so fall back to the source tree. */
function doubleScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'doubles', 'mtfake.mjs'),
    path.join(
      here.replace(`${path.sep}dist${path.sep}src${path.sep}`, `${path.sep}src${path.sep}`),
      'doubles',
      'mtfake.mjs',
    ),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`test double script not found (looked at ${candidates.join(', ')})`);
  return found;
}

/**
 * Installs the doubles into `<dir>/bin` (to be put first on PATH) with their knobs beside them and
 * their state (call log, counters, credd store) in `<dir>/state`, writable by `runUser`.
 */
export function installDoubles(opts: {
  dir: string;
  runUser: { uid: number; gid: number };
  knobs?: Partial<DoubleKnobs>;
}): Doubles {
  const binDir = path.join(opts.dir, 'bin');
  const stateDir = path.join(opts.dir, 'state');
  const creddDir = path.join(stateDir, 'credd');
  mkdirSync(binDir, { recursive: true, mode: 0o755 });
  mkdirSync(creddDir, { recursive: true, mode: 0o755 });
  for (const d of [stateDir, creddDir]) chownSync(d, opts.runUser.uid, opts.runUser.gid);
  chmodSync(opts.dir, 0o755);
  // Absolute interpreter in the shebang: the doubles must not depend on where PATH finds node.
  const source = readFileSync(doubleScript(), 'utf8');
  const script = path.join(binDir, 'mtfake.mjs');
  writeFileSync(script, `#!${process.execPath}\n${source}`, { mode: 0o755 });
  for (const tool of DOUBLE_TOOLS) {
    rmSync(path.join(binDir, tool), { force: true });
    symlinkSync('mtfake.mjs', path.join(binDir, tool));
  }
  const knobFile = path.join(binDir, 'mtfake.json');
  const logFile = path.join(stateDir, 'calls.jsonl');
  let knobs: DoubleKnobs = { ...DEFAULT_KNOBS, ...(opts.knobs ?? {}) };
  const save = (): void => {
    const onDisk = { ...knobs, stateDir, creddDir, realKlist: '/usr/bin/klist' };
    writeFileSync(`${knobFile}.tmp`, JSON.stringify(onDisk, null, 2), { mode: 0o644 });
    renameSync(`${knobFile}.tmp`, knobFile);
  };
  save();
  writeFileSync(logFile, '', { mode: 0o644 });
  chownSync(logFile, opts.runUser.uid, opts.runUser.gid);

  const calls = (tool?: DoubleTool): DoubleCall[] => {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    const all = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DoubleCall);
    return tool ? all.filter((c) => c.tool === tool) : all;
  };
  return {
    binDir,
    stateDir,
    creddDir,
    get knobs() {
      return knobs;
    },
    set(patch) {
      knobs = { ...knobs, ...patch };
      save();
    },
    setTool(tool, knob) {
      knobs = {
        ...knobs,
        tools: { ...knobs.tools, [tool]: typeof knob === 'string' ? { mode: knob } : knob },
      };
      save();
    },
    reset() {
      knobs = { ...DEFAULT_KNOBS };
      save();
      for (const tool of DOUBLE_TOOLS) rmSync(path.join(stateDir, `${tool}.seq`), { force: true });
      writeFileSync(logFile, '');
    },
    calls,
    violations: () => calls().filter((c) => c.exit === 97),
  };
}

/** Decodes a double's vault token (`hvs.` + base64url("mtfake:<exp>:<rand>[:<tag>]")); undefined otherwise. */
export function decodeVaultToken(
  token: string,
): { expiresAt: number; tag: string | undefined } | undefined {
  const t = token.trim();
  if (!t.startsWith('hvs.')) return undefined;
  const m = /^mtfake:(\d+):([0-9a-f]+)(?::(.*))?$/.exec(
    Buffer.from(t.slice(4), 'base64url').toString('utf8'),
  );
  return m ? { expiresAt: Number(m[1]), tag: m[3] } : undefined;
}

/** Decodes the claims of a (signature-less) JWT the htgettoken double wrote. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const payload = token.trim().split('.')[1];
  if (!payload) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
