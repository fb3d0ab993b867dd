import type { RoleFileTemplateContext, ServiceSettings } from './types.js';

/**
 * Run-time side of the role-file destination template (config.md 4.3 items 4): the template was
 * compiled at load; the rendered path is checked per service before it is handed to rsync.
 */
export function roleFileTemplateContext(
  service: ServiceSettings,
  desiredUID: number,
  vaultServer: string,
): RoleFileTemplateContext {
  return {
    Account: service.account,
    DesiredUID: desiredUID,
    Experiment: service.name.configExperiment,
    Role: service.name.role,
    Name: service.name.realName,
    UserPrincipal: service.userPrincipal,
    KeytabPath: service.keytabPath,
    ServiceCreddVaultTokenPathRoot: service.serviceCreddVaultTokenPathRoot,
    VaultServer: vaultServer,
  };
}

export type RenderedDestination =
  | { readonly ok: true; readonly path: string; readonly warning?: string }
  | { readonly ok: false; readonly path: string; readonly error: string };

/**
 * Renders and checks the remote path of the default-role file: empty, whitespace, quotes, backslashes,
 * NUL or a `..` segment → error (file skipped); relative → warning.
 */
export function renderRoleFileDestination(
  service: ServiceSettings,
  context: RoleFileTemplateContext,
): RenderedDestination {
  const path = service.roleFileDestination.render(
    context as unknown as Record<string, string | number>,
  );
  if (path === '')
    return {
      ok: false,
      path,
      error: 'default role file destination template rendered an empty path',
    };
  if (/[\s'"\\\0]/.test(path)) {
    return {
      ok: false,
      path,
      error: `default role file destination ${JSON.stringify(path)} contains whitespace, a quote, a backslash or NUL`,
    };
  }
  if (path.split('/').includes('..'))
    return {
      ok: false,
      path,
      error: `default role file destination ${JSON.stringify(path)} contains a ".." segment`,
    };
  if (!path.startsWith('/'))
    return {
      ok: true,
      path,
      warning: `default role file destination ${JSON.stringify(path)} is relative to the remote home directory`,
    };
  return { ok: true, path };
}
