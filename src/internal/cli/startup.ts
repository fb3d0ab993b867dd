/**
 * The startup sequence shared by both executables (token-push.md 1.2, ferry-and-db.md 1.3, config.md 1.7).
 * Every step either continues or ends the process with the spec's exit code; only when all pass does the
 * caller get a context for the run function. Nothing here imports metrics, tracing, sqlite or mail, so
 * `--version` and `--list-services` stay fast.
 */
import {
  ConfigLoadError,
  listServices,
  readConfigSource,
  validateSource,
  type ConfigSource,
  type Executable,
  type Finding,
  type LoadedConfig,
  type Timeouts,
} from '../config/index.js';
import { appendSystemPath, lookupPrograms } from '../exec/index.js';
import { createLogger, type ExtraStream, type LoggerHandle } from '../logging/index.js';
import type { Logger } from 'pino';
import {
  REQUIRED_PROGRAMS,
  type CommonFlags,
  type NotificationsDisabledReason,
  type ProgramName,
  type RefreshFlags,
  type RefreshStartup,
  type ResolvedPrograms,
  type TokenPushFlags,
  type TokenPushStartup,
} from './context.js';
import { parseRefreshFlags, parseTokenPushFlags, type ParseOutcome } from './flags.js';
import { NO_VERSION_ERROR, readBuildIdentity, versionLine } from './version.js';

/** What the startup needs from the process; injectable for tests. */
export interface ProcessFacts {
  /** Arguments after the program name. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Real uid. */
  readonly uid: number;
  readonly writeStdout: (text: string) => void;
  readonly writeStderr: (text: string) => void;
  /** Config search directories (tests); default /etc/managed-tokens, $HOME/.managed-tokens, cwd. */
  readonly searchDirs?: readonly string[] | undefined;
}

export type StartupOutcome<C> =
  | { readonly kind: 'run'; readonly ctx: C; readonly logger: LoggerHandle }
  | { readonly kind: 'exit'; readonly code: number; readonly logger?: LoggerHandle };

export const ROOT_MESSAGE = 'Current user is root.  Please run this executable as a non-root user';
export const CONFIG_FATAL_STDOUT = 'Fatal error setting up configuration.  Exiting now';
export const ONBOARDING_WITHOUT_SERVICE =
  'run-onboarding flag set without a service for which to run onboarding';
export const TIMEOUTS_EXCEED_GLOBAL =
  'configured component timeouts exceed the total configured global timeout.  Please check all configured timeouts';

const TOKEN_PUSH_PROGRAMS: readonly ProgramName[] = [...REQUIRED_PROGRAMS, 'ping'];
/** FIX Q9: refresh-uids-from-ferry needs only these, and only for `--authmethod jwt`. */
const REFRESH_JWT_PROGRAMS = [
  'kinit',
  'klist',
  'htgettoken',
] as const satisfies readonly ProgramName[];

function exitWith(
  code: number,
  logger?: LoggerHandle,
): { kind: 'exit'; code: number; logger?: LoggerHandle } {
  return logger === undefined ? { kind: 'exit', code } : { kind: 'exit', code, logger };
}

/** Messages before the config is read reach stderr only (notifications-observability.md 5.1). */
function earlyLogger(executable: Executable, facts: ProcessFacts): LoggerHandle {
  return createLogger({ executable, warnMissingFiles: false, stderrWrite: facts.writeStderr });
}

function parentEnvironment(env: ProcessFacts['env']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  out['PATH'] = appendSystemPath(env['PATH']);
  return out;
}

function resolvePrograms(
  pathValue: string | undefined,
  names: readonly ProgramName[],
): { programs: ResolvedPrograms; missing: ProgramName[] } {
  const all = lookupPrograms(TOKEN_PUSH_PROGRAMS, pathValue);
  return { programs: all.paths, missing: all.missing.filter((name) => names.includes(name)) };
}

async function handleVersion(log: Logger, facts: ProcessFacts): Promise<number> {
  const id = await readBuildIdentity();
  if (id === undefined) {
    log.error(NO_VERSION_ERROR);
    return 1;
  }
  facts.writeStdout(`${versionLine(id)}\n`);
  return 0;
}

function readSource(
  flags: CommonFlags,
  env: Record<string, string>,
  facts: ProcessFacts,
  log: Logger,
): ConfigSource | undefined {
  try {
    const source = readConfigSource({
      configFile: flags.configfile,
      env,
      cwd: facts.cwd,
      searchDirs: facts.searchDirs,
    });
    log.debug({ configFile: source.choice.path }, 'Using config file');
    return source;
  } catch (err) {
    facts.writeStdout(`${CONFIG_FATAL_STDOUT}\n`);
    log.error(
      err instanceof ConfigLoadError
        ? err.message
        : `could not load configuration: ${(err as Error).message}`,
    );
    return undefined;
  }
}

/** Warnings and per-service errors go to the full logger (files included); error-global ones end the run. */
function reportFindings(log: Logger, findings: readonly Finding[]): void {
  for (const finding of findings) {
    if (finding.severity === 'warning') log.warn(finding.text);
    else if (finding.severity === 'error-service')
      log.error({ service: finding.service }, `${finding.text} (service skipped)`);
    else log.error(finding.text);
  }
}

