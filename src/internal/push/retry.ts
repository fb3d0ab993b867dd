/**
 * One push item with retries (token-push.md 3.13 step 6, 3.15): stop on success; never retry a node that
 * was unpingable; stop when the item's deadline is over; otherwise sleep `retrySleep` (cut short by the
 * deadline) and try again, at most `numRetries` times.
 */
export interface RetryPolicy {
  readonly numRetries: number;
  readonly retrySleepMs: number;
}

export type AttemptResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

export type ItemResult =
  | { readonly ok: true; readonly attempts: number }
  | {
      readonly ok: false;
      readonly attempts: number;
      readonly timedOut: boolean;
      readonly error: string;
      /** The last attempt's own error when `error` replaces it (unpingable node): for logs. */
      readonly cause?: string;
    };

export const PUSH_FAILED_PREFIX = 'failed to push file to destination node';

/** N7 detail for a node that failed ping, with the original's trailing `; ` (token-push.md 3.13 step 6). */
export function unpingableNodeError(node: string): string {
  return `${PUSH_FAILED_PREFIX}: Node ${node} was not pingable earlier prior to attempt to push tokens; `;
}

export async function withRetries(opts: {
  policy: RetryPolicy;
  deadline: AbortSignal;
  nodeWasPingable: boolean;
  node: string;
  attempt: () => Promise<AttemptResult>;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}): Promise<ItemResult> {
  const maxAttempts = Math.max(0, Math.trunc(opts.policy.numRetries)) + 1;
  const sleep = opts.sleep ?? abortableSleep;
  let attempts = 0;
  let lastError = '';
  while (attempts < maxAttempts) {
    if (opts.deadline.aborted) break;
    attempts++;
    const result = await opts.attempt();
    if (result.ok) return { ok: true, attempts };
    lastError = result.error;
    // Checked before the deadline, as in the original: an unpingable node's failure is named as such.
    if (!opts.nodeWasPingable) {
      return {
        ok: false,
        attempts,
        timedOut: false,
        error: unpingableNodeError(opts.node),
        cause: lastError,
      };
    }
    if (opts.deadline.aborted) break;
    if (attempts < maxAttempts) await sleep(opts.policy.retrySleepMs, opts.deadline);
  }
  if (opts.deadline.aborted) {
    return {
      ok: false,
      attempts,
      timedOut: true,
      error: `${PUSH_FAILED_PREFIX}: context deadline exceeded`,
    };
  }
  return { ok: false, attempts, timedOut: false, error: lastError };
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
