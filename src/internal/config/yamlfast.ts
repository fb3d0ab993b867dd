import type { CEntry, CMap, CNode, DuplicateKey, ParsedFile } from './parse.js';
import type { SourcePos } from './types.js';

/**
 * A fast reader for the plain subset of YAML that configuration files are written in: block mappings
 * and sequences indented with spaces, single-line plain/quoted scalars, single-line flow collections,
 * comments. Anything outside that subset (anchors, aliases, merge keys, tags, block or multi-line
 * scalars, tabs, documents markers, uncommon escapes or numbers) makes it give up, and the caller uses
 * the full YAML library instead. Its results are identical to the library's on everything it accepts
 * (test/internal/config/yamlfast.test.ts compares both); it exists because loading the library and
 * parsing a 500-service file costs several hundred milliseconds of start-up time.
 */
export class NotInFastSubset extends Error {
  override readonly name = 'NotInFastSubset';
}

const giveUp = (why: string): never => {
  throw new NotInFastSubset(why);
};

interface Line {
  readonly number: number;
  readonly indent: number;
  /** content without indentation (comments not yet removed) */
  readonly text: string;
}

const DECIMAL_INT = /^[-+]?[0-9]+$/;
const SIMPLE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
// Core-schema forms this reader leaves to the library.
const OTHER_NUMERIC =
  /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

