import { readFileSync } from 'node:fs';
import { makeServiceName, parseServiceName, type ServiceName } from '../service/name.js';
import {
  defaultSearchDirs,
  discoverConfigFile,
  explicitConfigFile,
  type ConfigFileChoice,
} from './discovery.js';
import { FindingCollector, formatFinding } from './findings.js';
import { checkMailSettings, resolveGlobal } from './global.js';
import { parseConfigText, ParseError, type ParsedFile } from './parse.js';
import { readMap, type Scope } from './read.js';
import {
  prepareServiceDefaults,
  resolveService,
  scanExperiments,
  skippedServiceRouting,
  type ServiceEntry,
} from './services.js';
import { resolveRetries, resolveStoreConcurrency, resolveTimeouts } from './timeouts.js';
import {
  ConfigLoadError,
  type Finding,
  type LoadedConfig,
  type LoadOptions,
  type ServiceSelection,
  type ServiceSettings,
  type SkippedService,
} from './types.js';

export interface ConfigSource {
  readonly choice: ConfigFileChoice;
  readonly parsed: ParsedFile;
}

/** Finds, reads and parses the configuration file; throws ConfigLoadError with a one-line message. */
export function readConfigSource(
  options: Pick<LoadOptions, 'configFile' | 'env' | 'cwd' | 'searchDirs'>,
): ConfigSource {
  const choice =
    options.configFile !== undefined && options.configFile !== ''
      ? explicitConfigFile(options.configFile, options.cwd)
      : discoverConfigFile(options.searchDirs ?? defaultSearchDirs(options.env, options.cwd));
  let text: string;
  try {
    text = readFileSync(choice.path, 'utf8');
  } catch (error) {
    throw new ConfigLoadError(`${choice.path}: cannot read: ${(error as Error).message}`);
  }
  try {
    return { choice, parsed: parseConfigText(text, choice.path, choice.format) };
  } catch (error) {
    if (error instanceof ParseError) throw new ConfigLoadError(error.message);
    throw error;
  }
}

/** Every configured service name (`K_R`), sorted; what `--list-services` prints. Needs no validation. */
export function listServices(source: ConfigSource | LoadedConfig): string[] {
  if ('global' in source) return [...source.allServices].map((name) => name.configName).sort();
  const scan = scanExperiments(new FindingCollector(), source.parsed.root, false);
  return scan.entries.map((entry) => entry.name.configName).sort();
}

/**
 * Service selection (config.md 1.5): `-e` (all roles of that experiment) beats `-s` (one service, parsed
 * with the `(.+)_([[:alnum:]]+)` rule, no underscore → role Analysis); neither → everything. Names are
 * lower-cased like the keys they are matched against.
 */
