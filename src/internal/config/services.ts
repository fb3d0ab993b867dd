import { isAbsolute } from 'node:path';
import { makeServiceName, type ServiceName } from '../service/name.js';
import {
  EXPERIMENT_KEY,
  ROLE_KEY,
  isEmailAddress,
  isHostName,
  isHostPort,
  isUnixUserName,
  parseAbsoluteUrl,
} from './checks.js';
import { FindingCollector } from './findings.js';
import { joinKeytab } from './global.js';
import type { CMap } from './parse.js';
import {
  entryOf,
  joinPath,
  originalInt,
  readBool,
  readMap,
  readString,
  readStringList,
  report,
  warnUnknownKeys,
  type Located,
  type Scope,
} from './read.js';
import { splitShellWords } from './shellwords.js';
import {
  compileTemplate,
  DEFAULT_ROLE_FILE_TEMPLATE,
  PRINCIPAL_TEMPLATE_FIELDS,
  ROLE_FILE_TEMPLATE_FIELDS,
  TemplateError,
} from './template.js';
import type {
  CompiledTemplate,
  GlobalSettings,
  ServiceSettings,
  SourcePos,
  TokenGetter,
  VaultServerSource,
} from './types.js';

export const ROLE_KEYS = [
  'account',
  'destinationNodes',
  'desiredUIDOverride',
  'userPrincipalOverride',
  'keytabPathOverride',
  'kerberosPrincipalPatternOverride',
  'condorCollectorHostOverride',
  'condorCreddHostOverride',
  'condorScheddConstraintOverride',
  'vaultServerOverride',
  'serviceCreddVaultTokenPathRootOverride',
  'fileCopierOptionsOverride',
  'pingOptionsOverride',
  'sshOptionsOverride',
  'defaultRoleFileDestinationTemplateOverride',
  'disableNotificationsOverride',
  'tokenGetterOverride',
] as const;
const EXPERIMENT_KEYS = ['emails', 'experimentOverride', 'roles'] as const;
export const VAULT_SERVER_ENV = '_condor_SEC_CREDENTIAL_GETTOKEN_OPTS';

/** One config entry `experiments.K.roles.R`, before resolution. */
export interface ServiceEntry {
  readonly name: ServiceName;
  readonly role: CMap;
  readonly path: string;
  readonly pos: SourcePos;
  readonly emails: Located<string[]> | undefined;
  /** experiment-level problems that make every role of it unusable (error-service for each role) */
  readonly experimentProblems: readonly ExperimentProblem[];
}

export interface ExperimentProblem {
  readonly pos: SourcePos;
  readonly path: string;
  readonly message: string;
}

export interface ExperimentsScan {
  readonly entries: ServiceEntry[];
  /** every account of every role, file order, duplicates and empties kept (FERRY usernames) */
  readonly accounts: string[];
}

