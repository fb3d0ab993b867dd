/**
 * Reader for `condor_status -long` output (external-tools.md 3.3): ads separated by blank lines, one
 * `Attr = value` per line. A line without `=` makes the whole answer unusable, as in the original.
 */
export type ClassAdValue = string | number;
export type ClassAd = ReadonlyMap<string, ClassAdValue>;

export type ClassAdParse =
  | { readonly ok: true; readonly ads: readonly ClassAd[] }
  | { readonly ok: false; readonly error: string };

const MAX_LINE = 64 * 1024;

export function parseLongClassAds(text: string): ClassAdParse {
  const ads: ClassAd[] = [];
  let current = new Map<string, ClassAdValue>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line.length > MAX_LINE) return { ok: false, error: 'classad line longer than 64 KiB' };
    if (line.trim() === '') {
      if (current.size > 0) ads.push(current);
      current = new Map();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) return { ok: false, error: `invalid classad attribute: ${JSON.stringify(line)}` };
    const name = trimChars(line.slice(0, eq), ' "');
    current.set(name, parseValue(line.slice(eq + 1)));
  }
  if (current.size > 0) ads.push(current);
  return { ok: true, ads };
}

function parseValue(raw: string): ClassAdValue {
  const value = trimChars(raw, ' ');
  if (value.startsWith('"')) return trimChars(value, '"');
  const asNumber = Number(value);
  return value !== '' && Number.isFinite(asNumber) ? asNumber : value;
}

function trimChars(text: string, chars: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && chars.includes(text[start] ?? '')) start++;
  while (end > start && chars.includes(text[end - 1] ?? '')) end--;
  return text.slice(start, end);
}

/**
 * Why a schedd name cannot be part of a token file name (`vt_u<uid>-<schedd>-<name>` under the token
 * root), or undefined when it can: no path separator, `..`, NUL, whitespace or control character,
 * and no leading `.` or `-`.
 */
export function unsafeScheddName(name: string): string | undefined {
  if (name.includes('/')) return 'contains "/"';
  if (name.includes('..')) return 'contains ".."';
  if (/[\s\x00-\x1f\x7f]/.test(name)) return 'contains whitespace, NUL or a control character';
  if (name.startsWith('.') || name.startsWith('-')) return 'starts with "." or "-"';
  return undefined;
}

export interface ScheddNames {
  /** Usable names in output order. */
  readonly names: string[];
  /** Names refused by unsafeScheddName, with the reason. */
  readonly refused: { readonly name: string; readonly reason: string }[];
}

/**
 * Schedd names in output order. Ads without a `Name` are skipped (the original turned them into the
 * literal name `%!d(<nil>)`, which no credd answers to); a name that would escape the token root
 * when it becomes part of a file name is refused.
 */
export function scheddNames(ads: readonly ClassAd[]): ScheddNames {
  const result: ScheddNames = { names: [], refused: [] };
  for (const ad of ads) {
    const value = ad.get('Name');
    if (value === undefined || String(value) === '') continue;
    const name = String(value);
    const reason = unsafeScheddName(name);
    if (reason === undefined) result.names.push(name);
    else result.refused.push({ name, reason });
  }
  return result;
}
