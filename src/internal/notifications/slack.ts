/**
 * The admin Slack message through an incoming webhook (spec notifications-observability.md 3),
 * sent with @slack/webhook. The client is given a fetch that (a) follows the run's delivery
 * deadline as well as our own per-message timeout and (b) treats every status other than 200 as a
 * failure, as the original does (the client alone accepts any 2xx). The body is standard JSON
 * `{"text": ...}` (FIX Q9: the original did not escape newlines). The webhook URL is a secret:
 * only its scheme and host are ever logged.
 */
import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type FetchFunction,
} from '@slack/webhook';
import { deadline, type Deadline } from '../exec/index.js';
import { readBodyWithin } from '../http/body.js';

export const SLACK_TIMEOUT_MS = 30_000;

export class SlackSendError extends Error {
  override readonly name = 'SlackSendError';
  constructor(
    message: string,
    readonly status?: number,
    readonly responseHeaders?: Record<string, string>,
    readonly responseBody?: string,
  ) {
    super(message);
  }
}

/** `https://hooks.slack.com/services/T/B/secret` → `https://hooks.slack.com`. */
export function redactWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '<invalid url>';
  }
}

/**
 * Fires when `parent` does or after `ms`. A plain timer (exec/deadline.ts), not the webhook client's
 * own timeout, which would be an `AbortSignal.timeout`: on Node 20 such a timeout signal can be
 * garbage-collected before it fires, and the request then hangs until the run's global deadline.
 * Cleared by dispose() once the message is through.
 */
function deadlineWithin(parent: AbortSignal, ms: number): Deadline {
  return deadline(ms, {
    parent,
    reason: () => new DOMException(`no answer within ${ms} ms`, 'TimeoutError'),
  });
}

export async function sendSlackMessage(
  url: string,
  text: string,
  signal: AbortSignal,
  timeoutMs = SLACK_TIMEOUT_MS,
): Promise<void> {
  signal.throwIfAborted();
  const deadline = deadlineWithin(signal, timeoutMs);
  let lastHeaders: Record<string, string> | undefined;
  const fetchWithin: FetchFunction = async (input, init) => {
    const response = await fetch(input, { ...init, signal: deadline.signal } as RequestInit);
    lastHeaders = Object.fromEntries(response.headers.entries());
    return {
      ok: response.status === 200,
      status: response.status,
      statusText: response.statusText,
      url: response.url,
      headers: response.headers,
      arrayBuffer: async () => (await readBodyWithin(response, deadline.signal)).buffer,
      json: async () => JSON.parse(await readText()) as unknown,
      text: readText,
    };
    async function readText(): Promise<string> {
      return new TextDecoder().decode(await readBodyWithin(response, deadline.signal));
    }
  };
  const webhook = new IncomingWebhook(url, {
    timeout: 0, // the client's timeout would be an AbortSignal.timeout; ours is `deadline`
    fetch: fetchWithin,
    retryConfig: { retries: 0 },
  });
  try {
    await webhook.send({ text });
  } catch (err) {
    if (err instanceof IncomingWebhookHTTPError) {
      throw new SlackSendError(
        'could not send slack message',
        err.statusCode,
        lastHeaders,
        err.body,
      );
    }
    const cause = err instanceof IncomingWebhookRequestError ? err.original : err;
    if (signal.aborted)
      throw new SlackSendError(
        'could not send slack message: notification delivery deadline exceeded',
      );
    if (deadline.signal.aborted) throw new SlackSendError('could not send slack message: timeout');
    const detail = describeTransportError(cause).replaceAll(url, redactWebhookUrl(url));
    throw new SlackSendError(`could not send slack message: ${detail}`);
  } finally {
    deadline.dispose();
  }
}

/** fetch's "fetch failed" hides the useful part in `cause`; never include the URL. */
function describeTransportError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code =
    cause && typeof cause === 'object' && 'code' in cause
      ? String((cause as { code: unknown }).code)
      : '';
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
  return code !== '' ? `${err.message} (${code})` : err.message;
}
