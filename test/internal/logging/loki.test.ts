import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/internal/logging/logger.js';
import {
  createLokiStream,
  lokiEnabled,
  lokiPushBody,
  toLokiEntry,
  type LokiStreamOptions,
} from '../../../src/internal/logging/loki.js';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import { freePort } from '../../../src/testenv/proc.js';

const PUSH = '/loki/api/v1/push';

interface PushBody {
  streams: { stream: Record<string, string>; values: [string, string][] }[];
}

function pushes(receiver: HttpReceiver): PushBody[] {
  return receiver.requestsTo(PUSH).map((r) => r.json<PushBody>());
}

/** Every (labels, line) pair that reached the receiver, in arrival order. */
function entries(
  receiver: HttpReceiver,
): { labels: Record<string, string>; ns: string; line: string }[] {
  return pushes(receiver).flatMap((p) =>
    p.streams.flatMap((s) => s.values.map(([ns, line]) => ({ labels: s.stream, ns, line }))),
  );
}

const LABELS = { app: 'managed-tokens', command: 'token-push', environment: 'production' };

let receiver: HttpReceiver;
let failures: string[];
const streams: { close(): Promise<void> }[] = [];

function lokiOptions(extra: Partial<LokiStreamOptions> = {}): LokiStreamOptions {
  return {
    host: receiver.url,
    responseHeaderTimeoutMs: 1_000,
    labels: LABELS,
    reportFailure: (line) => void failures.push(line),
    ...extra,
  };
}

function newStream(extra: Partial<LokiStreamOptions> = {}) {
  const s = createLokiStream(lokiOptions(extra));
  streams.push(s);
  return s;
}

beforeEach(async () => {
  failures = [];
  receiver = await startHttpReceiver({ routes: { [PUSH]: { status: 204 } } });
});
afterEach(async () => {
  for (const s of streams.splice(0)) await s.close();
  await receiver.close();
});

describe('Loki through the executable logger', () => {
  it('sends info and up as the original JSON lines with the original labels, never debug', async () => {
    const loki = newStream({ labels: { ...LABELS, environment: 'development' } });
    const stderr: string[] = [];
    const handle = createLogger({
      executable: 'token-push',
      extraStreams: [{ level: 'info', stream: loki, close: () => loki.close() }],
      stderrWrite: (t) => void stderr.push(t),
      warnMissingFiles: false,
    });
    const before = BigInt(Date.now()) * 1_000_000n;
    handle.log.debug('Using config file /etc/managed-tokens/managedTokens.yml');
    handle.log.info({ service: 'dune_production', node: 'node1' }, 'Successes: dune_production');
    handle.log.warn('Could not parse configured timeout duration.  Using default');
    handle.log.error({ caller: 'x' }, 'Error <pushing> & "failing"');
    handle.log.fatal('Error running operations to push vault tokens.  Exiting');
    await handle.close();

    const request = receiver.requestsTo(PUSH)[0];
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/json');
    const got = entries(receiver);
    expect(got.map((e) => e.labels)).toEqual(
      ['info', 'warning', 'error', 'fatal'].map((level) => ({
        app: 'managed-tokens',
        command: 'token-push',
        environment: 'development',
        level,
      })),
    );
    for (const e of got) {
      expect(e.line.endsWith('\n')).toBe(true);
      expect(BigInt(e.ns) >= before - 1_000_000_000n).toBe(true);
    }
    const info = got[0]?.line ?? '';
    expect(Object.keys(JSON.parse(info) as object)).toEqual([
      'executable',
      'level',
      'msg',
      'node',
      'service',
      'time',
    ]);
    expect(info).toMatch(
      /^\{"executable":"token-push","level":"info","msg":"Successes: dune_production","node":"node1","service":"dune_production","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)"\}\n$/,
    );
    expect(got[2]?.line).toContain('"msg":"Error \\u003cpushing\\u003e \\u0026 \\"failing\\""');
    expect(JSON.parse(got[2]?.line ?? '{}')).toMatchObject({
      msg: 'Error <pushing> & "failing"',
      level: 'error',
    });
    expect(got.some((e) => e.line.includes('Using config file'))).toBe(false);
    expect(failures).toEqual([]);
  });

  it('lets no secret reach Loki, whether or not the logger redacted it first', async () => {
    const vaultToken = `hvs.${'Zx9Yw8Vu7'.repeat(10)}`;
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkdW5lcHJvIn0.c2lnbmF0dXJl';
    const slack = 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX';
    const loki = newStream();
    const handle = createLogger({
      executable: 'token-push',
      extraStreams: [{ level: 'info', stream: loki }],
      stderrWrite: () => undefined,
      warnMissingFiles: false,
    });
    handle.log.info({ token: vaultToken }, `stored ${vaultToken}`);
    handle.log.error({ url: slack, 'response status': '500' }, 'Could not send slack message');
    // straight into the stream, as another producer might
    loki.write(
      `${JSON.stringify({ level: 30, time: Date.now(), msg: `Authorization: Bearer ${jwt}`, args: ['--token', vaultToken] })}\n`,
    );
    await loki.flush();
    const bodies = receiver
      .requestsTo(PUSH)
      .map((r) => r.text())
      .join('\n');
    expect(entries(receiver)).toHaveLength(3);
    expect(bodies).toContain('Could not send slack message');
    expect(bodies).not.toContain(vaultToken);
    expect(bodies).not.toContain(jwt);
    expect(bodies).not.toContain('T0000/B0000');
    expect(bodies).toContain('https://hooks.slack.com/[REDACTED]');
  });
});

