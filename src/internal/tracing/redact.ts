import type { AttributeValue } from './api.js';

/**
 * Last line of defence for span attributes (spec 5.5): callers must not pass secrets, but a
 * value that still looks like one is masked here. Patterns: HashiCorp Vault tokens, JWTs,
 * Authorization/Bearer values, Slack webhook paths (scheme and host are kept).
 */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\bhv[sbr]\.[A-Za-z0-9_-]{20,}/g, '[REDACTED]'],
  [/\bs\.[A-Za-z0-9]{24}\b/g, '[REDACTED]'],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[REDACTED]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  [/(https?:\/\/hooks\.slack(?:-gov)?\.com)\/[^\s"']*/gi, '$1/[REDACTED]'],
];

export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

export function redactAttributeValue(value: AttributeValue): AttributeValue {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return (value as readonly string[]).map(redactText);
  }
  return value;
}
