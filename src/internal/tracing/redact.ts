import { redactSecrets } from '../logging/redact.js';
import type { AttributeValue } from './api.js';

/**
 * Last line of defence for span attributes (spec 5.5): callers must not pass secrets, but a
 * value that still looks like one (vault/bearer tokens, JWTs, Authorization values, Slack
 * webhook paths) is masked with the same rules as the logs.
 */
export function redactText(text: string): string {
  return redactSecrets(text);
}

export function redactAttributeValue(value: AttributeValue): AttributeValue {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return (value as readonly string[]).map(redactText);
  }
  return value;
}
