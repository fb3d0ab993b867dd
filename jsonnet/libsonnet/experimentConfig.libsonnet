// Builders for the `experiments` section of managedTokens.json.
//
//   makeRoleConfig(account, destinationNodes, overrides={})
//     One role block. Only overrides named in `allowedRoleOverrides` are kept; any other name
//     (a typo, or a key such as experimentOverride that belongs elsewhere) is left out of the
//     rendered JSON and reported on stderr, so a mistake is visible at `make` time.
//
//   makeConfig(emails, roleConfigs, experimentOverride="", otherOverrides={})
//     One experiment block. `otherOverrides` is laid under every role, so a value a role sets
//     itself wins. These experiment-wide values are copied as given (not checked against the
//     allow-list); `managed-tokens check-config` reports unknown keys in the rendered file.

// Every per-role override token-push reads (docs: config.md 2.1 and 2.9).
local allowedRoleOverrides = [
  'keytabPathOverride',
  'userPrincipalOverride',
  'desiredUIDOverride',
  'condorCreddHostOverride',
  'condorCollectorHostOverride',
  'condorScheddConstraintOverride',
  'defaultRoleFileDestinationTemplateOverride',
  'disableNotificationsOverride',
  'tokenGetterOverride',
  // Read by the executables but missing from the Go release's list, which dropped them silently.
  'vaultServerOverride',
  'kerberosPrincipalPatternOverride',
  'serviceCreddVaultTokenPathRootOverride',
  'fileCopierOptionsOverride',
  'pingOptionsOverride',
  'sshOptionsOverride',
];

local isAllowed(name) = std.member(allowedRoleOverrides, name);

// Evaluates to `value`; names the dropped overrides on stderr first (the JSON is unaffected).
local reportDropped(account, names, value) =
  if std.length(names) == 0 then value
  else std.trace(
    'makeRoleConfig(account=%s): ignoring unsupported override(s) %s' % [account, std.join(', ', names)],
    value,
  );

{
  allowedRoleOverrides:: allowedRoleOverrides,

  makeRoleConfig(account, destinationNodes, overrides={})::
    local names = std.objectFields(overrides);
    local kept = { [name]: overrides[name] for name in names if isAllowed(name) };
    reportDropped(
      account,
      [name for name in names if !isAllowed(name)],
      { account: account, destinationNodes: destinationNodes } + kept,
    ),

  makeConfig(emails, roleConfigs, experimentOverride='', otherOverrides={})::
    { emails: emails }
    + (if experimentOverride != '' then { experimentOverride: experimentOverride } else {})
    + {
      roles: {
        [role]: otherOverrides + roleConfigs[role]
        for role in std.objectFields(roleConfigs)
      },
    },
}
