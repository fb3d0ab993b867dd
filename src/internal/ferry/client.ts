/**
 * Queries FERRY for the uid of every account (spec ferry-and-db.md 1.4 step 6, 2, 3):
 * one request per account with its own deadline (auth + handshake + headers + body), no
 * retries, a failure never cancels the others. Concurrency is bounded (the original had no
 * cap) so that thousands of accounts do not open thousands of connections at once.
 */
import type https from 'node:https';
import pLimit from 'p-limit';
import { deadline, type Deadline } from '../exec/index.js';
import {
  createBearerTransport,
  createTlsAgent,
  getWithBearer,
  getWithClientCert,
  userInfoUrl,
  type BearerTransport,
  type HttpAnswer,
} from './http.js';
import type { JwtSession } from './jwt.js';
import { uidFromBody } from './response.js';
import { loadTlsMaterial, type TlsFiles, type TlsMaterial } from './tls.js';

/** Requests in flight at most; far above any real experiment count, far below a file-descriptor limit. */
export const DEFAULT_FERRY_CONCURRENCY = 64;

export type FerryAuth =
  | { readonly kind: 'tls'; readonly files: TlsFiles }
  | {
      readonly kind: 'jwt';
      readonly session: Pick<JwtSession, 'bearerToken'>;
      /** Parent environment (proxy variables). */
      readonly env: Readonly<Record<string, string>>;
      /** Test hook: extra trusted CAs on top of the system store. */
      readonly extraCa?: readonly string[];
    };

export interface FerryLog {
  debug(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface FerryQueryOptions {
  readonly host: string;
  readonly port: number;
  readonly auth: FerryAuth;
  readonly requestTimeoutMs: number;
  readonly concurrency?: number;
  readonly log: FerryLog;
  /** The run's global deadline. */
  readonly signal: AbortSignal;
  /** Called once per account as soon as its outcome is known. */
  readonly onResult?: (result: AccountResult) => void;
}

export type AccountResult =
  | {
      readonly account: string;
      readonly ok: true;
      readonly uid: number;
      readonly durationSeconds: number;
    }
  | { readonly account: string; readonly ok: false; readonly error: string };

interface Transport {
  get(url: string, signal: AbortSignal): Promise<HttpAnswer>;
  close(): Promise<void>;
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(`${what}: context deadline exceeded`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error(`${what}: context deadline exceeded`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * TLS: the key pair and CA directory are read once per run; if they are bad, every account
 * fails on its own with the same error (the spec allows caching under that rule).
 */
function tlsTransport(files: TlsFiles, log: FerryLog, maxSockets: number): Transport {
  let material: Promise<TlsMaterial> | undefined;
  let agent: https.Agent | undefined;
  const load = (): Promise<TlsMaterial> => {
    material ??= loadTlsMaterial(files, log);
    return material;
  };
  return {
    async get(url, signal) {
      const m = await raceSignal(load(), signal, 'loading FERRY TLS credentials');
      agent ??= createTlsAgent(m, maxSockets);
      return getWithClientCert(url, m, agent, signal);
    },
    close: async () => agent?.destroy(),
  };
}

function jwtTransport(auth: Extract<FerryAuth, { kind: 'jwt' }>): Transport {
  let transport: BearerTransport | undefined;
  return {
    async get(url, signal) {
      const token = await raceSignal(
        auth.session.bearerToken(),
        signal,
        'getting the FERRY access token',
      );
      transport ??= createBearerTransport(auth.env, auth.extraCa);
      return getWithBearer(url, token, transport, signal);
    },
    close: async () => transport?.close(),
  };
}

async function queryOne(
  account: string,
  url: string,
  transport: Transport,
  opts: FerryQueryOptions,
): Promise<AccountResult> {
  const started = performance.now();
  const deadline = requestDeadline(opts.signal, opts.requestTimeoutMs);
  try {
    const answer = await transport.get(url, deadline.signal);
    const outcome = uidFromBody(answer.body);
    if (!outcome.ok) {
      return { account, ok: false, error: `${outcome.error} (HTTP status ${answer.status})` };
    }
    return {
      account,
      ok: true,
      uid: outcome.uid,
      durationSeconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    return { account, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    deadline.dispose();
  }
}

/**
 * The run's signal plus a per-request timer (exec/deadline.ts: a plain timer, not
 * AbortSignal.timeout inside AbortSignal.any, which Node 20 can garbage-collect before it fires).
 * Not unref'd: the request's wait ends with the timeout even if nothing else is pending.
 */
function requestDeadline(run: AbortSignal, ms: number): Deadline {
  return deadline(ms, {
    parent: run,
    reason: () => new DOMException('deadline exceeded', 'TimeoutError'),
    unref: false,
  });
}

/** Results in the order of `accounts` (duplicates queried twice, as the original). */
export async function queryFerryUids(
  accounts: readonly string[],
  opts: FerryQueryOptions,
): Promise<AccountResult[]> {
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_FERRY_CONCURRENCY);
  const transport =
    opts.auth.kind === 'tls'
      ? tlsTransport(opts.auth.files, opts.log, concurrency)
      : jwtTransport(opts.auth);
  const limit = pLimit(concurrency);
  try {
    return await Promise.all(
      accounts.map((account) =>
        limit(async () => {
          const result = await queryOne(
            account,
            userInfoUrl(opts.host, opts.port, account),
            transport,
            opts,
          );
          if (result.ok) {
            opts.log.debug(
              { account, uid: result.uid },
              `Got UID ${result.uid} for user ${account} from FERRY`,
            );
          } else {
            opts.log.error(
              { account, error: result.error },
              `Could not get FERRY UID data for user ${account}: ${result.error}`,
            );
          }
          opts.onResult?.(result);
          return result;
        }),
      ),
    );
  } finally {
    await transport.close();
  }
}
