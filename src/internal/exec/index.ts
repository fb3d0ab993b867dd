/** Public API of the process runner. Import from here only. */
export { runCommand, DEFAULT_OUTPUT_CAP_BYTES, DEFAULT_DRAIN_MS } from './run.js';
export type { CaptureMode, CommandSpec, CommandResult } from './run.js';
export {
  ExecError,
  NO_COMMAND_MESSAGE,
  exitStatusMessage,
  signalMessage,
  spawnFailureMessage,
} from './errors.js';
export type { ExecFailureReason } from './errors.js';
export { buildChildEnv, MANAGED_VARS } from './env.js';
export type { ChildEnv, ManagedSettings, ManagedVar, ParentEnv } from './env.js';
export { appendSystemPath, lookupPrograms, resolveProgram } from './programs.js';
export type { ProgramLookup } from './programs.js';
export { deadline } from './deadline.js';
export type { Deadline, DeadlineOptions } from './deadline.js';
