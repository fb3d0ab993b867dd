import { accessSync, constants, statSync } from 'node:fs';
import { posix } from 'node:path';
import { parseGoDuration } from './duration.js';
import { isEmailAddress, isHostName, parseAbsoluteUrl } from './checks.js';
import type { FindingCollector } from './findings.js';
import { readOwnBoolean } from './own.js';
import type { CMap } from './parse.js';
import {
  entryOf,
  joinPath,
  readBool,
  readInt,
  readMap,
  readString,
  readStringList,
  warnUnknownKeys,
  type Located,
  type Scope,
} from './read.js';
import type {
  Executable,
  FerrySettings,
  GlobalSettings,
  LogFiles,
  NotificationTargets,
  RunFlags,
  SourcePos,
  ValidationPurpose,
  ValidationTarget,
} from './types.js';

export const DEFAULT_DB_LOCATION = '/var/lib/managed-tokens/uid.db';
export const DEFAULT_ADMIN_EMAIL = 'fife-group@fnal.gov';
export const DEFAULT_JOB_NAME = 'managed_tokens';
export const DEFAULT_MIN_TOKEN_LIFETIME = '10s';
export const DEFAULT_LOKI_RESPONSE_HEADER_TIMEOUT_MS = 1000;
export const DEV_ENVIRONMENT_ENV = 'MANAGED_TOKENS_DEV_ENVIRONMENT_LABEL';

/** Flags that the original also read from the file (config.md 1.5); the port ignores them there (Q3). */
export const FLAG_KEYS = [
  'configfile',
  'version',
  'admin',
  'disable-notifications',
  'dont-notify',
  'test',
  'verbose',
  'no-loki',
  'authmethod',
  'experiment',
  'service',
  'list-services',
  'run-onboarding',
  'push-tokens',
] as const;

export const SERVICE_DEFAULT_KEYS = [
  'keytabPath',
  'kerberosPrincipalPattern',
  'condorCollectorHost',
  'condorCreddHost',
  'condorScheddConstraint',
  'vaultServer',
  'serviceCreddVaultTokenPathRoot',
  'defaultRoleFileDestinationTemplate',
  'pingOptions',
  'fileCopierOptions',
  'sshOptions',
  'minTokenLifetime',
] as const;

export const TOP_LEVEL_KEYS = [
  ...SERVICE_DEFAULT_KEYS,
  'dbLocation',
  'errorCountToSendMessage',
  'disableNotifications',
  'devEnvironmentLabel',
  'htgettokenopts',
  'timeouts',
  'ferry',
  'email',
  'notifications',
  'notifications_test',
  'logs',
  'prometheus',
  'loki',
  'tracing',
  'workerType',
  'experiments',
] as const;

/** The ferry section's string-valued keys (host and port are read on their own). */
const FERRY_STRING_KEYS = [
  'caPath',
  'hostCert',
  'hostKey',
  'serviceExperiment',
  'serviceRole',
  'serviceKerberosPrincipal',
  'serviceKeytabPath',
  'vaultServer',
] as const;
const FERRY_KEYS = ['host', 'port', ...FERRY_STRING_KEYS] as const;

function describeSpecialTopLevelKey(lower: string): string | undefined {
  if ((FLAG_KEYS as readonly string[]).includes(lower)) {
    return lower === 'authmethod'
      ? 'command-line flag key in the file is ignored (the original honoured it); pass --authmethod instead. tls is used unless the flag says otherwise'
      : `command-line flag key in the file is ignored (the original honoured it); pass --${lower} on the command line instead`;
  }
  if (lower === 'orig_htgettokenopts')
    return 'internal key, ignored; HTGETTOKENOPTS is read from the environment only';
  if (lower === 'collectorhost') return 'has no effect (never read)';
  return undefined;
}

export interface GlobalLocations {
  readonly emailFrom?: Located<string> | undefined;
  readonly smtpHost?: Located<string> | undefined;
  readonly smtpPort?: Located<number> | undefined;
  readonly adminEmails?: Located<string[]> | undefined;
  readonly testAdminEmails?: Located<string[]> | undefined;
  readonly disableNotifications?: Located<boolean> | undefined;
  readonly emailPos: SourcePos;
  readonly notificationsPos: SourcePos;
}

