import { parseGoDuration, formatMs } from './duration.js';
import { didYouMean, type FindingCollector } from './findings.js';
import type { CMap } from './parse.js';
import { joinPath } from './read.js';
import {
  WORKER_TYPES,
  type RetryPolicies,
  type RetryPolicy,
  type SourcePos,
  type Timeouts,
  type ValidationTarget,
  type WorkerType,
} from './types.js';

type TimeoutName = 'global' | 'kerberos' | 'vaultstorer' | 'ping' | 'push' | 'ferryrequest' | 'db';
const FIELD: Readonly<Record<TimeoutName, keyof Timeouts>> = {
  global: 'globalMs',
  kerberos: 'kerberosMs',
  vaultstorer: 'vaultStorerMs',
  ping: 'pingMs',
  push: 'pushMs',
  ferryrequest: 'ferryRequestMs',
  db: 'dbMs',
};
export const DEFAULT_TIMEOUTS: Timeouts = {
  globalMs: 300_000,
  kerberosMs: 20_000,
  vaultStorerMs: 60_000,
  pingMs: 10_000,
  pushMs: 30_000,
  ferryRequestMs: 30_000,
  dbMs: 10_000,
};
const TIMEOUT_KEYS = [
  'globalTimeout',
  'kerberosTimeout',
  'vaultStorerTimeout',
  'pingTimeout',
  'pushTimeout',
  'ferryRequestTimeout',
  'dbTimeout',
] as const;

function unknownTimeoutMessage(rawKey: string): string {
  const suggestion = didYouMean(rawKey, TIMEOUT_KEYS);
  return suggestion === undefined
    ? `unknown timeout, ignored (known: ${TIMEOUT_KEYS.join(', ')})`
    : `unknown timeout, ignored; did you mean ${JSON.stringify(suggestion)}?`;
}

const TP_STAGES: readonly TimeoutName[] = ['kerberos', 'vaultstorer', 'ping', 'push'];
const RUF_STAGES: readonly TimeoutName[] = ['ferryrequest', 'db'];
const EXPECTED_DURATION = 'expected a Go duration such as "30s", "1m30s" or "250ms"';

const involvesTokenPush = (target: ValidationTarget): boolean =>
  target !== 'refresh-uids-from-ferry';
const involvesRefresh = (target: ValidationTarget): boolean => target !== 'token-push';

/**
 * `timeouts.*` (token-push.md 3.14, ferry-and-db.md 1.9): key lower-cased, one trailing `timeout`
 * stripped. Fixes: unparseable, zero or negative values and duplicate spellings are errors (Q6-Q8,
 * V15); besides the original sum rule each stage must fit the global timeout (V16).
 */
export function resolveTimeouts(
  findings: FindingCollector,
  timeoutsMap: { value: CMap; path: string; pos: SourcePos } | undefined,
  target: ValidationTarget,
  rootPos: SourcePos,
): { timeouts: Timeouts; positions: Partial<Record<TimeoutName, SourcePos>> } {
  const values: Record<keyof Timeouts, number> = { ...DEFAULT_TIMEOUTS };
  const positions: Partial<Record<TimeoutName, SourcePos>> = {};
  const paths: Partial<Record<TimeoutName, string>> = {};
  const base = timeoutsMap?.path ?? 'timeouts';
  for (const [lower, entry] of timeoutsMap?.value.entries ?? []) {
    const name = (
      lower.endsWith('timeout') ? lower.slice(0, -'timeout'.length) : lower
    ) as TimeoutName;
    const path = joinPath(base, entry.rawKey);
    if (!(name in FIELD)) {
      findings.warn(entry.keyPos, path, unknownTimeoutMessage(entry.rawKey));
      continue;
    }
    if (paths[name] !== undefined) {
      findings.error(entry.keyPos, path, `given twice (also as ${paths[name]}); keep one`);
      continue;
    }
    paths[name] = path;
    positions[name] = entry.value.pos;
    const node = entry.value;
    if (node.kind === 'scalar' && node.value === null) continue;
    const text = node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
    const ms = text === undefined ? undefined : parseGoDuration(text);
    if (ms === undefined) {
      const got =
        node.kind === 'scalar'
          ? JSON.stringify(node.value)
          : `a ${node.kind === 'seq' ? 'list' : 'mapping'}`;
      findings.error(node.pos, path, `not a Go duration (got ${got}; ${EXPECTED_DURATION})`);
      continue;
    }
    if (ms <= 0) {
      findings.error(
        node.pos,
        path,
        `must be greater than zero (got ${JSON.stringify(text)}; ${EXPECTED_DURATION})`,
      );
      continue;
    }
    values[FIELD[name]] = ms;
  }
  const timeouts: Timeouts = values;
  const globalPos = positions.global ?? timeoutsMap?.pos ?? rootPos;
  const globalPath = paths.global ?? `${base}.globalTimeout`;
  const checkBudget = (stages: readonly TimeoutName[], executable: string): void => {
    const sum = stages.reduce((total, stage) => total + timeouts[FIELD[stage]], 0);
    if (sum > timeouts.globalMs) {
      const parts = stages
        .map((stage) => `${stage} ${formatMs(timeouts[FIELD[stage]])}`)
        .join(' + ');
      findings.error(
        globalPos,
        globalPath,
        `${executable}: component timeouts exceed the global timeout (got ${parts} = ${formatMs(sum)}; expected at most globalTimeout ${formatMs(timeouts.globalMs)})`,
      );
    }
  };
  if (involvesTokenPush(target)) checkBudget(TP_STAGES, 'token-push');
  if (involvesRefresh(target)) checkBudget(RUF_STAGES, 'refresh-uids-from-ferry');
  return { timeouts, positions };
}

