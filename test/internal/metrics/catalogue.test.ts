import { describe, expect, it } from 'vitest';
import {
  createRunMetrics,
  jobName,
  pushUrl,
  pushgatewayBaseUrl,
} from '../../../src/internal/metrics/index.js';
import { parseExposition, type Sample } from '../../../src/testenv/pushgateway.js';

interface Family {
  readonly type: string;
  readonly help: string;
}

/** HELP/TYPE per family name from a text exposition. */
function families(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    const h = /^# HELP (\S+) (.*)$/.exec(line);
    if (h) help.set(h[1] as string, h[2] as string);
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) out.set(t[1] as string, { type: t[2] as string, help: help.get(t[1] as string) ?? '' });
  }
  return out;
}

const FIXED_NOW_MS = 1_732_616_165_250;

async function render(
  run: ReturnType<typeof createRunMetrics>,
): Promise<{ text: string; samples: Sample[] }> {
  const text = await run.registry.metrics();
  return { text, samples: parseExposition(text) };
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** Original families: name -> [type, exact help, label names]. */
const ORIGINAL: Record<string, [string, string, string[]]> = {
  managed_tokens_ferry_request_duration_seconds: [
    'histogram',
    'The amount of time it took in seconds to make a request to FERRY and receive the response',
    [],
  ],
  managed_tokens_ferry_request_error_count: [
    'gauge',
    'The number of requests to FERRY that failed',
    [],
  ],
  managed_tokens_kinit_duration_seconds: [
    'gauge',
    'Duration (in seconds) for a kerberos ticket to be created from the service principal',
    ['service'],
  ],
  managed_tokens_failed_kinit_count: [
    'gauge',
    'The number of times the Managed Tokens Service failed to create a kerberos ticket from the service principal',
    ['service'],
  ],
  managed_tokens_last_token_get_timestamp: [
    'gauge',
    'The timestamp of the last successful obtaining of a service vault token that was not stored in a condor credd by the Managed Tokens Service',
    ['service'],
  ],
  managed_tokens_token_get_duration_seconds: [
    'gauge',
    'Duration (in seconds) for a vault token to be obtained',
    ['service'],
  ],
  managed_tokens_failed_vault_token_get_count: [
    'gauge',
    'The number of times the Managed Tokens Service failed to get a vault token',
    ['service'],
  ],
  managed_tokens_last_token_store_timestamp: [
    'gauge',
    'The timestamp of the last successful store of a service vault token in a condor credd by the Managed Tokens Service',
    ['service', 'credd'],
  ],
  managed_tokens_token_store_duration_seconds: [
    'gauge',
    'Duration (in seconds) for a vault token to get stored in a condor credd',
    ['service', 'credd'],
  ],
  managed_tokens_failed_vault_token_store_count: [
    'gauge',
    'The number of times the Managed Tokens Service failed to store a vault token in a condor credd',
    ['service', 'credd'],
  ],
  managed_tokens_ping_duration_seconds: [
    'histogram',
    'Duration (in seconds) to ping a node',
    ['node'],
  ],
  managed_tokens_failed_ping_count: [
    'gauge',
    'The number of times the Managed Tokens Service failed to ping a node',
    ['node'],
  ],
  managed_tokens_last_token_push_timestamp: [
    'gauge',
    'The timestamp of the last successful push of a service vault token to an interactive node by the Managed Tokens Service',
    ['service', 'node'],
  ],
  managed_tokens_token_push_duration_seconds: [
    'gauge',
    'Duration (in seconds) for a vault token to get pushed to a node',
    ['service', 'node'],
  ],
  managed_tokens_failed_token_push_count: [
    'gauge',
    'The number of times the Managed Tokens service failed to push a token to an interactive node',
    ['service', 'node'],
  ],
  managed_tokens_current_setup_error_count: [
    'gauge',
    'Count of how many consecutive setup errors there have been for a single service',
    ['service'],
  ],
  managed_tokens_current_push_error_count: [
    'gauge',
    'Count of how many consecutive push errors there have been for a single service/node combination',
    ['service', 'node'],
  ],
  managed_tokens_service_error_email_last_sent_timestamp: [
    'gauge',
    'Last time managed tokens service attempted to send an service error notification',
    ['service', 'success'],
  ],
  managed_tokens_service_error_email_send_duration_seconds: [
    'histogram',
    'Time in seconds it took to successfully send an service error email',
    [],
  ],
  managed_tokens_admin_error_email_last_sent_timestamp: [
    'gauge',
    'Last time managed tokens service attempted to send an admin error notification',
    ['notification_type', 'success'],
  ],
  managed_tokens_admin_error_email_send_duration_seconds: [
    'gauge',
    'Time in seconds it took to successfully send an admin error email',
    ['notification_type'],
  ],
};

describe('metric catalogue', () => {
  it('registers every original family with its exact type and help string in both executables', async () => {
    for (const executable of ['token-push', 'refresh-uids-from-ferry']) {
      const { text } = await render(createRunMetrics({ executable }));
      const fams = families(text);
      for (const [name, [type, help]] of Object.entries(ORIGINAL)) {
        expect(fams.get(name), `${executable}: ${name}`).toEqual({ type, help });
      }
    }
  });

  it('keeps the two different stage_duration_seconds help strings and the executable-only families', async () => {
    const tp = families((await render(createRunMetrics({ executable: 'token-push' }))).text);
    const rf = families(
      (await render(createRunMetrics({ executable: 'refresh-uids-from-ferry' }))).text,
    );
    expect(tp.get('managed_tokens_stage_duration_seconds')?.help).toBe(
      'The amount of time it took to run a stage Managed Tokens Service executable',
    );
    expect(rf.get('managed_tokens_stage_duration_seconds')?.help).toBe(
      'The amount of time it took to run a stage of a Managed Tokens Service executable',
    );
    expect(tp.get('managed_tokens_failed_services_push_count')).toEqual({
      type: 'gauge',
      help: 'The number of services for which pushing tokens failed in the last round',
    });
    expect(tp.has('managed_tokens_last_ferry_refresh')).toBe(false);
    expect(rf.get('managed_tokens_last_ferry_refresh')).toEqual({
      type: 'gauge',
      help: 'The timestamp of the last successful refresh of the username --> UID table from FERRY for the Managed Tokens Service',
    });
    expect(rf.has('managed_tokens_failed_services_push_count')).toBe(false);
  });

  it('exports untouched unlabelled families at zero/empty and no sample for untouched labelled ones', async () => {
    const { samples } = await render(createRunMetrics({ executable: 'token-push' }));
    expect(find(samples, 'managed_tokens_failed_services_push_count')[0]?.value).toBe(0);
    expect(find(samples, 'managed_tokens_ferry_request_error_count')[0]?.value).toBe(0);
    expect(find(samples, 'managed_tokens_ferry_request_duration_seconds_count')[0]?.value).toBe(0);
    expect(
      find(samples, 'managed_tokens_service_error_email_send_duration_seconds_count')[0]?.value,
    ).toBe(0);
    expect(find(samples, 'managed_tokens_kinit_duration_seconds')).toEqual([]);
    expect(find(samples, 'managed_tokens_stage_duration_seconds')).toEqual([]);
    expect(find(samples, 'managed_tokens_run_duration_seconds')).toEqual([]);
  });

  it('turns token-push events into the original series with the original labels', async () => {
    const run = createRunMetrics({ executable: 'token-push', now: () => FIXED_NOW_MS });
    const e = run.tokenPush;
    e.stageDuration('setup', 1.25);
    e.stageDuration('pushTokens', 3);
    e.kinitSucceeded('dune_production', 0.5);
    e.kinitFailed('mu2e_production');
    e.kinitFailed('mu2e_production');
    e.tokenGetSucceeded('nova_production', 2);
    e.tokenGetFailed('nova_production');
    e.tokenStoreSucceeded('dune_production', 'credd01.fnal.gov', 4);
    e.tokenStoreFailed('dune_production', 'credd02.fnal.gov');
    e.pingSucceeded('node1', 0.02);
    e.pingFailed('node2');
    e.tokenPushItemSucceeded('dune_production', 'node1', 0.7);
    e.tokenPushItemFailed('dune_production', 'node2');
    e.tokenPushItemFailed('dune_production', 'node2');
    e.servicePushedToNodes('nova_production', ['node1', 'node3']);
    e.failedServices(2);
    const { samples } = await render(run);
    const t = FIXED_NOW_MS / 1000;
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      find(samples, name, labels)[0]?.value;

    expect(
      value('managed_tokens_stage_duration_seconds', { executable: 'token-push', stage: 'setup' }),
    ).toBe(1.25);
    expect(
      value('managed_tokens_stage_duration_seconds', {
        executable: 'token-push',
        stage: 'pushTokens',
      }),
    ).toBe(3);
    expect(value('managed_tokens_kinit_duration_seconds', { service: 'dune_production' })).toBe(
      0.5,
    );
    expect(value('managed_tokens_failed_kinit_count', { service: 'mu2e_production' })).toBe(2);
    expect(value('managed_tokens_last_token_get_timestamp', { service: 'nova_production' })).toBe(
      t,
    );
    expect(value('managed_tokens_token_get_duration_seconds', { service: 'nova_production' })).toBe(
      2,
    );
    expect(
      value('managed_tokens_failed_vault_token_get_count', { service: 'nova_production' }),
    ).toBe(1);
    expect(
      value('managed_tokens_last_token_store_timestamp', {
        service: 'dune_production',
        credd: 'credd01.fnal.gov',
      }),
    ).toBe(t);
    expect(
      value('managed_tokens_token_store_duration_seconds', {
        service: 'dune_production',
        credd: 'credd01.fnal.gov',
      }),
    ).toBe(4);
    expect(
      value('managed_tokens_failed_vault_token_store_count', {
        service: 'dune_production',
        credd: 'credd02.fnal.gov',
      }),
    ).toBe(1);
    expect(value('managed_tokens_ping_duration_seconds_count', { node: 'node1' })).toBe(1);
    expect(
      value('managed_tokens_ping_duration_seconds_bucket', { node: 'node1', le: '0.025' }),
    ).toBe(1);
    expect(
      value('managed_tokens_ping_duration_seconds_bucket', { node: 'node1', le: '0.01' }),
    ).toBe(0);
    expect(value('managed_tokens_failed_ping_count', { node: 'node2' })).toBe(1);
    expect(
      value('managed_tokens_token_push_duration_seconds', {
        service: 'dune_production',
        node: 'node1',
      }),
    ).toBe(0.7);
    expect(
      value('managed_tokens_failed_token_push_count', {
        service: 'dune_production',
        node: 'node2',
      }),
    ).toBe(2);
    expect(
      value('managed_tokens_last_token_push_timestamp', {
        service: 'nova_production',
        node: 'node3',
      }),
    ).toBe(t);
    // dune had a failure, so the original stamps none of its nodes
    expect(
      find(samples, 'managed_tokens_last_token_push_timestamp', { service: 'dune_production' }),
    ).toEqual([]);
    expect(value('managed_tokens_failed_services_push_count')).toBe(2);
  });

  it('uses the default histogram buckets of the original', async () => {
    const run = createRunMetrics({ executable: 'token-push' });
    run.tokenPush.pingSucceeded('node1', 0.3);
    const les = find(
      (await render(run)).samples,
      'managed_tokens_ping_duration_seconds_bucket',
    ).map((s) => s.labels.le);
    expect(les).toEqual([
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '+Inf',
    ]);
  });

  it('turns refresh events into the original series', async () => {
    const run = createRunMetrics({ executable: 'refresh-uids-from-ferry' });
    run.refresh.stageDuration('getFERRYData', 2.5);
    run.refresh.ferryRequestSucceeded(0.3);
    run.refresh.ferryRequestSucceeded(0.4);
    run.refresh.ferryRequestFailed();
    run.refresh.lastFerryRefresh(1_732_616_165);
    const { samples } = await render(run);
    expect(
      find(samples, 'managed_tokens_stage_duration_seconds', {
        executable: 'refresh-uids-from-ferry',
        stage: 'getFERRYData',
      })[0]?.value,
    ).toBe(2.5);
    expect(find(samples, 'managed_tokens_ferry_request_duration_seconds_count')[0]?.value).toBe(2);
    expect(find(samples, 'managed_tokens_ferry_request_error_count')[0]?.value).toBe(1);
    expect(find(samples, 'managed_tokens_last_ferry_refresh')[0]?.value).toBe(1_732_616_165);
  });

  it('turns notification events into the original series', async () => {
    const run = createRunMetrics({ executable: 'token-push', now: () => FIXED_NOW_MS });
    const n = run.notifications;
    n.setupErrorCount('mu2e_production', 2);
    n.pushErrorCount('dune_production', 'node1', 1);
    n.serviceEmailAttempted('dune_production', false);
    n.serviceEmailSent(0.8);
    n.adminNotificationAttempted('slack_message', true);
    n.adminNotificationSent('email', 1.5);
    const { samples } = await render(run);
    const t = FIXED_NOW_MS / 1000;
    expect(
      find(samples, 'managed_tokens_current_setup_error_count', { service: 'mu2e_production' })[0]
        ?.value,
    ).toBe(2);
    expect(
      find(samples, 'managed_tokens_current_push_error_count', {
        service: 'dune_production',
        node: 'node1',
      })[0]?.value,
    ).toBe(1);
    expect(
      find(samples, 'managed_tokens_service_error_email_last_sent_timestamp', {
        service: 'dune_production',
        success: 'false',
      })[0]?.value,
    ).toBe(t);
    expect(
      find(samples, 'managed_tokens_service_error_email_send_duration_seconds_count')[0]?.value,
    ).toBe(1);
    expect(
      find(samples, 'managed_tokens_admin_error_email_last_sent_timestamp', {
        notification_type: 'slack_message',
        success: 'true',
      })[0]?.value,
    ).toBe(t);
    expect(
      find(samples, 'managed_tokens_admin_error_email_send_duration_seconds', {
        notification_type: 'email',
      })[0]?.value,
    ).toBe(1.5);
  });
});

describe('metrics added by this port', () => {
  it('stamps a node as pushed only when none of its file copies failed, whatever the other nodes did', async () => {
    const run = createRunMetrics({ executable: 'token-push', now: () => FIXED_NOW_MS });
    const e = run.tokenPush;
    e.tokenPushItemSucceeded('dune_production', 'node1', 0.1);
    e.tokenPushItemSucceeded('dune_production', 'node1', 0.1);
    e.tokenPushItemSucceeded('dune_production', 'node2', 0.1);
    e.tokenPushItemFailed('dune_production', 'node2');
    e.tokenPushItemFailed('dune_production', 'node3');
    e.tokenPushItemSucceeded('dune_production', 'node3', 0.1); // a later file: the node still had a failure
    const stamped = find(
      (await render(run)).samples,
      'managed_tokens_last_node_push_success_timestamp',
    );
    expect(stamped).toEqual([
      {
        name: 'managed_tokens_last_node_push_success_timestamp',
        labels: { service: 'dune_production', node: 'node1' },
        value: FIXED_NOW_MS / 1000,
      },
    ]);
  });

  it('reports the pushed token age and the run outcome', async () => {
    const run = createRunMetrics({ executable: 'token-push' });
    run.tokenPush.pushedTokenAge('dune_production', 3600);
    run.tokenPush.runOutcome({
      servicesOk: 3,
      servicesFailed: 1,
      durationSeconds: 42.5,
      exitCode: 0,
    });
    const { samples, text } = await render(run);
    expect(
      find(samples, 'managed_tokens_pushed_token_age_seconds', { service: 'dune_production' })[0]
        ?.value,
    ).toBe(3600);
    expect(
      find(samples, 'managed_tokens_run_services', { executable: 'token-push', result: 'ok' })[0]
        ?.value,
    ).toBe(3);
    expect(
      find(samples, 'managed_tokens_run_services', {
        executable: 'token-push',
        result: 'failed',
      })[0]?.value,
    ).toBe(1);
    expect(
      find(samples, 'managed_tokens_run_duration_seconds', { executable: 'token-push' })[0]?.value,
    ).toBe(42.5);
    expect(
      find(samples, 'managed_tokens_run_exit_code', { executable: 'token-push' })[0]?.value,
    ).toBe(0);
    expect(families(text).get('managed_tokens_run_exit_code')?.type).toBe('gauge');
  });

  it('reports the refresh run outcome in FERRY accounts', async () => {
    const run = createRunMetrics({ executable: 'refresh-uids-from-ferry' });
    run.refresh.runOutcome({ accountsOk: 5, accountsFailed: 2, durationSeconds: 9, exitCode: 1 });
    const { samples } = await render(run);
    const labels = { executable: 'refresh-uids-from-ferry' };
    expect(
      find(samples, 'managed_tokens_run_ferry_accounts', { ...labels, result: 'ok' })[0]?.value,
    ).toBe(5);
    expect(
      find(samples, 'managed_tokens_run_ferry_accounts', { ...labels, result: 'failed' })[0]?.value,
    ).toBe(2);
    expect(find(samples, 'managed_tokens_run_exit_code', labels)[0]?.value).toBe(1);
    expect(find(samples, 'managed_tokens_run_services')).toEqual([]);
  });

  it('gives each run its own registry', async () => {
    const a = createRunMetrics({ executable: 'token-push' });
    const b = createRunMetrics({ executable: 'token-push' });
    a.tokenPush.failedServices(5);
    expect(
      find((await render(b)).samples, 'managed_tokens_failed_services_push_count')[0]?.value,
    ).toBe(0);
  });
});

describe('job name and push URL', () => {
  it('suffixes the job with the dev-environment label unless it is production', () => {
    expect(jobName('managed_tokens', 'production')).toBe('managed_tokens');
    expect(jobName('managed_tokens', 'development')).toBe('managed_tokens_development');
    expect(jobName('myjob', 'production')).toBe('myjob');
    expect(jobName('', 'production')).toBe('managed_tokens');
  });

  it('normalises the host like the original pusher', () => {
    expect(pushgatewayBaseUrl('pgw:9091')).toBe('http://pgw:9091');
    expect(pushgatewayBaseUrl('https://pgw:9091/')).toBe('https://pgw:9091');
  });

  it('adds the executable grouping label unless the single group is requested', () => {
    const target = { host: 'http://pgw:9091', job: 'managed_tokens', executable: 'token-push' };
    expect(pushUrl(target)).toBe(
      'http://pgw:9091/metrics/job/managed_tokens/executable/token-push',
    );
    expect(pushUrl({ ...target, singleGroup: true })).toBe(
      'http://pgw:9091/metrics/job/managed_tokens',
    );
    expect(pushUrl({ ...target, job: 'a/b' })).toBe(
      `http://pgw:9091/metrics/job@base64/${Buffer.from('a/b').toString('base64url')}/executable/token-push`,
    );
  });
});
