/** Reading the captured output of htgettoken / condor_vault_storer (token-push.md 3.8). */

export const AUTH_NEEDED = 'authentication needed for service to generate vault token';

/** `authentication needed…[: detail]` when the output says so, else undefined. */
export function authNeededText(output: string): string | undefined {
  if (!/Authentication needed for.*/.test(output)) return undefined;
  if (/htgettoken:.*403.*permission denied/.test(output))
    return `${AUTH_NEEDED}: permission denied to generate vault token`;
  if (/htgettoken: Polling for response took longer than.*/.test(output)) {
    return `${AUTH_NEEDED}: htgettoken timeout to generate vault token`;
  }
  return AUTH_NEEDED;
}