const involves = (target: ValidationTarget, executable: Executable): boolean =>
  target === 'both' || target === executable;

interface NotificationBlock {
  readonly targets: NotificationTargets;
  readonly admin: Located<string[]> | undefined;
  readonly slack: Located<string> | undefined;
  readonly pos: SourcePos | undefined;
  readonly path: string;
}

function readNotificationTargets(
  scope: Scope,
  root: CMap,
  key: string,
  defaultAdmin: readonly string[],
): NotificationBlock {
  const block = readMap(scope, root, '', key);
  const path = block?.path ?? key;
  if (block !== undefined)
    warnUnknownKeys(scope, block.value, block.path, ['admin_email', 'SLACK_ALERTS_URL']);
  const admin = readStringList(scope, block?.value, path, 'admin_email');
  const slack = readString(scope, block?.value, path, 'slack_alerts_url');
  return {
    targets: { adminEmails: admin?.value ?? [...defaultAdmin], slackAlertsUrl: slack?.value ?? '' },
    admin,
    slack,
    pos: block?.pos,
    path,
  };
}

/** V14/Q32: only the block the run will use (notifications_test with --test). */
function checkSlackUrl(
  findings: FindingCollector,
  block: NotificationBlock,
  rootPos: SourcePos,
): void {
  const slack = block.slack;
  if (slack === undefined || slack.value === '') {
    findings.warn(
      slack?.pos ?? block.pos ?? rootPos,
      slack?.path ?? `${block.path}.SLACK_ALERTS_URL`,
      'not set; Slack alerts are disabled',
    );
    return;
  }
  const url = parseAbsoluteUrl(slack.value);
  if (url === undefined || url.protocol !== 'https:') {
    findings.warn(
      slack.pos,
      slack.path,
      `not an absolute https URL (got ${JSON.stringify(redactUrl(slack.value))}; expected https://hooks.slack.com/...)`,
    );
  }
}

/** Slack webhook URLs are secrets: show scheme and host only. */
function redactUrl(value: string): string {
  const url = parseAbsoluteUrl(value);
  return url === undefined
    ? value.length > 12
      ? `${value.slice(0, 12)}...`
      : value
    : `${url.protocol}//${url.host}/...`;
}

/** `consequence`: what a value without a scheme means for this run, e.g. "so Loki is disabled". */
function checkFeatureUrl(
  scope: Scope,
  located: Located<string> | undefined,
  consequence: string,
): void {
  if (located === undefined || located.value === '') return;
  if (parseAbsoluteUrl(located.value) === undefined) {
    scope.findings.warn(
      located.pos,
      located.path,
      `not an absolute URL with a scheme, ${consequence} (got ${JSON.stringify(located.value)}; expected e.g. http://host:port)`,
    );
  }
}

function readLogs(
  scope: Scope,
  root: CMap,
  target: ValidationTarget,
): Record<Executable, LogFiles> {
  const logs = readMap(scope, root, '', 'logs');
  const result = {} as Record<Executable, LogFiles>;
  if (logs !== undefined)
    warnUnknownKeys(scope, logs.value, logs.path, ['token-push', 'refresh-uids-from-ferry']);
  for (const executable of ['token-push', 'refresh-uids-from-ferry'] as const) {
    const section = readMap(scope, logs?.value, logs?.path ?? 'logs', executable);
    if (section !== undefined)
      warnUnknownKeys(scope, section.value, section.path, ['logfile', 'debugfile']);
    const logfile = readString(
      scope,
      section?.value,
      section?.path ?? `logs.${executable}`,
      'logfile',
    );
    const debugfile = readString(
      scope,
      section?.value,
      section?.path ?? `logs.${executable}`,
      'debugfile',
    );
    result[executable] = { logfile: logfile?.value ?? '', debugfile: debugfile?.value ?? '' };
    if (involves(target, executable)) {
      for (const [name, located] of [
        ['logfile', logfile],
        ['debugfile', debugfile],
      ] as const) {
        if (located === undefined || located.value === '') {
          scope.findings.warn(
            located?.pos ?? section?.pos ?? logs?.pos ?? root.pos,
            `logs.${executable}.${name}`,
            `not set; ${executable} writes no ${name === 'logfile' ? 'log' : 'debug log'} file`,
          );
        }
      }
    }
  }
  return result;
}

