/** What the token-push pipeline is given and what it keeps per service. */
import type { Logger } from 'pino';
import type { ServiceName, ServiceSettings, Timeouts } from '../config/index.js';
import type { TokenPushMetricEvents } from '../metrics/events.js';
import type { NotificationSink } from '../notifications/types.js';
import type { Tracing } from '../tracing/api.js';
import type { RetryPolicy } from '../push/retry.js';
import type { CommandRunner, Env } from './command.js';

/** The database operations token-push needs (src/internal/db ManagedTokensDb fits). */
export interface TokenPushDb {
  updateServices(names: readonly string[]): void;
  updateNodes(names: readonly string[]): void;
  /** Throws when there is no row (`sql: no rows in result set`). */
  getUidByUsername(username: string): number;
}

export interface Programs {
  readonly kinit: string;
  readonly klist: string;
  readonly condor_vault_storer: string;
  readonly htgettoken: string;
  /** Spawned by absolute path, run with the bare name as argv[0]; `''` when not found. */
  readonly condor_status: string;
  /** Not checked at startup (only needed as the vault server's last source); `''` when not found. */
  readonly condor_config_val: string;
  /** `''` when ping was not found at startup. */
  readonly ping: string;
  readonly rsync: string;
  readonly ssh: string;
}

export type RunMode =
  | { readonly kind: 'normal' }
  | { readonly kind: 'test' }
  /** `-r -s`: interactive token tools; ping/push only with `-p`. */
  | { readonly kind: 'onboarding'; readonly push: boolean };

/** Upper bounds on simultaneous work per stage (Infinity = as many as there are tasks). */
export interface Concurrency {
  readonly kerberos: number;
  /**
   * Token stores (2a and 2b) for services with different real names. Services sharing a real name
   * always run one after the other; 1 reproduces the original's strictly sequential stage.
   */
  readonly tokenStores: number;
  readonly ping: number;
  /** rsync processes across all services, nodes and files. */
  readonly push: number;
}

export const DEFAULT_CONCURRENCY: Concurrency = {
  kerberos: Number.POSITIVE_INFINITY,
  tokenStores: 4,
  ping: Number.POSITIVE_INFINITY,
  push: Number.POSITIVE_INFINITY,
};

export interface PipelineInput {
  readonly log: Logger;
  /** Parent environment for children (PATH already extended). */
  readonly env: Env;
  readonly programs: Programs;
  readonly timeouts: Timeouts;
  readonly pushRetry: RetryPolicy;
  /** Services that resolved in the config. */
  readonly services: readonly ServiceSettings[];
  /** Selected services the config already refused (reported as failures). */
  readonly skipped: readonly ServiceName[];
  readonly mode: RunMode;
  readonly verbose: boolean;
  readonly runUID: number;
  /** `$TMPDIR` or `/tmp`. */
  readonly tempDir: string;
  readonly db: TokenPushDb | undefined;
  readonly notifications: NotificationSink;
  readonly metrics: TokenPushMetricEvents;
  readonly run: CommandRunner;
  /** Global deadline (globalTimeout). */
  readonly signal: AbortSignal;
  readonly concurrency: Concurrency;
  readonly startedAt: Date;
  /** Spans per stage and per service; no-op when tracing is off. */
  readonly tracing?: Tracing;
}

export type Getter =
  | { readonly kind: 'getToken' }
  | {
      readonly kind: 'storeAndGetToken';
      readonly collector: string;
      readonly schedds: readonly string[];
    };

/** A service that made it through assembly. */
export interface AssembledService {
  readonly settings: ServiceSettings;
  readonly name: ServiceName;
  readonly log: Logger;
  /** Private Kerberos cache file (KRB5CCNAME=FILE:<cache>). */
  readonly cache: string;
  readonly desiredUID: number;
  readonly vaultServer: string;
  readonly getter: Getter;
}

export interface RunReport {
  readonly successes: readonly string[];
  readonly failures: readonly string[];
  /** Where each service's token went (for the operator's summary). */
  readonly pushes: readonly ServicePushReport[];
  /** "no serviceConfigs to operate on" */
  readonly nothingAssembled: boolean;
}

export interface ServicePushReport {
  readonly configName: string;
  readonly realName: string;
  readonly account: string;
  readonly source: string | undefined;
  readonly nodes: readonly {
    readonly node: string;
    readonly ok: boolean;
    readonly destinations: readonly string[];
    readonly error?: string;
  }[];
}
