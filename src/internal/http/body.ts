/**
 * Reads a fetch response body within a deadline and a size cap. Shared by the Slack webhook and
 * the FERRY bearer-token client; a leaf module (no imports) so either can use it without a cycle.
 */

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
  }
}

/**
 * The whole body, through a reader of our own that the deadline cancels (which also closes the
 * connection). Not `response.text()`: once fetch has resolved, undici links the request's signal to
 * the body only weakly, and after a garbage collection an abort no longer ends a stalled body.
 * Throws the signal's reason when it fires, BodyTooLargeError once more than `maxBytes` arrived.
 */
export async function readBodyWithin(
  response: Response,
  signal: AbortSignal,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Uint8Array<ArrayBuffer>> {
  signal.throwIfAborted();
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const cancel = (): void => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      signal.throwIfAborted(); // a cancelled read ends as if the body were complete
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new BodyTooLargeError(maxBytes);
      }
      chunks.push(value);
    }
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    return whole;
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}