function unreadable(path: string, kind: 'file' | 'directory'): string | undefined {
  try {
    const stats = statSync(path);
    if (kind === 'file' ? !stats.isFile() : !stats.isDirectory()) return `not a ${kind}`;
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'not readable';
  }
}

function readFerry(
  scope: Scope,
  root: CMap,
  target: ValidationTarget,
  flags: RunFlags,
  purpose: ValidationPurpose,
): FerrySettings {
  // A run with these problems fails every account and reports that through the notifications and
  // metrics, as the original did (a certificate that became unreadable must not fail silently);
  // check-config refuses them.
  const unusable = (pos: SourcePos, keyPath: string, message: string): void => {
    if (purpose === 'check') scope.findings.error(pos, keyPath, message);
    else scope.findings.warn(pos, keyPath, `${message}; every FERRY request will fail`);
  };
  const ferry = readMap(scope, root, '', 'ferry');
  const path = ferry?.path ?? 'ferry';
  if (ferry !== undefined) warnUnknownKeys(scope, ferry.value, path, FERRY_KEYS);
  const str = (key: string): Located<string> | undefined =>
    readString(scope, ferry?.value, path, key);
  const host = str('host');
  const port = readInt(scope, ferry?.value, path, 'port');
  const fields = Object.fromEntries(FERRY_STRING_KEYS.map((key) => [key, str(key)])) as Record<
    (typeof FERRY_STRING_KEYS)[number],
    Located<string> | undefined
  >;
  if (involves(target, 'refresh-uids-from-ferry')) {
    const where = ferry?.pos ?? root.pos;
    if (host === undefined || host.value === '') {
      unusable(
        host?.pos ?? where,
        `${path}.host`,
        'missing (expected the FERRY base URL, e.g. https://ferry.example.org)',
      );
    } else {
      const url = parseAbsoluteUrl(host.value);
      const ok =
        url !== undefined &&
        (url.protocol === 'https:' || url.protocol === 'http:') &&
        url.port === '' &&
        (url.pathname === '/' || url.pathname === '') &&
        !host.value.endsWith('/') &&
        url.search === '';
      if (!ok)
        unusable(
          host.pos,
          host.path,
          `not a FERRY base URL (got ${JSON.stringify(host.value)}; expected scheme and host only, e.g. https://ferry.example.org; the port goes in ferry.port)`,
        );
    }
    if (port === undefined || port.value < 1 || port.value > 65535) {
      unusable(
        port?.pos ?? where,
        port?.path ?? `${path}.port`,
        `${port === undefined ? 'missing' : 'out of range'} (got ${port?.value ?? 'nothing'}; expected a port 1-65535)`,
      );
    }
    const authMethod = flags.authMethod ?? 'tls';
    const required =
      authMethod === 'jwt'
        ? ([
            'serviceExperiment',
            'serviceKerberosPrincipal',
            'serviceKeytabPath',
            'vaultServer',
          ] as const)
        : authMethod === 'tls'
          ? (['hostCert', 'hostKey', 'caPath'] as const)
          : [];
    for (const key of required) {
      const located = fields[key];
      if (located === undefined || located.value === '') {
        unusable(
          located?.pos ?? where,
          `${path}.${key}`,
          `missing; required for authentication method ${authMethod}`,
        );
      } else if (target === 'refresh-uids-from-ferry' && authMethod === 'tls') {
        // Only when validating for a refresh run (or check-config for it): the files must be usable here.
        const problem = unreadable(located.value, key === 'caPath' ? 'directory' : 'file');
        if (problem !== undefined)
          unusable(
            located.pos,
            located.path,
            `${problem} (got ${JSON.stringify(located.value)}; expected a readable ${key === 'caPath' ? 'directory of *.pem files' : 'PEM file'})`,
          );
      }
    }
  }
  return {
    host: host?.value ?? '',
    port: port?.value ?? 0,
    caPath: fields.caPath?.value ?? '',
    hostCert: fields.hostCert?.value ?? '',
    hostKey: fields.hostKey?.value ?? '',
    serviceExperiment: fields.serviceExperiment?.value ?? '',
    serviceRole: fields.serviceRole?.value ?? '',
    serviceKerberosPrincipal: fields.serviceKerberosPrincipal?.value ?? '',
    serviceKeytabPath: fields.serviceKeytabPath?.value ?? '',
    vaultServer: fields.vaultServer?.value ?? '',
  };
}

