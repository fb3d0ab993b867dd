import type { CEntry, CMap, CNode } from './parse.js';
import { didYouMean, shown, type FindingCollector } from './findings.js';
import type { Severity, SourcePos } from './types.js';

/**
 * Typed reads of configuration values. A key counts as *set* when present with a non-null value
 * (config.md conventions). A value of the wrong type is read the way the original coerced it
 * (config.md 1.3) and reported as a warning (product decision 2: a config the original accepts keeps
 * running); checks on the resulting value decide whether it is usable.
 */
export interface Scope {
  readonly findings: FindingCollector;
  /** severity of a problem that makes the value unusable: error-global at top level, error-service under a role */
  readonly severity: Severity;
  /** configName for error-service findings */
  readonly service?: string | undefined;
  /** JSON files: every number was a float to the original, so no number counts as a boolean. */
  readonly numbersAreFloats?: boolean | undefined;
}

export interface Located<T> {
  readonly value: T;
  readonly pos: SourcePos;
  readonly path: string;
  /** the value was coerced from another type and a warning already says so */
  readonly coerced?: true;
}

export function joinPath(parent: string, rawKey: string): string {
  return parent === '' ? rawKey : `${parent}.${rawKey}`;
}

export function entryOf(map: CMap | undefined, key: string): CEntry | undefined {
  const entry = map?.entries.get(key.toLowerCase());
  if (entry === undefined || (entry.value.kind === 'scalar' && entry.value.value === null))
    return undefined;
  return entry;
}

export function report(
  scope: Scope,
  pos: SourcePos,
  path: string,
  message: string,
  severity: Severity = scope.severity,
): void {
  scope.findings.add(severity, pos, path, message, scope.service);
}

function nodeValue(node: CNode): unknown {
  if (node.kind === 'scalar') return node.value;
  return node.kind === 'seq' ? [] : {};
}

