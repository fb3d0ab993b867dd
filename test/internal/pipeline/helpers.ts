/** Builders shared by the pipeline tests: service settings and a pipeline input with a scripted runner. */
import { pino } from 'pino';
import type { ServiceSettings } from '../../../src/internal/config/index.js';
import { makeServiceName } from '../../../src/internal/config/index.js';
import {
  compileTemplate,
  ROLE_FILE_TEMPLATE_FIELDS,
} from '../../../src/internal/config/template.js';
import { noopTokenPushMetrics } from '../../../src/internal/metrics/events.js';
import type { Notification } from '../../../src/internal/notifications/types.js';
import type {
  CommandOutcome,
  CommandRequest,
  CommandRunner,
} from '../../../src/internal/pipeline/command.js';
import type { PipelineInput } from '../../../src/internal/pipeline/types.js';
import { DEFAULT_CONCURRENCY } from '../../../src/internal/pipeline/types.js';

export function service(
  experiment: string,
  role: string,
  overrides: Partial<ServiceSettings> & { experimentOverride?: string } = {},
): ServiceSettings {
  const { experimentOverride, ...rest } = overrides;
  const principal = `${experiment}pro/managedtokens/host@MT.TEST`;
  return {
    name: makeServiceName(experiment, role, experimentOverride),
    account: `${experiment}pro`,
    emails: [],
    nodes: ['n1'],
    desiredUIDOverride: 5000,
    userPrincipal: principal,
    credkey: principal,
    keytabPath: `/kt/${experiment}pro.keytab`,
    htgettokenOpts: `--vaulttokenminttl=10s --credkey=${principal}`,
    vaultServer: { kind: 'global', value: 'vault.test' },
    collectorHosts: ['c1'],
    creddHost: 's1',
    scheddConstraint: undefined,
    serviceCreddVaultTokenPathRoot: '/nonexistent',
    fileCopierOptions: [],
    pingOptions: [],
    sshOptions: [],
    roleFileDestination: compileTemplate(
      '/tmp/default_role_{{.Experiment}}_{{.DesiredUID}}',
      ROLE_FILE_TEMPLATE_FIELDS,
    ),
    notificationsDisabled: false,
    notificationsOverridden: false,
    tokenGetter: 'storeAndGetToken',
    ...rest,
  };
}

export const ok = (output = ''): CommandOutcome => ({
  ok: true,
  output,
  stdout: output,
  durationMs: 1,
});
export const exitWith = (code: number, output = ''): CommandOutcome => ({
  ok: false,
  reason: 'exit',
  message: `exit status ${code}`,
  output,
  excerpt: output,
  durationMs: 1,
});

/** Answers kinit/klist like MIT for the principal the keytab names; everything else via `others`. */
export function scriptedRunner(
  others: (req: CommandRequest, tool: string) => Promise<CommandOutcome> | CommandOutcome,
) {
  const calls: { tool: string; req: CommandRequest }[] = [];
  const principals = new Map<string, string>();
  const run: CommandRunner = async (req) => {
    const tool = (req.argv[0] ?? '').split('/').pop() ?? '';
    calls.push({ tool, req });
    if (tool === 'kinit') {
      principals.set(req.env['KRB5CCNAME'] ?? '', req.argv[4] ?? '');
      return ok();
    }
    if (tool === 'klist')
      return ok(`Default principal: ${principals.get(req.env['KRB5CCNAME'] ?? '') ?? ''}\n`);
    return others(req, tool);
  };
  return {
    run,
    calls,
    of: (tool: string) => calls.filter((c) => c.tool === tool).map((c) => c.req),
  };
}

export function pipelineInput(opts: {
  services: ServiceSettings[];
  run: CommandRunner;
  tempDir: string;
  notifications?: Notification[];
  overrides?: Partial<PipelineInput>;
}): PipelineInput {
  const sent = opts.notifications ?? [];
  return {
    log: pino({ level: 'silent' }),
    env: { PATH: '/usr/bin:/bin', TMPDIR: opts.tempDir },
    programs: {
      kinit: '/usr/bin/kinit',
      klist: '/usr/bin/klist',
      condor_vault_storer: '/fake/condor_vault_storer',
      htgettoken: '/fake/htgettoken',
      condor_status: '/fake/condor_status',
      condor_config_val: '/fake/condor_config_val',
      ping: '/usr/bin/ping',
      rsync: '/usr/bin/rsync',
      ssh: '/usr/bin/ssh',
    },
    timeouts: {
      globalMs: 300_000,
      kerberosMs: 20_000,
      vaultStorerMs: 60_000,
      pingMs: 10_000,
      pushMs: 30_000,
      ferryRequestMs: 30_000,
      dbMs: 10_000,
    },
    pushRetry: { numRetries: 0, retrySleepMs: 0 },
    services: opts.services,
    skipped: [],
    mode: { kind: 'normal' },
    verbose: false,
    runUID: process.getuid?.() ?? 0,
    tempDir: opts.tempDir,
    db: undefined,
    notifications: { send: (n) => sent.push(n) },
    metrics: noopTokenPushMetrics,
    run: opts.run,
    signal: new AbortController().signal,
    concurrency: DEFAULT_CONCURRENCY,
    startedAt: new Date(),
    ...opts.overrides,
  };
}
