import { request } from 'undici';
import type { Registry } from 'prom-client';

/**
 * The pushgateway protocol (spec notifications-observability.md 4.1, README decision 9).
 * Probe and push share one URL normalisation and both have a deadline (Q3 fix).
 */

/** Structured logger subset (pino's `log.info(fields, msg)` form). */
export interface MetricsLog {
  info(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export const DEFAULT_JOB_NAME = 'managed_tokens';
export const DEFAULT_PUSHGATEWAY_TIMEOUT_MS = 10_000;
const PRODUCTION_LABEL = 'production';

/** `prometheus.jobname`, suffixed with the dev-environment label unless it is `production`. */
export function jobName(jobname: string, devEnvironmentLabel: string): string {
  const base = jobname === '' ? DEFAULT_JOB_NAME : jobname;
  return devEnvironmentLabel === PRODUCTION_LABEL ? base : `${base}_${devEnvironmentLabel}`;
}

/** `http://` prepended when the host has no scheme; one trailing `/` removed. */
export function pushgatewayBaseUrl(host: string): string {
  const withScheme = host.includes('://') ? host : `http://${host}`;
  return withScheme.endsWith('/') ? withScheme.slice(0, -1) : withScheme;
}

/**
 * One grouping-key path segment pair as the Go client writes it: values containing `/` (or
 * empty) go base64url-encoded under `<name>@base64`.
 */
function groupingSegment(name: string, value: string): string {
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/'))
    return `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
  return `${name}/${encodeURIComponent(value)}`;
}

export interface PushTarget {
  readonly host: string;
  readonly job: string;
  readonly executable: string;
  /** true restores the original's single group per job (both executables replace each other's series). */
  readonly singleGroup?: boolean | undefined;
}

/**
 * `<base>/metrics/job/<job>[/executable/<name>]`. The extra grouping label keeps each
 * executable's PUT from replacing the other's series (decision 9).
 */
export function pushUrl(target: PushTarget): string {
  const segments = [groupingSegment('job', target.job)];
  if (!target.singleGroup) segments.push(groupingSegment('executable', target.executable));
  return `${pushgatewayBaseUrl(target.host)}/metrics/${segments.join('/')}`;
}

/** The URL without user:password, for logs. */
function loggableUrl(url: string): string {
  if (!url.includes('@')) return url;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== err.message
      ? `${err.message}: ${cause.message}`
      : err.message;
  }
  return String(err);
}

export interface ProbeOptions {
  readonly timeoutMs?: number;
  readonly log: MetricsLog;
}

/**
 * Start-up reachability check: any HTTP response (whatever its status) means up; a transport
 * error, an unusable host or the deadline means down, logged at error like the original.
 */
export async function probePushgateway(host: string, opts: ProbeOptions): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PUSHGATEWAY_TIMEOUT_MS;
  try {
    if (host.trim() === '')
      throw new Error('no pushgateway host configured (prometheus.host is empty)');
    const res = await request(pushgatewayBaseUrl(host), {
      method: 'GET',
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    return true;
  } catch (err) {
    opts.log.error(
      { error: describe(err) },
      `Error contacting prometheus pushgateway ${loggableUrl(host)}: ${describe(err)}.  The rest of prometheus operations will fail. ` +
        'To limit error noise, these failures at the experiment level will be registered as warnings in the log, ' +
        'and not be sent in any notifications.',
    );
    return false;
  }
}

export interface PushOptions extends PushTarget {
  readonly registry: Registry;
  readonly timeoutMs?: number;
  readonly log: MetricsLog;
}

/** Text exposition format 0.0.4; the pushgateway stores it exactly as the original's protobuf. */
const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * PUT the whole registry (replacing the group). Never throws: the outcome is logged like the
 * original and returned, and the run's exit status must not depend on it.
 */
export async function pushMetrics(opts: PushOptions): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PUSHGATEWAY_TIMEOUT_MS;
  const url = pushUrl(opts);
  const shownUrl = loggableUrl(url);
  try {
    const body = await opts.registry.metrics();
    const res = await request(url, {
      method: 'PUT',
      headers: { 'content-type': TEXT_CONTENT_TYPE },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const answer = (await res.body.text()).trim();
    if (res.statusCode !== 200 && res.statusCode !== 202) {
      throw new Error(
        `unexpected status code ${res.statusCode} while pushing to ${shownUrl}: ${answer.slice(0, 500)}`,
      );
    }
    opts.log.info({ url: shownUrl }, 'Finished pushing metrics to prometheus pushgateway');
    return true;
  } catch (err) {
    opts.log.error(
      { url: shownUrl, error: describe(err) },
      'Could not push metrics to prometheus pushgateway',
    );
    return false;
  }
}
