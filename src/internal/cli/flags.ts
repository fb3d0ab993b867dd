/**
 * Command-line parsing compatible with spf13/pflag as the original uses it (token-push.md 1.1,
 * ferry-and-db.md 1.1): `--flag=value`, `--flag value`, `-sVALUE`, `-s VALUE`, `-s=VALUE`, grouped short
 * booleans (`-tv`), `--bool=false`, interspersed positional arguments, `--` ends flags. Errors and
 * `-h/--help`: usage on stderr, the error text on stdout, exit 2.
 *
 * A small table-driven parser rather than commander: commander exits 1 on unknown options, prints help
 * to stdout with exit 0, rejects `--bool=false` and `-t=false`, and formats errors differently; bending
 * it to pflag's exact observable behaviour would take more code than this.
 */
import type { RefreshFlags, TokenPushFlags } from './context.js';

interface FlagBase<K extends string> {
  /** Property in the parsed flags object. */
  readonly key: K;
  /** Long name without dashes. */
  readonly name: string;
  readonly short?: string;
  readonly usage: string;
}
interface BoolFlagDef<K extends string> extends FlagBase<K> {
  readonly type: 'bool';
}
interface StringFlagDef<K extends string> extends FlagBase<K> {
  readonly type: 'string';
  readonly default: string;
}
export type FlagDef<K extends string = string> = BoolFlagDef<K> | StringFlagDef<K>;

const COMMON_FLAGS = [
  {
    key: 'admin',
    name: 'admin',
    type: 'string',
    default: '',
    usage: 'Accepted for compatibility; has no effect',
  },
  {
    key: 'configfile',
    name: 'configfile',
    short: 'c',
    type: 'string',
    default: '',
    usage: 'Specify alternate config file',
  },
  {
    key: 'disableNotifications',
    name: 'disable-notifications',
    type: 'bool',
    usage: 'Do not send admin or service notifications',
  },
  {
    key: 'dontNotify',
    name: 'dont-notify',
    type: 'bool',
    usage: 'Same as --disable-notifications',
  },
  { key: 'noLoki', name: 'no-loki', type: 'bool', usage: 'Do not send log messages to Loki' },
  { key: 'test', name: 'test', short: 't', type: 'bool', usage: 'Test mode' },
  { key: 'verbose', name: 'verbose', short: 'v', type: 'bool', usage: 'Turn on verbose mode' },
  { key: 'version', name: 'version', type: 'bool', usage: 'Version of Managed Tokens library' },
] as const satisfies readonly FlagDef<keyof CommonFlagsKeys>[];
type CommonFlagsKeys = Omit<
  TokenPushFlags,
  'experiment' | 'listServices' | 'pushTokens' | 'runOnboarding' | 'service'
>;

export const TOKEN_PUSH_FLAGS: readonly FlagDef<keyof TokenPushFlags>[] = [
  ...COMMON_FLAGS,
  {
    key: 'experiment',
    name: 'experiment',
    short: 'e',
    type: 'string',
    default: '',
    usage: 'Name of single experiment to push tokens',
  },
  {
    key: 'listServices',
    name: 'list-services',
    type: 'bool',
    usage: 'List all configured services in config file',
  },
  {
    key: 'pushTokens',
    name: 'push-tokens',
    short: 'p',
    type: 'bool',
    usage: 'With --run-onboarding: also ping nodes and push tokens after onboarding',
  },
  {
    key: 'runOnboarding',
    name: 'run-onboarding',
    short: 'r',
    type: 'bool',
    usage: 'Run onboarding for a single service (requires -s/--service)',
  },
  {
    key: 'service',
    name: 'service',
    short: 's',
    type: 'string',
    default: '',
    usage: 'Service to obtain and push vault tokens for.  Must be of the form experiment_role',
  },
];

export const REFRESH_FLAGS: readonly FlagDef<keyof RefreshFlags>[] = [
  ...COMMON_FLAGS,
  {
    key: 'authmethod',
    name: 'authmethod',
    type: 'string',
    default: 'tls',
    usage: 'Choose method for authentication to FERRY (tls or jwt)',
  },
];

export type ParseOutcome<F> =
  | {
      readonly kind: 'ok';
      readonly flags: F;
      readonly positionals: readonly string[];
      readonly changed: ReadonlySet<string>;
    }
  | { readonly kind: 'exit'; readonly code: 2; readonly stdout: string; readonly stderr: string };

const HELP_REQUESTED = 'pflag: help requested';

class FlagError extends Error {}
class HelpRequested extends Error {}

/** Go strconv.ParseBool. */
function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

function flagDisplayName(def: FlagDef): string {
  return def.short !== undefined ? `-${def.short}, --${def.name}` : `--${def.name}`;
}

/** Go %q for a string. */
function quoteGo(s: string): string {
  return JSON.stringify(s);
}

/** Go %q for a single byte/rune. */
function quoteGoChar(c: string): string {
  return c === "'" ? "'\\''" : `'${c}'`;
}

