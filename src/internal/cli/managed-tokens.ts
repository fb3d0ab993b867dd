/**
 * `managed-tokens`: operator helper commands that run nothing against the world.
 *   managed-tokens check-config [-c FILE] [--executable token-push|refresh-uids-from-ferry|both]
 *   managed-tokens --version
 */
import { checkConfig } from '../config/index.js';
import { parseFlags, usageText, type FlagDef } from './flags.js';
import type { ProcessFacts } from './startup.js';
import { NO_VERSION_ERROR, readBuildIdentity, versionLine } from './version.js';

const EXECUTABLE = 'managed-tokens';
const TARGETS = ['token-push', 'refresh-uids-from-ferry', 'both'] as const;
type Target = (typeof TARGETS)[number];

interface CheckConfigFlags {
  readonly configfile: string;
  readonly executable: string;
}

const CHECK_CONFIG_FLAGS: readonly FlagDef<keyof CheckConfigFlags>[] = [
  {
    key: 'configfile',
    name: 'configfile',
    short: 'c',
    type: 'string',
    default: '',
    usage: 'Config file to check (default: the one the executables would find)',
  },
  {
    key: 'executable',
    name: 'executable',
    type: 'string',
    default: 'both',
    usage: 'Validate for token-push, refresh-uids-from-ferry or both',
  },
];

export function topLevelUsage(): string {
  return [
    `Usage: ${EXECUTABLE} <command> [flags]`,
    '',
    'Commands:',
    '  check-config   Validate the configuration file (exit 0 when usable, 1 otherwise)',
    '',
    'Flags:',
    '  -h, --help     Show this help',
    '      --version  Print the version and exit',
    '',
    `Run '${EXECUTABLE} check-config --help' for the flags of check-config.`,
    '',
  ].join('\n');
}

function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

function runCheckConfig(facts: ProcessFacts, argv: readonly string[]): number {
  const parsed = parseFlags<CheckConfigFlags>(
    `${EXECUTABLE} check-config`,
    CHECK_CONFIG_FLAGS,
    argv,
  );
  if (parsed.kind === 'exit') {
    facts.writeStderr(parsed.stderr);
    facts.writeStdout(parsed.stdout);
    return parsed.code;
  }
  const { configfile, executable } = parsed.flags;
  if (!isTarget(executable)) {
    const message = `invalid argument ${JSON.stringify(executable)} for "--executable" flag: expected one of ${TARGETS.join(', ')}`;
    facts.writeStderr(`${message}\n${usageText(`${EXECUTABLE} check-config`, CHECK_CONFIG_FLAGS)}`);
    facts.writeStdout(`${message}\n`);
    return 2;
  }
  const result = checkConfig({
    configFile: configfile,
    env: facts.env,
    cwd: facts.cwd,
    searchDirs: facts.searchDirs,
    executable,
  });
  facts.writeStdout(result.lines.map((line) => `${line}\n`).join(''));
  return result.exitCode;
}

export async function runManagedTokens(facts: ProcessFacts): Promise<number> {
  const [command, ...rest] = facts.argv;
  switch (command) {
    case 'check-config':
      return runCheckConfig(facts, rest);
    case '--version': {
      const id = await readBuildIdentity();
      if (id === undefined) {
        facts.writeStderr(`${NO_VERSION_ERROR}\n`);
        return 1;
      }
      facts.writeStdout(`${versionLine(id)}\n`);
      return 0;
    }
    case '-h':
    case '--help':
    case 'help':
      facts.writeStderr(topLevelUsage());
      return 0;
    case undefined:
      facts.writeStderr(topLevelUsage());
      return 2;
    default:
      facts.writeStderr(`unknown command: ${command}\n${topLevelUsage()}`);
      facts.writeStdout(`unknown command: ${command}\n`);
      return 2;
  }
}
