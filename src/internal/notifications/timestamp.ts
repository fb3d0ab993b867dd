/**
 * Go's RFC822 layout (`02 Jan 06 15:04 MST`) as the original prints it in subjects and bodies
 * (spec notifications-observability.md, conventions): two-digit day, English month, two-digit
 * year, 24-hour time and the zone abbreviation; a numeric `-0700` offset when the zone has no
 * alphabetic abbreviation.
 */
export function formatRfc822(date: Date, timeZone?: string): string {
  const parts = partsOf(date, timeZone, 'short');
  const zone = alphabeticAbbreviation(parts.timeZoneName) ?? numericOffset(date, timeZone);
  return `${parts.day} ${parts.month} ${parts.year} ${parts.hour}:${parts.minute} ${zone}`;
}

type Parts = Record<'day' | 'month' | 'year' | 'hour' | 'minute' | 'timeZoneName', string>;

function partsOf(date: Date, timeZone: string | undefined, timeZoneName: 'short' | 'longOffset'): Parts {
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

/** `CST`, `UTC`, `GMT` are kept; ICU's `GMT+1` style means "no abbreviation known". */
function alphabeticAbbreviation(name: string): string | undefined {
  return /^[A-Z]{2,6}$/.test(name) ? name : undefined;
}

function numericOffset(date: Date, timeZone: string | undefined): string {
  const name = partsOf(date, timeZone, 'longOffset').timeZoneName; // "GMT+05:30" or "GMT"
  const match = /^GMT([+-])(\d\d):(\d\d)$/.exec(name);
  return match ? `${match[1]}${match[2]}${match[3]}` : '+0000';
}
