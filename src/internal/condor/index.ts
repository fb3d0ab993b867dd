/**
 * HTCondor look-ups done during per-service assembly (token-push.md 3.5.3-3.5.4, external-tools.md 3.3-3.4):
 * the vault server from `condor_config_val`, and the schedds (credds) a service stores its token in.
 */
import { splitShellWords } from '../config/shellwords.js';
import { spawnFailureMessage } from '../exec/errors.js';
import type { CommandOutcome, CommandRequest, CommandRunner, Env } from '../pipeline/command.js';
import { parseLongClassAds, scheddNames } from './classads.js';

export { parseLongClassAds, scheddNames, unsafeScheddName } from './classads.js';
export type { ClassAd, ClassAdParse, ClassAdValue, ScheddNames } from './classads.js';

/**
 * The vault server named by `-a X`, `-aX`, `-a=X`, `--vaultserver X` or `--vaultserver=X` in an
 * htgettoken option string; the last occurrence wins, other words are ignored.
 */
export function vaultServerFromOptions(options: string): string | undefined {
  const split = splitShellWords(options);
  if (!split.ok) return undefined;
  const words = split.words;
  let found: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '-a' || word === '--vaultserver') {
      const next = words[i + 1];
      if (next !== undefined) {
        found = next;
        i++;
      }
    } else if (word.startsWith('--vaultserver=')) {
      found = word.slice('--vaultserver='.length);
    } else if (word.startsWith('-a=')) {
      found = word.slice(3);
    } else if (word.startsWith('-a') && !word.startsWith('--') && word.length > 2) {
      found = word.slice(2);
    }
  }
  return found === '' ? undefined : found;
}

export const CONDOR_CONFIG_VAL = 'condor_config_val';
export const CONDOR_STATUS = 'condor_status';

/**
 * Runs `bareArgv` (whose argv[0] is the tool's bare name, as the original passed it) by spawning
 * `programPath`, the absolute path resolved once per run; `''` = not found, reported with Go's
 * look-up text without spawning anything.
 */
function runBareNamed(
  run: CommandRunner,
  programPath: string,
  bareArgv: readonly string[],
  request: Omit<CommandRequest, 'argv' | 'argv0'>,
): Promise<CommandOutcome> {
  const [name = '', ...args] = bareArgv;
  if (programPath === '') {
    return Promise.resolve({
      ok: false,
      reason: 'spawn',
      message: spawnFailureMessage(name, 'ENOENT'),
      output: '',
      excerpt: '',
      durationMs: 0,
    });
  }
  return run({ ...request, argv: [programPath, ...args], argv0: name });
}

export type VaultServerLookup =
  | { readonly ok: true; readonly vaultServer: string }
  | { readonly ok: false; readonly error: string };

/**
 * Last source of the vault server: `condor_config_val SEC_CREDENTIAL_GETTOKEN_OPTS` (inherited env).
 * `programPath`: condor_config_val resolved to an absolute path, `''` when not found.
 */
export async function vaultServerFromCondor(
  run: CommandRunner,
  env: Env,
  signal: AbortSignal,
  programPath: string,
): Promise<VaultServerLookup> {
  const result = await runBareNamed(
    run,
    programPath,
    [CONDOR_CONFIG_VAL, 'SEC_CREDENTIAL_GETTOKEN_OPTS'],
    { env, signal, capture: 'stdout' },
  );
  const notFound =
    'could not find setting for SEC_CREDENTIAL_GETTOKEN_OPTS in environment, configuration, or HTCondor';
  if (!result.ok) return { ok: false, error: `${notFound}: condor_config_val: ${result.message}` };
  const server = vaultServerFromOptions(result.stdout.trim());
  if (server === undefined) {
    return {
      ok: false,
      error: `${notFound}: condor_config_val output has no -a/--vaultserver value`,
    };
  }
  return { ok: true, vaultServer: server };
}

