// Source of /etc/managed-tokens/managedTokens.json. Edit here, then run `make` in this directory
// (renders managedTokens.json) and `make check` (validates it with managed-tokens check-config).
// The executables read only the rendered JSON, never this file.
local experiments = import 'libsonnet/experimentConfig.libsonnet';
local ferry = import 'libsonnet/ferryConfig.libsonnet';
local timeouts = import 'libsonnet/timeoutsConfig.libsonnet';
local email = import 'libsonnet/emailConfig.libsonnet';
local observability = import 'libsonnet/observability.libsonnet';
local notifications = import 'libsonnet/notificationsConfig.libsonnet';

{
  // ------------------------------------------------------------ services (one per role)
  experiments: {
    // The minimum: stakeholder emails, and per role the account and the nodes to push to.
    dune: experiments.makeConfig(
      emails=['dune-ops@example.org'],
      roleConfigs={
        production: experiments.makeRoleConfig(
          account='dunepro',
          destinationNodes=['dunegpvm01.example.org', 'dunegpvm02.example.org'],
        ),
      },
    ),

    // A second condor pool sharing dune's token issuer. Pool-wide settings go in otherOverrides
    // (copied into every role of this experiment); a role's own override would win.
    'dune-pool2': experiments.makeConfig(
      emails=['dune-ops@example.org'],
      experimentOverride='dune',
      otherOverrides={
        condorCollectorHostOverride: 'pool2-collector.example.org',
        condorCreddHostOverride: 'pool2-credd.example.org',
        vaultServerOverride: 'vault2.example.org',
        serviceCreddVaultTokenPathRootOverride: '/var/lib/managed-tokens/pool2-vault-tokens',
      },
      roleConfigs={
        production: experiments.makeRoleConfig(
          account='dunepro',
          destinationNodes=['dunegpvm03.example.org'],
          overrides={
            desiredUIDOverride: 12345,  // skips the database lookup
            // .Experiment would render as dune-pool2
            defaultRoleFileDestinationTemplateOverride: '/tmp/default_role_dune_{{.DesiredUID}}',
            disableNotificationsOverride: false,
          },
        ),
      },
    ),

    mu2e: experiments.makeConfig(
      emails=['mu2e-ops@example.org', 'mu2e-oncall@example.org'],
      roleConfigs={
        production: experiments.makeRoleConfig(
          account='mu2epro',
          destinationNodes=['mu2egpvm01.example.org'],
          overrides={
            keytabPathOverride: '/opt/managed-tokens/special/mu2e-prod.keytab',  // a file, not a directory
            userPrincipalOverride: 'mu2epro/special/tokens01.example.org@EXAMPLE.ORG',
            tokenGetterOverride: 'getToken',  // htgettoken only: no credd storage
            pingOptionsOverride: '-W 10',  // replaces the global pingOptions
            sshOptionsOverride: '-o ConnectTimeout=45',
            fileCopierOptionsOverride: '--perms --chmod=u=r,go= --timeout=30',
          },
        ),
        test: experiments.makeRoleConfig(
          account='mu2etest',
          destinationNodes=['mu2egpvm02.example.org'],
          overrides={
            kerberosPrincipalPatternOverride: '{{.Account}}/test/tokens01.example.org@EXAMPLE.ORG',
            condorScheddConstraintOverride: 'Mu2eTest =?= true',
            disableNotificationsOverride: true,  // no stakeholder mail for mu2e_test
          },
        ),
      },
    ),
  },

  // ------------------------------------------------------------ defaults for every service
  keytabPath: '/opt/managed-tokens/keytabs',  // directory holding <account>.keytab
  kerberosPrincipalPattern: '{{.Account}}/managedtokens/tokens01.example.org@EXAMPLE.ORG',
  condorCollectorHost: 'collector1.example.org,collector2.example.org',  // tried in order
  condorScheddConstraint: 'HasManagedTokens =?= true',
  vaultServer: 'vault.example.org',
  serviceCreddVaultTokenPathRoot: '/var/lib/managed-tokens/service-credd-vault-tokens',
  defaultRoleFileDestinationTemplate: '/tmp/default_role_{{.Experiment}}_{{.DesiredUID}}',
  pingOptions: '-W 3',
  fileCopierOptions: '--perms --chmod=u=r,go=',  // rsync options
  sshOptions: '-o ConnectTimeout=20 -o BatchMode=yes',
  minTokenLifetime: '3d',

  // ------------------------------------------------------------ shared settings
  dbLocation: '/var/lib/managed-tokens/managed-tokens.db',
  errorCountToSendMessage: 3,
  disableNotifications: false,
  devEnvironmentLabel: 'production',
  htgettokenopts: '--credkey=ferrybot/managedtokens/tokens01.example.org',  // refresh --authmethod jwt only

  timeouts: timeouts,
  ferry: ferry,
  email: email,
  notifications: notifications.prod,
  notifications_test: notifications.test,
  logs: observability.logs,
  prometheus: observability.prometheus,
  loki: observability.loki,
  tracing: observability.tracing,

  // ------------------------------------------------------------ retries
  // numRetries x retrySleep must fit in the matching timeout; only pushTokens retries at run time.
  local workerTypeConfig(numRetries=0, retrySleep='0s') = {
    numRetries: numRetries,
    retrySleep: retrySleep,
  },
  workerType: {
    getKerberosTickets: workerTypeConfig(),
    getToken: workerTypeConfig(),
    // concurrency: how many services' tokens are stored at once (1 = one at a time)
    storeAndGetToken: workerTypeConfig() + { concurrency: 4 },
    pingAggregator: workerTypeConfig(),
    pushTokens: workerTypeConfig(numRetries=2, retrySleep='15s'),
  },
}
