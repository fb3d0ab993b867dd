// Log files, Prometheus pushgateway, Loki and OpenTelemetry tracing.
local logFilesFor(executable) = {
  logfile: '/var/log/managed-tokens/%s.log' % executable,  // info and above
  debugfile: '/var/log/managed-tokens/%s.debug.log' % executable,  // debug and above
};

{
  logs: {
    [executable]: logFilesFor(executable)
    for executable in ['token-push', 'refresh-uids-from-ferry']
  },
  prometheus: {
    host: 'http://pushgateway.example.org:9091',  // scheme required, or metrics are off
    jobname: 'managed_tokens',
    singleGroup: false,  // false: each executable pushes under its own grouping label
  },
  loki: {
    host: 'http://loki.example.org:3100',  // empty disables Loki
    response_header_timeout: '2s',
  },
  tracing: {
    url: 'https://otel.example.org:4318/v1/traces',  // empty disables tracing
  },
}