/** Enumerates experiments and roles, checking names (V5-V9, V35) and collecting accounts. */
export function scanExperiments(
  findings: FindingCollector,
  root: CMap,
  checkRoles: boolean,
): ExperimentsScan {
  const scope: Scope = { findings, severity: 'error-global' };
  const experiments = readMap(scope, root, '', 'experiments');
  const entries: ServiceEntry[] = [];
  const accounts: string[] = [];
  if (experiments === undefined || experiments.value.entries.size === 0) {
    findings.error(
      experiments?.pos ?? root.pos,
      experiments?.path ?? 'experiments',
      'no services configured (expected experiments.<experiment>.roles.<role> entries)',
    );
    return { entries, accounts };
  }
  for (const [experimentKey, experimentEntry] of experiments.value.entries) {
    const experimentPath = joinPath(experiments.path, experimentEntry.rawKey);
    const problems: ExperimentProblem[] = [];
    if (!EXPERIMENT_KEY.test(experimentKey)) {
      problems.push({
        pos: experimentEntry.keyPos,
        path: experimentPath,
        message: `invalid experiment name, its services are skipped (got ${JSON.stringify(experimentEntry.rawKey)}; expected letters, digits, "-" and "_", starting with a letter or digit)`,
      });
    }
    if (experimentEntry.value.kind !== 'map') {
      findings.warn(
        experimentEntry.value.pos,
        experimentPath,
        'not a mapping; this experiment contributes no services',
      );
      continue;
    }
    const experiment = experimentEntry.value;
    warnUnknownKeys(scope, experiment, experimentPath, EXPERIMENT_KEYS, (lower) =>
      ROLE_KEYS.some((key) => key.toLowerCase() === lower) || lower.endsWith('override')
        ? 'not read at experiment level; move it under each role (experiments.<exp>.roles.<role>)'
        : undefined,
    );
    const override = readString(scope, experiment, experimentPath, 'experimentOverride');
    if (override !== undefined && override.value !== '') {
      if (!EXPERIMENT_KEY.test(override.value)) {
        problems.push({
          pos: override.pos,
          path: override.path,
          message: `invalid experiment name, its services are skipped (got ${JSON.stringify(override.value)}; expected letters, digits, "-" and "_")`,
        });
      } else if (override.value === experimentKey) {
        findings.warn(
          override.pos,
          override.path,
          'equal to its own experiment key; has no effect',
        );
      }
    }
    // Service-level errors are reported by token-push's resolution; refresh only collects accounts.
    if (!checkRoles)
      for (const problem of problems) findings.warn(problem.pos, problem.path, problem.message);
    const emails = readStringList(scope, experiment, experimentPath, 'emails');
    const roles = entryOf(experiment, 'roles');
    if (roles === undefined || roles.value.kind !== 'map' || roles.value.entries.size === 0) {
      findings.warn(
        roles?.value.pos ?? experimentEntry.keyPos,
        joinPath(experimentPath, roles?.rawKey ?? 'roles'),
        'missing, empty or not a mapping; this experiment contributes no services',
      );
      continue;
    }
    for (const [roleKey, roleEntry] of roles.value.entries) {
      const rolePath = joinPath(joinPath(experimentPath, roles.rawKey), roleEntry.rawKey);
      const name = makeServiceName(experimentKey, roleKey, override?.value);
      if (roleEntry.value.kind !== 'map') {
        findings.add(
          'error-service',
          roleEntry.value.pos,
          rolePath,
          'wrong type (expected a mapping with account, destinationNodes, ...)',
          name.configName,
        );
        entries.push({
          name,
          role: { kind: 'map', entries: new Map(), pos: roleEntry.value.pos },
          path: rolePath,
          pos: roleEntry.keyPos,
          emails,
          experimentProblems: problems,
        });
        continue;
      }
      const account = roleEntry.value.entries.get('account');
      accounts.push(
        account !== undefined && account.value.kind === 'scalar' && account.value.value !== null
          ? String(account.value.value)
          : '',
      );
      if (checkRoles && !ROLE_KEY.test(roleKey)) {
        findings.add(
          'error-service',
          roleEntry.keyPos,
          rolePath,
          `invalid role name (got ${JSON.stringify(roleEntry.rawKey)}; expected letters and digits only)`,
          name.configName,
        );
      }
      entries.push({
        name,
        role: roleEntry.value,
        path: rolePath,
        pos: roleEntry.keyPos,
        emails,
        experimentProblems: problems,
      });
    }
  }
  return { entries, accounts };
}

/** Global keys that feed per-service values, compiled/split once. */
export interface ServiceDefaults {
  readonly root: CMap;
  readonly global: GlobalSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly principalPattern:
    | {
        located: Located<string>;
        template: CompiledTemplate | undefined;
        /** Set when the global pattern cannot be used: the services inheriting it are skipped. */
        problem: InheritedProblem | undefined;
      }
    | undefined;
  /** Global pingOptions/sshOptions/fileCopierOptions that cannot be split (services inheriting them are skipped). */
  readonly optionProblems: Partial<Record<Splittable, InheritedProblem>>;
  readonly roleFileTemplate: CompiledTemplate | undefined;
  readonly envVaultServer: string | undefined;
  readonly numbersAreFloats: boolean;
}

