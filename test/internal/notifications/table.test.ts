import { describe, expect, it } from 'vitest';
import {
  PUSH_TABLE_LEAD,
  renderPushTable,
  renderTable,
} from '../../../src/internal/notifications/table.js';

const dot = (s: string): string => s.replaceAll('·', ' ');

describe('push table (tablewriter v0.0.5 layout, borders off)', () => {
  it('reproduces the spec example byte for byte', () => {
    const table = renderTable(
      ['Node', 'Error'],
      [
        [
          'node1.fnal.gov',
          'Error pushing vault tokens to destination node node1.fnal.gov: exit status 255',
        ],
      ],
    );
    expect(table).toBe(
      [
        '·······NODE······|·············ERROR···············',
        '-----------------+---------------------------------',
        '··node1.fnal.gov·|·Error·pushing·vault·············',
        '·················|·tokens·to·destination·node······',
        '·················|·node1.fnal.gov:·exit·status·····',
        '·················|····························255··',
        '',
      ]
        .map(dot)
        .join('\n'),
    );
  });

  it('prefixes the lead sentence and sorts rows by node', () => {
    const text = renderPushTable(
      new Map([
        ['n2', 'b'],
        ['n1', 'a'],
      ]),
    );
    expect(text.startsWith(`${PUSH_TABLE_LEAD}\n\n`)).toBe(true);
    const lines = text.split('\n');
    expect(lines[2]).toBe(dot('··NODE·|·ERROR··'));
    expect(lines[3]).toBe('-------+--------');
    expect(lines[4]).toBe(dot('··n1···|·a······'));
    expect(lines[5]).toBe(dot('··n2···|·b······'));
    expect(text.endsWith('\n')).toBe(true);
  });

  it('returns an empty string for no rows', () => {
    expect(renderPushTable(new Map())).toBe('');
  });

  it('widens a column to a word longer than 30 characters instead of breaking it', () => {
    const long = 'x'.repeat(40);
    const table = renderTable(['Node', 'Error'], [['n', `short ${long} tail`]]);
    const rows = table.split('\n').slice(2, -1);
    expect(rows).toEqual([
      dot(`··n····|·short${'·'.repeat(37)}`),
      dot(`·······|·${long}··`),
      dot(`·······|·tail${'·'.repeat(38)}`),
    ]);
  });

  it('centres headers with the odd space on the right', () => {
    const header = renderTable(['Node', 'Error'], [['abcdefgh', 'abcdef']]).split('\n')[0];
    // NODE in 8 columns: 2 left, 2 right; ERROR in 6: 0 left, 1 right.
    expect(header).toBe(dot('····NODE···|·ERROR···'));
  });
});
