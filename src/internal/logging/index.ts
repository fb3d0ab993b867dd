/** Public API of logging. Import from here only (loki.ts is the observability engineer's). */
export { createLogger } from './logger.js';
export type { ExtraStream, LoggerHandle, LoggerOptions } from './logger.js';
export { redactSecrets, redactUrl, REDACTED } from './redact.js';
export { formatLogrusLine, goQuote, formatValue, rfc3339Local, levelName } from './format.js';
export type { Logger } from 'pino';