async function lokiStreams(
  executable: Executable,
  config: LoadedConfig,
  noLoki: boolean,
  log: Logger,
): Promise<{ streams: ExtraStream[]; enabled: boolean }> {
  const host = config.global.loki.host;
  // A host without a scheme cannot work (the config check already warned that Loki is then disabled).
  if (noLoki || !/^https?:\/\/\S/i.test(host.trim())) return { streams: [], enabled: false };
  try {
    const loki = await import('../logging/loki.js');
    const stream = loki.createLokiStream({
      host,
      responseHeaderTimeoutMs: config.global.loki.responseHeaderTimeoutMs,
      labels: {
        app: 'managed-tokens',
        command: executable,
        environment: config.global.devEnvironmentLabel,
      },
    });
    return { streams: [{ level: 'info', stream, close: () => stream.close() }], enabled: true };
  } catch (err) {
    log.error(`Could not set up Loki logging: ${(err as Error).message}`);
    return { streams: [], enabled: false };
  }
}

async function fullLogger(
  executable: Executable,
  config: LoadedConfig,
  flags: CommonFlags,
  facts: ProcessFacts,
  early: LoggerHandle,
): Promise<{ logger: LoggerHandle; lokiEnabled: boolean }> {
  const files = config.global.logs[executable];
  const loki = await lokiStreams(executable, config, flags.noLoki, early.log);
  const logger = createLogger({
    executable,
    logFile: files.logfile,
    debugFile: files.debugfile,
    extraStreams: loki.streams,
    stderrWrite: facts.writeStderr,
    // The config's finding for an unset logs.<exe>.* key is the one warning (V33); do not repeat it.
    warnMissingFiles: false,
  });
  if (!loki.enabled) logger.log.info('Loki logging disabled by flag');
  await early.close();
  logger.log.debug({ configFile: config.file }, 'Configuration loaded');
  reportFindings(logger.log, config.findings);
  if (flags.admin !== '') logger.log.warn('The --admin flag has no effect');
  return { logger, lokiEnabled: loki.enabled };
}

/**
 * Timeouts over budget: the original's message and exit 1 (nothing on stdout). Other error-global
 * findings (already logged with file:line:col): the configuration fatal line on stdout and exit 1.
 */
function refuseUnusableConfig(
  executable: Executable,
  config: LoadedConfig,
  log: Logger,
  facts: ProcessFacts,
): boolean {
  if (componentTimeoutsExceedGlobal(executable, config.timeouts)) {
    log.error(TIMEOUTS_EXCEED_GLOBAL);
    return true;
  }
  if (config.hasGlobalErrors) {
    facts.writeStdout(`${CONFIG_FATAL_STDOUT}\n`);
    return true;
  }
  return false;
}

function componentTimeoutsExceedGlobal(executable: Executable, t: Timeouts): boolean {
  const sum =
    executable === 'token-push'
      ? t.kerberosMs + t.vaultStorerMs + t.pingMs + t.pushMs
      : t.ferryRequestMs + t.dbMs;
  return sum > t.globalMs;
}

function notificationState(
  byFlag: boolean,
  onboarding: boolean,
  config: LoadedConfig,
): { disabled: boolean; reason: NotificationsDisabledReason } {
  if (byFlag) return { disabled: true, reason: 'flag' };
  if (onboarding) return { disabled: true, reason: 'onboarding' };
  if (config.global.disableNotifications) return { disabled: true, reason: 'configuration' };
  return { disabled: false, reason: undefined };
}

interface CommonStart<F extends CommonFlags> {
  readonly flags: F;
  readonly env: Record<string, string>;
  readonly programs: ResolvedPrograms;
  readonly early: LoggerHandle;
}

/** Steps shared by both executables up to (not including) the config: root, required programs, flags. */
async function commonPrefix<F extends CommonFlags>(
  executable: Executable,
  facts: ProcessFacts,
  parse: (argv: readonly string[]) => ParseOutcome<F>,
  requiredPrograms: readonly ProgramName[],
): Promise<CommonStart<F> | { kind: 'exit'; code: number }> {
  const early = earlyLogger(executable, facts);
  if (facts.uid === 0) {
    early.log.error(ROOT_MESSAGE);
    return { kind: 'exit', code: 1 };
  }
  const env = parentEnvironment(facts.env);
  const { programs, missing } = resolvePrograms(env['PATH'], requiredPrograms);
  // token-push's original checks its programs at package initialisation, so even --help/--version fail.
  if (missing.length > 0) {
    early.log.fatal(
      { PATH: env['PATH'] },
      `Could not find required executable(s) in PATH: ${missing.join(', ')}`,
    );
    return { kind: 'exit', code: 1 };
  }
  const parsed = parse(facts.argv);
  if (parsed.kind === 'exit') {
    facts.writeStderr(parsed.stderr);
    facts.writeStdout(parsed.stdout);
    return { kind: 'exit', code: parsed.code };
  }
  return { flags: parsed.flags, env, programs, early };
}

