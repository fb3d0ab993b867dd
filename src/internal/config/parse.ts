import { createRequire } from 'node:module';
import type { Document, LineCounter, Node as YamlNode, YAMLMap } from 'yaml';
import type { SourcePos } from './types.js';
import { JsonSyntaxError, parseJsonWithPositions } from './json.js';
import { NotInFastSubset, parseYamlFast } from './yamlfast.js';

/**
 * The parsed file as a tree that remembers where every key and value came from. Mapping keys are
 * lower-cased (config.md 1.3); the spelling found in the file is kept for messages.
 */
export type CNode = CScalar | CSeq | CMap;
export interface CScalar {
  readonly kind: 'scalar';
  readonly value: string | number | boolean | null;
  readonly pos: SourcePos;
}
export interface CSeq {
  readonly kind: 'seq';
  readonly items: readonly CNode[];
  readonly pos: SourcePos;
}
export interface CEntry {
  /** spelling in the file */
  readonly rawKey: string;
  readonly keyPos: SourcePos;
  readonly value: CNode;
}
export interface CMap {
  readonly kind: 'map';
  /** keyed by the lower-cased key */
  readonly entries: ReadonlyMap<string, CEntry>;
  readonly pos: SourcePos;
}

export interface DuplicateKey {
  readonly rawKey: string;
  readonly firstPos: SourcePos;
  readonly pos: SourcePos;
  /** raw key path of the mapping holding both keys */
  readonly parentPath: string;
  readonly firstRawKey: string;
}

export interface ParsedFile {
  readonly root: CMap;
  readonly duplicates: readonly DuplicateKey[];
}

export class ParseError extends Error {
  override readonly name = 'ParseError';
}

// Loaded on first use so that JSON configurations (the rendered-jsonnet production format) and
// `--list-services` on them never pay for the YAML library.
type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

class TreeBuilder {
  readonly duplicates: DuplicateKey[] = [];
  constructor(
    private readonly file: string,
    private readonly lineCounter: LineCounter,
    private readonly doc: Document.Parsed,
  ) {}

  pos(offset: number | undefined): SourcePos {
    const { line, col } = this.lineCounter.linePos(offset ?? 0);
    return { file: this.file, line, col };
  }

  build(node: unknown, fallbackOffset: number, path: string, depth = 0): CNode {
    if (depth > 100)
      throw new ParseError(`${this.file}: nesting too deep (alias loop?) at ${path}`);
    if (yaml().isAlias(node)) {
      const target = node.resolve(this.doc);
      return this.build(target, node.range?.[0] ?? fallbackOffset, path, depth + 1);
    }
    if (node === null || node === undefined)
      return { kind: 'scalar', value: null, pos: this.pos(fallbackOffset) };
    const yamlNode = node as YamlNode;
    const offset = yamlNode.range?.[0] ?? fallbackOffset;
    if (yaml().isScalar(node)) {
      const value = node.value;
      const scalar =
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean' ||
        value === null
          ? value
          : typeof value === 'bigint'
            ? Number(value)
            : String(value);
      return { kind: 'scalar', value: scalar, pos: this.pos(offset) };
    }
    if (yaml().isSeq(node)) {
      return {
        kind: 'seq',
        items: node.items.map((item, index) =>
          this.build(item, offset, `${path}[${index}]`, depth + 1),
        ),
        pos: this.pos(offset),
      };
    }
    if (yaml().isMap(node)) return this.buildMap(node, offset, path, depth);
    throw new ParseError(`${this.file}: unsupported YAML node at ${path}`);
  }