type Splittable = 'pingOptions' | 'sshOptions' | 'fileCopierOptions';

/** A global value that is unusable; an error only for the services that inherit it. */
interface InheritedProblem {
  readonly pos: SourcePos;
  readonly path: string;
  readonly message: string;
}

/**
 * Runs a check of a global key that services inherit. Its errors do not stop the whole run (the
 * original ran every service with an override): they are returned, and reported here as one
 * warning; each inheriting service then fails with them. Warnings pass through unchanged.
 */
function inheritedCheck<T>(
  findings: FindingCollector,
  check: (scope: Scope) => T,
): { result: T; problem: InheritedProblem | undefined } {
  const local = new FindingCollector();
  const result = check({ findings: local, severity: 'error-global' });
  let problem: InheritedProblem | undefined;
  for (const finding of local.list) {
    if (finding.severity === 'warning') {
      findings.warn(finding.pos, finding.keyPath, finding.message);
      continue;
    }
    problem ??= { pos: finding.pos, path: finding.keyPath, message: finding.message };
    findings.warn(
      finding.pos,
      finding.keyPath,
      `${finding.message}; every service without its own override is skipped`,
    );
  }
  return { result, problem };
}

/** Parses `-a X`, `-aX`, `-a=X`, `--vaultserver X`, `--vaultserver=X`; the last occurrence wins. */
export function parseVaultServerOption(text: string): {
  vaultServer: string | undefined;
  error?: string;
} {
  const split = splitShellWords(text);
  if (!split.ok) return { vaultServer: undefined, error: split.error };
  let found: string | undefined;
  const words = split.words;
  for (let index = 0; index < words.length; index++) {
    const word = words[index] ?? '';
    if (word === '-a' || word === '--vaultserver') {
      const next = words[index + 1];
      if (next !== undefined) {
        found = next;
        index++;
      }
    } else if (word.startsWith('--vaultserver=')) found = word.slice('--vaultserver='.length);
    else if (word.startsWith('-a=')) found = word.slice(3);
    else if (word.startsWith('-a') && word.length > 2 && !word.startsWith('--'))
      found = word.slice(2);
  }
  return { vaultServer: found };
}

function compileAt(
  scope: Scope,
  located: Located<string>,
  allowed: readonly string[],
): CompiledTemplate | undefined {
  try {
    return compileTemplate(located.value, allowed);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    report(scope, located.pos, located.path, error.message);
    return undefined;
  }
}

