import { parseGoDuration, formatMs } from './duration.js';
import { didYouMean, type FindingCollector } from './findings.js';
import type { CMap, CNode } from './parse.js';
import { readOwnPositiveInt } from './own.js';
import { entryOf, joinPath } from './read.js';
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
const EXPECTED_DURATION = 'write a Go duration such as "30s", "1m30s" or "250ms"';

const involvesTokenPush = (target: ValidationTarget): boolean =>
  target !== 'refresh-uids-from-ferry';
const involvesRefresh = (target: ValidationTarget): boolean => target !== 'token-push';

const STAGE_WORDS: Readonly<Record<TimeoutName, string>> = {
  global: 'the whole run',
  kerberos: 'every Kerberos ticket step',
  vaultstorer: 'every vault token step',
  ping: 'every node ping',
  push: 'every token copy',
  ferryrequest: 'every FERRY request',
  db: 'the database update',
};

/** How the original turned a timeout value into text before parsing it (config.md 1.3). */
function durationText(node: CNode): string | undefined {
  if (node.kind !== 'scalar') return undefined;
  return typeof node.value === 'string' ? node.value : String(node.value);
}

/**
 * `timeouts.*` (token-push.md 3.14, ferry-and-db.md 1.9): key lower-cased, one trailing `timeout`
 * stripped. Product decision 2: what the original accepted keeps running, with a warning: an
 * unparseable value keeps the default (Q7), zero or negative values are kept and expire at once (Q8),
 * and of two spellings of one timeout the later one in the file is used (Q6). Only the original's
 * fatal sum rule is an error (a single stage above the global timeout implies it).
 */
export function resolveTimeouts(
  findings: FindingCollector,
  timeoutsMap: { value: CMap; path: string; pos: SourcePos } | undefined,
  target: ValidationTarget,
  rootPos: SourcePos,
): { timeouts: Timeouts; positions: Partial<Record<TimeoutName, SourcePos>> } {
  const values: Record<keyof Timeouts, number> = { ...DEFAULT_TIMEOUTS };
  const positions: Partial<Record<TimeoutName, SourcePos>> = {};
  const paths: Partial<Record<TimeoutName, { path: string; line: number }>> = {};
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
    const field = FIELD[name];
    const earlier = paths[name];
    if (earlier !== undefined) {
      findings.warn(
        entry.keyPos,
        path,
        `given twice (also as ${earlier.path} at line ${earlier.line}); this later one is used (the original picked either at random); keep only one`,
      );
    }
    paths[name] = { path, line: entry.keyPos.line };
    positions[name] = entry.value.pos;
    values[field] = DEFAULT_TIMEOUTS[field];
    const node = entry.value;
    if (node.kind === 'scalar' && node.value === null) continue;
    const text = durationText(node);
    const ms = text === undefined ? undefined : parseGoDuration(text);
    if (ms === undefined) {
      const got =
        node.kind === 'scalar'
          ? JSON.stringify(node.value)
          : `a ${node.kind === 'seq' ? 'list' : 'mapping'}`;
      findings.warn(
        node.pos,
        path,
        `not a Go duration, so the default ${formatMs(DEFAULT_TIMEOUTS[field])} is used, as the original did (got ${got}; ${EXPECTED_DURATION})`,
      );
      continue;
    }
    if (ms <= 0) {
      findings.warn(
        node.pos,
        path,
        `${ms === 0 ? 'zero' : 'negative'}: kept as the original did, so ${STAGE_WORDS[name]} times out at once (got ${JSON.stringify(text)}; ${EXPECTED_DURATION})`,
      );
    }
    // A negative deadline has already passed, exactly like a zero one.
    values[field] = Math.max(0, ms);
  }
  const timeouts: Timeouts = values;
  const globalPos = positions.global ?? timeoutsMap?.pos ?? rootPos;
  const globalPath = paths.global?.path ?? `${base}.globalTimeout`;
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
 * `workerType.<name>.{numRetries,retrySleep}` (config.md 2.7, V17). Values the original coerced to 0
 * keep that meaning with a warning; a negative pushTokens.numRetries stays an error (Q10: the original
 * then never attempted the copy and reported success), elsewhere it is a warning (never used); a budget violation disables retries for that worker only,
 * with a warning (Q9).
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
      findings.warn(
        entry.value.pos,
        path,
        `wrong type, so ${name} runs without retries, as in the original (write a mapping with numRetries and retrySleep)`,
      );
      continue;
    }
    const policy = readPolicy(findings, entry.value, path, name);
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

