import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../../src/internal/config/index.js';

describe('parseGoDuration (Go time.ParseDuration grammar)', () => {
  it.each([
    ['300s', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['0', 0],
    ['-5s', -5000],
    ['+2m', 120_000],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1000ns', 0.001],
    ['.5s', 500],
    ['5.s', 5000],
  ])('accepts %s', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each([
    '',
    '300',
    '10',
    '1d',
    '60ssss',
    '1 s',
    's',
    '.s',
    '1.2.3s',
    'abc',
    '5S',
    '-',
    '1h 30m',
    '0.0',
    '1m-5s',
  ])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
