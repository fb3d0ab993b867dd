import type { ServiceName } from '../service/name.js';

/** The two executables that read the configuration. */
export type Executable = 'token-push' | 'refresh-uids-from-ferry';
/** Validation target: one executable, or the union of both checks (check-config). */
export type ValidationTarget = Executable | 'both';

/** Where a key or value sits in the configuration file (1-based). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/**
 * error-global: the executable refuses to start (exit 1).
 * error-service: that service is skipped (setup notification), the others run.
 * warning: original behaviour kept, operator told.
 */
export type Severity = 'error-global' | 'error-service' | 'warning';

export interface Finding {
  readonly severity: Severity;
  readonly pos: SourcePos;
  /** Dotted key path in the file's spelling, e.g. `experiments.dune.roles.production.account`. */
  readonly keyPath: string;
  /** Problem text, e.g. `not a Go duration (got "60ssss"; expected e.g. "60s", "1m30s")`. */
  readonly message: string;
  /** configName (`K_R`) of the service the finding is about (always set for error-service findings). */
  readonly service?: string;
  /** `FILE:LINE:COL: key.path: message` */
  readonly text: string;
}

/** All durations in milliseconds. */
export interface Timeouts {
  readonly globalMs: number;
  /** token-push stage timeouts */
  readonly kerberosMs: number;
  readonly vaultStorerMs: number;
  readonly pingMs: number;
  readonly pushMs: number;
  /** refresh-uids-from-ferry timeouts */
  readonly ferryRequestMs: number;
  readonly dbMs: number;
}

export const WORKER_TYPES = [
  'getKerberosTickets',
  'getToken',
  'storeAndGetToken',
  'pingAggregator',
  'pushTokens',
] as const;
export type WorkerType = (typeof WORKER_TYPES)[number];

export interface RetryPolicy {
  /** Retries after the first attempt (attempts = numRetries + 1). */
  readonly numRetries: number;
  readonly retrySleepMs: number;
}
export type RetryPolicies = Readonly<Record<WorkerType, RetryPolicy>>;

export interface NotificationTargets {
  readonly adminEmails: readonly string[];
  /** `""` = Slack disabled. */
  readonly slackAlertsUrl: string;
}

export interface EmailSettings {
  readonly from: string;
  readonly smtpHost: string;
  /** 0 when unset. */
  readonly smtpPort: number;
}

export interface LogFiles {
  /** `""` = no file. */
  readonly logfile: string;
  readonly debugfile: string;
}

export interface FerrySettings {
  readonly host: string;
  readonly port: number;
  readonly caPath: string;
  readonly hostCert: string;
  readonly hostKey: string;
  readonly serviceExperiment: string;
  readonly serviceRole: string;
  readonly serviceKerberosPrincipal: string;
  readonly serviceKeytabPath: string;
  readonly vaultServer: string;
}

export interface GlobalSettings {
  readonly dbLocation: string;
  readonly errorCountToSendMessage: number;
  /** Env MANAGED_TOKENS_DEV_ENVIRONMENT_LABEL (non-empty) > file > `production`. */
  readonly devEnvironmentLabel: string;
  readonly email: EmailSettings;
  readonly notifications: NotificationTargets;
  readonly notificationsTest: NotificationTargets;
  /** Global `disableNotifications` from the file (flags are applied by the caller). */
  readonly disableNotifications: boolean;
  readonly logs: Readonly<Record<Executable, LogFiles>>;
  readonly prometheus: {
    readonly host: string;
    /**
     * The FINAL pushgateway job name: `prometheus.jobname` (default `managed_tokens`, also when empty),
     * suffixed with `_<devEnvironmentLabel>` unless the label is `production`. Do not suffix it again.
     */
    readonly jobName: string;
    /**
     * `prometheus.singleGroup` (ours, default false): true pushes under the job alone, as the original
     * did, instead of adding the `executable=<name>` grouping label (README decision 9).
     */
    readonly singleGroup: boolean;
  };
  readonly loki: { readonly host: string; readonly responseHeaderTimeoutMs: number };
  readonly tracing: { readonly url: string };
  /** htgettoken syntax, verbatim; `10s` when unset. */
  readonly minTokenLifetime: string;
  readonly ferry: FerrySettings;
  /** RUF jwt: exact HTGETTOKENOPTS; undefined when the key is unset. */
  readonly htgettokenopts: string | undefined;
  readonly serviceCreddVaultTokenPathRoot: string;
}

/** Where the vault server of a service comes from (token-push.md 3.5.3 with the Q18 fix). */
export type VaultServerSource =
  | { readonly kind: 'env'; readonly value: string }
  | { readonly kind: 'override'; readonly value: string }
  | { readonly kind: 'global'; readonly value: string }
  /** Nothing configured: the caller runs `condor_config_val SEC_CREDENTIAL_GETTOKEN_OPTS` and parses it. */
  | { readonly kind: 'askCondor' };

export type TokenGetter = 'getToken' | 'storeAndGetToken';

