import { describe, expect, it } from 'vitest';
import {
  formatValue,
  goQuote,
  redactSecrets,
  redactUrl,
  rfc3339Local,
} from '../../../src/internal/logging/index.js';

describe('Go %q quoting', () => {
  it.each([
    ['plain', 'abc-DEF_1.2/x@y^z+w', 'abc-DEF_1.2/x@y^z+w'],
    ['empty stays bare', '', ''],
    ['space', 'a b', '"a b"'],
    ['colon', 'a:b', '"a:b"'],
    ['escapes', 'q"\\\n\t\r\x07\x0b\x0c\x08', '"q\\"\\\\\\n\\t\\r\\a\\v\\f\\b"'],
    ['control', '\x01\x7f', '"\\x01\\x7f"'],
    ['unicode printable kept', 'é→', '"é→"'],
    ['non-printable unicode', '\u00a0\u200b', '"\\u00a0\\u200b"'],
  ])('%s', (_name, input, expected) => {
    expect(formatValue(input)).toBe(expected);
  });

  it('goQuote always quotes', () => {
    expect(goQuote('x')).toBe('"x"');
  });
});

describe('rfc3339Local', () => {
  it('has second precision and a zone', () => {
    expect(rfc3339Local(new Date('2024-11-26T10:16:05.999Z'))).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:05(Z|[+-]\d\d:\d\d)$/,
    );
  });
});

describe('redactSecrets', () => {
  it.each([
    ['vault service token', 'tok=hvs.CAESIJ0123456789abcdefXYZ end', 'tok=hvs.[REDACTED] end'],
    ['vault batch token', 'hvb.AAAAAQJ0123456789abcdef', 'hvb.[REDACTED]'],
    ['legacy vault token', 'token s.AbCdEfGhIjKlMnOpQrStUvWx.', 'token s.[REDACTED].'],
    ['jwt', 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig_nature-1 done', 'jwt [REDACTED] done'],
    ['bearer', 'curl -H "Bearer abc.DEF/x=="', 'curl -H "Bearer [REDACTED]"'],
    ['bearer, long lower-case value', 'Bearer abcdefghijklmnopq', 'Bearer [REDACTED]'],
    [
      'bearer followed by prose is kept',
      'Bearer token check: not a JWT',
      'Bearer token check: not a JWT',
    ],
    [
      'authorization header',
      'Authorization: Basic dXNlcjpwYXNz',
      'Authorization: Basic [REDACTED]',
    ],
    [
      'slack webhook',
      'post https://hooks.slack.com/services/T000/B000/XXXX failed',
      'post https://hooks.slack.com/[REDACTED] failed',
    ],
  ])('%s', (_name, input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const text =
      'kinit -k -t /kt/dunepro.keytab dunepro/managedtokens/h.fnal.gov@FNAL.GOV s.fnal.gov exit status 1';
    expect(redactSecrets(text)).toBe(text);
  });

  it('masks given literal strings, longest first', () => {
    expect(redactSecrets('a secret-long and secret', ['secret', 'secret-long'])).toBe(
      'a [REDACTED] and [REDACTED]',
    );
  });

  it('keeps JSON valid', () => {
    const line = JSON.stringify({ msg: 'Bearer eyJa.eyJb.c and hvs.abcdefghijklmnop' });
    expect(() => JSON.parse(redactSecrets(line))).not.toThrow();
  });

  it('redactUrl keeps scheme and host', () => {
    expect(redactUrl('https://hooks.slack.com/services/a/b')).toBe('https://hooks.slack.com');
  });
});
