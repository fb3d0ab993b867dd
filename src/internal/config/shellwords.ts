/**
 * Shell-word splitting as the original's shlex does it (config.md 3): whitespace separates words;
 * '...' is literal; "..." honours backslash escapes; a backslash outside quotes escapes the next
 * character; `#` at the start of a word starts a comment up to the end of the line. No expansion.
 */
export type SplitResult =
  | { readonly ok: true; readonly words: string[] }
  | { readonly ok: false; readonly words: string[]; readonly error: string };

type State = 'between' | 'word' | 'single' | 'double' | 'escape' | 'doubleEscape' | 'comment';

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

export function splitShellWords(text: string): SplitResult {
  const words: string[] = [];
  let current = '';
  let state: State = 'between';
  for (const c of text) {
    switch (state) {
      case 'between':
        if (isSpace(c)) break;
        if (c === '#') state = 'comment';
        else if (c === "'") state = 'single';
        else if (c === '"') state = 'double';
        else if (c === '\\') state = 'escape';
        else {
          current = c;
          state = 'word';
        }
        break;
      case 'word':
        if (isSpace(c)) {
          words.push(current);
          current = '';
          state = 'between';
        } else if (c === "'") state = 'single';
        else if (c === '"') state = 'double';
        else if (c === '\\') state = 'escape';
        else current += c;
        break;
      case 'single':
        if (c === "'") state = 'word';
        else current += c;
        break;
      case 'double':
        if (c === '"') state = 'word';
        else if (c === '\\') state = 'doubleEscape';
        else current += c;
        break;
      case 'escape':
        current += c;
        state = 'word';
        break;
      case 'doubleEscape':
        current += c;
        state = 'double';
        break;
      case 'comment':
        if (c === '\n') state = 'between';
        break;
    }
  }
  switch (state) {
    case 'word':
      words.push(current);
      return { ok: true, words };
    case 'between':
    case 'comment':
      return { ok: true, words };
    case 'single':
      return { ok: false, words, error: 'unclosed single quote' };
    case 'double':
    case 'doubleEscape':
      return { ok: false, words, error: 'unclosed double quote' };
    case 'escape':
      return { ok: false, words, error: 'backslash at end of input' };
  }
}