const STAGE_OF: Readonly<Record<WorkerType, keyof Timeouts>> = {
  getKerberosTickets: 'kerberosMs',
  getToken: 'vaultStorerMs',
  storeAndGetToken: 'vaultStorerMs',
  pingAggregator: 'pingMs',
  pushTokens: 'pushMs',
};
const STAGE_KEY: Readonly<Record<WorkerType, string>> = {
  getKerberosTickets: 'kerberosTimeout',
  getToken: 'vaultStorerTimeout',
  storeAndGetToken: 'vaultStorerTimeout',
  pingAggregator: 'pingTimeout',
  pushTokens: 'pushTimeout',
};
export const NO_RETRIES: RetryPolicy = { numRetries: 0, retrySleepMs: 0 };

/**
 * `workerType.<name>.{numRetries,retrySleep}` (config.md 2.7, V17). Fixes: a wrong type or a negative
 * value is an error (Q10); a budget violation disables retries for that worker only, with a warning (Q9).
 */
export function resolveRetries(
  findings: FindingCollector,
  workerTypeMap: { value: CMap; path: string } | undefined,
  timeouts: Timeouts,
): RetryPolicies {
  const policies: Record<WorkerType, RetryPolicy> = Object.fromEntries(
    WORKER_TYPES.map((name) => [name, NO_RETRIES]),
  ) as Record<WorkerType, RetryPolicy>;
  const base = workerTypeMap?.path ?? 'workerType';
  for (const [lower, entry] of workerTypeMap?.value.entries ?? []) {
    const name = WORKER_TYPES.find((candidate) => candidate.toLowerCase() === lower);
    const path = joinPath(base, entry.rawKey);
    if (name === undefined) {
      const note =
        lower === 'storeandgettokeninteractive'
          ? 'never read by token-push'
          : `unknown worker type (known: ${WORKER_TYPES.join(', ')})`;
      findings.warn(entry.keyPos, path, `${note}; ignored`);
      continue;
    }
    if (entry.value.kind === 'scalar' && entry.value.value === null) continue;
    if (entry.value.kind !== 'map') {
      findings.error(
        entry.value.pos,
        path,
        'wrong type (expected a mapping with numRetries and retrySleep)',
      );
      continue;
    }
    const policy = readPolicy(findings, entry.value, path);
    if (policy === undefined) continue;
    const budgetMs = timeouts[STAGE_OF[name]];
    if (policy.numRetries * policy.retrySleepMs > budgetMs) {
      findings.warn(
        entry.keyPos,
        path,
        `retries do not fit the stage timeout, so ${name} runs without retries (got ${policy.numRetries} x ${formatMs(policy.retrySleepMs)}; expected at most timeouts.${STAGE_KEY[name]} ${formatMs(budgetMs)})`,
      );
      continue;
    }
    policies[name] = policy;
  }
  return policies;
}

function readPolicy(findings: FindingCollector, map: CMap, path: string): RetryPolicy | undefined {
  let ok = true;
  let numRetries = 0;
  let retrySleepMs = 0;
  for (const [lower, entry] of map.entries) {
    const childPath = joinPath(path, entry.rawKey);
    const node = entry.value;
    if (lower === 'numretries') {
      if (node.kind === 'scalar' && node.value === null) continue;
      if (
        node.kind === 'scalar' &&
        typeof node.value === 'number' &&
        Number.isInteger(node.value) &&
        node.value >= 0
      ) {
        numRetries = node.value;
      } else {
        ok = false;
        const got = node.kind === 'scalar' ? JSON.stringify(node.value) : 'a collection';
        findings.error(
          node.pos,
          childPath,
          `not a non-negative integer (got ${got}; expected e.g. 3)`,
        );
      }
    } else if (lower === 'retrysleep') {
      if (node.kind === 'scalar' && node.value === null) continue;
      const ms =
        node.kind === 'scalar' && typeof node.value === 'string'
          ? parseGoDuration(node.value)
          : undefined;
      if (ms === undefined || ms < 0) {
        ok = false;
        const got = node.kind === 'scalar' ? JSON.stringify(node.value) : 'a collection';
        findings.error(
          node.pos,
          childPath,
          `not a non-negative Go duration string (got ${got}; ${EXPECTED_DURATION})`,
        );
      } else {
        retrySleepMs = ms;
      }
    } else {
      findings.warn(
        entry.keyPos,
        childPath,
        'unknown key, ignored (known: numRetries, retrySleep)',
      );
    }
  }
  return ok ? { numRetries, retrySleepMs } : undefined;
}
