/**
 * Child environments (external-tools.md 2.2, token-push.md 3.16). Every child gets an environment built
 * here from the startup parent environment; nothing is inherited implicitly and the process environment
 * is never mutated (the original deleted variables from its own environment, Q7).
 */

/** The five variables the recipes manage (exact case). */
export const MANAGED_VARS = [
  'KRB5CCNAME',
  '_condor_CREDD_HOST',
  '_condor_COLLECTOR_HOST',
  'HTGETTOKENOPTS',
  '_condor_SEC_CREDENTIAL_GETTOKEN_OPTS',
] as const;
export type ManagedVar = (typeof MANAGED_VARS)[number];

/** A complete child environment. */
export type ChildEnv = Readonly<Record<string, string>>;
/** The parent environment as Node gives it (values may be undefined). */
export type ParentEnv = Readonly<Record<string, string | undefined>>;

/**
 * Recipe F settings: a variable that is `undefined` (never assigned) is omitted; one assigned `''` is
 * present as `NAME=`.
 */
export type ManagedSettings = Readonly<Partial<Record<ManagedVar, string>>>;

/** K: kinit, klist, rsync (and its ssh): parent env with KRB5CCNAME replaced. */
export function buildChildEnv(
  parent: ParentEnv,
  recipe: 'K',
  settings: { readonly KRB5CCNAME: string },
): ChildEnv;
/** F: htgettoken, condor_vault_storer: parent env without the five managed variables, plus `settings`. */
export function buildChildEnv(parent: ParentEnv, recipe: 'F', settings: ManagedSettings): ChildEnv;
/** I: condor_status, condor_config_val, ping: parent env unchanged. */
export function buildChildEnv(parent: ParentEnv, recipe: 'I'): ChildEnv;
export function buildChildEnv(
  parent: ParentEnv,
  recipe: 'K' | 'F' | 'I',
  settings: ManagedSettings = {},
): ChildEnv {
  const env = definedEntries(parent);
  switch (recipe) {
    case 'I':
      return env;
    case 'K': {
      const cache = settings.KRB5CCNAME;
      if (cache === undefined) throw new TypeError('recipe K needs KRB5CCNAME');
      env['KRB5CCNAME'] = cache;
      return env;
    }
    case 'F': {
      for (const name of MANAGED_VARS) delete env[name];
      for (const name of MANAGED_VARS) {
        const value = settings[name];
        if (value !== undefined) env[name] = value;
      }
      return env;
    }
  }
}

function definedEntries(parent: ParentEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}
