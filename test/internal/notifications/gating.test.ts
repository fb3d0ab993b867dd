import { describe, expect, it } from 'vitest';
import {
  resolveRefreshGating,
  resolveTokenPushGating,
} from '../../../src/internal/notifications/gating.js';

const svc = (configName: string, notificationsDisabled: boolean) => ({
  configName,
  notificationsDisabled,
});

describe('token-push gating (notifications-observability.md 1.7 table)', () => {
  it.each([
    ['defaults', false, false, [svc('a_p', false), svc('b_p', false)], undefined, []],
    [
      'global false, b override true',
      false,
      false,
      [svc('a_p', false), svc('b_p', true)],
      undefined,
      ['b_p'],
    ],
    [
      'global true, no overrides',
      false,
      true,
      [svc('a_p', true), svc('b_p', true)],
      'configuration',
      ['a_p', 'b_p'],
    ],
    [
      'global true, a override false',
      false,
      true,
      [svc('a_p', false), svc('b_p', true)],
      undefined,
      ['b_p'],
    ],
    ['flag', true, false, [svc('a_p', false), svc('b_p', false)], 'flag', ['a_p', 'b_p']],
    ['global true, nothing selected', false, true, [], 'configuration', []],
  ] as const)('%s', (_name, disabledByFlag, globalDisabled, services, adminBlockedBy, blocked) => {
    const gating = resolveTokenPushGating({ disabledByFlag, globalDisabled, services });
    expect(gating.adminBlockedBy).toBe(adminBlockedBy);
    expect([...gating.blockedServices].sort()).toEqual(blocked);
  });
});

describe('refresh gating (ferry-and-db.md 1.8)', () => {
  it('is off by either flag or the global value only', () => {
    expect(resolveRefreshGating({ disabledByFlag: false, globalDisabled: false })).toBeUndefined();
    expect(resolveRefreshGating({ disabledByFlag: true, globalDisabled: false })).toBe('flag');
    expect(resolveRefreshGating({ disabledByFlag: false, globalDisabled: true })).toBe(
      'configuration',
    );
  });
});
