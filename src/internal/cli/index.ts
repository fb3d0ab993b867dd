/** Public API of the command-line layer. Entry points use main.ts; run functions only need context.ts. */
export type {
  CommonFlags,
  NotificationsDisabledReason,
  ProgramName,
  RefreshFlags,
  RefreshStartup,
  RequiredProgram,
  ResolvedPrograms,
  StartupContext,
  TokenPushFlags,
  TokenPushStartup,
} from './context.js';
export { REQUIRED_PROGRAMS } from './context.js';
export {
  parseFlags,
  parseRefreshFlags,
  parseTokenPushFlags,
  usageText,
  REFRESH_FLAGS,
  TOKEN_PUSH_FLAGS,
} from './flags.js';
export type { FlagDef, ParseOutcome } from './flags.js';
export {
  startRefresh,
  startTokenPush,
  CONFIG_FATAL_STDOUT,
  ONBOARDING_WITHOUT_SERVICE,
  ROOT_MESSAGE,
  TIMEOUTS_EXCEED_GLOBAL,
} from './startup.js';
export type { ProcessFacts, StartupOutcome } from './startup.js';
export { readBuildIdentity, versionLine, NO_VERSION_ERROR } from './version.js';
export type { BuildIdentity } from './version.js';