/** Global defaults that are compiled or checked once for all services (V20, V21, V26 at top level). */
export function prepareServiceDefaults(
  findings: FindingCollector,
  root: CMap,
  global: GlobalSettings,
  env: Readonly<Record<string, string | undefined>>,
  format: 'json' | 'yaml' = 'yaml',
): ServiceDefaults {
  const scope: Scope = { findings, severity: 'error-global' };
  const pattern = readString(scope, root, '', 'kerberosPrincipalPattern');
  let principalPattern: ServiceDefaults['principalPattern'];
  if (pattern !== undefined) {
    const compiled = inheritedCheck(findings, (inner) =>
      compileAt(inner, pattern, PRINCIPAL_TEMPLATE_FIELDS),
    );
    principalPattern = { located: pattern, template: compiled.result, problem: compiled.problem };
  }
  if (
    principalPattern?.template !== undefined &&
    !principalPattern.template.fields.includes('Account')
  ) {
    findings.warn(
      pattern!.pos,
      pattern!.path,
      'has no {{.Account}}, so every service gets the same principal',
    );
  }
  const roleTemplate = readString(scope, root, '', 'defaultRoleFileDestinationTemplate');
  let roleFileTemplate: CompiledTemplate | undefined = compileTemplate(
    DEFAULT_ROLE_FILE_TEMPLATE,
    ROLE_FILE_TEMPLATE_FIELDS,
  );
  if (roleTemplate !== undefined) {
    roleFileTemplate =
      roleTemplate.value === ''
        ? undefined
        : compileAt(scope, roleTemplate, ROLE_FILE_TEMPLATE_FIELDS);
    if (roleTemplate.value === '')
      findings.error(
        roleTemplate.pos,
        roleTemplate.path,
        'empty (expected a remote path such as /tmp/default_role_{{.Experiment}}_{{.DesiredUID}})',
      );
  }
  const optionProblems: Partial<Record<Splittable, InheritedProblem>> = {};
  for (const key of ['pingOptions', 'sshOptions', 'fileCopierOptions'] as const) {
    const located = readString(scope, root, '', key);
    if (located === undefined) continue;
    const { problem } = inheritedCheck(findings, (inner) => checkShellWords(inner, located, key));
    if (problem !== undefined) optionProblems[key] = problem;
  }
  if (entryOf(root, 'fileCopierOptions') === undefined) {
    findings.warn(
      root.pos,
      'fileCopierOptions',
      'not set, so rsync gets no options unless a role sets fileCopierOptionsOverride (the original never applied "--perms --chmod=u=r,go=" either)',
    );
  }
  // condorCollectorHost and condorCreddHost are checked per store-mode service that uses them: a bad
  // host fails those services (as in the original), not the whole run.
  readString(scope, root, '', 'condorCollectorHost');
  readString(scope, root, '', 'condorCreddHost');
  const vault = readString(scope, root, '', 'vaultServer');
  if (vault !== undefined) checkVaultServer(scope, vault);
  const keytab = readString(scope, root, '', 'keytabPath');
  if (keytab !== undefined && keytab.value !== '' && !isAbsolute(keytab.value)) {
    findings.warn(
      keytab.pos,
      keytab.path,
      `relative path, resolved against the working directory (got ${JSON.stringify(keytab.value)}; expected an absolute directory)`,
    );
  }
  // V4-like for the vault-server environment variable (Q18 fix: warn and fall through).
  let envVaultServer: string | undefined;
  const envOpts = env[VAULT_SERVER_ENV];
  if (envOpts !== undefined && envOpts !== '') {
    const parsed = parseVaultServerOption(envOpts);
    if (parsed.vaultServer === undefined || parsed.vaultServer === '') {
      findings.warn(
        root.pos,
        `$${VAULT_SERVER_ENV}`,
        `has no -a/--vaultserver value${parsed.error === undefined ? '' : ` (${parsed.error})`}; the configured vault server is used instead (got ${JSON.stringify(envOpts)}; expected e.g. "-a vault.example.org")`,
      );
    } else envVaultServer = parsed.vaultServer;
  }
  return {
    root,
    global,
    env,
    principalPattern,
    optionProblems,
    roleFileTemplate,
    envVaultServer,
    numbersAreFloats: format === 'json',
  };
}

function checkShellWords(
  scope: Scope,
  located: Located<string>,
  key: Splittable | `${Splittable}Override`,
): string[] {
  const split = splitShellWords(located.value);
  if (!split.ok) {
    report(
      scope,
      located.pos,
      located.path,
      `cannot be split into words: ${split.error} (got ${JSON.stringify(located.value)}; expected shell-quoted words)`,
    );
    return split.words;
  }
  for (const word of split.words) {
    if (/[\s'"\\]/.test(word)) {
      report(
        scope,
        located.pos,
        located.path,
        `word ${JSON.stringify(word)} contains whitespace or quotes; the original split it again into several arguments`,
        'warning',
      );
    }
  }
  if (key.startsWith('sshOptions')) {
    split.words.forEach((word, index) => {
      if (word === '-o' || word.includes('=')) return;
      if (split.words[index - 1] === '-o') return;
      report(
        scope,
        located.pos,
        located.path,
        `word ${JSON.stringify(word)} is not a Key=Value option and is dropped (expected e.g. "-o ConnectTimeout=30")`,
        'warning',
      );
    });
  }
  return split.words;
}

function checkCollectors(scope: Scope, located: Located<string>): string[] {
  const hosts = splitCollectors(located.value);
  for (const host of hosts) {
    if (!isHostPort(host))
      report(
        scope,
        located.pos,
        located.path,
        `not a host[:port] (got ${JSON.stringify(host)}; expected e.g. collector.example.org:9618)`,
      );
  }
  return hosts;
}

export function splitCollectors(value: string): string[] {
  return value
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host !== '');
}