/** Top-level settings shared by both executables (config.md 2.2, 2.4-2.6). */
export function resolveGlobal(
  findings: FindingCollector,
  root: CMap,
  env: Readonly<Record<string, string | undefined>>,
  target: ValidationTarget,
  flags: RunFlags,
  format: 'json' | 'yaml' = 'yaml',
  purpose: ValidationPurpose = 'run',
): { global: GlobalSettings; locations: GlobalLocations } {
  const scope: Scope = {
    findings,
    severity: 'error-global',
    numbersAreFloats: format === 'json',
  };
  warnUnknownKeys(scope, root, '', [...TOP_LEVEL_KEYS], describeSpecialTopLevelKey);
  const tokenPush = involves(target, 'token-push');
  // Keys only one executable reads are only errors for that executable.
  const tokenPushScope: Scope = tokenPush ? scope : { findings, severity: 'warning' };
  const refreshScope: Scope = involves(target, 'refresh-uids-from-ferry')
    ? scope
    : { findings, severity: 'warning' };

  const dbLocation = readString(scope, root, '', 'dbLocation');
  if (dbLocation !== undefined && dbLocation.value === '')
    findings.warn(
      dbLocation.pos,
      dbLocation.path,
      `empty, so the database cannot be opened: token-push runs without it, refresh-uids-from-ferry fails (the original used a throwaway temporary database; expected a file path, or remove the key for ${DEFAULT_DB_LOCATION})`,
    );

  const errorCount = readInt(tokenPushScope, root, '', 'errorCountToSendMessage');
  if (errorCount !== undefined && errorCount.value < 0)
    findings.warn(
      errorCount.pos,
      errorCount.path,
      `negative, so every error is notified at once, as with 0 in the original (got ${errorCount.value}; write an integer >= 0)`,
    );

  const fileLabel = readString(scope, root, '', 'devEnvironmentLabel');
  const envLabel = env[DEV_ENVIRONMENT_ENV];
  const devEnvironmentLabel =
    envLabel !== undefined && envLabel !== '' ? envLabel : (fileLabel?.value ?? 'production');
  if (fileLabel !== undefined && !/^[A-Za-z0-9_]+$/.test(fileLabel.value)) {
    findings.warn(
      fileLabel.pos,
      fileLabel.path,
      `unsuitable for Prometheus job names and labels (got ${JSON.stringify(fileLabel.value)}; expected letters, digits and _)`,
    );
  }

  const email = readMap(scope, root, '', 'email');
  const emailPath = email?.path ?? 'email';
  if (email !== undefined)
    warnUnknownKeys(scope, email.value, emailPath, ['from', 'smtpHost', 'smtpPort']);
  const emailFrom = readString(scope, email?.value, emailPath, 'from');
  const smtpHost = readString(scope, email?.value, emailPath, 'smtpHost');
  const smtpPort = readInt(scope, email?.value, emailPath, 'smtpPort');

  const notifications = readNotificationTargets(scope, root, 'notifications', [
    DEFAULT_ADMIN_EMAIL,
  ]);
  const notificationsTest = readNotificationTargets(scope, root, 'notifications_test', []);
  checkSlackUrl(findings, flags.test === true ? notificationsTest : notifications, root.pos);

  const disableNotifications = readBool(scope, root, '', 'disableNotifications');
  const logs = readLogs(scope, root, target);

  const prometheus = readMap(scope, root, '', 'prometheus');
  if (prometheus !== undefined)
    warnUnknownKeys(scope, prometheus.value, prometheus.path, ['host', 'jobname', 'singleGroup']);
  const prometheusHost = readString(
    scope,
    prometheus?.value,
    prometheus?.path ?? 'prometheus',
    'host',
  );
  // Probe and push both prepend http:// to a scheme-less host (notifications-observability.md Q3).
  checkFeatureUrl(
    scope,
    prometheusHost,
    'so http:// is assumed for the pushgateway (the original disabled metrics)',
  );
  const jobNameValue =
    readString(scope, prometheus?.value, prometheus?.path ?? 'prometheus', 'jobname')?.value ?? '';
  const baseJobName = jobNameValue === '' ? DEFAULT_JOB_NAME : jobNameValue;
  const singleGroup = readOwnBoolean(
    findings,
    prometheus?.value,
    prometheus?.path ?? 'prometheus',
    'singleGroup',
    false,
  );

  const loki = readMap(scope, root, '', 'loki');
  if (loki !== undefined)
    warnUnknownKeys(scope, loki.value, loki.path, ['host', 'response_header_timeout']);
  const lokiHost = readString(scope, loki?.value, loki?.path ?? 'loki', 'host');
  checkFeatureUrl(scope, lokiHost, 'so Loki is disabled');
  const lokiTimeout = readString(
    scope,
    loki?.value,
    loki?.path ?? 'loki',
    'response_header_timeout',
  );
  let lokiTimeoutMs = DEFAULT_LOKI_RESPONSE_HEADER_TIMEOUT_MS;
  if (lokiTimeout !== undefined) {
    const ms = parseGoDuration(lokiTimeout.value);
    if (ms === undefined || ms <= 0) {
      findings.warn(
        lokiTimeout.pos,
        lokiTimeout.path,
        `not a positive Go duration, 1s is used (got ${JSON.stringify(lokiTimeout.value)}; expected e.g. "1s")`,
      );
    } else lokiTimeoutMs = ms;
  }

  const tracing = readMap(scope, root, '', 'tracing');
  if (tracing !== undefined) warnUnknownKeys(scope, tracing.value, tracing.path, ['url']);
  const tracingUrl = readString(scope, tracing?.value, tracing?.path ?? 'tracing', 'url');
  checkFeatureUrl(scope, tracingUrl, 'so tracing is disabled');

  const minTokenLifetime = readString(tokenPushScope, root, '', 'minTokenLifetime');
  if (tokenPush && minTokenLifetime !== undefined && !/^\d+[smhd]?$/.test(minTokenLifetime.value)) {
    findings.warn(
      minTokenLifetime.pos,
      minTokenLifetime.path,
      `not an htgettoken duration; htgettoken will reject it (got ${JSON.stringify(minTokenLifetime.value)}; expected e.g. "10s", "3d")`,
    );
  }

  const ferry = readFerry(refreshScope, root, target, flags, purpose);
  const htgettokenopts = readString(refreshScope, root, '', 'htgettokenopts');
  const serviceCreddVaultTokenPathRoot = readString(
    scope,
    root,
    '',
    'serviceCreddVaultTokenPathRoot',
  );

  const global: GlobalSettings = {
    // "" is passed through so that opening the database fails with an error naming the key.
    dbLocation: dbLocation === undefined ? DEFAULT_DB_LOCATION : dbLocation.value,
    errorCountToSendMessage:
      errorCount !== undefined && errorCount.value >= 0 ? errorCount.value : 0,
    devEnvironmentLabel,
    email: {
      from: emailFrom?.value ?? '',
      smtpHost: smtpHost?.value ?? '',
      smtpPort: smtpPort?.value ?? 0,
    },
    notifications: notifications.targets,
    notificationsTest: notificationsTest.targets,
    disableNotifications: disableNotifications?.value ?? false,
    logs,
    prometheus: {
      host: prometheusHost?.value ?? '',
      jobName:
        devEnvironmentLabel === 'production'
          ? baseJobName
          : `${baseJobName}_${devEnvironmentLabel}`,
      singleGroup,
    },
    loki: { host: lokiHost?.value ?? '', responseHeaderTimeoutMs: lokiTimeoutMs },
    tracing: { url: tracingUrl?.value ?? '' },
    minTokenLifetime: minTokenLifetime?.value ?? DEFAULT_MIN_TOKEN_LIFETIME,
    ferry,
    htgettokenopts: htgettokenopts?.value,
    serviceCreddVaultTokenPathRoot: serviceCreddVaultTokenPathRoot?.value ?? '',
  };
  return {
    global,
    locations: {
      emailFrom,
      smtpHost,
      smtpPort,
      adminEmails: notifications.admin,
      testAdminEmails: notificationsTest.admin,
      disableNotifications,
      emailPos: email?.pos ?? root.pos,
      notificationsPos: notifications.pos ?? root.pos,
    },
  };
}

