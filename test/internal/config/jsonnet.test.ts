/**
 * The operators' jsonnet layer (config.md §5, check 60), evaluated by the real `jsonnet` binary:
 * the experimentConfig.libsonnet builders, the shipped example managedTokens.jsonnet (rendered and
 * fed to our loader) and the Makefile workflow including `make check` with bin/managed-tokens.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  checkConfig,
  listServices,
  loadAndValidate,
  ROLE_FILE_TEMPLATE_FIELDS,
  type LoadedConfig,
  type ServiceSettings,
} from '../../../src/internal/config/index.js';
import { runAs, type RunResult } from '../../../src/testenv/user.js';
import { tempDir } from './helpers.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const JSONNET_DIR = join(REPO, 'jsonnet');
const LIBRARY = join(JSONNET_DIR, 'libsonnet', 'experimentConfig.libsonnet');
const EXAMPLE_YAML = join(REPO, 'config.example.yaml');
const MANAGED_TOKENS = join(REPO, 'bin', 'managed-tokens');

/** Explicit child environment: jsonnet and make from /usr/bin, node for bin/managed-tokens. */
const CHILD_ENV = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, LANG: 'C' } as const;

function run(argv: readonly string[]): Promise<RunResult> {
  return runAs(argv, { user: 'root', env: CHILD_ENV, timeoutMs: 60_000 });
}

/** Evaluates a jsonnet expression with `lib` bound to experimentConfig.libsonnet. */
async function evalWithLibrary(expression: string): Promise<{ value: unknown; stderr: string }> {
  const code = `local lib = import ${JSON.stringify(LIBRARY)}; ${expression}`;
  const result = await run(['/usr/bin/jsonnet', '-e', code]);
  expect(result.stderr, 'jsonnet must not fail').not.toMatch(/ERROR/);
  expect(result.code).toBe(0);
  return { value: JSON.parse(result.stdout) as unknown, stderr: result.stderr };
}

/** A private copy of the shipped jsonnet directory (the Makefile writes next to its sources). */
function copyOfJsonnetDir(): string {
  const dir = join(tempDir(), 'managed-tokens');
  cpSync(JSONNET_DIR, dir, { recursive: true });
  // A rendered file in the working tree must not make the copy look up to date.
  expect(existsSync(join(dir, 'managedTokens.json'))).toBe(false);
  return dir;
}

function make(dir: string, ...targets: string[]): Promise<RunResult> {
  return run(['/usr/bin/make', '-C', dir, `MANAGED_TOKENS=${MANAGED_TOKENS}`, ...targets]);
}

function byName(config: LoadedConfig): Map<string, ServiceSettings> {
  return new Map(config.services.map((service) => [service.name.configName, service]));
}

/** The settings with the role-file template's render function replaced by one rendering of it. */
function comparable(service: ServiceSettings): object {
  const sample = Object.fromEntries(
    ROLE_FILE_TEMPLATE_FIELDS.map((field) => [field, `<${field}>`]),
  );
  const { source, fields } = service.roleFileDestination;
  return {
    ...service,
    roleFileDestination: { source, fields, rendered: service.roleFileDestination.render(sample) },
  };
}

function loadForTokenPush(file: string): LoadedConfig {
  return loadAndValidate({ configFile: file, env: {}, cwd: '/', executable: 'token-push' });
}

beforeAll(() => {
  expect(existsSync('/usr/bin/jsonnet'), 'jsonnet is missing: run scripts/provision.sh').toBe(true);
  expect(
    existsSync(join(REPO, 'dist/src/cmd/managed-tokens.js')),
    'bin/managed-tokens needs the build: run npm run build',
  ).toBe(true);
});

