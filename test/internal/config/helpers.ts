import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  loadAndValidate,
  type Finding,
  type LoadedConfig,
  type LoadOptions,
} from '../../../src/internal/config/index.js';

const created: string[] = [];
afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mt-config-test-'));
  created.push(dir);
  return dir;
}

export function writeIn(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A complete, valid token-push configuration; tests append or replace pieces. */
export const BASE = `keytabPath: /opt/keytabs
kerberosPrincipalPattern: "{{.Account}}/managedtokenstest/test.fnal.gov@FNAL.GOV"
condorCollectorHost: c1
email: {from: admin@example.org, smtpHost: localhost, smtpPort: 25}
logs:
  token-push: {logfile: /tmp/tp.log, debugfile: /tmp/tp.debug.log}
  refresh-uids-from-ferry: {logfile: /tmp/ruf.log, debugfile: /tmp/ruf.debug.log}
`;

export function experiments(
  roleYaml = 'account: myaccount\n        destinationNodes: [node1]',
  experiment = 'dune',
  role = 'production',
): string {
  return `experiments:
  ${experiment}:
    emails: [ops@example.org]
    roles:
      ${role}:
        ${roleYaml}
`;
}

export function load(
  text: string,
  options: Partial<LoadOptions> = {},
  name = 'managedTokens.yml',
): LoadedConfig {
  const dir = tempDir();
  const file = writeIn(dir, name, text);
  return loadAndValidate({
    configFile: file,
    env: {},
    cwd: dir,
    executable: 'token-push',
    ...options,
  });
}

export function errors(config: LoadedConfig): Finding[] {
  return config.findings.filter((finding) => finding.severity !== 'warning');
}

export function warnings(config: LoadedConfig): Finding[] {
  return config.findings.filter((finding) => finding.severity === 'warning');
}

export function only<T>(items: readonly T[]): T {
  if (items.length !== 1)
    throw new Error(
      `expected exactly one item, got ${items.length}: ${JSON.stringify(items, null, 1)}`,
    );
  return items[0] as T;
}

export function service(config: LoadedConfig, configName: string) {
  const found = config.services.find((candidate) => candidate.name.configName === configName);
  if (found === undefined)
    throw new Error(
      `service ${configName} not resolved; findings: ${config.findings.map((f) => f.text).join('\n')}`,
    );
  return found;
}
