/**
 * Who may be notified in a run (spec notifications-observability.md 1.7, token-push.md 3.3).
 */

export type DisabledBy = 'flag' | 'configuration';

export interface GatingInput {
  /** `--disable-notifications`, `--dont-notify` or `-r/--run-onboarding`. */
  readonly disabledByFlag: boolean;
  /** Top-level `disableNotifications`. */
  readonly globalDisabled: boolean;
  /** Selected services with their effective value (override when set, else the global value). */
  readonly services: readonly {
    readonly configName: string;
    readonly notificationsDisabled: boolean;
  }[];
}

export interface Gating {
  /** Set when admin notifications (and with them everything else) are off. */
  readonly adminBlockedBy: DisabledBy | undefined;
  readonly blockedServices: ReadonlySet<string>;
}

/** token-push: admin is off by flag, or when the global value is true and no selected service re-enables it. */
export function resolveTokenPushGating(input: GatingInput): Gating {
  if (input.disabledByFlag) {
    return {
      adminBlockedBy: 'flag',
      blockedServices: new Set(input.services.map((s) => s.configName)),
    };
  }
  const blockedServices = new Set(
    input.services.filter((s) => s.notificationsDisabled).map((s) => s.configName),
  );
  const anyServiceEnabled = input.services.some((s) => !s.notificationsDisabled);
  const adminBlocked = input.globalDisabled && !anyServiceEnabled;
  return { adminBlockedBy: adminBlocked ? 'configuration' : undefined, blockedServices };
}

/** refresh-uids-from-ferry: off by either flag or by the global value; per-role overrides do not apply. */
export function resolveRefreshGating(input: {
  disabledByFlag: boolean;
  globalDisabled: boolean;
}): DisabledBy | undefined {
  if (input.disabledByFlag) return 'flag';
  return input.globalDisabled ? 'configuration' : undefined;
}
