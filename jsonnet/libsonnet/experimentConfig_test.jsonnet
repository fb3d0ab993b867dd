// Self-checks for experimentConfig.libsonnet: `make test` evaluates this file; any failed
// std.assertEqual aborts with both values printed. Needs nothing but the jsonnet binary.
local lib = import 'experimentConfig.libsonnet';

local checks = {
  oneRole:
    std.assertEqual(
      lib.makeConfig(['a@example.org'], { production: lib.makeRoleConfig('pro', ['n1']) }),
      { emails: ['a@example.org'], roles: { production: { account: 'pro', destinationNodes: ['n1'] } } },
    ),
  experimentOverrideOnlyWhenGiven:
    std.assertEqual(
      lib.makeConfig([], {}, experimentOverride='dune'),
      { emails: [], experimentOverride: 'dune', roles: {} },
    ),
  unknownOverrideDropped:
    std.assertEqual(
      lib.makeRoleConfig('pro', ['n1'], { invalidOverride: 'x', experimentOverride: 'y' }),
      { account: 'pro', destinationNodes: ['n1'] },
    ),
  everyAllowedOverrideKept:
    local all = { [name]: name for name in lib.allowedRoleOverrides };
    std.assertEqual(lib.makeRoleConfig('pro', [], all), { account: 'pro', destinationNodes: [] } + all),
  roleValueBeatsExperimentValue:
    std.assertEqual(
      lib.makeConfig(
        [],
        {
          a: lib.makeRoleConfig('pa', [], { disableNotificationsOverride: false }),
          b: lib.makeRoleConfig('pb', []),
        },
        otherOverrides={ disableNotificationsOverride: true },
      ).roles,
      {
        a: { account: 'pa', destinationNodes: [], disableNotificationsOverride: false },
        b: { account: 'pb', destinationNodes: [], disableNotificationsOverride: true },
      },
    ),
};

// Manifesting the object forces every check (jsonnet is lazy) and lists each one as true.
checks
