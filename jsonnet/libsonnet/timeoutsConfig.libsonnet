// `timeouts` (Go durations such as 30s, 5m, 1h). Each executable's stage timeouts must add up
// to at most globalTimeout, or it refuses to start.
{
  globalTimeout: '300s',  // both executables: the whole run
  kerberosTimeout: '20s',  // token-push: kinit and check, per service
  vaultStorerTimeout: '60s',  // token-push: per service and credd
  pingTimeout: '10s',  // token-push: all nodes of a service
  pushTimeout: '60s',  // token-push: one copy to one node, retries included
  ferryRequestTimeout: '30s',  // refresh-uids-from-ferry: one FERRY request
  dbTimeout: '10s',  // refresh-uids-from-ferry: the database write
}