export function readString(
  scope: Scope,
  map: CMap | undefined,
  parentPath: string,
  key: string,
): Located<string> | undefined {
  const entry = entryOf(map, key);
  if (entry === undefined) return undefined;
  const path = joinPath(parentPath, entry.rawKey);
  const node = entry.value;
  if (node.kind !== 'scalar') {
    report(
      scope,
      node.pos,
      path,
      `wrong type, read as "" as the original did (got ${shown(nodeValue(node))}; expected a string)`,
      'warning',
    );
    return { value: '', pos: node.pos, path, coerced: true };
  }
  return { value: String(node.value), pos: node.pos, path };
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * YAML/JSON booleans. Anything else is read as the original did (Go-bool strings by Go's rules,
 * non-zero YAML integers as true, everything else as false) with a warning (V38).
 */
export function readBool(
  scope: Scope,
  map: CMap | undefined,
  parentPath: string,
  key: string,
): Located<boolean> | undefined {
  const entry = entryOf(map, key);
  if (entry === undefined) return undefined;
  const path = joinPath(parentPath, entry.rawKey);
  const node = entry.value;
  if (node.kind === 'scalar' && typeof node.value === 'boolean')
    return { value: node.value, pos: node.pos, path };
  const value = originalBool(node, scope.numbersAreFloats === true);
  const how =
    node.kind === 'scalar' && typeof node.value === 'string' && isGoBool(node.value)
      ? `read as ${value} by Go's rules, as the original did`
      : `the original silently read this as ${value}, and so does this run`;
  report(
    scope,
    node.pos,
    path,
    `not a boolean; ${how} (got ${shown(nodeValue(node))}; write true or false without quotes)`,
    'warning',
  );
  return { value, pos: node.pos, path, coerced: true };
}

function isGoBool(text: string): boolean {
  return GO_TRUE.has(text) || GO_FALSE.has(text);
}

/** The original's bool coercion (config.md 1.3): Go-bool strings, non-zero YAML integers; else false. */
function originalBool(node: CNode, numbersAreFloats: boolean): boolean {
  if (node.kind !== 'scalar') return false;
  if (typeof node.value === 'string') return GO_TRUE.has(node.value);
  if (typeof node.value === 'number')
    return !numbersAreFloats && Number.isInteger(node.value) && node.value !== 0;
  return false;
}

/**
 * Integers. A YAML/JSON number with an integral value (JSON `3.0` is 3) is read silently; anything
 * else is read with the original's coercion (`"25"` → 25, 2.5 → 2, true → 1, a list → 0) and a warning.
 */
export function readInt(
  scope: Scope,
  map: CMap | undefined,
  parentPath: string,
  key: string,
): Located<number> | undefined {
  const entry = entryOf(map, key);
  if (entry === undefined) return undefined;
  const path = joinPath(parentPath, entry.rawKey);
  const node = entry.value;
  if (node.kind === 'scalar' && typeof node.value === 'number' && Number.isInteger(node.value)) {
    return { value: node.value, pos: node.pos, path };
  }
  const value = originalInt(node) ?? 0;
  report(
    scope,
    node.pos,
    path,
    `not an integer; read as ${value} as the original did (got ${shown(nodeValue(node))}; write a plain integer without quotes)`,
    'warning',
  );
  return { value, pos: node.pos, path, coerced: true };
}

/**
 * The original's int coercion (config.md 1.3): numbers truncated toward zero, booleans 1/0, strings
 * by Go's `strconv.ParseInt(s, 0, 64)` after dropping a `.000` tail. undefined where it failed
 * (the original then used 0).
 */
export function originalInt(node: CNode): number | undefined {
  if (node.kind !== 'scalar') return undefined;
  const { value } = node;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') return parseGoInt(trimZeroDecimal(value));
  return undefined;
}

function trimZeroDecimal(text: string): string {
  let foundZero = false;
  for (let index = text.length; index > 0; index--) {
    const char = text[index - 1];
    if (char === '.') return foundZero ? text.slice(0, index - 1) : text;
    if (char !== '0') return text;
    foundZero = true;
  }
  return text;
}

const GO_INT_FORMS: readonly { prefix: RegExp; digits: string; radix: number }[] = [
  { prefix: /^0[xX]/, digits: '[0-9a-fA-F]', radix: 16 },
  { prefix: /^0[oO]/, digits: '[0-7]', radix: 8 },
  { prefix: /^0[bB]/, digits: '[01]', radix: 2 },
  { prefix: /^0(?=[0-7_])/, digits: '[0-7]', radix: 8 },
];

/** Go `strconv.ParseInt(text, 0, 64)`: sign, base prefixes (a leading 0 means octal), `_` separators. */
export function parseGoInt(text: string): number | undefined {
  const sign = text.startsWith('-') ? -1n : 1n;
  const unsigned = text.replace(/^[+-]/, '');
  let body = unsigned;
  let digits = '[0-9]';
  let radix = 10;
  let prefixed = false;
  for (const form of GO_INT_FORMS) {
    const match = form.prefix.exec(unsigned);
    if (match === null) continue;
    body = unsigned.slice(match[0].length);
    ({ digits, radix } = form);
    prefixed = true;
    break;
  }
  const shape = new RegExp(`^${prefixed ? '_?' : ''}${digits}+(?:_${digits}+)*$`);
  if (!shape.test(body)) return undefined;
  let result = 0n;
  for (const char of body.replace(/_/g, ''))
    result = result * BigInt(radix) + BigInt(parseInt(char, radix));
  result *= sign;
  if (result > 2n ** 63n - 1n || result < -(2n ** 63n)) return undefined;
  return Number(result);
}

/**
 * A list of scalars, or one string split on whitespace. A mapping is read as an empty list and a
 * non-scalar element as "" (the original's coercion), with a warning.
 */
export function readStringList(
  scope: Scope,
  map: CMap | undefined,
  parentPath: string,
  key: string,
): Located<string[]> | undefined {
  const entry = entryOf(map, key);
  if (entry === undefined) return undefined;
  const path = joinPath(parentPath, entry.rawKey);
  const node = entry.value;
  if (node.kind === 'scalar') {
    const value =
      typeof node.value === 'string'
        ? node.value.split(/\s+/).filter((word) => word !== '')
        : [String(node.value)];
    return { value, pos: node.pos, path };
  }
  if (node.kind === 'map') {
    report(
      scope,
      node.pos,
      path,
      'wrong type, read as an empty list as the original did (got a mapping; expected a list of strings)',
      'warning',
    );
    return { value: [], pos: node.pos, path, coerced: true };
  }
  const value: string[] = [];
  for (const item of node.items) {
    if (item.kind !== 'scalar' || item.value === null) {
      report(
        scope,
        item.pos,
        path,
        `wrong type of list element, read as "" as the original did (got ${shown(nodeValue(item))}; expected a string)`,
        'warning',
      );
      value.push('');
      continue;
    }
    value.push(String(item.value));
  }
  return { value, pos: node.pos, path };
}

export function readMap(
  scope: Scope,
  map: CMap | undefined,
  parentPath: string,
  key: string,
): Located<CMap> | undefined {
  const entry = entryOf(map, key);
  if (entry === undefined) return undefined;
  const path = joinPath(parentPath, entry.rawKey);
  if (entry.value.kind !== 'map') {
    report(
      scope,
      entry.value.pos,
      path,
      `wrong type, read as an empty mapping as the original did, so nothing under it is used (got ${shown(nodeValue(entry.value))}; expected a mapping)`,
      'warning',
    );
    return undefined;
  }
  return { value: entry.value, pos: entry.value.pos, path };
}

const lowerSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function lowerSet(names: readonly string[]): ReadonlySet<string> {
  let set = lowerSets.get(names);
  if (set === undefined) {
    set = new Set(names.map((name) => name.toLowerCase()));
    lowerSets.set(names, set);
  }
  return set;
}

/** V1: warn about keys not in `known` (canonical spellings), with a did-you-mean. */
export function warnUnknownKeys(
  scope: Scope,
  map: CMap,
  parentPath: string,
  known: readonly string[],
  describe?: (lowerKey: string) => string | undefined,
): void {
  const knownLower = lowerSet(known);
  for (const [lower, entry] of map.entries) {
    if (knownLower.has(lower)) continue;
    const path = joinPath(parentPath, entry.rawKey);
    const special = describe?.(lower);
    if (special !== undefined) {
      report(scope, entry.keyPos, path, special, 'warning');
      continue;
    }
    const suggestion = didYouMean(entry.rawKey, known);
    const hint = suggestion === undefined ? '' : `; did you mean ${JSON.stringify(suggestion)}?`;
    report(scope, entry.keyPos, path, `unknown key, ignored${hint}`, 'warning');
  }
}
