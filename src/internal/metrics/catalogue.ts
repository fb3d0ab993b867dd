import { Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus family the executables can push (spec notifications-observability.md 4.2,
 * ferry-and-db.md 6), plus the families this port adds (README of this directory).
 * Names, types, help strings and label names of the original families are an external
 * contract (dashboards, alerts): change none of them.
 *
 * The original registers its library families in every executable (both link the worker and
 * notification packages), so both executables push the unlabelled FERRY and stakeholder-email
 * families, at zero/empty when untouched. This catalogue reproduces that.
 */

export type Program = 'token-push' | 'refresh-uids-from-ferry';

const NS = 'managed_tokens';

/** The two help strings really differ in the original (Q20): keep each. */
const STAGE_HELP: Readonly<Record<Program, string>> = {
  'token-push': 'The amount of time it took to run a stage Managed Tokens Service executable',
  'refresh-uids-from-ferry':
    'The amount of time it took to run a stage of a Managed Tokens Service executable',
};

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Gauge<L> {
  return new Gauge<L>({ name: `${NS}_${name}`, help, labelNames, registers: [registry] });
}

/** Default buckets, identical to client_golang's DefBuckets. */
function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Histogram<L> {
  return new Histogram<L>({ name: `${NS}_${name}`, help, labelNames, registers: [registry] });
}

/** Families both executables register (the original's library packages). */
function libraryFamilies(registry: Registry) {
  return {
    ferryRequestDuration: histogram(
      registry,
      'ferry_request_duration_seconds',
      'The amount of time it took in seconds to make a request to FERRY and receive the response',
      [],
    ),
    ferryRequestErrorCount: gauge(
      registry,
      'ferry_request_error_count',
      'The number of requests to FERRY that failed',
      [],
    ),
    kinitDuration: gauge(
      registry,
      'kinit_duration_seconds',
      'Duration (in seconds) for a kerberos ticket to be created from the service principal',
      ['service'],
    ),
    kinitFailureCount: gauge(
      registry,
      'failed_kinit_count',
      'The number of times the Managed Tokens Service failed to create a kerberos ticket from the service principal',
      ['service'],
    ),
    tokenGetTimestamp: gauge(
      registry,
      'last_token_get_timestamp',
      'The timestamp of the last successful obtaining of a service vault token that was not stored in a condor credd by the Managed Tokens Service',
      ['service'],
    ),
    tokenGetDuration: gauge(
      registry,
      'token_get_duration_seconds',
      'Duration (in seconds) for a vault token to be obtained',
      ['service'],
    ),
    tokenGetFailureCount: gauge(
      registry,
      'failed_vault_token_get_count',
      'The number of times the Managed Tokens Service failed to get a vault token',
      ['service'],
    ),
    tokenStoreTimestamp: gauge(
      registry,
      'last_token_store_timestamp',
      'The timestamp of the last successful store of a service vault token in a condor credd by the Managed Tokens Service',
      ['service', 'credd'],
    ),
    tokenStoreDuration: gauge(
      registry,
      'token_store_duration_seconds',
      'Duration (in seconds) for a vault token to get stored in a condor credd',
      ['service', 'credd'],
    ),
    tokenStoreFailureCount: gauge(
      registry,
      'failed_vault_token_store_count',
      'The number of times the Managed Tokens Service failed to store a vault token in a condor credd',
      ['service', 'credd'],
    ),
    pingDuration: histogram(
      registry,
      'ping_duration_seconds',
      'Duration (in seconds) to ping a node',
      ['node'],
    ),
    pingFailureCount: gauge(
      registry,
      'failed_ping_count',
      'The number of times the Managed Tokens Service failed to ping a node',
      ['node'],
    ),
    tokenPushTimestamp: gauge(
      registry,
      'last_token_push_timestamp',
      'The timestamp of the last successful push of a service vault token to an interactive node by the Managed Tokens Service',
      ['service', 'node'],
    ),
    tokenPushDuration: gauge(
      registry,
      'token_push_duration_seconds',
      'Duration (in seconds) for a vault token to get pushed to a node',
      ['service', 'node'],
    ),
    tokenPushFailureCount: gauge(
      registry,
      'failed_token_push_count',
      'The number of times the Managed Tokens service failed to push a token to an interactive node',
      ['service', 'node'],
    ),
    setupErrorCount: gauge(
      registry,
      'current_setup_error_count',
      'Count of how many consecutive setup errors there have been for a single service',
      ['service'],
    ),
    pushErrorCount: gauge(
      registry,
      'current_push_error_count',
      'Count of how many consecutive push errors there have been for a single service/node combination',
      ['service', 'node'],
    ),
    serviceEmailTimestamp: gauge(
      registry,
      'service_error_email_last_sent_timestamp',
      'Last time managed tokens service attempted to send an service error notification',
      ['service', 'success'],
    ),
    serviceEmailDuration: histogram(
      registry,
      'service_error_email_send_duration_seconds',
      'Time in seconds it took to successfully send an service error email',
      [],
    ),
    adminNotificationTimestamp: gauge(
      registry,
      'admin_error_email_last_sent_timestamp',
      'Last time managed tokens service attempted to send an admin error notification',
      ['notification_type', 'success'],
    ),
    adminNotificationDuration: gauge(
      registry,
      'admin_error_email_send_duration_seconds',
      'Time in seconds it took to successfully send an admin error email',
      ['notification_type'],
    ),
  };
}

/** Families the original defines in the executable itself. */
function executableFamilies(registry: Registry, program: Program) {
  return {
    stageDuration: gauge(registry, 'stage_duration_seconds', STAGE_HELP[program], [
      'executable',
      'stage',
    ]),
    failedServicesPushCount:
      program === 'token-push'
        ? gauge(
            registry,
            'failed_services_push_count',
            'The number of services for which pushing tokens failed in the last round',
            [],
          )
        : undefined,
    lastFerryRefresh:
      program === 'refresh-uids-from-ferry'
        ? gauge(
            registry,
            'last_ferry_refresh',
            'The timestamp of the last successful refresh of the username --> UID table from FERRY for the Managed Tokens Service',
            [],
          )
        : undefined,
  };
}

/**
 * Families new in this port (documented in ./README.md). All are labelled, so a run that does
 * not set them pushes no sample for them.
 */
function addedFamilies(registry: Registry, program: Program) {
  return {
    runDuration: gauge(
      registry,
      'run_duration_seconds',
      'Wall-clock seconds from process start to the end of this run of the executable (measured just before the push)',
      ['executable'],
    ),
    runExitCode: gauge(
      registry,
      'run_exit_code',
      'Exit status this run of the executable ends with (0 = success)',
      ['executable'],
    ),
    runServices:
      program === 'token-push'
        ? gauge(
            registry,
            'run_services',
            'Number of selected services that this token-push run completed successfully (result="ok") or not (result="failed")',
            ['executable', 'result'],
          )
        : undefined,
    runFerryAccounts:
      program === 'refresh-uids-from-ferry'
        ? gauge(
            registry,
            'run_ferry_accounts',
            'Number of FERRY accounts whose UID this refresh-uids-from-ferry run obtained (result="ok") or failed to obtain (result="failed")',
            ['executable', 'result'],
          )
        : undefined,
    nodePushSuccessTimestamp:
      program === 'token-push'
        ? gauge(
            registry,
            'last_node_push_success_timestamp',
            'Unix time at which this run finished copying every token file of the service to the node; set per node even when other nodes of the service failed',
            ['service', 'node'],
          )
        : undefined,
    pushedTokenAge:
      program === 'token-push'
        ? gauge(
            registry,
            'pushed_token_age_seconds',
            'Age in seconds (now minus file modification time) of the vault token file this run pushed for the service',
            ['service'],
          )
        : undefined,
  };
}

export function createCatalogue(registry: Registry, program: Program) {
  return {
    ...libraryFamilies(registry),
    ...executableFamilies(registry, program),
    ...addedFamilies(registry, program),
  };
}

export type Catalogue = ReturnType<typeof createCatalogue>;
