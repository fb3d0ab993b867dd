import { describe, expect, it } from 'vitest';
import { makeServiceName, parseServiceName } from '../../../src/internal/service/index.js';

describe('service names (token-push.md 2.2, 2.3)', () => {
  it('distinguishes configName and realName for overridden services', () => {
    expect(makeServiceName('dune-2', 'production', 'dune')).toEqual({
      configName: 'dune-2_production',
      realName: 'dune_production',
      configExperiment: 'dune-2',
      experiment: 'dune',
      role: 'production',
      overridden: true,
    });
  });
  it('treats an empty override as no override', () => {
    expect(makeServiceName('dune', 'production', '')).toMatchObject({
      configName: 'dune_production',
      realName: 'dune_production',
      overridden: false,
    });
  });
  it.each([
    ['my_expt_prod', 'my_expt', 'prod'],
    ['sbnd_test-role', 'sbnd', 'test'],
    ['dune', 'dune', 'Analysis'],
    ['dune_production', 'dune', 'production'],
    ['dune_', 'dune_', 'Analysis'],
    ['a_b_', 'a', 'b'],
  ])('parses %s', (input, experiment, role) => {
    expect(parseServiceName(input)).toEqual({ experiment, role });
  });
});
