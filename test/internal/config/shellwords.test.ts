import { describe, expect, it } from 'vitest';
import { splitShellWords } from '../../../src/internal/config/index.js';

describe('splitShellWords', () => {
  it('splits on whitespace', () => {
    expect(splitShellWords('-foo --bar  value\t-x')).toEqual({
      ok: true,
      words: ['-foo', '--bar', 'value', '-x'],
    });
  });
  it('keeps single quotes literal and handles escapes in double quotes', () => {
    expect(splitShellWords(`'a b\\n' "c \\"d\\"" e\\ f`)).toEqual({
      ok: true,
      words: ['a b\\n', 'c "d"', 'e f'],
    });
  });
  it('joins adjacent quoted parts into one word', () => {
    expect(splitShellWords(`--chmod='u=r,go='x`)).toEqual({
      ok: true,
      words: ['--chmod=u=r,go=x'],
    });
  });
  it('treats # at the start of a word as a comment to end of line, literal inside a word', () => {
    expect(splitShellWords('a#b # comment here\nc')).toEqual({ ok: true, words: ['a#b', 'c'] });
  });
  it('keeps an empty quoted word', () => {
    expect(splitShellWords(`a "" b`)).toEqual({ ok: true, words: ['a', '', 'b'] });
  });
  it('returns [] for the empty string', () => {
    expect(splitShellWords('   ')).toEqual({ ok: true, words: [] });
  });
  it('reports an unclosed quote with the words parsed before it', () => {
    expect(splitShellWords(`-a b "unclosed`)).toEqual({
      ok: false,
      words: ['-a', 'b'],
      error: 'unclosed double quote',
    });
    expect(splitShellWords(`x 'y`)).toMatchObject({ ok: false, error: 'unclosed single quote' });
    expect(splitShellWords('x \\')).toMatchObject({
      ok: false,
      error: 'backslash at end of input',
    });
  });
  it('does not expand variables or operators', () => {
    expect(splitShellWords('$HOME a|b;c')).toEqual({ ok: true, words: ['$HOME', 'a|b;c'] });
  });
});
