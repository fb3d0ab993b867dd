/**
 * deadline(): fires after `ms` with the caller's reason, follows its parent, leaves no timer or
 * listener behind, and still fires while the garbage collector runs (on Node 20 an
 * AbortSignal.timeout inside AbortSignal.any can be collected and never fire).
 */
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { deadline } from '../../../src/internal/exec/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Ref'd timers only: an unref'd timer does not show up here. */
function refTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('deadline', () => {
  it('fires after ms with the given reason', async () => {
    const reason = new Error('deadline of 30 ms exceeded');
    const { signal } = deadline(30, { reason: () => reason });
    expect(signal.aborted).toBe(false);
    expect(await aborted(signal)).toBe(reason);
  });

  it('fires with a TimeoutError naming the duration when no reason is given', async () => {
    const reason = await aborted(deadline(10).signal);
    expect(reason).toBeInstanceOf(DOMException);
    expect((reason as DOMException).name).toBe('TimeoutError');
    expect((reason as DOMException).message).toBe('deadline of 10 ms exceeded');
  });

  it('removes its listener from the parent when it fires', async () => {
    const parent = new AbortController();
    const { signal } = deadline(10, { parent: parent.signal, reason: () => 'time' });
    expect(abortListeners(parent.signal)).toBe(1);
    expect(await aborted(signal)).toBe('time');
    expect(abortListeners(parent.signal)).toBe(0);
    parent.abort('later');
    expect(signal.reason).toBe('time');
  });

  it('follows the parent: its reason, and the timer and listener are gone', () => {
    const parent = new AbortController();
    const before = refTimers();
    const { signal } = deadline(60_000, { parent: parent.signal, unref: false });
    expect(refTimers()).toBe(before + 1);
    const reason = new Error('run cancelled');
    parent.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(refTimers()).toBe(before);
    expect(abortListeners(parent.signal)).toBe(0);
  });

  it('dispose clears the timer and the listener and never aborts', async () => {
    const parent = new AbortController();
    const before = refTimers();
    const d = deadline(20, { parent: parent.signal, unref: false });
    expect(refTimers()).toBe(before + 1);
    d.dispose();
    d.dispose(); // idempotent
    expect(refTimers()).toBe(before);
    expect(abortListeners(parent.signal)).toBe(0);
    await sleep(80);
    parent.abort('after dispose');
    expect(d.signal.aborted).toBe(false);
  });

  it('an already-aborted parent aborts at once with its reason, without timer or listener', () => {
    const parent = new AbortController();
    parent.abort('gone');
    const before = refTimers();
    const d = deadline(60_000, { parent: parent.signal, unref: false });
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBe('gone');
    expect(refTimers()).toBe(before);
    expect(abortListeners(parent.signal)).toBe(0);
    d.dispose();
  });

  it('is unref’d by default and ref’d only on request', () => {
    const before = refTimers();
    const quiet = deadline(60_000);
    expect(refTimers()).toBe(before);
    const kept = deadline(60_000, { unref: false });
    expect(refTimers()).toBe(before + 1);
    quiet.dispose();
    kept.dispose();
    expect(refTimers()).toBe(before);
  });

  it('many deadlines on one parent raise no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const parent = new AbortController();
      const all = Array.from({ length: 50 }, () => deadline(60_000, { parent: parent.signal }));
      expect(abortListeners(parent.signal)).toBe(50);
      await sleep(20); // warnings are emitted on a later tick
      for (const d of all) d.dispose();
      expect(abortListeners(parent.signal)).toBe(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it.each([
    ['without a parent', false],
    ['with a parent', true],
  ])('still fires while the garbage collector runs (%s)', async (_label, withParent) => {
    const parent = new AbortController(); // never aborted
    // Nothing but the deadline's own timer holds the signal: only the listener's promise is kept.
    const fired = aborted(
      deadline(200, {
        parent: withParent ? parent.signal : undefined,
        reason: () => 'due',
      }).signal,
    );
    let outcome: unknown = 'hung';
    void fired.then((reason) => (outcome = reason));
    const until = Date.now() + 8_000;
    while (outcome === 'hung' && Date.now() < until) {
      gc();
      await sleep(20);
    }
    expect(outcome).toBe('due');
  });
});