describe('Loki failures', () => {
  it('drops the entry after the response-header timeout with one stderr line, and only Loki has that timeout', async () => {
    receiver.setRoute(PUSH, { status: 204, delayMs: 2_000 });
    receiver.setRoute('/slack', { status: 200, body: 'ok', delayMs: 2_000 });
    const loki = newStream({ responseHeaderTimeoutMs: 1_000 });
    loki.write(
      `${JSON.stringify({ level: 30, time: Date.now(), msg: 'hello', executable: 'token-push' })}\n`,
    );
    const [, other] = await Promise.all([
      loki.flush(),
      fetch(`${receiver.url}/slack`, { method: 'POST', body: '{}' }),
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^Failed to fire hook: could not send 1 log entries to http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/push: .*[Tt]imeout/,
    );
    expect(other.status).toBe(200);
    expect(await other.text()).toBe('ok');
  });

  it('reports a refused push with its status and carries on with the next batch', async () => {
    receiver.setRoute(PUSH, { status: 500, body: 'ingester unavailable' });
    const loki = newStream();
    loki.write(`${JSON.stringify({ level: 50, time: Date.now(), msg: 'one' })}\n`);
    await loki.flush();
    receiver.setRoute(PUSH, { status: 204 });
    loki.write(`${JSON.stringify({ level: 50, time: Date.now(), msg: 'two' })}\n`);
    await loki.flush();
    expect(failures).toEqual([
      `Failed to fire hook: could not send 1 log entries to ${receiver.url}${PUSH}: HTTP 500 ingester unavailable`,
    ]);
    expect(receiver.requestsTo(PUSH)).toHaveLength(2);
  });

  it('never throws when Loki is unreachable or the host has no scheme', async () => {
    const port = await freePort('127.0.0.1');
    const down = newStream({ host: `http://127.0.0.1:${port}` });
    const schemeless = newStream({ host: 'loki.example:3100' });
    for (const s of [down, schemeless]) {
      expect(s.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: 'x' })}\n`)).toBe(true);
      await s.flush();
    }
    expect(failures).toHaveLength(2);
    for (const f of failures) expect(f.startsWith('Failed to fire hook: ')).toBe(true);
  });

  it('bounds close() when Loki hangs and reports the loss', async () => {
    receiver.setRoute(PUSH, { status: 204, delayMs: 20_000 });
    const loki = createLokiStream(
      lokiOptions({ responseHeaderTimeoutMs: 15_000, closeTimeoutMs: 300 }),
    );
    loki.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: 'x' })}\n`);
    await loki.close();
    expect(failures).toEqual([
      expect.stringMatching(
        /^Failed to fire hook: could not send 1 log entries .* gave up after 300 ms/,
      ),
    ]);
    // writes after close are ignored, close is idempotent
    expect(loki.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: 'late' })}\n`)).toBe(
      true,
    );
    await loki.close();
    expect(receiver.requestsTo(PUSH)).toHaveLength(1);
  });
});

describe('Loki entries', () => {
  it('batches queued entries into one push with one stream per level, values in time order', async () => {
    const loki = newStream({ batchDelayMs: 10_000 });
    const t = 1_732_616_165_000;
    loki.write(`${JSON.stringify({ level: 30, time: t + 2, msg: 'b' })}\n`);
    loki.write(`${JSON.stringify({ level: 40, time: t + 1, msg: 'w' })}\n`);
    loki.write(`${JSON.stringify({ level: 30, time: t, msg: 'a' })}\n`);
    await loki.close();
    const bodies = pushes(receiver);
    expect(bodies).toHaveLength(1);
    const info = bodies[0]?.streams.find((s) => s.stream.level === 'info');
    expect(info?.values.map(([ns]) => ns)).toEqual([`${t}000000`, `${t + 2}000000`]);
    expect(info?.values.map(([, line]) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'a',
      'b',
    ]);
    expect(bodies[0]?.streams.find((s) => s.stream.level === 'warning')?.values).toHaveLength(1);
  });

  it('maps pino records onto logrus JSON', () => {
    const t = Date.UTC(2024, 10, 26, 10, 16, 5);
    const e = toLokiEntry(
      JSON.stringify({
        level: 50,
        time: t,
        pid: 1,
        hostname: 'h',
        msg: 'm',
        err: { type: 'Error', message: 'exit status 1' },
      }),
    );
    expect(e?.level).toBe('error');
    expect(e?.ns).toBe(BigInt(t) * 1_000_000n);
    expect(Object.keys(JSON.parse(e?.line ?? '{}') as object)).toEqual([
      'error',
      'level',
      'msg',
      'time',
    ]);
    expect(JSON.parse(e?.line ?? '{}')).toMatchObject({
      error: 'exit status 1',
      level: 'error',
      msg: 'm',
    });
    expect(toLokiEntry(JSON.stringify({ level: 'warn', time: t, msg: 'x' }))?.level).toBe(
      'warning',
    );
    expect(toLokiEntry(JSON.stringify({ level: 20, time: t, msg: 'debug' }))).toBeUndefined();
    expect(toLokiEntry('not json')).toBeUndefined();
  });

  it('builds the push body of the spec', () => {
    const entry = toLokiEntry(
      JSON.stringify({ level: 30, time: 1000, msg: 'x', executable: 'refresh-uids-from-ferry' }),
    );
    if (!entry) throw new Error('no entry');
    const body = JSON.parse(
      lokiPushBody({ ...LABELS, command: 'refresh-uids-from-ferry' }, [entry]),
    ) as PushBody;
    expect(body.streams).toEqual([
      {
        stream: {
          app: 'managed-tokens',
          command: 'refresh-uids-from-ferry',
          environment: 'production',
          level: 'info',
        },
        values: [['1000000000', entry.line]],
      },
    ]);
  });

  it('is disabled by --no-loki or an empty loki.host', () => {
    expect(lokiEnabled('http://loki:3100', false)).toBe(true);
    expect(lokiEnabled('http://loki:3100', true)).toBe(false);
    expect(lokiEnabled('', false)).toBe(false);
  });
});
