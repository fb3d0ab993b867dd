import { shown, type FindingCollector } from './findings.js';
import type { CMap, CNode } from './parse.js';
import { entryOf, joinPath } from './read.js';

/**
 * Readers for keys of ours that the original does not know (it ignores unknown keys, so a file using
 * them still works with it). There is no original coercion to reproduce: a value of the wrong type
 * keeps the default, with a warning saying what was expected (product decision 2).
 */

function got(node: CNode): string {
  if (node.kind === 'scalar') return shown(node.value);
  return node.kind === 'seq' ? 'a list' : 'a mapping';
}

/** A YAML/JSON boolean; `fallback` when unset or not a boolean. */
export function readOwnBoolean(
  findings: FindingCollector,
  map: CMap | undefined,
  parentPath: string,
  key: string,
  fallback: boolean,
): boolean {
  const entry = entryOf(map, key);
  if (entry === undefined) return fallback;
  const node = entry.value;
  if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
  findings.warn(
    node.pos,
    joinPath(parentPath, entry.rawKey),
    `not a boolean, so the default ${fallback} is used (got ${got(node)}; write true or false, without quotes)`,
  );
  return fallback;
}

/** A whole number >= 1; `fallback` when unset or anything else. `example` says what to write. */
export function readOwnPositiveInt(
  findings: FindingCollector,
  map: CMap | undefined,
  parentPath: string,
  key: string,
  fallback: number,
  example: string,
): number {
  const entry = entryOf(map, key);
  if (entry === undefined) return fallback;
  const node = entry.value;
  if (
    node.kind === 'scalar' &&
    typeof node.value === 'number' &&
    Number.isSafeInteger(node.value) &&
    node.value >= 1
  )
    return node.value;
  findings.warn(
    node.pos,
    joinPath(parentPath, entry.rawKey),
    `not an integer >= 1, so the default ${fallback} is used (got ${got(node)}; ${example})`,
  );
  return fallback;
}