function resolvePlain(text: string): string | number | boolean | null {
  switch (text) {
    case '':
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  if (DECIMAL_INT.test(text) || SIMPLE_FLOAT.test(text)) {
    const value = Number(text);
    if (!Number.isSafeInteger(value) && Number.isInteger(value)) giveUp('large integer');
    return value;
  }
  if (OTHER_NUMERIC.test(text)) giveUp('uncommon number form');
  return text;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  '0': '\0',
};

class FastReader {
  private readonly lines: Line[] = [];
  private index = 0;
  readonly duplicates: DuplicateKey[] = [];

  constructor(
    text: string,
    private readonly file: string,
  ) {
    if (/[\t\r\uFEFF]/.test(text)) giveUp('tabs, carriage returns or BOM');
    const raw = text.split('\n');
    raw.forEach((content, position) => {
      const trimmed = content.trimStart();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const indent = content.length - trimmed.length;
      if (
        indent === 0 &&
        (trimmed.startsWith('---') || trimmed.startsWith('...') || trimmed.startsWith('%'))
      )
        giveUp('document markers or directives');
      this.lines.push({ number: position + 1, indent, text: trimmed.trimEnd() });
    });
  }

  private pos(line: Line, offsetInText: number): SourcePos {
    return { file: this.file, line: line.number, col: line.indent + offsetInText + 1 };
  }

  parseRoot(): CMap | undefined {
    const first = this.lines[0];
    if (first === undefined) return undefined;
    if (first.indent !== 0) giveUp('indented top level');
    const root = this.parseBlock(0, '');
    if (this.index < this.lines.length) giveUp('trailing content');
    if (root.kind !== 'map') giveUp('top level is not a mapping');
    return root as CMap;
  }

  private parseBlock(indent: number, path: string): CNode {
    const line = this.lines[this.index];
    if (line === undefined) return giveUp('missing block');
    return line.text === '-' || line.text.startsWith('- ')
      ? this.parseSeq(indent, path)
      : this.parseMap(indent, path);
  }

  private parseSeq(indent: number, path: string): CNode {
    const items: CNode[] = [];
    const first = this.lines[this.index];
    if (first === undefined) return giveUp('missing sequence');
    const pos = this.pos(first, 0);
    for (
      let line = this.lines[this.index];
      line !== undefined &&
      line.indent === indent &&
      (line.text === '-' || line.text.startsWith('- '));
      line = this.lines[this.index]
    ) {
      this.index++;
      const rest = line.text.slice(1);
      const start = rest.length - rest.trimStart().length + 1;
      const content = rest.trim();
      const itemPath = `${path}[${items.length}]`;
      if (content === '' || content.startsWith('#')) {
        const next = this.lines[this.index];
        if (next !== undefined && next.indent > indent)
          items.push(this.parseBlock(next.indent, itemPath));
        else items.push({ kind: 'scalar', value: null, pos: this.pos(line, 1) });
        continue;
      }
      if (content.startsWith('- ') || content === '-' || this.findKeySeparator(content) !== -1)
        giveUp('compact nested collection in a sequence');
      items.push(this.parseInlineValue(line, start, itemPath));
    }
    const after = this.lines[this.index];
    if (after !== undefined && after.indent > indent)
      giveUp('unexpected indentation after a sequence');
    return { kind: 'seq', items, pos };
  }

  private parseMap(indent: number, path: string): CMap {
    const entries = new Map<string, CEntry>();
    const first = this.lines[this.index];
    if (first === undefined) return giveUp('missing mapping');
    const pos = this.pos(first, 0);
    for (
      let line = this.lines[this.index];
      line !== undefined && line.indent === indent;
      line = this.lines[this.index]
    ) {
      if (line.text === '-' || line.text.startsWith('- ')) break;
      this.index++;
      const { rawKey, valueStart } = this.parseKey(line);
      const keyPos = this.pos(line, 0);
      const childPath = path === '' ? rawKey : `${path}.${rawKey}`;
      const rest = line.text.slice(valueStart);
      const content = rest.trim();
      let value: CNode;
      if (content === '' || content.startsWith('#')) {
        const next = this.lines[this.index];
        if (next !== undefined && next.indent > indent)
          value = this.parseBlock(next.indent, childPath);
        else if (
          next !== undefined &&
          next.indent === indent &&
          (next.text === '-' || next.text.startsWith('- '))
        )
          value = this.parseSeq(indent, childPath);
        else value = { kind: 'scalar', value: null, pos: this.pos(line, valueStart) };
      } else {
        value = this.parseInlineValue(
          line,
          valueStart + (rest.length - rest.trimStart().length),
          childPath,
        );
      }
      this.addEntry(entries, { rawKey, keyPos, value }, path);
    }
    const after = this.lines[this.index];
    if (after !== undefined && after.indent > indent)
      giveUp('unexpected indentation (multi-line scalar?)');
    return { kind: 'map', entries, pos };
  }

  /** Keys compare case-insensitively: a later spelling of a known key is a duplicate, the first stays. */
  private addEntry(entries: Map<string, CEntry>, entry: CEntry, path: string): void {
    const existing = entries.get(entry.rawKey.toLowerCase());
    if (existing === undefined) entries.set(entry.rawKey.toLowerCase(), entry);
    else
      this.duplicates.push({
        rawKey: entry.rawKey,
        pos: entry.keyPos,
        firstPos: existing.keyPos,
        firstRawKey: existing.rawKey,
        parentPath: path,
      });
  }

  /** Offset of the `:` that ends a plain key, or -1. */
  private findKeySeparator(text: string): number {
    if (/^["'[{]/.test(text)) return -1;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '#' && i > 0 && text[i - 1] === ' ') return -1;
      if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i;
    }
    return -1;
  }

  private parseKey(line: Line): { rawKey: string; valueStart: number } {
    const text = line.text;
    if (text.startsWith('"') || text.startsWith("'")) {
      const { value, end } = this.parseQuoted(text, 0);
      if (text[end] !== ':' || (end + 1 < text.length && text[end + 1] !== ' '))
        giveUp('quoted key without ": "');
      return { rawKey: value, valueStart: end + 1 };
    }
    if (/^[-?:,[\]{}#&*!|>%@`]/.test(text)) giveUp('key starts with an indicator');
    const separator = this.findKeySeparator(text);
    if (separator <= 0) giveUp('not a "key: value" line');
    const rawKey = text.slice(0, separator).trimEnd();
    if (rawKey === '<<' || rawKey.includes(': ') || rawKey.includes(' #'))
      giveUp('merge key or odd key');
    const key = resolvePlain(rawKey);
    if (typeof key !== 'string' || key !== rawKey) giveUp('non-string key');
    return { rawKey, valueStart: separator + 1 };
  }

  private parseQuoted(text: string, start: number): { value: string; end: number } {
    const quote = text[start];
    let value = '';
    let i = start + 1;
    for (;;) {
      const c = text[i];
      if (c === undefined) return giveUp('multi-line quoted scalar');
      if (quote === "'") {
        if (c === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          return { value, end: i + 1 };
        }
        value += c;
        i++;
        continue;
      }
      if (c === '"') return { value, end: i + 1 };
      if (c === '\\') {
        const escape = text[i + 1] ?? '';
        const simple = SIMPLE_ESCAPES[escape];
        if (simple !== undefined) {
          value += simple;
          i += 2;
          continue;
        }
        if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          const code = Number.parseInt(text.slice(i + 2, i + 6), 16);
          if (code >= 0xd800 && code <= 0xdfff) giveUp('surrogate escape');
          value += String.fromCharCode(code);
          i += 6;
          continue;
        }
        giveUp('uncommon escape');
      }
      value += c;
      i++;
    }
  }

  /** A value that starts at `start` of the line's text and ends with the line. */
  private parseInlineValue(line: Line, start: number, path: string): CNode {
    const text = line.text;
    const c = text[start];
    let node: CNode;
    let end: number;
    if (c === '"' || c === "'") {
      const quoted = this.parseQuoted(text, start);
      node = { kind: 'scalar', value: quoted.value, pos: this.pos(line, start) };
      end = quoted.end;
    } else if (c === '[' || c === '{') {
      const flow = this.parseFlow(line, start, path);
      node = flow.node;
      end = flow.end;
    } else {
      if (
        c === undefined ||
        /[&*!|>%@`?,\]}#]/.test(c) ||
        (c === '-' && (text[start + 1] ?? ' ') === ' ') ||
        (c === ':' && (text[start + 1] ?? ' ') === ' ')
      ) {
        giveUp('value starts with an indicator');
      }
      let stop = text.length;
      const comment = text.indexOf(' #', start);
      if (comment !== -1) stop = comment;
      const plain = text.slice(start, stop).trimEnd();
      if (plain.includes(': ') || plain.endsWith(':')) giveUp('": " inside a plain value');
      return { kind: 'scalar', value: resolvePlain(plain), pos: this.pos(line, start) };
    }
    const tail = text.slice(end);
    if (tail.trim() !== '' && !/^ +#/.test(tail)) giveUp('text after a value');
    return node;
  }

  private parseFlow(line: Line, start: number, path: string): { node: CNode; end: number } {
    const text = line.text;
    const open = text[start];
    const close = open === '[' ? ']' : '}';
    const pos = this.pos(line, start);
    let i = start + 1;
    const skip = (): void => {
      while (text[i] === ' ') i++;
    };
    const items: CNode[] = [];
    const entries = new Map<string, CEntry>();
    skip();
    if (text[i] === close)
      return {
        node: open === '[' ? { kind: 'seq', items, pos } : { kind: 'map', entries, pos },
        end: i + 1,
      };
    for (;;) {
      skip();
      if (open === '[') {
        const item = this.parseFlowScalarOrCollection(line, i, `${path}[${items.length}]`);
        items.push(item.node);
        i = item.end;
        if (text[i] === ':') giveUp('mapping inside a flow sequence');
      } else {
        const keyStart = i;
        const key = this.parseFlowScalarOrCollection(line, i, path);
        if (key.node.kind !== 'scalar' || typeof key.node.value !== 'string')
          giveUp('non-string flow key');
        const rawKey = String((key.node as { value: string }).value);
        if (rawKey === '<<') giveUp('merge key');
        i = key.end;
        skip();
        if (text[i] !== ':') giveUp('flow mapping entry without ":"');
        i++;
        if (
          text[i] !== ' ' &&
          text[i] !== ',' &&
          text[i] !== close &&
          !/["']/.test(text[keyStart] ?? '')
        )
          giveUp('":" not followed by a space');
        skip();
        let value: CNode;
        if (text[i] === ',' || text[i] === close)
          value = { kind: 'scalar', value: null, pos: this.pos(line, i) };
        else {
          const parsed = this.parseFlowScalarOrCollection(
            line,
            i,
            path === '' ? rawKey : `${path}.${rawKey}`,
          );
          value = parsed.node;
          i = parsed.end;
        }
        this.addEntry(entries, { rawKey, keyPos: this.pos(line, keyStart), value }, path);
      }
      skip();
      const next = text[i];
      if (next === close)
        return {
          node: open === '[' ? { kind: 'seq', items, pos } : { kind: 'map', entries, pos },
          end: i + 1,
        };
      if (next !== ',') return giveUp('unterminated flow collection');
      i++;
      skip();
      if (text[i] === close || text[i] === ',') giveUp('empty flow entry');
    }
  }

  private parseFlowScalarOrCollection(
    line: Line,
    start: number,
    path: string,
  ): { node: CNode; end: number } {
    const text = line.text;
    const c = text[start];
    if (c === '[' || c === '{') return this.parseFlow(line, start, path);
    if (c === '"' || c === "'") {
      const quoted = this.parseQuoted(text, start);
      return {
        node: { kind: 'scalar', value: quoted.value, pos: this.pos(line, start) },
        end: quoted.end,
      };
    }
    if (c === undefined || /[&*!|>%@`?#,\]}-]/.test(c) || c === ':')
      giveUp('flow scalar starts with an indicator');
    let i = start;
    while (i < text.length) {
      const ch = text[i];
      if (ch === ',' || ch === ']' || ch === '}' || ch === '[' || ch === '{') break;
      if (
        ch === ':' &&
        (text[i + 1] === ' ' ||
          text[i + 1] === ',' ||
          text[i + 1] === ']' ||
          text[i + 1] === '}' ||
          text[i + 1] === undefined)
      )
        break;
      if (ch === '#' && text[i - 1] === ' ') giveUp('comment inside a flow collection');
      i++;
    }
    if (text[i] === '[' || text[i] === '{') giveUp('bracket inside a flow scalar');
    const plain = text.slice(start, i).trimEnd();
    return {
      node: { kind: 'scalar', value: resolvePlain(plain), pos: this.pos(line, start) },
      end: start + plain.length,
    };
  }
}

/** Parses `text` if it is in the fast subset; throws NotInFastSubset otherwise. */
export function parseYamlFast(text: string, file: string): ParsedFile {
  const reader = new FastReader(text, file);
  const root = reader.parseRoot();
  return {
    root: root ?? { kind: 'map', entries: new Map(), pos: { file, line: 1, col: 1 } },
    duplicates: reader.duplicates,
  };
}