describe('experimentConfig.libsonnet (check 60)', () => {
  it('makeRoleConfig drops an override that is not allowed, and names it on stderr', async () => {
    const { value, stderr } = await evalWithLibrary(
      `lib.makeRoleConfig("dunepro", ["n1", "n2"], overrides={invalidOverride: "x"})`,
    );
    expect(value).toEqual({ account: 'dunepro', destinationNodes: ['n1', 'n2'] });
    expect(stderr).toMatch(
      /makeRoleConfig\(account=dunepro\): ignoring unsupported override\(s\) invalidOverride/,
    );
  });

  it('experiment-wide otherOverrides reach every role; a role that sets the key keeps its own value', async () => {
    const { value } = await evalWithLibrary(`lib.makeConfig(
      emails=["ops@example.org"],
      roleConfigs={
        production: lib.makeRoleConfig("pro", ["n1"], overrides={disableNotificationsOverride: false}),
        test: lib.makeRoleConfig("tst", ["n2"]),
        other: lib.makeRoleConfig("oth", []),
      },
      otherOverrides={disableNotificationsOverride: true},
    )`);
    expect(value).toEqual({
      emails: ['ops@example.org'],
      roles: {
        production: {
          account: 'pro',
          destinationNodes: ['n1'],
          disableNotificationsOverride: false,
        },
        test: { account: 'tst', destinationNodes: ['n2'], disableNotificationsOverride: true },
        other: { account: 'oth', destinationNodes: [], disableNotificationsOverride: true },
      },
    });
  });

  it('keeps an override of the original allow-list and one of the six added ones', async () => {
    const { value, stderr } = await evalWithLibrary(
      `lib.makeRoleConfig("pro", ["n1"], overrides={desiredUIDOverride: 12345, vaultServerOverride: "vault2"})`,
    );
    expect(value).toEqual({
      account: 'pro',
      destinationNodes: ['n1'],
      desiredUIDOverride: 12345,
      vaultServerOverride: 'vault2',
    });
    expect(stderr).toBe('');
  });

  it('keeps all fifteen role overrides token-push reads and drops experimentOverride', async () => {
    const overrides = {
      keytabPathOverride: '/k/x.keytab',
      userPrincipalOverride: 'p@R',
      desiredUIDOverride: 1,
      condorCreddHostOverride: 'credd',
      condorCollectorHostOverride: 'coll',
      condorScheddConstraintOverride: 'c',
      defaultRoleFileDestinationTemplateOverride: '/tmp/{{.Account}}',
      disableNotificationsOverride: true,
      tokenGetterOverride: 'getToken',
      vaultServerOverride: 'v',
      kerberosPrincipalPatternOverride: '{{.Account}}@R',
      serviceCreddVaultTokenPathRootOverride: '/root',
      fileCopierOptionsOverride: '--perms',
      pingOptionsOverride: '-W 1',
      sshOptionsOverride: '-o A=b',
    };
    const { value, stderr } = await evalWithLibrary(
      `lib.makeRoleConfig("pro", [], overrides=${JSON.stringify({ ...overrides, experimentOverride: 'dune' })})`,
    );
    expect(value).toEqual({ account: 'pro', destinationNodes: [], ...overrides });
    expect(stderr).toMatch(/ignoring unsupported override\(s\) experimentOverride\n/);
  });

  it('writes experimentOverride only when it is non-empty, and copies otherOverrides unfiltered', async () => {
    const { value } = await evalWithLibrary(`[
      lib.makeConfig([], {r: lib.makeRoleConfig("a", [])}, experimentOverride=""),
      lib.makeConfig([], {r: lib.makeRoleConfig("a", [])}, experimentOverride="dune",
                     otherOverrides={notAnOverride: 1}),
    ]`);
    expect(value).toEqual([
      { emails: [], roles: { r: { account: 'a', destinationNodes: [] } } },
      {
        emails: [],
        experimentOverride: 'dune',
        roles: { r: { account: 'a', destinationNodes: [], notAnOverride: 1 } },
      },
    ]);
  });

  it('make test evaluates every self-check of the library', async () => {
    const result = await make(copyOfJsonnetDir(), 'test');
    expect(result.code).toBe(0);
    const checks = JSON.parse(
      result.stdout.slice(result.stdout.indexOf('{'), result.stdout.lastIndexOf('}') + 1),
    ) as Record<string, unknown>;
    expect(Object.keys(checks).length).toBeGreaterThanOrEqual(5);
    expect(Object.values(checks).every((passed) => passed === true)).toBe(true);
  });
});

