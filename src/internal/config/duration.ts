/**
 * Go `time.ParseDuration` grammar (config.md 3): optional sign, then one or more
 * `<decimal><unit>` with unit ns, us, µs, μs, ms, s, m, h; a bare `0` is allowed. No `d`, no spaces,
 * no bare numbers. Returns milliseconds (fractional below 1 ms), or undefined when the text is not a
 * Go duration.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let totalMs = 0;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    if (match === null) return undefined;
    const [whole, intPart = '', fracPart, unit = ''] = match;
    if (intPart === '' && (fracPart === undefined || fracPart === '')) return undefined;
    const factor = UNIT_MS[unit];
    if (factor === undefined) return undefined;
    totalMs += Number(`${intPart || '0'}.${fracPart ?? ''}0`) * factor;
    rest = rest.slice(whole.length);
  }
  return sign * totalMs;
}

/** Go's rendering is not needed; this is for messages only (`60000` → `60s`). */
export function formatMs(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