function checkVaultServer(scope: Scope, located: Located<string>): void {
  if (located.coerced === true) return;
  if (located.value === '') {
    report(
      scope,
      located.pos,
      located.path,
      'empty; htgettoken and condor_vault_storer will get no vault server (expected e.g. vault.example.org)',
      'warning',
    );
    return;
  }
  if (isHostPort(located.value) || parseAbsoluteUrl(located.value) !== undefined) return;
  report(
    scope,
    located.pos,
    located.path,
    `not a host name or URL (got ${JSON.stringify(located.value)}; expected e.g. vault.example.org)`,
    'warning',
  );
}

export function credkeyOf(principal: string): string {
  return principal.split('@FNAL.GOV').join('');
}

/** HTGETTOKENOPTS of one token-push service (token-push.md 3.5.2; only the environment, Q22). */
export function htgettokenOptsFor(
  envValue: string | undefined,
  minTokenLifetime: string,
  credkey: string,
): string {
  if (envValue !== undefined && envValue !== '') {
    return envValue.includes(credkey) ? envValue : `${envValue} --credkey=${credkey}`;
  }
  return `--vaulttokenminttl=${minTokenLifetime} --credkey=${credkey}`;
}

/**
 * Resolves one service (token-push.md 3.5 without the run-time parts: UID from the DB, condor
 * queries). Every problem is reported as an error-service finding; undefined when the service cannot run.
 */
