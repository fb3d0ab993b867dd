/**
 * Real runs of the built executables (unprivileged user) wired to a real pushgateway, an OTLP receiver
 * and a Loki receiver: what an operator's monitoring actually receives. The Kerberos/HTCondor programs
 * are recording stubs that print nothing, so every token-push service fails its Kerberos step, and the
 * FERRY certificate is not a certificate, so refresh fails its one account — enough for both runs to go
 * through setup, a stage, cleanup and the end-of-run push.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  createSandbox,
  ensureBuilt,
  refreshConfig,
  tokenPushConfig,
  type Sandbox,
} from '../../fixtures/cli/harness.js';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import { decodeExportTraceServiceRequest, flattenSpans } from '../../../src/testenv/otlp.js';
import {
  startPushgateway,
  type Pushgateway,
  type Sample,
} from '../../../src/testenv/pushgateway.js';
import type { RunResult } from '../../../src/testenv/user.js';

let sb: Sandbox;
let pgw: Pushgateway;
let rx: HttpReceiver;
let run: RunResult;

function only(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

beforeAll(async () => {
  ensureBuilt();
  sb = createSandbox();
  pgw = await startPushgateway();
  rx = await startHttpReceiver({ routes: { '/loki/api/v1/push': { status: 204 } } });
  const config = sb.write(
    'etc/managedTokens.yml',
    tokenPushConfig(sb, {
      extra: [
        'prometheus:',
        `  host: ${pgw.url}`,
        '  jobname: myjob',
        'loki:',
        `  host: ${rx.url}`,
        'tracing:',
        `  url: ${rx.url}`,
      ].join('\n'),
    }),
  );
  run = await sb.run([BIN.tokenPush, '-c', config], {
    env: sb.env({ extra: { MANAGED_TOKENS_DEV_ENVIRONMENT_LABEL: 'development' } }),
  });
}, 120_000);

/** refresh-uids-from-ferry, then token-push, both under the default job: the refresh series must survive. */
async function refreshThenTokenPush(): Promise<{
  afterRefresh: Sample[];
  afterBoth: Sample[];
  codes: (number | null)[];
}> {
  sb.write('db/.keep', '');
  const refresh = sb.write(
    'etc/refresh.yml',
    refreshConfig(sb, { extra: `prometheus:\n  host: ${pgw.url}\n` }),
  );
  const tokenPush = sb.write(
    'etc/token-push.yml',
    tokenPushConfig(sb, { extra: `prometheus:\n  host: ${pgw.url}\n` }),
  );
  const first = await sb.run([BIN.refresh, '-c', refresh]);
  const afterRefresh = await pgw.samples();
  const second = await sb.run([BIN.tokenPush, '-c', tokenPush]);
  return { afterRefresh, afterBoth: await pgw.samples(), codes: [first.code, second.code] };
}

afterAll(async () => {
  await rx?.close();
  await pgw?.stop();
  sb?.cleanup();
});

describe('a token-push run as monitoring sees it', () => {
  it('pushes its metrics under job myjob_development and executable token-push', async () => {
    expect(run.code, run.stderr).toBe(0);
    const group = { job: 'myjob_development', executable: 'token-push' };
    const samples = await pgw.samples();
    expect(
      only(samples, 'managed_tokens_failed_services_push_count', group).map((s) => s.value),
    ).toEqual([2]);
    const stages = only(samples, 'managed_tokens_stage_duration_seconds', group).map(
      (s) => s.labels.stage,
    );
    // every service failed Kerberos: that stage is not recorded (token-push.md 3.18)
    expect(stages.sort()).toEqual(['cleanup', 'setup']);
    expect(
      only(samples, 'managed_tokens_failed_kinit_count', { ...group, service: 'dune_production' }),
    ).toHaveLength(1);
    expect(
      only(samples, 'managed_tokens_run_services', { ...group, result: 'failed' }).map(
        (s) => s.value,
      ),
    ).toEqual([2]);
    expect(only(samples, 'push_time_seconds', group)).toHaveLength(1);
  });

  it('exports the root span token-push with the resource of the spec', async () => {
    const requests = rx.requestsTo('/v1/traces');
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/x-protobuf');
    }
    const exports = requests.flatMap((r) => decodeExportTraceServiceRequest(r.body));
    for (const e of exports) {
      expect(e.resourceAttributes).toEqual({
        'service.name': 'managed-tokens',
        'deployment.environment': 'development',
      });
    }
    const roots = flattenSpans(exports).filter((s) => s.parentSpanId === '');
    expect(roots.map((s) => [s.scope, s.name])).toEqual([['token-push', 'token-push']]);
    // spec 6.4: the root carries `test` only, and only in test mode
    expect(roots[0]?.attributes).toEqual({});
  });

  it('sends info and up to Loki with the labels of the spec', () => {
    interface Push {
      streams: { stream: Record<string, string>; values: [string, string][] }[];
    }
    const streams = rx.requestsTo('/loki/api/v1/push').flatMap((r) => r.json<Push>().streams);
    expect(streams.length).toBeGreaterThan(0);
    for (const s of streams) {
      expect(s.stream).toMatchObject({
        app: 'managed-tokens',
        command: 'token-push',
        environment: 'development',
      });
      expect(['info', 'warning', 'error', 'fatal']).toContain(s.stream.level);
    }
    const lines = streams.flatMap((s) =>
      s.values.map(([, line]) => JSON.parse(line) as Record<string, unknown>),
    );
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('Failures: '))).toBe(
      true,
    );
    expect(lines.every((l) => l.level !== 'debug')).toBe(true);
    expect(lines.some((l) => l.msg === 'Finished pushing metrics to prometheus pushgateway')).toBe(
      true,
    );
  });

  it('keeps the refresh-uids-from-ferry series when token-push pushes afterwards (decision 9)', async () => {
    const { afterRefresh, afterBoth, codes } = await refreshThenTokenPush();
    expect(codes).toEqual([1, 0]);
    const refreshGroup = { job: 'managed_tokens', executable: 'refresh-uids-from-ferry' };
    const expected = {
      lastRefresh: only(afterRefresh, 'managed_tokens_last_ferry_refresh', refreshGroup).map(
        (s) => s.value,
      ),
      errors: only(afterRefresh, 'managed_tokens_ferry_request_error_count', refreshGroup).map(
        (s) => s.value,
      ),
      stages: only(afterRefresh, 'managed_tokens_stage_duration_seconds', refreshGroup)
        .map((s) => s.labels.stage)
        .sort(),
    };
    expect(expected).toEqual({ lastRefresh: [0], errors: [1], stages: ['getFERRYData', 'setup'] });
    expect({
      lastRefresh: only(afterBoth, 'managed_tokens_last_ferry_refresh', refreshGroup).map(
        (s) => s.value,
      ),
      errors: only(afterBoth, 'managed_tokens_ferry_request_error_count', refreshGroup).map(
        (s) => s.value,
      ),
      stages: only(afterBoth, 'managed_tokens_stage_duration_seconds', refreshGroup)
        .map((s) => s.labels.stage)
        .sort(),
    }).toEqual(expected);
    const tokenPushGroup = { job: 'managed_tokens', executable: 'token-push' };
    expect(
      only(afterBoth, 'managed_tokens_failed_services_push_count', tokenPushGroup).map(
        (s) => s.value,
      ),
    ).toEqual([2]);
    // token-push pushes the FERRY families at zero in its own group, not over the refresh values
    expect(
      only(afterBoth, 'managed_tokens_ferry_request_error_count', tokenPushGroup).map(
        (s) => s.value,
      ),
    ).toEqual([0]);
  });
});
