/**
 * Public API of the configuration system (spec config.md). Import from here only.
 */
export * from './types.js';
export type { ServiceName } from '../service/name.js';
export { makeServiceName, parseServiceName } from '../service/name.js';