export function resolveService(
  findings: FindingCollector,
  defaults: ServiceDefaults,
  entry: ServiceEntry,
): ServiceSettings | undefined {
  const firstFinding = findings.list.length;
  const scope: Scope = {
    findings,
    severity: 'error-service',
    service: entry.name.configName,
    numbersAreFloats: defaults.numbersAreFloats,
  };
  const { root, global } = defaults;
  const role = entry.role;
  const path = entry.path;
  const fail = (pos: SourcePos, keyPath: string, message: string): void =>
    report(scope, pos, keyPath, message);
  for (const problem of entry.experimentProblems) fail(problem.pos, problem.path, problem.message);
  warnUnknownKeys(scope, role, path, ROLE_KEYS);

  // Override if set (even empty), else the global key.
  const overridable = (key: string): Located<string> | undefined =>
    entryOf(role, `${key}Override`) !== undefined
      ? readString(scope, role, path, `${key}Override`)
      : readString({ ...scope, findings: silent }, root, '', key);

  const account = readString(scope, role, path, 'account');
  if (account === undefined || account.value === '')
    fail(
      account?.pos ?? entry.pos,
      account?.path ?? joinPath(path, 'account'),
      'missing (expected the Unix account on the destination nodes, e.g. dunepro)',
    );
  else if (!isUnixUserName(account.value))
    fail(
      account.pos,
      account.path,
      `not a Unix user name (got ${JSON.stringify(account.value)}; expected e.g. dunepro)`,
    );
  const accountName = account?.value ?? '';

  const nodes = readStringList(scope, role, path, 'destinationNodes');
  if (nodes === undefined || nodes.value.length === 0) {
    fail(
      nodes?.pos ?? entry.pos,
      nodes?.path ?? joinPath(path, 'destinationNodes'),
      'missing or empty; nothing would be pushed (expected a list of host names)',
    );
  } else {
    const seen = new Set<string>();
    for (const node of nodes.value) {
      if (!isHostName(node))
        fail(
          nodes.pos,
          nodes.path,
          `not a host name (got ${JSON.stringify(node)}; expected e.g. node01.example.org)`,
        );
      if (seen.has(node))
        report(scope, nodes.pos, nodes.path, `duplicate node ${JSON.stringify(node)}`, 'warning');
      seen.add(node);
    }
  }

  if (entry.emails === undefined || entry.emails.value.length === 0) {
    report(
      scope,
      entry.emails?.pos ?? entry.pos,
      `${path.split('.roles.')[0] ?? path}.emails`,
      "empty; no stakeholder notifications: this service's errors reach the admins only",
      'warning',
    );
  } else {
    for (const address of entry.emails.value) {
      if (!isEmailAddress(address))
        report(
          scope,
          entry.emails.pos,
          entry.emails.path,
          `not an e-mail address (got ${JSON.stringify(address)}; expected user@domain)`,
          'warning',
        );
    }
  }

  const desiredUIDOverride = readDesiredUID(scope, role, path);

  // User principal (3.5.1, Q11: no HTML escaping).
  let userPrincipal = '';
  const principalOverride = readString(scope, role, path, 'userPrincipalOverride');
  if (principalOverride !== undefined) {
    userPrincipal = principalOverride.value;
    if (userPrincipal === '')
      fail(principalOverride.pos, principalOverride.path, 'empty (expected a Kerberos principal)');
  } else {
    const patternOverride = readString(scope, role, path, 'kerberosPrincipalPatternOverride');
    let template: CompiledTemplate | undefined;
    if (patternOverride !== undefined) {
      template = compileAt(scope, patternOverride, PRINCIPAL_TEMPLATE_FIELDS);
      if (template !== undefined && !template.fields.includes('Account'))
        report(scope, patternOverride.pos, patternOverride.path, 'has no {{.Account}}', 'warning');
    } else template = defaults.principalPattern?.template;
    const inheritedProblem =
      patternOverride === undefined ? defaults.principalPattern?.problem : undefined;
    if (inheritedProblem !== undefined) {
      fail(
        inheritedProblem.pos,
        inheritedProblem.path,
        `${inheritedProblem.message}; this service inherits it (set kerberosPrincipalPatternOverride or userPrincipalOverride, or fix the global value)`,
      );
    } else if (patternOverride === undefined && defaults.principalPattern === undefined) {
      fail(
        entry.pos,
        joinPath(path, 'userPrincipalOverride'),
        'no Kerberos principal: set userPrincipalOverride here or kerberosPrincipalPattern(Override)',
      );
    } else if (template !== undefined) {
      userPrincipal = template.render({ Account: accountName });
      if (userPrincipal === '')
        fail(
          patternOverride?.pos ?? defaults.principalPattern!.located.pos,
          patternOverride?.path ?? 'kerberosPrincipalPattern',
          'renders an empty principal',
        );
    }
  }
  const credkey = credkeyOf(userPrincipal);

  // Keytab (V19, Q13).
  let keytabPath = '';
  const keytabOverride = readString(scope, role, path, 'keytabPathOverride');
  if (keytabOverride !== undefined) {
    keytabPath = keytabOverride.value;
    if (keytabPath === '')
      fail(
        keytabOverride.pos,
        keytabOverride.path,
        'empty (expected the full path of the keytab file)',
      );
    else if (!isAbsolute(keytabPath))
      report(
        scope,
        keytabOverride.pos,
        keytabOverride.path,
        `relative path (got ${JSON.stringify(keytabPath)}; expected an absolute file path)`,
        'warning',
      );
  } else {
    const keytabDir = readString({ ...scope, findings: silent }, root, '', 'keytabPath');
    keytabPath = joinKeytab(keytabDir?.value ?? '', accountName);
    if (keytabDir === undefined || keytabDir.value === '')
      report(
        scope,
        entry.pos,
        joinPath(path, 'keytabPathOverride'),
        `no keytab configured, so the relative path ${JSON.stringify(keytabPath)} is used, resolved against the working directory, as the original did (write keytabPath (a directory) or keytabPathOverride here (a file))`,
        'warning',
      );
  }

  // Vault server (3.5.3 with the Q18 fix).
  let vaultServer: VaultServerSource = { kind: 'askCondor' };
  const vaultOverride = readString(scope, role, path, 'vaultServerOverride');
  if (vaultOverride !== undefined) checkVaultServer(scope, vaultOverride);
  const vaultGlobal = readString({ ...scope, findings: silent }, root, '', 'vaultServer');
  if (defaults.envVaultServer !== undefined)
    vaultServer = { kind: 'env', value: defaults.envVaultServer };
  else if (vaultOverride !== undefined)
    vaultServer = { kind: 'override', value: vaultOverride.value };
  else if (vaultGlobal !== undefined) vaultServer = { kind: 'global', value: vaultGlobal.value };

  // Token getter (V25).
  let tokenGetter: TokenGetter = 'storeAndGetToken';
  const getter = readString(scope, role, path, 'tokenGetterOverride');
  if (getter !== undefined) {
    if (getter.value === 'getToken' || getter.value === 'storeAndGetToken')
      tokenGetter = getter.value;
    else
      report(
        scope,
        getter.pos,
        getter.path,
        `unknown token getter, so storeAndGetToken is used, as the original did (got ${JSON.stringify(getter.value)}; write "getToken" or "storeAndGetToken", case-sensitive)`,
        'warning',
      );
  }

  // Collectors and credd (V22, V23).
  const collectorOverride = readString(scope, role, path, 'condorCollectorHostOverride');
  const collectorSource =
    collectorOverride ??
    readString({ ...scope, findings: silent }, root, '', 'condorCollectorHost');
  // The global value is only checked where it is used: an override, or a store-mode service.
  const checkCollectorSource =
    collectorOverride !== undefined || tokenGetter === 'storeAndGetToken';
  const collectorHosts =
    collectorSource !== undefined && checkCollectorSource
      ? checkCollectors(scope, collectorSource)
      : splitCollectors(collectorSource?.value ?? '');
  if (tokenGetter === 'storeAndGetToken' && collectorHosts.length === 0) {
    fail(
      collectorSource?.pos ?? entry.pos,
      collectorSource?.path ?? joinPath(path, 'condorCollectorHostOverride'),
      'no collector hosts (set condorCollectorHost or condorCollectorHostOverride; needed to store vault tokens)',
    );
  }
  let creddHost: string | undefined;
  const creddOverride = readString(scope, role, path, 'condorCreddHostOverride');
  if (creddOverride !== undefined) {
    if (creddOverride.value === '')
      report(
        scope,
        creddOverride.pos,
        creddOverride.path,
        'empty; the collectors are queried for schedds',
        'warning',
      );
    else if (!isHostPort(creddOverride.value))
      fail(
        creddOverride.pos,
        creddOverride.path,
        `not a host name (got ${JSON.stringify(creddOverride.value)}; expected e.g. credd01.example.org)`,
      );
    else creddHost = creddOverride.value;
  } else {
    const creddGlobal = readString({ ...scope, findings: silent }, root, '', 'condorCreddHost');
    if (creddGlobal !== undefined && creddGlobal.value !== '') {
      if (tokenGetter === 'storeAndGetToken' && !isHostPort(creddGlobal.value))
        fail(
          creddGlobal.pos,
          creddGlobal.path,
          `not a host name, so this service is skipped (got ${JSON.stringify(creddGlobal.value)}; expected e.g. credd01.example.org)`,
        );
      else creddHost = creddGlobal.value;
    }
  }
  const constraint = overridable('condorScheddConstraint');
  const scheddConstraint =
    constraint === undefined || constraint.value === '' ? undefined : constraint.value;

  const tokenRoot = overridable('serviceCreddVaultTokenPathRoot');

  // Shell words (V26); global values were checked once in prepareServiceDefaults.
  const words = (key: Splittable): string[] => {
    const override = readString(scope, role, path, `${key}Override`);
    if (override !== undefined) return checkShellWords(scope, override, `${key}Override`);
    const problem = defaults.optionProblems[key];
    if (problem !== undefined) {
      fail(
        problem.pos,
        problem.path,
        `${problem.message}; this service inherits it (set ${key}Override or fix the global value)`,
      );
      return [];
    }
    const globalValue = readString({ ...scope, findings: silent }, root, '', key);
    return globalValue === undefined ? [] : splitShellWords(globalValue.value).words;
  };
  const fileCopierOptions = words('fileCopierOptions');
  const pingOptions = words('pingOptions');
  const sshOptions = words('sshOptions');

  // Role-file destination (V21).
  let roleFileDestination = defaults.roleFileTemplate;
  const templateOverride = readString(
    scope,
    role,
    path,
    'defaultRoleFileDestinationTemplateOverride',
  );
  if (templateOverride !== undefined) {
    roleFileDestination =
      templateOverride.value === ''
        ? undefined
        : compileAt(scope, templateOverride, ROLE_FILE_TEMPLATE_FIELDS);
    if (templateOverride.value === '')
      fail(
        templateOverride.pos,
        templateOverride.path,
        'empty (expected a remote path such as /tmp/default_role_{{.Experiment}}_{{.DesiredUID}})',
      );
  }

  const notificationsOverride = readBool(scope, role, path, 'disableNotificationsOverride');

  const failed = findings.list
    .slice(firstFinding)
    .some((finding) => finding.severity === 'error-service');
  if (failed || roleFileDestination === undefined) return undefined;
  return {
    name: entry.name,
    account: accountName,
    emails: entry.emails?.value ?? [],
    nodes: nodes?.value ?? [],
    desiredUIDOverride,
    userPrincipal,
    credkey,
    keytabPath,
    htgettokenOpts: htgettokenOptsFor(
      defaults.env['HTGETTOKENOPTS'],
      global.minTokenLifetime,
      credkey,
    ),
    vaultServer,
    collectorHosts,
    creddHost,
    scheddConstraint,
    serviceCreddVaultTokenPathRoot: tokenRoot?.value ?? '',
    fileCopierOptions,
    pingOptions,
    sshOptions,
    roleFileDestination,
    notificationsDisabled: notificationsOverride?.value ?? global.disableNotifications,
    notificationsOverridden: notificationsOverride !== undefined,
    tokenGetter,
  };
}

