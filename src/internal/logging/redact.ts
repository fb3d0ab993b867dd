/**
 * Masks secrets before text reaches a log sink, a notification or a span (notifications-observability.md
 * 5.5, token-push.md Q35). The patterns only use characters that never need JSON escaping, so the same
 * function is safe on a plain message and on a serialized JSON log line.
 */

export const REDACTED = '[REDACTED]';

interface SecretPattern {
  readonly pattern: RegExp;
  readonly replace: (match: string, ...groups: string[]) => string;
}

const SECRET_PATTERNS: readonly SecretPattern[] = [
  // HTTP Authorization header values ("Authorization: Bearer x", "authorization: Basic y").
  {
    pattern:
      /\b(authorization)(["']?\s*[:=]\s*["']?)(?:(bearer|basic|negotiate)\s+)?[A-Za-z0-9._~+/=-]+/gi,
    replace: (_m, key: string, sep: string, scheme: string | undefined) =>
      `${key}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  },
  // Bearer tokens anywhere else. A following plain lower-case word ("Bearer token check") is prose,
  // not a credential: real bearer values are long or carry digits, capitals or punctuation.
  {
    pattern: /\b(bearer)\s+([A-Za-z0-9._~+/=-]+)/gi,
    replace: (match: string, word: string, value: string) =>
      /^[a-z]{1,15}$/.test(value) ? match : `${word} ${REDACTED}`,
  },
  // JWTs: header.payload.signature, the header always starts with base64url('{"') = "eyJ".
  { pattern: /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, replace: () => REDACTED },
  // Vault service/batch/recovery tokens (hvs./hvb./hvr.) and legacy service/batch tokens (s./b. + 24 chars).
  {
    pattern: /\b(hv[sbr])\.[A-Za-z0-9_-]{8,}/g,
    replace: (_m, prefix: string) => `${prefix}.${REDACTED}`,
  },
  {
    pattern: /(?<![A-Za-z0-9._-])([sb])\.[A-Za-z0-9]{24}(?![A-Za-z0-9])/g,
    replace: (_m, p: string) => `${p}.${REDACTED}`,
  },
  // Slack incoming-webhook URLs: keep scheme and host only.
  {
    pattern: /\b(https?:\/\/hooks\.slack(?:-gov)?\.com)\/[A-Za-z0-9/_-]+/g,
    replace: (_m, origin: string) => `${origin}/${REDACTED}`,
  },
];

/** Shortest literal secret worth replacing; shorter strings would shred ordinary text. */
const MIN_LITERAL_SECRET = 4;

/**
 * Returns `text` with vault tokens, JWTs, bearer/Authorization values, Slack webhook paths and every
 * occurrence of the given literal strings masked.
 */
export function redactSecrets(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const secret of [...extra].sort((a, b) => b.length - a.length)) {
    if (secret.length >= MIN_LITERAL_SECRET) out = out.split(secret).join(REDACTED);
  }
  for (const { pattern, replace } of SECRET_PATTERNS) {
    out = out.replace(pattern, replace as (substring: string, ...args: unknown[]) => string);
  }
  return out;
}

/** Scheme and host of a URL, for logging an endpoint without its secret path (Slack, Loki, ...). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return REDACTED;
  }
}