/**
 * V12/V13: mail settings needed for admin notifications. Always warnings (product decision 2): the
 * original started anyway, tried to send and failed, and the run itself was unaffected. Stakeholder
 * addresses are checked per service.
 */
export function checkMailSettings(
  findings: FindingCollector,
  locations: GlobalLocations,
  adminNotificationsEnabled: boolean,
  test: boolean,
): void {
  const cannotSend = 'notification e-mail cannot be sent (the original tried and failed)';
  const { emailFrom, smtpHost, smtpPort } = locations;
  if (emailFrom === undefined || emailFrom.value === '') {
    if (adminNotificationsEnabled)
      findings.warn(
        emailFrom?.pos ?? locations.emailPos,
        'email.from',
        `missing while notifications are enabled, so ${cannotSend} (write the sender address, e.g. managed-tokens@example.org)`,
      );
  } else if (!isEmailAddress(emailFrom.value)) {
    findings.warn(
      emailFrom.pos,
      emailFrom.path,
      `not an e-mail address, so ${cannotSend} (got ${JSON.stringify(emailFrom.value)}; write user@domain)`,
    );
  }
  if (smtpHost === undefined || smtpHost.value === '') {
    if (adminNotificationsEnabled)
      findings.warn(
        smtpHost?.pos ?? locations.emailPos,
        'email.smtpHost',
        `missing while notifications are enabled, so ${cannotSend} (write the SMTP server host name)`,
      );
  } else if (!isHostName(smtpHost.value)) {
    findings.warn(
      smtpHost.pos,
      smtpHost.path,
      `not a host name, so ${cannotSend} (got ${JSON.stringify(smtpHost.value)}; write e.g. smtp.example.org)`,
    );
  }
  if (smtpPort === undefined) {
    if (adminNotificationsEnabled)
      findings.warn(
        locations.emailPos,
        'email.smtpPort',
        `missing while notifications are enabled, so ${cannotSend} (write a port 1-65535, e.g. 25)`,
      );
  } else if (
    !(smtpPort.coerced === true && smtpPort.value === 0) &&
    (smtpPort.value < 1 || smtpPort.value > 65535)
  ) {
    findings.warn(
      smtpPort.pos,
      smtpPort.path,
      `out of range, so ${cannotSend} (got ${smtpPort.value}; write a port 1-65535)`,
    );
  }
  const admin = test ? locations.testAdminEmails : locations.adminEmails;
  const other = test ? locations.adminEmails : locations.testAdminEmails;
  for (const [list, used] of [
    [admin, true],
    [other, false],
  ] as const) {
    for (const address of list?.value ?? []) {
      if (!isEmailAddress(address))
        findings.warn(
          list?.pos ?? locations.notificationsPos,
          list?.path ?? 'notifications.admin_email',
          `not an e-mail address${used && adminNotificationsEnabled ? ', so the admin e-mail to it fails' : ''} (got ${JSON.stringify(address)}; write user@domain)`,
        );
    }
  }
  if (test && adminNotificationsEnabled && locations.testAdminEmails === undefined) {
    findings.warn(
      locations.notificationsPos,
      'notifications_test.admin_email',
      'missing while running with --test; no admin e-mail is sent',
    );
  }
}

export function joinKeytab(directory: string, account: string): string {
  return posix.normalize(posix.join(directory, `${account}.keytab`));
}