export function selectServiceNames(
  all: readonly ServiceName[],
  selection: ServiceSelection | undefined,
): { selected: ServiceName[]; unknown?: string } {
  const experiment = selection?.experiment?.toLowerCase() ?? '';
  if (experiment !== '') {
    const selected = all.filter((name) => name.configExperiment === experiment);
    return selected.length === 0
      ? { selected, unknown: `experiment ${JSON.stringify(selection?.experiment)}` }
      : { selected };
  }
  const service = selection?.service ?? '';
  if (service !== '') {
    const parsed = parseServiceName(service);
    const wanted = makeServiceName(parsed.experiment.toLowerCase(), parsed.role.toLowerCase());
    const selected = all.filter((name) => name.configName === wanted.configName);
    return selected.length === 0
      ? { selected, unknown: `service ${JSON.stringify(service)} (${wanted.configName})` }
      : { selected };
  }
  return { selected: [...all] };
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.severity}\u0000${finding.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Loads the file and validates it for one executable (or both, for check-config). Throws ConfigLoadError
 * when the file cannot be found or parsed. Error-global findings must make the caller exit 1;
 * error-service findings have already removed that service from `services`.
 */
export function loadAndValidate(options: LoadOptions): LoadedConfig {
  const source = readConfigSource(options);
  return validateSource(source, options);
}

export function validateSource(source: ConfigSource, options: LoadOptions): LoadedConfig {
  const target = options.executable ?? 'both';
  const flags = options.flags ?? {};
  const findings = new FindingCollector();
  const { root, duplicates } = source.parsed;
  const format = source.choice.format;
  for (const duplicate of duplicates) {
    const path =
      duplicate.parentPath === ''
        ? duplicate.rawKey
        : `${duplicate.parentPath}.${duplicate.rawKey}`;
    // JSON: the original's parser let the last value win; YAML duplicates made it fail to start, and
    // keys differing only in case left it unspecified which value survived (V2, Q39).
    if (format === 'json' && duplicate.rawKey === duplicate.firstRawKey)
      findings.warn(
        duplicate.pos,
        path,
        `duplicate key, this later value is used as the original did (first given at line ${duplicate.firstPos.line}); keep only one`,
      );
    else
      findings.error(
        duplicate.pos,
        path,
        `duplicate key (keys are case-insensitive; first given as ${JSON.stringify(duplicate.firstRawKey)} at line ${duplicate.firstPos.line}; expected each key once per mapping)`,
      );
  }
  if (source.choice.shadowed.length > 0) {
    findings.warn(
      root.pos,
      '(file)',
      `also present and ignored: ${source.choice.shadowed.join(', ')}`,
    );
  }
  const { global, locations } = resolveGlobal(
    findings,
    root,
    options.env,
    target,
    flags,
    format,
    options.purpose ?? 'run',
  );
  const scope: Scope = { findings, severity: 'error-global' };
  const { timeouts } = resolveTimeouts(
    findings,
    readMap(scope, root, '', 'timeouts'),
    target,
    root.pos,
  );
  const tokenPush = target !== 'refresh-uids-from-ferry';
  const workerType = readMap(scope, root, '', 'workerType');
  const retries = tokenPush
    ? resolveRetries(findings, workerType, timeouts)
    : resolveRetries(new FindingCollector(), workerType, timeouts);
  const storeConcurrency = resolveStoreConcurrency(
    tokenPush ? findings : new FindingCollector(),
    workerType,
  );
  const scan = scanExperiments(findings, root, tokenPush);
  const allServices = scan.entries.map((entry) => entry.name);

  const services: ServiceSettings[] = [];
  const skippedServices: SkippedService[] = [];
  let selectedNames = new Set<string>();
  if (tokenPush) {
    const { selected, unknown } = selectServiceNames(allServices, options.selection);
    selectedNames = new Set(selected.map((name) => name.configName));
    if (unknown !== undefined)
      findings.warn(
        root.pos,
        'experiments',
        `selected ${unknown} is not configured; nothing to do for it`,
      );
    const defaults = prepareServiceDefaults(findings, root, global, options.env, format);
    const entries: ServiceEntry[] =
      options.selection === undefined
        ? scan.entries
        : scan.entries.filter((entry) => selectedNames.has(entry.name.configName));
    for (const entry of entries) {
      const start = findings.list.length;
      const settings = resolveService(findings, defaults, entry);
      if (settings !== undefined) services.push(settings);
      else
        skippedServices.push({
          name: entry.name,
          ...skippedServiceRouting(defaults, entry),
          findings: findings.list
            .slice(start)
            .filter((finding) => finding.severity === 'error-service'),
        });
    }
    services.sort((a, b) => a.name.configName.localeCompare(b.name.configName));
  }

  const adminNotificationsEnabled =
    flags.notificationsDisabled !== true &&
    (!global.disableNotifications ||
      (tokenPush &&
        services.some(
          (service) => service.notificationsOverridden && !service.notificationsDisabled,
        )));
  checkMailSettings(findings, locations, adminNotificationsEnabled, flags.test === true);

  const relevant =
    options.selection === undefined
      ? findings.list
      : findings.list.filter(
          (finding) => finding.service === undefined || selectedNames.has(finding.service),
        );
  const all = dedupe(relevant).sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
  return {
    file: source.choice.path,
    format: source.choice.format,
    executable: target,
    global,
    timeouts,
    retries,
    storeConcurrency,
    services,
    skippedServices,
    allServices,
    accounts: scan.accounts,
    findings: all,
    hasGlobalErrors: all.some((finding) => finding.severity === 'error-global'),
  };
}

export interface CheckConfigOptions {
  readonly configFile?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly searchDirs?: readonly string[] | undefined;
  readonly executable?: 'token-push' | 'refresh-uids-from-ferry' | 'both' | undefined;
}

const SEVERITY_LABEL = {
  'error-global': 'error',
  'error-service': 'error (service skipped)',
  warning: 'warning',
} as const;

/** Lines for `managed-tokens check-config`: one per finding, then a summary when nothing is wrong. */
export function formatFindingLine(finding: Finding): string {
  const label = SEVERITY_LABEL[finding.severity];
  const service =
    finding.severity === 'error-service' && finding.service !== undefined
      ? ` [${finding.service}]`
      : '';
  return `${formatFinding(finding.pos, finding.keyPath, `${label}${service}: ${finding.message}`)}`;
}

export function checkConfig(options: CheckConfigOptions): { exitCode: 0 | 1; lines: string[] } {
  let loaded: LoadedConfig;
  try {
    loaded = loadAndValidate({
      ...options,
      executable: options.executable ?? 'both',
      purpose: 'check',
    });
  } catch (error) {
    if (error instanceof ConfigLoadError) return { exitCode: 1, lines: [error.message] };
    throw error;
  }
  const lines = loaded.findings.map(formatFindingLine);
  const errors = loaded.findings.filter((finding) => finding.severity !== 'warning').length;
  const warnings = loaded.findings.length - errors;
  if (errors > 0) {
    lines.push(
      `${loaded.file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
    );
    return { exitCode: 1, lines };
  }
  const nodes = new Set(loaded.services.flatMap((service) => service.nodes));
  const serviceCount =
    loaded.executable === 'refresh-uids-from-ferry'
      ? loaded.allServices.length
      : loaded.services.length;
  lines.push(
    `${loaded.file}: OK: ${serviceCount} service${serviceCount === 1 ? '' : 's'}, ${nodes.size} distinct node${nodes.size === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  return { exitCode: 0, lines };
}
