/**
 * Go's RFC822 layout (`02 Jan 06 15:04 MST`) as the original prints it in subjects and bodies
 * (spec notifications-observability.md, conventions): two-digit day, English month, two-digit
 * year, 24-hour time and the zone abbreviation of the tz database (`CST`, `CET`, `+03`), or a
 * numeric `-0700` offset when none is known.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export function formatRfc822(date: Date, timeZone?: string): string {
  const parts = partsOf(date, timeZone, 'short');
  const offsetMinutes = offsetMinutesAt(date, timeZone);
  const zone =
    tzdataAbbreviation(offsetMinutes, timeZone) ??
    alphabeticAbbreviation(parts.timeZoneName) ??
    numericOffset(offsetMinutes);
  return `${parts.day} ${parts.month} ${parts.year} ${parts.hour}:${parts.minute} ${zone}`;
}

type Parts = Record<'day' | 'month' | 'year' | 'hour' | 'minute' | 'timeZoneName', string>;

function partsOf(
  date: Date,
  timeZone: string | undefined,
  timeZoneName: 'short' | 'longOffset',
): Parts {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    day: '2-digit',
    month: 'short',
    year: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName,
  });
  const parts: Parts = { day: '', month: '', year: '', hour: '', minute: '', timeZoneName: '' };
  for (const part of format.formatToParts(date)) {
    if (part.type in parts) parts[part.type as keyof Parts] = part.value;
  }
  return parts;
}

/** Without tz data: ICU's `CST`, `UTC` are usable, its `GMT+1` style is not. */
function alphabeticAbbreviation(name: string): string | undefined {
  return /^[A-Z]{2,6}$/.test(name) ? name : undefined;
}

function offsetMinutesAt(date: Date, timeZone: string | undefined): number {
  const name = partsOf(date, timeZone, 'longOffset').timeZoneName; // "GMT+05:30" or "GMT"
  const match = /^GMT([+-])(\d\d):(\d\d)$/.exec(name);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

function numericOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

const abbreviationsByZoneFile = new Map<string, ReadonlyMap<number, string> | undefined>();

/** The abbreviation the zone's TZif file uses for this UTC offset (the most recent one wins). */
function tzdataAbbreviation(
  offsetMinutes: number,
  timeZone: string | undefined,
): string | undefined {
  const file = zoneFile(timeZone);
  if (!abbreviationsByZoneFile.has(file))
    abbreviationsByZoneFile.set(file, readAbbreviations(file));
  return abbreviationsByZoneFile.get(file)?.get(offsetMinutes * 60);
}

function zoneFile(timeZone: string | undefined): string {
  const name = timeZone ?? process.env['TZ']?.replace(/^:/, '');
  if (name === undefined || name === '') return '/etc/localtime';
  return isAbsolute(name) ? name : join('/usr/share/zoneinfo', name);
}

/** UTC offset in seconds → abbreviation, from a TZif file (RFC 8536); undefined when unreadable. */
function readAbbreviations(file: string): ReadonlyMap<number, string> | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  if (data.length < 44 || data.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const header = (at: number) => ({
    timecnt: data.readUInt32BE(at + 32),
    typecnt: data.readUInt32BE(at + 36),
    charcnt: data.readUInt32BE(at + 40),
    leapcnt: data.readUInt32BE(at + 28),
    isstdcnt: data.readUInt32BE(at + 24),
    isutcnt: data.readUInt32BE(at + 20),
  });
  const v1 = header(0);
  let start = 0;
  let timeSize = 4;
  if (data[4] !== 0) {
    // Version 2+: skip the 32-bit block and use the 64-bit one.
    start =
      44 + v1.timecnt * 5 + v1.typecnt * 6 + v1.charcnt + v1.leapcnt * 8 + v1.isstdcnt + v1.isutcnt;
    timeSize = 8;
    if (data.length < start + 44 || data.toString('latin1', start, start + 4) !== 'TZif')
      return undefined;
  }
  const h = header(start);
  const indicesAt = start + 44 + h.timecnt * timeSize;
  const typesAt = indicesAt + h.timecnt;
  const charsAt = typesAt + h.typecnt * 6;
  if (data.length < charsAt + h.charcnt) return undefined;
  const typeAbbreviation = (type: number): [number, string] => {
    const at = typesAt + type * 6;
    const offset = data.readInt32BE(at);
    const from = charsAt + (data[at + 5] ?? 0);
    const end = data.indexOf(0, from);
    return [offset, data.toString('latin1', from, end < 0 ? charsAt + h.charcnt : end)];
  };
  const result = new Map<number, string>();
  for (let type = 0; type < h.typecnt; type++) result.set(...typeAbbreviation(type));
  for (let i = 0; i < h.timecnt; i++) result.set(...typeAbbreviation(data[indicesAt + i] ?? 0));
  return result;
}
