import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseYamlWithLibrary, type ParsedFile } from '../../../src/internal/config/parse.js';
import { NotInFastSubset, parseYamlFast } from '../../../src/internal/config/yamlfast.js';

const read = (relative: string): string =>
  readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');
const EXAMPLE = read('../../../config.example.yaml');
const FIXTURE = read('../../fixtures/config/managedTokens.yml');

function library(text: string): ParsedFile | Error {
  try {
    return parseYamlWithLibrary(text, 'f.yml');
  } catch (error) {
    return error as Error;
  }
}

function fast(text: string): ParsedFile | 'fallback' {
  try {
    return parseYamlFast(text, 'f.yml');
  } catch (error) {
    if (error instanceof NotInFastSubset) return 'fallback';
    throw error;
  }
}

const EDGE_CASES = [
  "a: 'it''s'",
  'a: "x\\ny\\"z\\u00e9"',
  "a: it's",
  'a: b#c',
  'a: b #c',
  'a: b   # c',
  `a: [x, "y, z", 'w']`,
  'a: {b: 1, c: [1, 2], d: {e: f}}',
  'a: -1\nb: 1.5\nc: .5\nd: 007\ne: +3\nf: 1.',
  'a: 0x10',
  'a: 0o17',
  'a: 1e3',
  'a: .inf',
  'a: ~\nb: Null\nc: NULL\nd: null\ne:',
  'a: yes\nb: no\nc: on\nd: TRUE\ne: False\nf: tRue',
  'a:\n- x\n- y\nb: 1',
  'a:\n  - x\n  -\n  - y',
  'a:\n  b:\n    c: 1\n  d: 2\ne: 3',
  '"quoted key": 1\n\'single\': 2',
  "a: 'x' # c",
  'a: "x" y',
  'a: b: c',
  'a: b\n  c',
  'a: |\n  x',
  'a: >\n  x',
  'a: &x 1\nb: *x',
  'a: &x {b: 1}\nc:\n  <<: *x\n  d: 2',
  'a: [a b, c]',
  'a: {x: }',
  'a: x:y',
  'a: http://x:80/p',
  'a: "{{.Account}}/x"',
  'a: --perms --chmod=u=r,go=',
  "a: 'HasManagedTokens =?= true'",
  'a: [a,b]',
  'a: {a: 1,b: 2}',
  'a: [x]]',
  'a  : 1',
  'a: 1\na: 2\nA: 3',
  'a: {b: 1, B: 2}',
  '# only a comment\n',
  '',
  '- a\n- b',
  'a: [1, 2',
  'a:\n\tb: 1',
  '---\na: 1',
  'a: !!str 5',
  'a: @x',
  'a: `x`',
  'a: %x',
  'a: "unterminated',
  "a: 'x\n  y'",
  'a:\n  - b: 1\n    c: 2',
  'a:\n  - - x',
  'a: [b: 1]',
  'a: {b}',
  'a: [a, ]',
  'a: 12345678901234567890',
  'a: -',
  'a: -x',
  'a: :x',
  'a: ?x',
  'a: x #',
  'a:   \n  b: 1',
  'a: 1\n  b: 2',
  ' a: 1',
  'a:\n    b: 1\n  c: 2',
  'a: "\\t\\x41"',
  'a: "x\\/y"',
  'a: [{b: 1}, [c]]',
  'a: {"b":1}',
  'a: b:',
  'key with spaces: v',
  'a: v\n\n\n# c\nb: w',
  'experiments:\n  DUNE:\n    roles:\n      Production: {account: x, destinationNodes: [n1, n2]}',
];

