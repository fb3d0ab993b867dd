// `ferry`: where refresh-uids-from-ferry reads UIDs, and how it authenticates (tls by default).
{
  host: 'https://ferry.example.org',  // scheme required; requests go to <host>:<port>/getUserInfo
  port: 8445,
  caPath: '/etc/grid-security/certificates',  // every *.pem in it is trusted
  hostCert: '/etc/grid-security/hostcert.pem',
  hostKey: '/etc/grid-security/hostkey.pem',
  serviceExperiment: 'fermilab',  // --authmethod jwt only: token service fermilab[_<serviceRole>]
  serviceRole: '',  // empty: role Analysis
  serviceKerberosPrincipal: 'ferrybot/managedtokens/tokens01.example.org@EXAMPLE.ORG',
  serviceKeytabPath: '/opt/managed-tokens/keytabs/ferrybot.keytab',
  vaultServer: 'vault.example.org',
}
