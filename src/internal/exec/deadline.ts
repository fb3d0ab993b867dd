/**
 * The one way this codebase builds a deadline: an AbortSignal that fires when an optional parent
 * signal does, or after `ms`, whichever comes first.
 *
 * Built from a plain timer held by us rather than `AbortSignal.any([parent, AbortSignal.timeout(ms)])`:
 * on Node 20 the timeout signal inside such a composite can be garbage-collected before it fires,
 * and the deadline then silently never comes.
 */
import { setMaxListeners } from 'node:events';

export interface Deadline {
  /** Aborted with the parent's reason when the parent fires first, else with the timeout reason. */
  readonly signal: AbortSignal;
  /** Clears the timer and the listener on the parent; idempotent. Does not abort `signal`. */
  dispose(): void;
}

export interface DeadlineOptions {
  /** The signal the deadline follows (a run's or a stage's). */
  readonly parent?: AbortSignal;
  /** The abort reason when the time is up; created only then. Default: a TimeoutError DOMException. */
  readonly reason?: () => unknown;
  /**
   * Whether the timer is unref'd (default true), so that a deadline never keeps the process alive by
   * itself: callers that never dispose (see `deadlineSignal` in pipeline/command.ts) rely on it.
   * `false` keeps the event loop alive until the deadline fires or is disposed, for waits that must
   * end with the timeout reason even when nothing else is pending.
   */
  readonly unref?: boolean;
}

export function deadline(ms: number, options: DeadlineOptions = {}): Deadline {
  const { parent } = options;
  const controller = new AbortController();
  if (parent?.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }

  const onParentAbort = (): void => {
    clearTimeout(timer);
    controller.abort(parent?.reason);
  };
  const timer = setTimeout(
    () => {
      parent?.removeEventListener('abort', onParentAbort);
      controller.abort(options.reason ? options.reason() : timeoutReason(ms));
    },
    Math.max(0, ms),
  );
  if (options.unref !== false) timer.unref();

  if (parent) {
    // A run's signal carries one listener per concurrent deadline (stages, requests): not a leak.
    setMaxListeners(0, parent);
    parent.addEventListener('abort', onParentAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

function timeoutReason(ms: number): DOMException {
  return new DOMException(`deadline of ${ms} ms exceeded`, 'TimeoutError');
}