describe('fast YAML subset reader', () => {
  it.each(EDGE_CASES.map((text) => [text]))(
    'agrees with the YAML library or defers to it: %j',
    (text) => {
      const ours = fast(text);
      if (ours === 'fallback') return;
      const theirs = library(text);
      expect(
        theirs,
        `the library rejects ${JSON.stringify(text)} but the fast reader accepted it`,
      ).not.toBeInstanceOf(Error);
      expect(ours).toEqual(theirs);
    },
  );

  it('handles the common forms itself (no fallback)', () => {
    for (const text of [
      "a: 'it''s'",
      'a: [x, "y, z"]',
      'a:\n- x',
      'a: {b: 1}',
      'a: 300s\nb: 3d\nc: -5',
      'a:\n  b:\n    c: 1',
      'a: 1\na: 2',
    ]) {
      expect(fast(text), text).not.toBe('fallback');
    }
  });

  it('reads config.example.yaml and the sample exactly like the library, without falling back', () => {
    for (const text of [EXAMPLE, FIXTURE]) {
      const ours = fast(text);
      expect(ours).not.toBe('fallback');
      expect(ours).toEqual(library(text));
    }
  });

  it('agrees with the library on every single-line edit of the example', () => {
    const lines = EXAMPLE.split('\n');
    const edits = [
      (l: string) => l.replace(':', ': x:'),
      (l: string) => l.replace(/: (.*)$/, ': "$1"'),
      (l: string) => `${l} # c`,
      (l: string) => l.replace(/^(\s*)/, '$1 '),
      (l: string) => l.toUpperCase(),
    ];
    let compared = 0;
    lines.forEach((_, index) => {
      for (const edit of edits) {
        const text = lines.map((line, i) => (i === index ? edit(line) : line)).join('\n');
        const ours = fast(text);
        if (ours === 'fallback') continue;
        const theirs = library(text);
        expect(theirs, `line ${index + 1}`).not.toBeInstanceOf(Error);
        expect(ours, `line ${index + 1}`).toEqual(theirs);
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(lines.length);
  });
});

describe('fast YAML reader, randomized differential check', () => {
  // Deterministic generator (no flakiness): documents assembled from fragments that are valid and
  // invalid YAML in many combinations. Whatever the fast reader accepts must equal the library's tree.
  const KEYS = [
    'a',
    'Key',
    'b c',
    '"q k"',
    "'s'",
    'x-y_z',
    '1',
    'true',
    '<<',
    'k#',
    'k:v',
    '-k',
    'ab',
  ];
  const VALUES = [
    '',
    ' 1',
    ' -2',
    ' 1.5',
    ' 0x1f',
    ' 1e2',
    ' yes',
    ' ~',
    ' null',
    ' "dq \\" x"',
    " 'sq '' x'",
    ' plain text',
    ' a # c',
    ' a#b',
    ' [x, y]',
    ' [x, [y, z]]',
    ' {p: 1, q: [r]}',
    ' {p: }',
    ' [a, ]',
    ' "unterminated',
    ' &anc v',
    ' *anc',
    ' |',
    ' a: b',
    ' http://h:1/p',
    ' {{.Account}}',
    ' "{{.Account}}"',
    ' -',
    ' - x',
    ' [',
    ' }',
    " it's",
    ' 300s',
    ' 3d',
    ' 007',
    ' +1',
    ' .5',
  ];
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(items: readonly T[]): T => items[random(items.length)] as T;

  function document(): string {
    const lines: string[] = [];
    const count = 1 + random(8);
    let indent = 0;
    for (let i = 0; i < count; i++) {
      const shape = random(10);
      const pad = ' '.repeat(indent);
      if (shape < 6) lines.push(`${pad}${pick(KEYS)}:${pick(VALUES)}`);
      else if (shape < 8) lines.push(`${pad}- ${pick(VALUES).trim()}`);
      else if (shape === 8) lines.push(`${pad}# comment`);
      else lines.push('');
      const move = random(4);
      if (move === 0) indent += 2;
      else if (move === 1 && indent >= 2) indent -= 2;
      else if (move === 2 && random(5) === 0) indent += 1;
    }
    return lines.join('\n');
  }

  it('agrees with the library on 2000 generated documents', () => {
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const text = document();
      const ours = fast(text);
      if (ours === 'fallback') continue;
      const theirs = library(text);
      expect(theirs, `library rejects what the fast reader accepted:\n${text}`).not.toBeInstanceOf(
        Error,
      );
      expect(ours, text).toEqual(theirs);
      accepted++;
    }
    // the generator must exercise the fast path, not only the fallback
    expect(accepted).toBeGreaterThan(200);
  });
});
