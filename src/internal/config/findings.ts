import type { Finding, Severity, SourcePos } from './types.js';

export function formatFinding(pos: SourcePos, keyPath: string, message: string): string {
  return `${pos.file}:${pos.line}:${pos.col}: ${keyPath}: ${message}`;
}

/** Renders a value for the `(got ...)` part of a message. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

export class FindingCollector {
  readonly list: Finding[] = [];

  add(
    severity: Severity,
    pos: SourcePos,
    keyPath: string,
    message: string,
    service?: string,
  ): void {
    const finding: Finding = {
      severity,
      pos,
      keyPath,
      message,
      text: formatFinding(pos, keyPath, message),
      ...(service === undefined ? {} : { service }),
    };
    this.list.push(finding);
  }

  error(pos: SourcePos, keyPath: string, message: string): void {
    this.add('error-global', pos, keyPath, message);
  }

  warn(pos: SourcePos, keyPath: string, message: string): void {
    this.add('warning', pos, keyPath, message);
  }
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Closest known key (case-insensitive) if it is plausibly a typo of `key`. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(lower.length / 4));
  return best.distance <= limit ? best.name : undefined;
}