export function condorStatusArgv(collector: string, constraint: string | undefined): string[] {
  const argv = [CONDOR_STATUS, '-pool', collector];
  if (constraint !== undefined && constraint !== '') argv.push('-constraint', constraint);
  argv.push('-schedd', '-long');
  return argv;
}

/** A pool's `-schedd -long` answer can run to megabytes; exec's default 1 MiB cap would cut it. */
export const CONDOR_STATUS_OUTPUT_CAP_BYTES = 64 * 1024 * 1024;

/** Ads skipped because their `Name` cannot be part of a token file name. */
export interface RefusedSchedd {
  readonly collector: string;
  readonly name: string;
  readonly reason: string;
}

export type ScheddLookup =
  | {
      readonly ok: true;
      readonly collector: string;
      readonly schedds: readonly string[];
      readonly refused: readonly RefusedSchedd[];
    }
  | { readonly ok: false; readonly error: string };

type QueryResult =
  | {
      readonly ok: true;
      readonly schedds: readonly string[];
      readonly refused: readonly RefusedSchedd[];
    }
  | { readonly ok: false; readonly error: string };

export interface ScheddDiscovery {
  /** Tries each collector in order; the first one that answers decides. */
  discover(collectors: readonly string[], constraint: string | undefined): Promise<ScheddLookup>;
  /** How many condor_status processes this run started (for tests and logs). */
  readonly queries: number;
}

/**
 * Per-run schedd discovery. Answers are cached by (collector, constraint) - a failure too, so a dead
 * collector is asked once per run. Concurrent services asking the same question share one query.
 * Every query is bounded by the run's global deadline.
 */
export function createScheddDiscovery(opts: {
  run: CommandRunner;
  env: Env;
  signal: AbortSignal;
  /** condor_status resolved to an absolute path, `''` when not found. */
  programPath: string;
  /** Default CONDOR_STATUS_OUTPUT_CAP_BYTES. */
  maxOutputBytes?: number;
}): ScheddDiscovery {
  const cap = opts.maxOutputBytes ?? CONDOR_STATUS_OUTPUT_CAP_BYTES;
  const cache = new Map<string, Promise<QueryResult>>();
  let queries = 0;

  const query = async (collector: string, constraint: string | undefined): Promise<QueryResult> => {
    queries++;
    const result = await runBareNamed(
      opts.run,
      opts.programPath,
      condorStatusArgv(collector, constraint),
      { env: opts.env, signal: opts.signal, capture: 'stdout', maxOutputBytes: cap },
    );
    if (!result.ok)
      return { ok: false, error: `condor_status -pool ${collector}: ${result.message}` };
    // A cut answer would either fail to parse or, worse, silently lose schedds.
    if (result.truncated === true)
      return {
        ok: false,
        error: `condor_status -pool ${collector}: condor_status output exceeded ${cap} bytes`,
      };
    const parsed = parseLongClassAds(result.stdout);
    if (!parsed.ok)
      return { ok: false, error: `condor_status -pool ${collector}: ${parsed.error}` };
    const { names, refused } = scheddNames(parsed.ads);
    return {
      ok: true,
      schedds: names,
      refused: refused.map((r) => ({ collector, ...r })),
    };
  };

  const cachedQuery = (collector: string, constraint: string | undefined): Promise<QueryResult> => {
    const key = JSON.stringify([collector, constraint ?? '']);
    let pending = cache.get(key);
    if (pending === undefined) {
      pending = query(collector, constraint);
      cache.set(key, pending);
    }
    return pending;
  };

  return {
    get queries() {
      return queries;
    },
    async discover(collectors, constraint) {
      const errors: string[] = [];
      for (const collector of collectors) {
        const answer = await cachedQuery(collector, constraint);
        if (answer.ok)
          return { ok: true, collector, schedds: answer.schedds, refused: answer.refused };
        errors.push(answer.error);
      }
      const detail = errors.length > 0 ? `: ${errors.join('; ')}` : ': no collector hosts found';
      return { ok: false, error: `could not retrieve schedds from configured collectors${detail}` };
    },
  };
}
