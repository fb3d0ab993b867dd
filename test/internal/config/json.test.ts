import { describe, expect, it } from 'vitest';
import { parseConfigText, ParseError } from '../../../src/internal/config/parse.js';

describe('JSON parsing with positions', () => {
  it('records key and value positions and lower-cases keys', () => {
    const { root } = parseConfigText(
      '{\n   "Experiments": {\n      "DUNE": {"a": [1, 2.5, "x\\"y\\u00e9"], "b": null, "c": true}\n   }\n}\n',
      'f.json',
      'json',
    );
    const experiments = root.entries.get('experiments');
    expect(experiments).toMatchObject({
      rawKey: 'Experiments',
      keyPos: { file: 'f.json', line: 2, col: 4 },
    });
    const dune =
      experiments?.value.kind === 'map' ? experiments.value.entries.get('dune') : undefined;
    expect(dune?.keyPos).toMatchObject({ line: 3, col: 7 });
    const a = dune?.value.kind === 'map' ? dune.value.entries.get('a')?.value : undefined;
    expect(a).toMatchObject({ kind: 'seq', pos: { line: 3, col: 21 } });
    expect(
      a?.kind === 'seq'
        ? a.items.map((item) => (item.kind === 'scalar' ? item.value : undefined))
        : [],
    ).toEqual([1, 2.5, 'x"yé']);
  });

  it('reports duplicate keys after lower-casing instead of letting the last win', () => {
    const { duplicates } = parseConfigText('{"a": 1,\n "A": 2}', 'f.json', 'json');
    expect(duplicates).toEqual([
      expect.objectContaining({
        rawKey: 'A',
        firstRawKey: 'a',
        pos: expect.objectContaining({ line: 2, col: 2 }),
      }),
    ]);
  });

  it.each([
    ['{"a": 1,}', 1, 9],
    ['{"a": 01}', 1, 8],
    ['{\n"a": tru}', 2, 6],
    ['{"a": "x', 1, 9],
    ['[1]', 1, 1],
    ['{} x', 1, 4],
    ["{'a': 1}", 1, 2],
  ])('rejects %j with a position', (text, line, col) => {
    expect(() => parseConfigText(text, 'f.json', 'json')).toThrow(ParseError);
    expect(() => parseConfigText(text, 'f.json', 'json')).toThrow(`f.json:${line}:${col}:`);
  });

  it('agrees with JSON.parse on the committed sample', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(
      new URL('../../fixtures/config/managedTokens.json', import.meta.url),
      'utf8',
    );
    const toPlain = (node: import('../../../src/internal/config/parse.js').CNode): unknown =>
      node.kind === 'scalar'
        ? node.value
        : node.kind === 'seq'
          ? node.items.map(toPlain)
          : Object.fromEntries([...node.entries.values()].map((e) => [e.rawKey, toPlain(e.value)]));
    expect(toPlain(parseConfigText(text, 'f.json', 'json').root)).toEqual(JSON.parse(text));
  });
});