/** pflag's PrintDefaults layout: flags sorted by long name, usage column aligned. */
export function usageText(executable: string, defs: readonly FlagDef[]): string {
  const rows = [...defs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((def) => {
      let left = def.short !== undefined ? `  -${def.short}, --${def.name}` : `      --${def.name}`;
      let usage = def.usage;
      if (def.type === 'string') {
        left += ' string';
        if (def.default !== '') usage += ` (default ${quoteGo(def.default)})`;
      }
      return { left, usage };
    });
  const maxlen = Math.max(...rows.map((r) => r.left.length));
  const lines = rows.map(
    ({ left, usage }) => `${left}${' '.repeat(maxlen - left.length + 3)}${usage}`,
  );
  return `Usage of ${executable}:\n${lines.join('\n')}\n`;
}

type FlagValues = Record<string, string | boolean>;

function applyValue(values: FlagValues, changed: Set<string>, def: FlagDef, value: string): void {
  if (def.type === 'bool') {
    const parsed = parseGoBool(value);
    if (parsed === undefined) {
      throw new FlagError(
        `invalid argument ${quoteGo(value)} for ${quoteGo(flagDisplayName(def))} flag: strconv.ParseBool: parsing ${quoteGo(value)}: invalid syntax`,
      );
    }
    values[def.key] = parsed;
  } else {
    values[def.key] = value;
  }
  changed.add(def.name);
}

/** Parses `argv` (without the node/program words) against `defs`. Never exits: the caller decides. */
export function parseFlags<F>(
  executable: string,
  defs: readonly FlagDef<Extract<keyof F, string>>[],
  argv: readonly string[],
): ParseOutcome<F> {
  const byName = new Map(defs.map((d) => [d.name, d as FlagDef]));
  const byShort = new Map(
    defs.filter((d) => d.short !== undefined).map((d) => [d.short as string, d as FlagDef]),
  );
  const values: FlagValues = {};
  for (const def of defs) values[def.key] = def.type === 'bool' ? false : def.default;
  const changed = new Set<string>();
  const positionals: string[] = [];
  const args = [...argv];

  try {
    while (args.length > 0) {
      const arg = args.shift() as string;
      if (arg.length < 2 || !arg.startsWith('-')) {
        positionals.push(arg);
        continue;
      }
      if (arg === '--') {
        positionals.push(...args.splice(0));
        break;
      }
      if (arg.startsWith('--')) parseLong(arg, args, byName, values, changed);
      else parseShortGroup(arg, args, byShort, values, changed);
    }
  } catch (err) {
    const usage = usageText(executable, defs as readonly FlagDef[]);
    if (err instanceof HelpRequested) {
      return { kind: 'exit', code: 2, stdout: `${HELP_REQUESTED}\n`, stderr: usage };
    }
    if (err instanceof FlagError) {
      return {
        kind: 'exit',
        code: 2,
        stdout: `${err.message}\n`,
        stderr: `${err.message}\n${usage}`,
      };
    }
    throw err;
  }
  return { kind: 'ok', flags: values as F, positionals, changed };
}

function parseLong(
  arg: string,
  rest: string[],
  byName: Map<string, FlagDef>,
  values: FlagValues,
  changed: Set<string>,
): void {
  const body = arg.slice(2);
  if (body.startsWith('-') || body.startsWith('=')) throw new FlagError(`bad flag syntax: ${arg}`);
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : body;
  const def = byName.get(name);
  if (def === undefined) {
    if (name === 'help') throw new HelpRequested();
    throw new FlagError(`unknown flag: --${name}`);
  }
  if (eq >= 0) return applyValue(values, changed, def, body.slice(eq + 1));
  if (def.type === 'bool') return applyValue(values, changed, def, 'true');
  const next = rest.shift();
  if (next === undefined) throw new FlagError(`flag needs an argument: ${arg}`);
  applyValue(values, changed, def, next);
}

function parseShortGroup(
  arg: string,
  rest: string[],
  byShort: Map<string, FlagDef>,
  values: FlagValues,
  changed: Set<string>,
): void {
  let shorts = arg.slice(1);
  while (shorts.length > 0) {
    const c = shorts[0] as string;
    const def = byShort.get(c);
    if (def === undefined) {
      if (c === 'h') throw new HelpRequested();
      throw new FlagError(`unknown shorthand flag: ${quoteGoChar(c)} in -${shorts}`);
    }
    if (shorts.length > 2 && shorts[1] === '=') {
      applyValue(values, changed, def, shorts.slice(2));
      shorts = '';
    } else if (def.type === 'bool') {
      applyValue(values, changed, def, 'true');
      shorts = shorts.slice(1);
    } else if (shorts.length > 1) {
      applyValue(values, changed, def, shorts.slice(1));
      shorts = '';
    } else {
      const next = rest.shift();
      if (next === undefined)
        throw new FlagError(`flag needs an argument: ${quoteGoChar(c)} in -${shorts}`);
      applyValue(values, changed, def, next);
      shorts = '';
    }
  }
}

export function parseTokenPushFlags(
  argv: readonly string[],
  executable = 'token-push',
): ParseOutcome<TokenPushFlags> {
  return parseFlags<TokenPushFlags>(executable, TOKEN_PUSH_FLAGS, argv);
}

export function parseRefreshFlags(
  argv: readonly string[],
  executable = 'refresh-uids-from-ferry',
): ParseOutcome<RefreshFlags> {
  return parseFlags<RefreshFlags>(executable, REFRESH_FLAGS, argv);
}
