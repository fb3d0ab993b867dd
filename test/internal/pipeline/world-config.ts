/**
 * token-push configuration for a test world (src/testenv), shared by the end-to-end tests.
 * Not a test file itself.
 */
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { World } from '../../../src/testenv/index.js';

export interface E2eService {
  /** experiment key in the config */
  readonly experiment: string;
  readonly role: string;
  readonly account: string;
  readonly uid: number;
  readonly experimentOverride?: string;
  readonly extra?: Record<string, unknown>;
}

export const COLLECTOR = 'collector.mtworld.test';
export const SCHEDD = 'schedd1.mtworld.test';
export const VAULT = 'vault.mtworld.test';
export const FILE_COPIER_OPTIONS = '--perms --chmod=u=r,go=';

export function writeTokenPushConfig(
  world: World,
  services: readonly E2eService[],
  opts: { name?: string; top?: Record<string, unknown>; nodes?: readonly string[] } = {},
): { file: string; tokenRoot: string; dbFile: string; logFile: string } {
  const dir = path.join(world.workDir, opts.name ?? 'run');
  const tokenRoot = path.join(dir, 'tokens');
  mkdirSync(tokenRoot, { recursive: true, mode: 0o700 });
  for (const d of [dir, tokenRoot]) chownSync(d, world.runUser.uid, world.runUser.gid);
  const nodes = opts.nodes ?? world.nodes.map((n) => n.name);
  const experiments: Record<
    string,
    { experimentOverride?: string; emails: string[]; roles: Record<string, unknown> }
  > = {};
  for (const s of services) {
    const exp = (experiments[s.experiment] ??= {
      emails: [`${s.experiment}@example.com`],
      roles: {},
    });
    if (s.experimentOverride !== undefined) exp.experimentOverride = s.experimentOverride;
    exp.roles[s.role] = {
      account: s.account,
      destinationNodes: nodes,
      desiredUIDOverride: s.uid,
      ...s.extra,
    };
  }
  const config = {
    kerberosPrincipalPattern: world.principalPattern,
    keytabPath: world.keytabDir,
    vaultServer: VAULT,
    condorCollectorHost: COLLECTOR,
    serviceCreddVaultTokenPathRoot: tokenRoot,
    dbLocation: path.join(dir, 'uid.db'),
    sshOptions: world.sshOptions,
    fileCopierOptions: FILE_COPIER_OPTIONS,
    disableNotifications: true,
    logs: {
      'token-push': {
        logfile: path.join(dir, 'token-push.log'),
        debugfile: path.join(dir, 'token-push.debug.log'),
      },
    },
    timeouts: {
      globalTimeout: '120s',
      kerberosTimeout: '20s',
      vaultStorerTimeout: '30s',
      pingTimeout: '10s',
      pushTimeout: '30s',
    },
    ...opts.top,
    experiments,
  };
  const file = path.join(dir, 'managedTokens.yml');
  writeFileSync(file, stringify(config), { mode: 0o644 });
  chownSync(file, world.runUser.uid, world.runUser.gid);
  return {
    file,
    tokenRoot,
    dbFile: path.join(dir, 'uid.db'),
    logFile: path.join(dir, 'token-push.log'),
  };
}

export function tokenPushArgv(configFile: string, ...flags: string[]): string[] {
  return [process.execPath, path.resolve('bin/token-push'), '-c', configFile, ...flags];
}