/** Fields a role-file destination template may use (config.md 4.3). */
export interface RoleFileTemplateContext {
  readonly Account: string;
  readonly DesiredUID: number;
  readonly Experiment: string;
  readonly Role: string;
  readonly Name: string;
  readonly UserPrincipal: string;
  readonly KeytabPath: string;
  readonly ServiceCreddVaultTokenPathRoot: string;
  readonly VaultServer: string;
}

export interface CompiledTemplate {
  readonly source: string;
  /** Field names used by the template, in order of appearance. */
  readonly fields: readonly string[];
  render(ctx: Readonly<Record<string, string | number>>): string;
}

export interface ServiceSettings {
  readonly name: ServiceName;
  readonly account: string;
  readonly emails: readonly string[];
  readonly nodes: readonly string[];
  /** undefined → look the UID up in the database by account. */
  readonly desiredUIDOverride: number | undefined;
  readonly userPrincipal: string;
  /** principal with every `@FNAL.GOV` removed */
  readonly credkey: string;
  readonly keytabPath: string;
  /** Value of HTGETTOKENOPTS for this service's children. */
  readonly htgettokenOpts: string;
  readonly vaultServer: VaultServerSource;
  /** Trimmed, empties dropped; [] only possible for getToken services. */
  readonly collectorHosts: readonly string[];
  /** Set → schedds = [creddHost], no collector query. */
  readonly creddHost: string | undefined;
  /** undefined or non-empty */
  readonly scheddConstraint: string | undefined;
  readonly serviceCreddVaultTokenPathRoot: string;
  readonly fileCopierOptions: readonly string[];
  readonly pingOptions: readonly string[];
  readonly sshOptions: readonly string[];
  readonly roleFileDestination: CompiledTemplate;
  /** Effective per-service value (override, else global); flags are applied by the caller. */
  readonly notificationsDisabled: boolean;
  /** true when disableNotificationsOverride is set for this role */
  readonly notificationsOverridden: boolean;
  readonly tokenGetter: TokenGetter;
}

export interface ServiceSelection {
  /** `-e`: wins over `service` */
  readonly experiment?: string | undefined;
  /** `-s` */
  readonly service?: string | undefined;
}

export interface LoadOptions {
  /** `-c` value; undefined or "" → discovery */
  readonly configFile?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Defaults to [/etc/managed-tokens, $HOME/.managed-tokens, cwd]. */
  readonly searchDirs?: readonly string[] | undefined;
  readonly executable?: ValidationTarget | undefined;
  readonly selection?: ServiceSelection | undefined;
  /** Command-line facts that change which checks apply. */
  readonly flags?: RunFlags | undefined;
  /** Default 'run'. */
  readonly purpose?: ValidationPurpose | undefined;
}

/**
 * Why the file is validated. 'check' (managed-tokens check-config) is strict: problems that a run
 * survives by failing per account (and reporting it through the notifications, as the original
 * did) are errors there, warnings for a 'run'.
 */
export type ValidationPurpose = 'run' | 'check';

export interface RunFlags {
  /** `--disable-notifications`, `--dont-notify` or `-r` given */
  readonly notificationsDisabled?: boolean | undefined;
  /** `-t/--test`: notifications_test.* is used */
  readonly test?: boolean | undefined;
  /** RUF `--authmethod` (default `tls`) */
  readonly authMethod?: string | undefined;
}

/** A selected service the configuration refused, with what is needed to notify about it. */
export interface SkippedService {
  readonly name: ServiceName;
  readonly findings: readonly Finding[];
  /** Stakeholder addresses of its experiment (best effort: [] when unreadable). */
  readonly emails: readonly string[];
  /** As for a resolved service: the role's disableNotificationsOverride if readable, else global. */
  readonly notificationsDisabled: boolean;
}

export interface LoadedConfig {
  readonly file: string;
  readonly format: 'json' | 'yaml';
  readonly executable: ValidationTarget;
  readonly global: GlobalSettings;
  readonly timeouts: Timeouts;
  readonly retries: RetryPolicies;
  /**
   * `workerType.storeAndGetToken.concurrency` (ours, integer >= 1, default 4): how many services'
   * token stores may run at once; 1 is the original's one-at-a-time (README decision 7).
   */
  readonly storeConcurrency: number;
  /** Selected services that resolved without an error-service finding, sorted by configName. */
  readonly services: readonly ServiceSettings[];
  /** Selected services skipped because of error-service findings. */
  readonly skippedServices: readonly SkippedService[];
  /** Every configured service (all experiments and roles), file order. */
  readonly allServices: readonly ServiceName[];
  /** Every account of every role of every experiment, file order, duplicates kept (FERRY usernames). */
  readonly accounts: readonly string[];
  readonly findings: readonly Finding[];
  readonly hasGlobalErrors: boolean;
}

/** Thrown when the file cannot be found, read or parsed (the caller prints `message` and exits 1). */
export class ConfigLoadError extends Error {
  override readonly name = 'ConfigLoadError';
}
