/**
 * The text line format of the original's log files (notifications-observability.md 5.2):
 * `time="<RFC3339 local, seconds>" level=<lvl> msg=<msg> <k>=<v> ...`, remaining keys sorted, values quoted
 * Go-%q-style only when they contain characters outside `[A-Za-z0-9-._/@^+]`.
 */

/** pino numeric levels → logrus level names. */
export function levelName(level: number): string {
  if (level >= 60) return 'fatal';
  if (level >= 50) return 'error';
  if (level >= 40) return 'warning';
  if (level >= 30) return 'info';
  if (level >= 20) return 'debug';
  return 'trace';
}

const PLAIN = /^[A-Za-z0-9\-._/@^+]*$/;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
  0x22: '\\"',
  0x5c: '\\\\',
};

/** Go `strconv.Quote` (what `%q` does for a string). */
export function goQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    const short = SHORT_ESCAPES[cp];
    if (short !== undefined) out += short;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** A field value as logrus prints it: bare when plain, else %q. Empty strings stay bare (`k=`). */
export function formatValue(value: string): string {
  return PLAIN.test(value) ? value : goQuote(value);
}

/** Go's fmt.Sprint look for the values we log: arrays as `[a b]`, errors by message, objects as JSON. */
export function stringifyField(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return `[${value.map(stringifyField).join(' ')}]`;
  if (typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    // pino serialises errors as {type, message, stack}.
    if (typeof rec['message'] === 'string' && ('stack' in rec || 'type' in rec))
      return rec['message'];
    return JSON.stringify(value);
  }
  return String(value);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** RFC 3339 in local time with second precision; `Z` when the local offset is zero. */
export function rfc3339Local(date: Date): string {
  const offsetMin = -date.getTimezoneOffset();
  const zone =
    offsetMin === 0
      ? 'Z'
      : `${offsetMin > 0 ? '+' : '-'}${pad2(Math.floor(Math.abs(offsetMin) / 60))}:${pad2(Math.abs(offsetMin) % 60)}`;
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}` +
    `T${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}${zone}`
  );
}

/** pino bookkeeping keys that are not log fields. */
const INTERNAL_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/** Renders one parsed pino record as a logrus text line (with trailing newline). */
export function formatLogrusLine(record: Readonly<Record<string, unknown>>): string {
  const time = typeof record['time'] === 'number' ? new Date(record['time']) : new Date();
  const level = typeof record['level'] === 'number' ? levelName(record['level']) : 'info';
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const parts = [
    `time=${formatValue(rfc3339Local(time))}`,
    `level=${level}`,
    `msg=${formatValue(msg)}`,
  ];
  const keys = Object.keys(record)
    .filter((k) => !INTERNAL_KEYS.has(k))
    .map((k) => ({ key: k === 'err' ? 'error' : k, value: record[k] }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { key, value } of keys) {
    parts.push(`${key}=${formatValue(stringifyField(value))}`);
  }
  return `${parts.join(' ')}\n`;
}