  private buildMap(node: YAMLMap, offset: number, path: string, depth: number): CMap {
    const entries = new Map<string, CEntry>();
    const merges: unknown[] = [];
    for (const pair of node.items) {
      const key = pair.key;
      if (
        yaml().isScalar(key) &&
        (typeof key.value === 'symbol' || (key.value === '<<' && key.type === 'PLAIN'))
      ) {
        merges.push(pair.value);
        continue;
      }
      if (!yaml().isScalar(key)) {
        const keyOffset = (key as YamlNode | null)?.range?.[0] ?? offset;
        const where = this.pos(keyOffset);
        throw new ParseError(
          `${where.file}:${where.line}:${where.col}: ${path || '(top level)'}: mapping keys must be plain scalars`,
        );
      }
      const rawKey = String(key.value);
      const keyPos = this.pos(key.range?.[0] ?? offset);
      const childPath = path === '' ? rawKey : `${path}.${rawKey}`;
      const valueOffset = (pair.value as YamlNode | null)?.range?.[0] ?? key.range?.[0] ?? offset;
      const value = this.build(pair.value, valueOffset, childPath, depth + 1);
      const lower = rawKey.toLowerCase();
      const existing = entries.get(lower);
      if (existing !== undefined) {
        this.duplicates.push({
          rawKey,
          pos: keyPos,
          firstPos: existing.keyPos,
          firstRawKey: existing.rawKey,
          parentPath: path,
        });
        continue;
      }
      entries.set(lower, { rawKey, keyPos, value });
    }
    // `<<` merges: explicit keys win; among merged mappings the first listed wins.
    for (const merge of merges) {
      const sources = yaml().isSeq(merge) ? merge.items : [merge];
      for (const source of sources) {
        const merged = this.build(source, offset, path, depth + 1);
        if (merged.kind !== 'map') {
          const where = merged.pos;
          throw new ParseError(
            `${where.file}:${where.line}:${where.col}: ${path || '(top level)'}: "<<" merge needs a mapping or a list of mappings`,
          );
        }
        for (const [lower, entry] of merged.entries)
          if (!entries.has(lower)) entries.set(lower, entry);
      }
    }
    return { kind: 'map', entries, pos: this.pos(offset) };
  }
}

function describeYamlError(
  file: string,
  lineCounter: LineCounter,
  error: { message: string; pos: [number, number] },
): string {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const firstLine = error.message.split('\n')[0] ?? error.message;
  return `${file}:${line}:${col}: cannot parse: ${firstLine}`;
}

/** Parses YAML or JSON text into the positioned tree. */
export function parseConfigText(text: string, file: string, format: 'json' | 'yaml'): ParsedFile {
  if (format === 'json') {
    try {
      return parseJsonWithPositions(text.replace(/^\uFEFF/, ''), file);
    } catch (error) {
      if (error instanceof JsonSyntaxError) throw new ParseError(error.message);
      throw error;
    }
  }
  try {
    return parseYamlFast(text, file);
  } catch (error) {
    if (!(error instanceof NotInFastSubset)) throw error;
  }
  return parseYamlWithLibrary(text, file);
}

/** The complete YAML 1.2 path (merge keys, anchors, every scalar form). */
export function parseYamlWithLibrary(text: string, file: string): ParsedFile {
  const { LineCounter: Counter, parseDocument } = yaml();
  const lineCounter = new Counter();
  const doc = parseDocument(text, {
    merge: true,
    uniqueKeys: false,
    lineCounter,
    prettyErrors: false,
    strict: false,
  });
  const firstError = doc.errors[0];
  if (firstError !== undefined)
    throw new ParseError(describeYamlError(file, lineCounter, firstError));
  const builder = new TreeBuilder(file, lineCounter, doc);
  const root = builder.build(doc.contents, 0, '');
  if (root.kind === 'scalar' && root.value === null) {
    return {
      root: { kind: 'map', entries: new Map(), pos: root.pos },
      duplicates: builder.duplicates,
    };
  }
  if (root.kind !== 'map') {
    throw new ParseError(
      `${file}:${root.pos.line}:${root.pos.col}: the top level must be a mapping of keys to values`,
    );
  }
  return { root, duplicates: builder.duplicates };
}
