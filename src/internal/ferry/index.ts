/** FERRY client: getUserInfo over TLS client certificates or a bearer token (spec ferry-and-db.md 2-3). */
export {
  DEFAULT_FERRY_CONCURRENCY,
  queryFerryUids,
  type AccountResult,
  type FerryAuth,
  type FerryLog,
  type FerryQueryOptions,
} from './client.js';
export { userInfoUrl, parseFerryUrl, MAX_BODY_BYTES } from './http.js';
export {
  decodeFerryResponse,
  uidFromBody,
  type FerryResponse,
  type FerryOutput,
  type UidOutcome,
} from './response.js';
export { loadTlsMaterial, loadCaDirectory, type TlsFiles, type TlsMaterial } from './tls.js';
export {
  JwtSession,
  htgettokenOptsFor,
  parseJwt,
  serviceNameOf,
  splitServiceName,
  tokenWarnings,
  type JwtPrograms,
  type JwtSettings,
} from './jwt.js';
