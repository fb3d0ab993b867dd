/**
 * sendSlackMessage's deadlines against a real HTTP server that accepts the request and never answers.
 * The per-message timeout must fire even while the garbage collector runs (on Node 20 an
 * AbortSignal.timeout composed with AbortSignal.any can be collected and never fire), and no timer
 * or listener is left behind once a message is through.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackSendError, sendSlackMessage } from '../../../src/internal/notifications/slack.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let server: Server;
let base: string;
const pending: ServerResponse[] = [];
let answered = 0;
/** paths of unanswered requests whose connection our side closed */
const closed = new Set<string>();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url === '/ok') {
      answered++;
      res.writeHead(200).end('ok');
      return;
    }
    // /stall: status and the first byte of the body, then nothing; /hang: nothing at all
    if (req.url === '/stall') res.writeHead(200, { 'content-type': 'text/plain' }).write('o');
    pending.push(res);
    res.on('close', () => closed.add(req.url ?? ''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The send's outcome, or 'hung' if nothing happened within `guardMs` while GC runs continually. */
async function outcomeUnderGc(send: Promise<void>, guardMs: number): Promise<unknown> {
  let settled: { value: unknown } | undefined;
  send.then(
    () => (settled = { value: 'sent' }),
    (err: unknown) => (settled = { value: err }),
  );
  const until = Date.now() + guardMs;
  while (settled === undefined && Date.now() < until) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return settled === undefined ? 'hung' : settled.value;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('sendSlackMessage deadlines', () => {
  it.each(['/hang', '/stall'])(
    'the per-message timeout fires although the garbage collector runs meanwhile (%s)',
    async (path) => {
      const run = new AbortController(); // the run's deadline: not due
      const outcome = await outcomeUnderGc(
        sendSlackMessage(`${base}${path}`, 'hello', run.signal, 300),
        8_000,
      );
      expect(outcome).toBeInstanceOf(SlackSendError);
      expect((outcome as SlackSendError).message).toBe('could not send slack message: timeout');
      // the connection is closed too, so a stalled webhook cannot keep the process alive
      for (let tries = 0; tries < 100 && !closed.has(path); tries++)
        await new Promise((r) => setTimeout(r, 20));
      expect(closed.has(path)).toBe(true);
    },
    20_000,
  );

  it("the run's delivery deadline ends a request that is still waiting", async () => {
    const run = new AbortController();
    const send = sendSlackMessage(`${base}/hang`, 'hello', run.signal, 60_000);
    setTimeout(() => run.abort(new Error('global deadline')), 200);
    const outcome = await outcomeUnderGc(send, 8_000);
    expect(outcome).toBeInstanceOf(SlackSendError);
    expect((outcome as SlackSendError).message).toBe(
      'could not send slack message: notification delivery deadline exceeded',
    );
  }, 20_000);

  it('a delivered message leaves no timer running and no listener on the run signal', async () => {
    const run = new AbortController();
    const listeners: string[] = [];
    const add = run.signal.addEventListener.bind(run.signal);
    const remove = run.signal.removeEventListener.bind(run.signal);
    run.signal.addEventListener = ((type: string, ...rest: never[]) => {
      listeners.push(type);
      return add(type, ...(rest as [never]));
    }) as typeof run.signal.addEventListener;
    run.signal.removeEventListener = ((type: string, ...rest: never[]) => {
      listeners.splice(listeners.indexOf(type), 1);
      return remove(type, ...(rest as [never]));
    }) as typeof run.signal.removeEventListener;
    const before = timers();
    const sentBefore = answered;
    await sendSlackMessage(`${base}/ok`, 'hello', run.signal, 60_000);
    expect(answered).toBe(sentBefore + 1);
    expect(timers()).toBe(before);
    expect(listeners).toEqual([]);
  });
});
