import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkConfig, listServices, loadAndValidate } from '../../../src/internal/config/index.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/config/${name}`, import.meta.url));
const tokenPush = (name: string) =>
  loadAndValidate({ configFile: fixture(name), env: {}, cwd: '/', executable: 'token-push' });
const byName = (config: ReturnType<typeof tokenPush>, name: string) => {
  const found = config.services.find((s) => s.name.configName === name);
  if (found === undefined) throw new Error(`no ${name}`);
  return found;
};

describe('the original sample configurations', () => {
  it('check 61: managedTokens.json (rendered jsonnet) loads as-is', () => {
    const config = tokenPush('managedTokens.json');
    expect(config.hasGlobalErrors).toBe(false);
    expect(config.skippedServices).toEqual([]);
    expect(new Set(config.allServices.map((n) => n.configExperiment)).size).toBe(5);
    expect(listServices(config)).toEqual([
      'dune-2_production',
      'dune_production',
      'mu2e_production',
      'sbnd-2_production',
      'sbnd-2_testrole',
      'sbnd_production',
      'sbnd_testrole',
    ]);
    const dune2 = byName(config, 'dune-2_production');
    expect(dune2.desiredUIDOverride).toBe(12345);
    expect(dune2.keytabPath).toBe('/special/path/to/keytab');
    expect(dune2.creddHost).toBe('specialcreddhost.domain');
    expect(dune2.collectorHosts).toEqual(['specialcollectorhost.domain']);
    expect(dune2.name.realName).toBe('dune_production');
    expect(dune2.tokenGetter).toBe('getToken');
    expect(byName(config, 'sbnd-2_testrole').notificationsDisabled).toBe(true);
    expect(byName(config, 'dune_production').vaultServer).toEqual({
      kind: 'global',
      value: 'my_vault_server',
    });
    expect(config.global.notifications.adminEmails).toEqual(['admin@example.com']);
    expect(config.global.prometheus.jobName).toBe('managed_tokens_development');
    // the shipped retries (3 x 60s) do not fit pushTimeout 30s
    expect(config.retries.pushTokens).toEqual({ numRetries: 0, retrySleepMs: 0 });
    // the unknown noCacheOverride key is reported, not fatal
    expect(
      config.findings.some(
        (f) =>
          f.keyPath === 'experiments.dune-2.roles.production.noCacheOverride' &&
          f.severity === 'warning',
      ),
    ).toBe(true);
  });

  it('check 62: managedTokens.yml', () => {
    const config = tokenPush('managedTokens.yml');
    expect(config.hasGlobalErrors).toBe(false);
    expect(listServices(config)).toEqual([
      'dune-2_production',
      'dune_production',
      'mu2e_production',
    ]);
    expect(byName(config, 'dune-2_production').name.realName).toBe('dune_production');
    expect(byName(config, 'mu2e_production').keytabPath).toBe(
      '/opt/managed-tokens/keytabs/mu2epro.keytab',
    );
    expect(byName(config, 'dune_production').userPrincipal).toBe('principal_pattern');
    expect(byName(config, 'mu2e_production').userPrincipal).toBe('principal_pattern');
    expect(byName(config, 'dune_production').vaultServer).toEqual({
      kind: 'global',
      value: 'vaultserver.domain',
    });
    expect(config.global.logs['token-push'].logfile).toBe('/var/log/managed-tokens/token-push.log');
  });

  it('check-config on the JSON sample for refresh-uids-from-ferry reports the scheme-less ferry.host', () => {
    const result = checkConfig({
      configFile: fixture('managedTokens.json'),
      env: {},
      cwd: '/',
      executable: 'refresh-uids-from-ferry',
    });
    expect(result.exitCode).toBe(1);
    expect(result.lines.filter((line) => line.includes('ferry.host:'))).toEqual([
      `${fixture('managedTokens.json')}:128:15: ferry.host: error: not a FERRY base URL (got "ferryhost.domain"; expected scheme and host only, e.g. https://ferry.example.org; the port goes in ferry.port)`,
    ]);
  });
});
