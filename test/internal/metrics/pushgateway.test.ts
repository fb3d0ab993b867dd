import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRunMetrics,
  jobName,
  probePushgateway,
  pushMetrics,
  type MetricsLog,
} from '../../../src/internal/metrics/index.js';
import { freePort } from '../../../src/testenv/proc.js';
import { startHttpReceiver, type HttpReceiver } from '../../../src/testenv/http-receiver.js';
import {
  startPushgateway,
  type Pushgateway,
  type Sample,
} from '../../../src/testenv/pushgateway.js';

interface LogLine {
  readonly level: 'info' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

function recordingLog(): MetricsLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (fields, msg) => void lines.push({ level: 'info', msg, fields }),
    error: (fields, msg) => void lines.push({ level: 'error', msg, fields }),
  };
}

function only(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

let pgw: Pushgateway;
let receiver: HttpReceiver;

beforeAll(async () => {
  pgw = await startPushgateway();
  receiver = await startHttpReceiver({
    routes: {
      '/hang': { delayMs: 5_000 },
      '/broken': { status: 500, body: 'boom' },
      '/broken/metrics/job/j/executable/token-push': { status: 400, body: 'inconsistent' },
      '/slow/metrics/job/j/executable/token-push': { delayMs: 5_000 },
    },
  });
});

afterAll(async () => {
  await receiver?.close();
  await pgw?.stop();
});

describe('start-up probe', () => {
  it('reports the real pushgateway as up without logging an error', async () => {
    const log = recordingLog();
    expect(await probePushgateway(pgw.url, { log, timeoutMs: 5_000 })).toBe(true);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('counts any HTTP answer as up, whatever the status', async () => {
    const log = recordingLog();
    expect(await probePushgateway(`${receiver.url}/broken`, { log, timeoutMs: 5_000 })).toBe(true);
  });

  it('reports a closed port as down with the original error message', async () => {
    const port = await freePort('127.0.0.1');
    const log = recordingLog();
    expect(await probePushgateway(`http://127.0.0.1:${port}`, { log, timeoutMs: 5_000 })).toBe(
      false,
    );
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.level).toBe('error');
    expect(log.lines[0]?.msg).toMatch(
      new RegExp(
        `^Error contacting prometheus pushgateway http://127\\.0\\.0\\.1:${port}: .+\\.  The rest of prometheus operations will fail\\.`,
      ),
    );
  });

  it('treats an empty host as down', async () => {
    const log = recordingLog();
    expect(await probePushgateway('', { log })).toBe(false);
    expect(log.lines[0]?.msg).toMatch(/^Error contacting prometheus pushgateway : /);
  });

  it('gives up on a pushgateway that never answers after the timeout (Q3 fix)', async () => {
    const log = recordingLog();
    expect(await probePushgateway(`${receiver.url}/hang`, { log, timeoutMs: 300 })).toBe(false);
    expect(log.lines[0]?.level).toBe('error');
  });
});

describe('push to the real pushgateway', () => {
  it('PUTs the registry under the job and executable, with the expected series and labels', async () => {
    const job = jobName('managed_tokens', 'development');
    const run = createRunMetrics({ executable: 'token-push' });
    run.tokenPush.stageDuration('setup', 1.5);
    run.tokenPush.stageDuration('pushTokens', 2.5);
    run.tokenPush.failedServices(1);
    run.tokenPush.pingFailed('node1');
    run.notifications.pushErrorCount('dune_production', 'node1', 1);
    const log = recordingLog();
    expect(
      await pushMetrics({
        host: pgw.url,
        job,
        executable: 'token-push',
        registry: run.registry,
        log,
      }),
    ).toBe(true);
    expect(log.lines.map((l) => `${l.level}: ${l.msg}`)).toEqual([
      'info: Finished pushing metrics to prometheus pushgateway',
    ]);

    const group = { job: 'managed_tokens_development', executable: 'token-push' };
    const samples = await pgw.samples();
    expect(
      only(samples, 'managed_tokens_failed_services_push_count', group).map((s) => s.value),
    ).toEqual([1]);
    expect(
      only(samples, 'managed_tokens_stage_duration_seconds', { ...group, stage: 'pushTokens' }).map(
        (s) => s.value,
      ),
    ).toEqual([2.5]);
    expect(
      only(samples, 'managed_tokens_failed_ping_count', { ...group, node: 'node1' }).map(
        (s) => s.value,
      ),
    ).toEqual([1]);
    expect(
      only(samples, 'managed_tokens_current_push_error_count', {
        ...group,
        service: 'dune_production',
        node: 'node1',
      }).map((s) => s.value),
    ).toEqual([1]);
    // the library families of the original are pushed too, at zero
    expect(
      only(samples, 'managed_tokens_ferry_request_error_count', group).map((s) => s.value),
    ).toEqual([0]);
    expect(only(samples, 'push_time_seconds', group)).toHaveLength(1);
  });

  it('keeps the series of one executable when the other one pushes (decision 9)', async () => {
    const job = 'survive';
    const refresh = createRunMetrics({ executable: 'refresh-uids-from-ferry' });
    refresh.refresh.stageDuration('getFERRYData', 3);
    refresh.refresh.lastFerryRefresh(1_732_616_165);
    const log = recordingLog();
    expect(
      await pushMetrics({
        host: pgw.url,
        job,
        executable: 'refresh-uids-from-ferry',
        registry: refresh.registry,
        log,
      }),
    ).toBe(true);

    const push = createRunMetrics({ executable: 'token-push' });
    push.tokenPush.stageDuration('cleanup', 0.5);
    expect(
      await pushMetrics({
        host: pgw.url,
        job,
        executable: 'token-push',
        registry: push.registry,
        log,
      }),
    ).toBe(true);

    const samples = await pgw.samples();
    expect(only(samples, 'managed_tokens_last_ferry_refresh', { job }).map((s) => s.value)).toEqual(
      [1_732_616_165],
    );
    expect(
      only(samples, 'managed_tokens_stage_duration_seconds', {
        job,
        executable: 'refresh-uids-from-ferry',
      }).map((s) => s.labels.stage),
    ).toEqual(['getFERRYData']);
    expect(
      only(samples, 'managed_tokens_stage_duration_seconds', { job, executable: 'token-push' }).map(
        (s) => s.labels.stage,
      ),
    ).toEqual(['cleanup']);
  });

  it('restores the original single group on request: the later PUT deletes the other executable series', async () => {
    const job = 'single';
    const refresh = createRunMetrics({ executable: 'refresh-uids-from-ferry' });
    refresh.refresh.lastFerryRefresh(1_732_616_165);
    const log = recordingLog();
    const common = { host: pgw.url, job, singleGroup: true, log };
    expect(
      await pushMetrics({
        ...common,
        executable: 'refresh-uids-from-ferry',
        registry: refresh.registry,
      }),
    ).toBe(true);
    expect(only(await pgw.samples(), 'managed_tokens_last_ferry_refresh', { job })).toHaveLength(1);

    const push = createRunMetrics({ executable: 'token-push' });
    push.tokenPush.stageDuration('setup', 1);
    expect(
      await pushMetrics({ ...common, executable: 'token-push', registry: push.registry }),
    ).toBe(true);
    const samples = await pgw.samples();
    expect(only(samples, 'managed_tokens_last_ferry_refresh', { job })).toEqual([]);
    const setup = only(samples, 'managed_tokens_stage_duration_seconds', { job, stage: 'setup' });
    expect(setup.map((s) => s.labels.executable)).toEqual(['token-push']);
  });

  it('replaces its own group: series not set in the next run disappear', async () => {
    const job = 'replace';
    const log = recordingLog();
    const first = createRunMetrics({ executable: 'token-push' });
    first.tokenPush.kinitFailed('mu2e_production');
    await pushMetrics({
      host: pgw.url,
      job,
      executable: 'token-push',
      registry: first.registry,
      log,
    });
    expect(only(await pgw.samples(), 'managed_tokens_failed_kinit_count', { job })).toHaveLength(1);
    const second = createRunMetrics({ executable: 'token-push' });
    await pushMetrics({
      host: pgw.url,
      job,
      executable: 'token-push',
      registry: second.registry,
      log,
    });
    expect(only(await pgw.samples(), 'managed_tokens_failed_kinit_count', { job })).toEqual([]);
  });
});

describe('push failures', () => {
  it('sends PUT with the text exposition content type', async () => {
    const run = createRunMetrics({ executable: 'token-push' });
    const log = recordingLog();
    await pushMetrics({
      host: `${receiver.url}/`,
      job: 'j',
      executable: 'token-push',
      registry: run.registry,
      log,
    });
    const req = await receiver.waitFor((r) => r.path === '/metrics/job/j/executable/token-push');
    expect(req.method).toBe('PUT');
    expect(req.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(req.text()).toContain('# TYPE managed_tokens_failed_services_push_count gauge');
  });

  it('logs the original error on a refused push and never throws', async () => {
    const run = createRunMetrics({ executable: 'token-push' });
    const log = recordingLog();
    const ok = await pushMetrics({
      host: `${receiver.url}/broken`,
      job: 'j',
      executable: 'token-push',
      registry: run.registry,
      log,
    });
    expect(ok).toBe(false);
    expect(log.lines.map((l) => `${l.level}: ${l.msg}`)).toEqual([
      'error: Could not push metrics to prometheus pushgateway',
    ]);
    expect(String(log.lines[0]?.fields.error)).toContain('400');
  });

  it('gives up on a hung pushgateway after the timeout', async () => {
    const run = createRunMetrics({ executable: 'token-push' });
    const log = recordingLog();
    const ok = await pushMetrics({
      host: `${receiver.url}/slow`,
      job: 'j',
      executable: 'token-push',
      registry: run.registry,
      log,
      timeoutMs: 300,
    });
    expect(ok).toBe(false);
    expect(log.lines[0]?.msg).toBe('Could not push metrics to prometheus pushgateway');
  });

  it('reports an unreachable pushgateway as a logged failure', async () => {
    const port = await freePort('127.0.0.1');
    const run = createRunMetrics({ executable: 'token-push' });
    const log = recordingLog();
    const ok = await pushMetrics({
      host: `127.0.0.1:${port}`,
      job: 'j',
      executable: 'token-push',
      registry: run.registry,
      log,
    });
    expect(ok).toBe(false);
    expect(log.lines[0]?.level).toBe('error');
  });
});
