export { makeServiceName, parseServiceName, DEFAULT_ROLE } from './name.js';
export type { ServiceName } from './name.js';