describe('the example managedTokens.jsonnet', () => {
  // Shared by the tests below, so not in tempDir() (which empties itself after every test).
  let renderDir: string;
  let rendered: string;
  beforeAll(async () => {
    renderDir = mkdtempSync(join(tmpdir(), 'mt-jsonnet-test-'));
    const result = await run(['/usr/bin/jsonnet', join(JSONNET_DIR, 'managedTokens.jsonnet')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    rendered = join(renderDir, 'managedTokens.json');
    writeFileSync(rendered, result.stdout);
  });
  afterAll(() => rmSync(renderDir, { recursive: true, force: true }));

  it('renders exactly the data of config.example.yaml', () => {
    const fromJsonnet = JSON.parse(readFileSync(rendered, 'utf8')) as unknown;
    const fromYaml = parseYaml(readFileSync(EXAMPLE_YAML, 'utf8')) as unknown;
    expect(fromJsonnet).toEqual(fromYaml);
  });

  it('passes check-config with no warnings', () => {
    expect(checkConfig({ configFile: rendered, env: {}, cwd: '/', executable: 'both' })).toEqual({
      exitCode: 0,
      lines: [`${rendered}: OK: 4 services, 5 distinct nodes, 0 warnings`],
    });
  });

  it('resolves to the same services as config.example.yaml', () => {
    const json = loadForTokenPush(rendered);
    const yaml = loadForTokenPush(EXAMPLE_YAML);
    expect(json.format).toBe('json');
    expect(listServices(json)).toEqual([
      'dune-pool2_production',
      'dune_production',
      'mu2e_production',
      'mu2e_test',
    ]);
    expect(listServices(json)).toEqual(listServices(yaml));
    expect(json.services.map(comparable)).toEqual(yaml.services.map(comparable));
    expect(json.global).toEqual(yaml.global);
    expect(json.timeouts).toEqual(yaml.timeouts);
    expect(json.retries).toEqual(yaml.retries);

    const services = byName(json);
    const pool2 = services.get('dune-pool2_production');
    expect(pool2?.name.realName).toBe('dune_production');
    expect(pool2?.desiredUIDOverride).toBe(12345);
    expect(pool2?.creddHost).toBe('pool2-credd.example.org');
    expect(pool2?.collectorHosts).toEqual(['pool2-collector.example.org']);
    expect(pool2?.serviceCreddVaultTokenPathRoot).toBe(
      '/var/lib/managed-tokens/pool2-vault-tokens',
    );
    const mu2e = services.get('mu2e_production');
    expect(mu2e?.tokenGetter).toBe('getToken');
    expect(mu2e?.pingOptions).toEqual(['-W', '10']);
    expect(mu2e?.keytabPath).toBe('/opt/managed-tokens/special/mu2e-prod.keytab');
    expect(services.get('mu2e_test')?.userPrincipal).toBe(
      'mu2etest/test/tokens01.example.org@EXAMPLE.ORG',
    );
    expect(services.get('mu2e_test')?.notificationsDisabled).toBe(true);
    expect(services.get('dune_production')?.keytabPath).toBe(
      '/opt/managed-tokens/keytabs/dunepro.keytab',
    );
  });
});

describe('the jsonnet Makefile', () => {
  it('renders managedTokens.json by default and only again when a source is newer', async () => {
    const dir = copyOfJsonnetDir();
    const output = join(dir, 'managedTokens.json');
    expect((await make(dir)).code).toBe(0);
    const first = statSync(output);
    expect(JSON.parse(readFileSync(output, 'utf8'))).toEqual(
      parseYaml(readFileSync(EXAMPLE_YAML, 'utf8')),
    );

    expect((await make(dir)).code).toBe(0);
    const unchanged = statSync(output);
    expect([unchanged.ino, unchanged.mtimeMs]).toEqual([first.ino, first.mtimeMs]);

    const email = join(dir, 'libsonnet', 'emailConfig.libsonnet');
    writeFileSync(email, readFileSync(email, 'utf8').replace('smtpPort: 25', 'smtpPort: 587'));
    const later = new Date(first.mtimeMs + 10_000);
    utimesSync(email, later, later);
    expect((await make(dir)).code).toBe(0);
    expect(JSON.parse(readFileSync(output, 'utf8'))).toMatchObject({ email: { smtpPort: 587 } });
  });

  it('make check validates the rendered file with managed-tokens check-config', async () => {
    const dir = copyOfJsonnetDir();
    const result = await make(dir, 'check');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${MANAGED_TOKENS} check-config -c ${dir}/managedTokens.json`);
    expect(result.stdout).toContain(
      `${dir}/managedTokens.json: OK: 4 services, 5 distinct nodes, 0 warnings`,
    );
  });

  it('make check fails when the rendered config has an error, naming file, line and key', async () => {
    const dir = copyOfJsonnetDir();
    const timeouts = join(dir, 'libsonnet', 'timeoutsConfig.libsonnet');
    writeFileSync(
      timeouts,
      readFileSync(timeouts, 'utf8').replace(
        "vaultStorerTimeout: '60s'",
        "vaultStorerTimeout: '360s'",
      ),
    );
    const result = await make(dir, 'check');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\[Makefile:\d+: check\] Error 1/);
    expect(result.stdout).toContain(`${dir}/managedTokens.json:`);
    expect(result.stdout).toMatch(
      /managedTokens\.json:\d+:\d+: timeouts\.globalTimeout: error: token-push: component timeouts exceed the global timeout/,
    );
  });

  it('a failed render keeps the previous file, its mode, and leaves no temporary file', async () => {
    const dir = copyOfJsonnetDir();
    const output = join(dir, 'managedTokens.json');
    expect((await make(dir)).code).toBe(0);
    chmodSync(output, 0o640);
    const before = readFileSync(output, 'utf8');

    const source = join(dir, 'managedTokens.jsonnet');
    const good = readFileSync(source, 'utf8');
    writeFileSync(source, `${good}\n}`);
    const broken = await make(dir);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/managedTokens\.jsonnet/);
    expect(readFileSync(output, 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual([
      'Makefile',
      'libsonnet',
      'managedTokens.json',
      'managedTokens.jsonnet',
    ]);

    writeFileSync(source, good.replace('errorCountToSendMessage: 3', 'errorCountToSendMessage: 4'));
    const later = new Date(statSync(output).mtimeMs + 10_000);
    utimesSync(source, later, later);
    expect((await make(dir)).code).toBe(0);
    expect(JSON.parse(readFileSync(output, 'utf8'))).toMatchObject({ errorCountToSendMessage: 4 });
    expect(statSync(output).mode & 0o777).toBe(0o640);
  });

  it('make clean deletes the rendered file', async () => {
    const dir = copyOfJsonnetDir();
    expect((await make(dir)).code).toBe(0);
    expect(existsSync(join(dir, 'managedTokens.json'))).toBe(true);
    expect((await make(dir, 'clean')).code).toBe(0);
    expect(existsSync(join(dir, 'managedTokens.json'))).toBe(false);
    expect(existsSync(join(dir, 'managedTokens.jsonnet'))).toBe(true);
  });
});