export async function startTokenPush(
  facts: ProcessFacts,
  startedAt = new Date(),
): Promise<StartupOutcome<TokenPushStartup>> {
  const executable = 'token-push';
  const prefix = await commonPrefix(
    executable,
    facts,
    (argv) => parseTokenPushFlags(argv),
    REQUIRED_PROGRAMS,
  );
  if ('kind' in prefix) return prefix;
  const { flags, env, early, programs } = prefix;
  const log0 = early.log;

  if (programs.ping === '')
    log0.error({ PATH: env['PATH'] }, 'Could not find ping in PATH; pinging nodes will fail');

  if (flags.version) return exitWith(await handleVersion(log0, facts));

  const source = readSource(flags, env, facts, log0);
  if (source === undefined) return exitWith(1);

  const byFlag = flags.disableNotifications || flags.dontNotify;

  if (flags.listServices) {
    facts.writeStdout(`${listServices(source).join('\n')}\n`);
    return exitWith(0);
  }

  if (flags.runOnboarding && flags.service === '') {
    log0.error(ONBOARDING_WITHOUT_SERVICE);
    return exitWith(1);
  }

  const config = validateSource(source, {
    configFile: flags.configfile,
    env,
    cwd: facts.cwd,
    executable,
    selection: { experiment: flags.experiment, service: flags.service },
    flags: { notificationsDisabled: byFlag || flags.runOnboarding, test: flags.test },
  });

  const { logger, lokiEnabled } = await fullLogger(executable, config, flags, facts, early);
  const log = logger.log;

  if (flags.experiment !== '' && flags.service !== '') {
    log.warn(
      { experiment: flags.experiment, service: flags.service },
      `Both --experiment and --service were given; --experiment wins: running every role of ${flags.experiment}`,
    );
  }
  if (flags.runOnboarding) {
    log.info(`Running onboarding for service ${flags.service}`);
    log.info('Will disable notifications because run-onboarding flag is set');
  }

  if (refuseUnusableConfig(executable, config, log, facts)) return exitWith(1, logger);

  const notifications = notificationState(byFlag, flags.runOnboarding, config);
  log.debug(
    {
      services: config.services.map((s) => s.name.configName).join(', '),
      skipped: config.skippedServices.map((s) => s.name.configName).join(', '),
    },
    'Selected services',
  );

  const ctx: TokenPushStartup = {
    executable,
    flags,
    config,
    log,
    env,
    timeouts: config.timeouts,
    programs,
    notificationsDisabledByFlag: byFlag || flags.runOnboarding,
    notificationsDisabled: notifications.disabled,
    notificationsDisabledReason: notifications.reason,
    testMode: flags.test,
    lokiEnabled,
    devEnvironmentLabel: config.global.devEnvironmentLabel,
    startedAt,
    services: config.services,
    onboarding: flags.runOnboarding,
    pushAfterOnboarding: flags.runOnboarding && flags.pushTokens,
  };
  return { kind: 'run', ctx, logger };
}

export async function startRefresh(
  facts: ProcessFacts,
  startedAt = new Date(),
): Promise<StartupOutcome<RefreshStartup>> {
  const executable = 'refresh-uids-from-ferry';
  const prefix = await commonPrefix(executable, facts, (argv) => parseRefreshFlags(argv), []);
  if ('kind' in prefix) return prefix;
  const { flags, env, early, programs } = prefix;
  const log0 = early.log;

  if (flags.version) return exitWith(await handleVersion(log0, facts));

  const source = readSource(flags, env, facts, log0);
  if (source === undefined) return exitWith(1);

  const byFlag = flags.disableNotifications || flags.dontNotify;
  const config = validateSource(source, {
    configFile: flags.configfile,
    env,
    cwd: facts.cwd,
    executable,
    flags: { notificationsDisabled: byFlag, test: flags.test, authMethod: flags.authmethod },
  });

  const { logger, lokiEnabled } = await fullLogger(executable, config, flags, facts, early);
  const log = logger.log;
  if (refuseUnusableConfig(executable, config, log, facts)) return exitWith(1, logger);

  // FIX Q9: HTCondor and the Kerberos tools are needed only for the JWT path.
  if (flags.authmethod === 'jwt') {
    const missing = REFRESH_JWT_PROGRAMS.filter((name) => programs[name] === '');
    if (missing.length > 0) {
      log.fatal(
        { PATH: env['PATH'] },
        `Could not find required executable(s) in PATH for --authmethod jwt: ${missing.join(', ')}`,
      );
      return exitWith(1, logger);
    }
  }

  const notifications = notificationState(byFlag, false, config);
  const ctx: RefreshStartup = {
    executable,
    flags,
    config,
    log,
    env,
    timeouts: config.timeouts,
    programs,
    notificationsDisabledByFlag: byFlag,
    notificationsDisabled: notifications.disabled,
    notificationsDisabledReason: notifications.reason,
    testMode: flags.test,
    lokiEnabled,
    devEnvironmentLabel: config.global.devEnvironmentLabel,
    startedAt,
    authMethod: flags.authmethod,
  };
  return { kind: 'run', ctx, logger };
}

export type { TokenPushFlags, RefreshFlags };