const MAX_UID = 4294967294;

/**
 * V18/Q12: a UID the original would have turned into 0 (or wrapped) is refused for this service,
 * since it would push to `/tmp/vt_u0`; a UID written in another type that the original read correctly
 * (`"12345"`, 12345.0) is used with a warning.
 */
function readDesiredUID(scope: Scope, role: CMap, path: string): number | undefined {
  const uidEntry = entryOf(role, 'desiredUIDOverride');
  if (uidEntry === undefined) return undefined;
  const node = uidEntry.value;
  const uidPath = joinPath(path, uidEntry.rawKey);
  const got = node.kind === 'scalar' ? JSON.stringify(node.value) : 'a collection';
  const strict =
    node.kind === 'scalar' && typeof node.value === 'number' && Number.isInteger(node.value);
  const uid = strict ? (node.value as number) : originalInt(node);
  if (uid === undefined || uid < 1 || uid > MAX_UID) {
    report(
      scope,
      node.pos,
      uidPath,
      `not a valid UID; the original would push to UID ${uid !== undefined && uid > MAX_UID ? uid % 2 ** 32 : 0} (got ${got}; expected an integer 1-${MAX_UID})`,
    );
    return undefined;
  }
  if (!strict)
    report(
      scope,
      node.pos,
      uidPath,
      `not an integer; read as ${uid} as the original did (got ${got}; write the UID without quotes)`,
      'warning',
    );
  return uid;
}

/** Swallows findings: for re-reading global keys that were already validated once. */
const silent = {
  add: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  list: [],
} as unknown as FindingCollector;

/**
 * Where notifications about a service the configuration refused go: its experiment's emails and the
 * same disable rule as a resolved service (the role's override if readable, else the global value).
 * Best effort: problems were already reported by resolveService.
 */
export function skippedServiceRouting(
  defaults: ServiceDefaults,
  entry: ServiceEntry,
): { emails: readonly string[]; notificationsDisabled: boolean } {
  const scope: Scope = {
    findings: silent,
    severity: 'warning',
    numbersAreFloats: defaults.numbersAreFloats,
  };
  const override = readBool(scope, entry.role, entry.path, 'disableNotificationsOverride');
  return {
    emails: entry.emails?.value ?? [],
    notificationsDisabled: override?.value ?? defaults.global.disableNotifications,
  };
}
