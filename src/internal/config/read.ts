import type { CEntry, CMap, CNode } from './parse.js';
import { didYouMean, shown, type FindingCollector } from './findings.js';
import type { Severity, SourcePos } from './types.js';

/**
 * Typed reads of configuration values. A key counts as *set* when present with a non-null value
 * (config.md conventions). A value of the wrong type is reported (V3) and read as unset.
 */
export interface Scope {
  readonly findings: FindingCollector;
  /** severity of a type error here: error-global at top level, error-service under a role */
  readonly severity: Severity;
  /** configName for error-service findings */
  readonly service?: string | undefined;
}

export interface Located<T> {
  readonly value: T;
  readonly pos: SourcePos;
  readonly path: string;
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
    report(scope, node.pos, path, `wrong type (got ${shown(nodeValue(node))}; expected a string)`);
    return undefined;
  }
  return { value: String(node.value), pos: node.pos, path };
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** YAML/JSON booleans; Go-bool strings accepted with a warning (V38); anything else is an error. */
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
  if (
    node.kind === 'scalar' &&
    typeof node.value === 'string' &&
    (GO_TRUE.has(node.value) || GO_FALSE.has(node.value))
  ) {
    const value = GO_TRUE.has(node.value);
    report(
      scope,
      node.pos,
      path,
      `boolean written as a string (got ${shown(node.value)}; expected true or false); read as ${value}`,
      'warning',
    );
    return { value, pos: node.pos, path };
  }
  const extra =
    node.kind === 'scalar' && typeof node.value === 'string'
      ? ' (the original silently read this as false)'
      : '';
  report(
    scope,
    node.pos,
    path,
    `wrong type (got ${shown(nodeValue(node))}; expected true or false)${extra}`,
  );
  return undefined;
}

/** Strict integers: a YAML/JSON number with an integral value (JSON `3.0` is 3). */
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
  report(scope, node.pos, path, `wrong type (got ${shown(nodeValue(node))}; expected an integer)`);
  return undefined;
}

/** A list of scalars, or one string split on whitespace. */
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
    report(scope, node.pos, path, 'wrong type (got a mapping; expected a list of strings)');
    return undefined;
  }
  const value: string[] = [];
  for (const item of node.items) {
    if (item.kind !== 'scalar' || item.value === null) {
      report(
        scope,
        item.pos,
        path,
        `wrong type of list element (got ${shown(nodeValue(item))}; expected a string)`,
      );
      return undefined;
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
      `wrong type (got ${shown(nodeValue(entry.value))}; expected a mapping)`,
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
