/**
 * Service names (token-push.md 0, 2.2, 2.3).
 *
 * A config entry `experiments.K.roles.R` is one service. When `K` has an `experimentOverride` E, the token
 * issuer and HTCondor know it as `E_R` (realName), while configuration, the database and notification
 * routing use `K_R` (configName). For non-overridden services both coincide.
 *
 * Where each is used (with the Q20/Q21 fixes: notifications always use configName):
 * - configName: config lookups, DB `services` rows, success report, every notification, local vault-token
 *   removal, `--list-services`.
 * - realName: condor_vault_storer argument, htgettoken `-i E --role R`, token file names
 *   (`/tmp/vt_u<uid>-E_R`), kerberos cache file name, metric `service` labels, template field `.Name`.
 * - configExperiment: template field `.Experiment`.
 */
export interface ServiceName {
  /** `K_R` */
  readonly configName: string;
  /** `E_R` */
  readonly realName: string;
  /** K: experiment key in the config file (lower-cased) */
  readonly configExperiment: string;
  /** E: experimentOverride if non-empty, else K */
  readonly experiment: string;
  /** R: role key (lower-cased) */
  readonly role: string;
  readonly overridden: boolean;
}

export function makeServiceName(
  configExperiment: string,
  role: string,
  experimentOverride?: string,
): ServiceName {
  const experiment =
    experimentOverride !== undefined && experimentOverride !== ''
      ? experimentOverride
      : configExperiment;
  return {
    configName: `${configExperiment}_${role}`,
    realName: `${experiment}_${role}`,
    configExperiment,
    experiment,
    role,
    overridden: experiment !== configExperiment,
  };
}

/** Role used when a `-s` value has no `_<alnum>` suffix. */
export const DEFAULT_ROLE = 'Analysis';

/**
 * Splits a `-s` value like the original: experiment = text before the last `_` followed by ASCII
 * alphanumerics, role = the maximal alphanumeric run after it; no such underscore → role `Analysis`.
 */
export function parseServiceName(value: string): { experiment: string; role: string } {
  const match = /(.+)_([A-Za-z0-9]+)/.exec(value);
  if (match === null) return { experiment: value, role: DEFAULT_ROLE };
  return { experiment: match[1] ?? value, role: match[2] ?? DEFAULT_ROLE };
}
