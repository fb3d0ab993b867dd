export { getToken, htgettokenArgv } from './gettoken.js';
export type { GetTokenRequest, GetTokenResult } from './gettoken.js';
export { storeAndGetToken, failureMessage, STORE_FAILED } from './store.js';
export type { StoreRequest, StoreResult, ScheddResult, ScheddFailure } from './store.js';
export { removeLocalTokens } from './remove.js';
export { checkVaultToken } from './validate.js';
export type { TokenCheck } from './validate.js';
export { authNeededText, AUTH_NEEDED } from './scan.js';
export { bearerTokenWarnings } from './bearer.js';
export {
  storedTokenPath,
  scheddTokenPath,
  condorTokenPath,
  defaultVaultTokenPath,
} from './paths.js';
export {
  writeFileAtomic,
  createPrivateTempFile,
  readIfExists,
  removeIfExists,
  moveFile,
  tempDirFrom,
  TOKEN_FILE_MODE,
} from './files.js';
