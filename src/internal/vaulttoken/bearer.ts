/**
 * Warn-only checks of the bearer token htgettoken wrote (token-push.md 3.8 step 5): a JWT whose groups
 * include `/<E>` and `/<E>/<R>` and whose time claims are current. Never fails the service.
 */
export function bearerTokenWarnings(
  fileContent: string,
  experiment: string,
  role: string,
  nowSeconds = Date.now() / 1000,
): string[] {
  const token = fileContent.trim();
  const parts = token.split('.');
  if (parts.length !== 3) return ['bearer token is not a JWT'];
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return ['bearer token payload is not JSON'];
  }
  if (typeof claims !== 'object' || claims === null)
    return ['bearer token payload is not an object'];
  const warnings: string[] = [];
  const exp = claims['exp'];
  const nbf = claims['nbf'];
  if (typeof exp === 'number' && exp < nowSeconds) warnings.push('bearer token is expired');
  if (typeof nbf === 'number' && nbf > nowSeconds + 60)
    warnings.push('bearer token is not valid yet');
  const groups = new Set<string>();
  const wlcgGroups = claims['wlcg.groups'];
  if (Array.isArray(wlcgGroups))
    for (const g of wlcgGroups) if (typeof g === 'string') groups.add(g);
  for (const wanted of [`/${experiment}`, `/${experiment}/${role}`]) {
    if (!groups.has(wanted)) warnings.push(`bearer token lacks group ${wanted}`);
  }
  return warnings;
}
