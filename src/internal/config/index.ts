/**
 * Public API of the configuration system (spec config.md). Import from here only.
 */
export * from './types.js';
export type { ServiceName } from '../service/name.js';
export { makeServiceName, parseServiceName, DEFAULT_ROLE } from '../service/name.js';
export {
  loadAndValidate,
  validateSource,
  readConfigSource,
  listServices,
  selectServiceNames,
  checkConfig,
  formatFindingLine,
} from './load.js';
export type { ConfigSource, CheckConfigOptions } from './load.js';
export { defaultSearchDirs, JSONNET_MESSAGE } from './discovery.js';
export { parseGoDuration } from './duration.js';
export { splitShellWords } from './shellwords.js';
export type { SplitResult } from './shellwords.js';
export type { KeyOrigin } from './template.js';
export {
  compileTemplate,
  TemplateError,
  ROLE_FILE_TEMPLATE_FIELDS,
  PRINCIPAL_TEMPLATE_FIELDS,
  DEFAULT_ROLE_FILE_TEMPLATE,
} from './template.js';
export {
  parseVaultServerOption,
  credkeyOf,
  htgettokenOptsFor,
  splitCollectors,
  VAULT_SERVER_ENV,
} from './services.js';
export { DEFAULT_TIMEOUTS, NO_RETRIES } from './timeouts.js';
export { DEFAULT_DB_LOCATION, DEFAULT_ADMIN_EMAIL, DEV_ENVIRONMENT_ENV } from './global.js';
export { roleFileTemplateContext, renderRoleFileDestination } from './destination.js';
export type { RenderedDestination } from './destination.js';
