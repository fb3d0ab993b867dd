import type { CEntry, CMap, CNode, DuplicateKey, ParsedFile } from './parse.js';
import type { SourcePos } from './types.js';

/**
 * A strict JSON parser (RFC 8259) that records the line and column of every key and value. Rendered
 * jsonnet (`managedTokens.json`) is the main production format, so it gets a single fast pass instead
 * of going through the YAML machinery.
 */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

export function parseJsonWithPositions(text: string, file: string): ParsedFile {
  return new JsonReader(text, file).parseFile();
}

class JsonReader {
  private index = 0;
  private line = 1;
  private lineStart = 0;
  private readonly duplicates: DuplicateKey[] = [];

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  parseFile(): ParsedFile {
    this.skipWhitespace();
    const root = this.parseValue('');
    this.skipWhitespace();
    if (this.index < this.text.length) this.fail('unexpected text after the top-level value');
    if (root.kind !== 'map') {
      throw new JsonSyntaxError(
        `${this.file}:${root.pos.line}:${root.pos.col}: the top level must be an object`,
      );
    }
    return { root, duplicates: this.duplicates };
  }

  private pos(): SourcePos {
    return { file: this.file, line: this.line, col: this.index - this.lineStart + 1 };
  }

  private fail(message: string): never {
    const { line, col } = this.pos();
    throw new JsonSyntaxError(`${this.file}:${line}:${col}: cannot parse JSON: ${message}`);
  }

  private skipWhitespace(): void {
    const text = this.text;
    while (this.index < text.length) {
      const c = text.charCodeAt(this.index);
      if (c === 0x0a) {
        this.index++;
        this.line++;
        this.lineStart = this.index;
      } else if (c === 0x20 || c === 0x09 || c === 0x0d) this.index++;
      else break;
    }
  }

  private expect(char: string): void {
    if (this.text[this.index] !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.index++;
  }

  private parseValue(path: string): CNode {
    const pos = this.pos();
    const c = this.text[this.index];
    if (c === '{') return this.parseObject(path, pos);
    if (c === '[') return this.parseArray(path, pos);
    if (c === '"') return { kind: 'scalar', value: this.parseString(), pos };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9'))
      return { kind: 'scalar', value: this.parseNumber(), pos };
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.index)) {
        this.index += word.length;
        return { kind: 'scalar', value, pos };
      }
    }
    return this.fail(
      c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`,
    );
  }

  private parseObject(path: string, pos: SourcePos): CMap {
    this.index++;
    const entries = new Map<string, CEntry>();
    this.skipWhitespace();
    if (this.text[this.index] === '}') {
      this.index++;
      return { kind: 'map', entries, pos };
    }
    for (;;) {
      this.skipWhitespace();
      const keyPos = this.pos();
      if (this.text[this.index] !== '"') this.fail('expected a string key');
      const rawKey = this.parseString();
      this.skipWhitespace();
      this.expect(':');
      this.skipWhitespace();
      const value = this.parseValue(path === '' ? rawKey : `${path}.${rawKey}`);
      const lower = rawKey.toLowerCase();
      const existing = entries.get(lower);
      // The same spelling twice: the last value wins, as with the original's JSON parser.
      if (existing === undefined || existing.rawKey === rawKey)
        entries.set(lower, { rawKey, keyPos, value });
      if (existing !== undefined)
        this.duplicates.push({
          rawKey,
          pos: keyPos,
          firstPos: existing.keyPos,
          firstRawKey: existing.rawKey,
          parentPath: path,
        });
      this.skipWhitespace();
      const next = this.text[this.index++];
      if (next === '}') return { kind: 'map', entries, pos };
      if (next !== ',') {
        this.index--;
        this.fail('expected "," or "}"');
      }
    }
  }

  private parseArray(path: string, pos: SourcePos): CNode {
    this.index++;
    const items: CNode[] = [];
    this.skipWhitespace();
    if (this.text[this.index] === ']') {
      this.index++;
      return { kind: 'seq', items, pos };
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.parseValue(`${path}[${items.length}]`));
      this.skipWhitespace();
      const next = this.text[this.index++];
      if (next === ']') return { kind: 'seq', items, pos };
      if (next !== ',') {
        this.index--;
        this.fail('expected "," or "]"');
      }
    }
  }

  private parseString(): string {
    const start = this.index;
    this.index++;
    const text = this.text;
    let simple = true;
    while (this.index < text.length) {
      const c = text.charCodeAt(this.index);
      if (c === 0x22) break;
      if (c === 0x5c) {
        simple = false;
        this.index += 2;
        continue;
      }
      if (c < 0x20) this.fail('control character in string');
      this.index++;
    }
    if (this.index >= text.length) this.fail('unterminated string');
    this.index++;
    const literal = text.slice(start, this.index);
    if (simple) return literal.slice(1, -1);
    try {
      return JSON.parse(literal) as string;
    } catch {
      this.index = start;
      return this.fail('invalid escape in string');
    }
  }

  private parseNumber(): number {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    match.lastIndex = this.index;
    const found = match.exec(this.text);
    if (found === null) this.fail('invalid number');
    this.index += found[0].length;
    return Number(found[0]);
  }
}
