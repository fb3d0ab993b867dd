/**
 * What a vault token must look like before token-push stores it anywhere or pushes it to a node
 * (external-tools.md 4): current Vault service tokens `hvs.<opaque>`, legacy `s.<opaque>`; one line,
 * optionally newline-terminated.
 */
export type TokenCheck =
  { readonly ok: true; readonly token: string } | { readonly ok: false; readonly reason: string };

const PLAUSIBLE_TOKEN = /^(?:hvs\.[A-Za-z0-9_-]{8,}|s\.[A-Za-z0-9]{8,})[A-Za-z0-9_.=-]*$/;

export function checkVaultToken(content: string | Buffer | undefined): TokenCheck {
  if (content === undefined) return { ok: false, reason: 'no token file' };
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const token = text.replace(/\r?\n$/, '');
  if (token.trim() === '') return { ok: false, reason: 'token file is empty' };
  if (/[\s]/.test(token))
    return { ok: false, reason: 'token file holds more than one word or line' };
  if (!PLAUSIBLE_TOKEN.test(token))
    return { ok: false, reason: 'content does not look like a vault token (hvs.… or s.…)' };
  return { ok: true, token };
}
