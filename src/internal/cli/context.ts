/**
 * What the shared startup sequence (token-push.md 1.2, ferry-and-db.md 1.3) hands to the run functions
 * `runTokenPush(ctx)` (src/internal/pipeline/run.ts) and `runRefresh(ctx)` (src/internal/refresh/run.ts).
 *
 * By the time a run function receives one of these: the process is not root, flags are parsed, the config
 * file is loaded and validated (no error-global findings), logging is set up, the timeouts are validated
 * and the required programs were found. The run function owns everything after that: metrics probe,
 * global deadline, tracing, DB, notifications. It returns the process exit code; the entry point flushes
 * the logger and exits with it.
 */
import type { Logger } from 'pino';
import type { Executable, LoadedConfig, ServiceSettings, Timeouts } from '../config/index.js';

/** Flags both executables accept (pflag names in comments). */
export interface CommonFlags {
  /** `--admin`: accepted and ignored (token-push Q29). */
  readonly admin: string;
  /** `-c/--configfile` */
  readonly configfile: string;
  /** `--disable-notifications` */
  readonly disableNotifications: boolean;
  /** `--dont-notify` */
  readonly dontNotify: boolean;
  /** `--no-loki` */
  readonly noLoki: boolean;
  /** `-t/--test` */
  readonly test: boolean;
  /** `-v/--verbose`: token-push adds `--verbose` to htgettoken (get-token path); refresh ignores it. */
  readonly verbose: boolean;
  /** `--version` */
  readonly version: boolean;
}

export interface TokenPushFlags extends CommonFlags {
  /** `-e/--experiment` */
  readonly experiment: string;
  /** `--list-services` */
  readonly listServices: boolean;
  /** `-p/--push-tokens` */
  readonly pushTokens: boolean;
  /** `-r/--run-onboarding` */
  readonly runOnboarding: boolean;
  /** `-s/--service` */
  readonly service: string;
}

export interface RefreshFlags extends CommonFlags {
  /** `--authmethod` verbatim (default `tls`); the run rejects anything but `tls`/`jwt` (exit 1). */
  readonly authmethod: string;
}

/** Programs resolved once at startup (external-tools.md 1), after `:/usr/bin:/usr/sbin` was appended to PATH. */
export const REQUIRED_PROGRAMS = [
  'kinit',
  'klist',
  'condor_vault_storer',
  'condor_store_cred',
  'condor_status',
  'htgettoken',
] as const;
export type RequiredProgram = (typeof REQUIRED_PROGRAMS)[number];
export type ProgramName = RequiredProgram | 'ping';

/**
 * Absolute paths. `''` means "not found" (only possible for `ping` in token-push, and for every program in
 * refresh-uids-from-ferry with `tls` auth, which checks nothing — FIX Q9). Spawning `''` yields the Go text
 * `exec: no command`.
 */
export type ResolvedPrograms = Readonly<Record<ProgramName, string>>;

/** Why notifications are off for this run (the original logs "flag" or "configuration"). */
export type NotificationsDisabledReason = 'flag' | 'configuration' | 'onboarding' | undefined;

interface StartupBase<F extends CommonFlags> {
  readonly executable: Executable;
  readonly flags: F;
  /** Loaded and validated configuration (findings of severity error-global are absent). */
  readonly config: LoadedConfig;
  /** Root logger with field `executable`; children carry `service`, `node`, ... */
  readonly log: Logger;
  /**
   * The parent environment for children: the process environment with `:/usr/bin:/usr/sbin` appended to
   * PATH. Pass it to `buildChildEnv(ctx.env, recipe, settings)`; never read `process.env` elsewhere.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly timeouts: Timeouts;
  readonly programs: ResolvedPrograms;
  /** `--disable-notifications`, `--dont-notify` (and, for token-push, `-r`) */
  readonly notificationsDisabledByFlag: boolean;
  /** Effective global switch: by flag, or `disableNotifications: true` in the file. */
  readonly notificationsDisabled: boolean;
  readonly notificationsDisabledReason: NotificationsDisabledReason;
  /** `-t` */
  readonly testMode: boolean;
  /** Loki shipping requested (no `--no-loki` and `loki.host` non-empty). */
  readonly lokiEnabled: boolean;
  /** Env MANAGED_TOKENS_DEV_ENVIRONMENT_LABEL > file > `production` (from the config). */
  readonly devEnvironmentLabel: string;
  /** Process start, for stage `setup` durations. */
  readonly startedAt: Date;
}

export interface TokenPushStartup extends StartupBase<TokenPushFlags> {
  readonly executable: 'token-push';
  /**
   * Services to run (2.1): `-e` beats `-s`; neither → all. Already resolved by the config module; services
   * with error-service findings are in `config.skippedServices` instead.
   */
  readonly services: readonly ServiceSettings[];
  /** `-r` (requires `-s`, checked at startup); forces notifications off. */
  readonly onboarding: boolean;
  /** `-r -p`: ping + push after onboarding. `-t` still wins (no ping/push in test mode). */
  readonly pushAfterOnboarding: boolean;
}

export interface RefreshStartup extends StartupBase<RefreshFlags> {
  readonly executable: 'refresh-uids-from-ferry';
  /** `--authmethod` flag value (not validated here; the run fails for anything but `tls`/`jwt`). */
  readonly authMethod: string;
}

export type StartupContext = TokenPushStartup | RefreshStartup;