function readPolicy(
  findings: FindingCollector,
  map: CMap,
  path: string,
  worker: WorkerType,
): RetryPolicy | undefined {
  let ok = true;
  let numRetries = 0;
  let retrySleepMs = 0;
  for (const [lower, entry] of map.entries) {
    const childPath = joinPath(path, entry.rawKey);
    const node = entry.value;
    if (node.kind === 'scalar' && node.value === null) continue;
    const got = node.kind === 'scalar' ? JSON.stringify(node.value) : 'a collection';
    if (lower === 'numretries') {
      const count = retryCount(node);
      if (count !== undefined && count < 0 && worker === 'pushTokens') {
        ok = false;
        findings.error(
          node.pos,
          childPath,
          `negative (got ${got}; expected an integer >= 0, e.g. 3); the original wrapped it around to a huge count, never attempted the copy and reported it successful`,
        );
      } else if (count !== undefined && count < 0) {
        // Only pushTokens retries are used at run time; the original only budget-checked this one.
        findings.warn(
          node.pos,
          childPath,
          `negative, so 0 retries are used; the original never retried ${worker} either (got ${got}; write an integer >= 0)`,
        );
      } else if (count === undefined) {
        findings.warn(
          node.pos,
          childPath,
          `not an integer, so 0 retries are used, as the original did (got ${got}; write e.g. 3)`,
        );
      } else numRetries = count;
    } else if (lower === 'retrysleep') {
      const ms =
        node.kind === 'scalar' && typeof node.value === 'string'
          ? parseGoDuration(node.value)
          : undefined;
      if (ms === undefined) {
        findings.warn(
          node.pos,
          childPath,
          `not a Go duration string, so 0s is used, as the original did (got ${got}; ${EXPECTED_DURATION}, in quotes)`,
        );
      } else if (ms < 0) {
        findings.warn(
          node.pos,
          childPath,
          `negative, so there is no sleep between attempts, as in the original (got ${got}; ${EXPECTED_DURATION})`,
        );
      } else retrySleepMs = ms;
    } else if (lower === 'concurrency' && worker === 'storeAndGetToken') {
      // read by resolveStoreConcurrency
    } else {
      findings.warn(
        entry.keyPos,
        childPath,
        lower === 'concurrency'
          ? 'only read under workerType.storeAndGetToken; ignored here'
          : `unknown key, ignored (known: numRetries, retrySleep${worker === 'storeAndGetToken' ? ', concurrency' : ''})`,
      );
    }
  }
  return ok ? { numRetries, retrySleepMs } : undefined;
}

/** YAML integers, and JSON numbers within 1e-9 of an integer (config.md 2.7); undefined otherwise. */
function retryCount(node: CNode): number | undefined {
  if (node.kind !== 'scalar' || typeof node.value !== 'number') return undefined;
  const rounded = Math.round(node.value);
  return Math.abs(node.value - rounded) <= 1e-9 ? rounded : undefined;
}

export const DEFAULT_STORE_CONCURRENCY = 4;

/**
 * `workerType.storeAndGetToken.concurrency` (ours; README decision 7): how many services' token
 * stores may run at once. 1 is the original's one-at-a-time. Read independently of the retry policy,
 * so a bad numRetries there does not reset it.
 */
export function resolveStoreConcurrency(
  findings: FindingCollector,
  workerTypeMap: { value: CMap; path: string } | undefined,
): number {
  const entry = entryOf(workerTypeMap?.value, 'storeAndGetToken');
  if (entry === undefined || entry.value.kind !== 'map') return DEFAULT_STORE_CONCURRENCY;
  return readOwnPositiveInt(
    findings,
    entry.value,
    joinPath(workerTypeMap?.path ?? 'workerType', entry.rawKey),
    'concurrency',
    DEFAULT_STORE_CONCURRENCY,
    'write e.g. 4, or 1 to store one service at a time as the original did',
  );
}
