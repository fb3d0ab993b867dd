import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigLoadError,
  loadAndValidate,
  readConfigSource,
  checkConfig,
} from '../../../src/internal/config/index.js';
import { BASE, experiments, tempDir, writeIn } from './helpers.js';

const VALID = BASE + experiments();

function dirs(): { etc: string; home: string; cwd: string; searchDirs: string[] } {
  const root = tempDir();
  const etc = join(root, 'etc/managed-tokens');
  const home = join(root, 'home/.managed-tokens');
  const cwd = join(root, 'cwd');
  for (const dir of [etc, home, cwd]) mkdirSync(dir, { recursive: true });
  return { etc, home, cwd, searchDirs: [etc, home, cwd] };
}

describe('config discovery (config.md 1.1, checks 1-4)', () => {
  it('check 1: in one directory managedTokens.json shadows managedTokens.yml', () => {
    const d = dirs();
    writeIn(d.etc, 'managedTokens.yml', VALID);
    const json = writeIn(
      d.etc,
      'managedTokens.json',
      JSON.stringify({ experiments: { fromjson: { roles: { r: { account: 'a' } } } } }),
    );
    const source = readConfigSource({ env: {}, cwd: d.cwd, searchDirs: d.searchDirs });
    expect(source.choice).toMatchObject({ path: json, format: 'json' });
    expect(source.choice.shadowed).toEqual([join(d.etc, 'managedTokens.yml')]);
  });

  it('check 2: $HOME/.managed-tokens beats the working directory', () => {
    const d = dirs();
    const yaml = writeIn(d.home, 'managedTokens.yaml', VALID);
    writeIn(d.cwd, 'managedTokens.json', '{}');
    expect(readConfigSource({ env: {}, cwd: d.cwd, searchDirs: d.searchDirs }).choice.path).toBe(
      yaml,
    );
  });

  it('the default search path is /etc/managed-tokens, $HOME/.managed-tokens, cwd', () => {
    const d = dirs();
    const home = join(d.home, '..');
    const file = writeIn(d.home, 'managedTokens.yml', VALID);
    // /etc/managed-tokens does not exist on the test machine, so $HOME wins over cwd.
    writeIn(d.cwd, 'managedTokens.yml', VALID);
    expect(readConfigSource({ env: { HOME: home }, cwd: d.cwd }).choice.path).toBe(file);
  });

  it('yaml is tried before yml, and a directory with the config name is skipped', () => {
    const d = dirs();
    mkdirSync(join(d.etc, 'managedTokens.json'));
    writeIn(d.etc, 'managedTokens.yml', VALID);
    const yaml = writeIn(d.etc, 'managedTokens.yaml', VALID);
    expect(readConfigSource({ env: {}, cwd: d.cwd, searchDirs: d.searchDirs }).choice.path).toBe(
      yaml,
    );
  });

  it('a higher-priority candidate in an unsupported format is an error, not a silent fall-through', () => {
    const d = dirs();
    writeIn(d.home, 'managedTokens.toml', 'a = 1');
    writeIn(d.home, 'managedTokens.yml', VALID);
    expect(() => readConfigSource({ env: {}, cwd: d.cwd, searchDirs: d.searchDirs })).toThrow(
      /managedTokens\.toml: config files of type "\.toml" are not supported/,
    );
  });

  it('a lower-priority unsupported candidate does not matter', () => {
    const d = dirs();
    writeIn(d.home, 'managedTokens.ini', 'a=1');
    const yml = writeIn(d.home, 'managedTokens.yml', VALID);
    expect(readConfigSource({ env: {}, cwd: d.cwd, searchDirs: d.searchDirs }).choice.path).toBe(
      yml,
    );
  });

  it('nothing found: error naming the searched directories, with a jsonnet hint when one exists', () => {
    const d = dirs();
    expect(() => readConfigSource({ env: {}, cwd: d.cwd, searchDirs: d.searchDirs })).toThrow(
      /Not Found in/,
    );
    writeIn(d.etc, 'managedTokens.jsonnet', '{}');
    expect(() => readConfigSource({ env: {}, cwd: d.cwd, searchDirs: d.searchDirs })).toThrow(
      /render it first/,
    );
  });

  it('check 3: -c with a nonexistent file fails saying it does not exist', () => {
    const d = dirs();
    expect(() => loadAndValidate({ configFile: '/nonexistent.yaml', env: {}, cwd: d.cwd })).toThrow(
      ConfigLoadError,
    );
    expect(() => loadAndValidate({ configFile: '/nonexistent.yaml', env: {}, cwd: d.cwd })).toThrow(
      /does not exist/,
    );
    expect(checkConfig({ configFile: '/nonexistent.yaml', env: {}, cwd: d.cwd })).toEqual({
      exitCode: 1,
      lines: ['open /nonexistent.yaml: config file does not exist'],
    });
  });

  it('check 4 (fix): -c with a .jsonnet file explains how to render it', () => {
    const d = dirs();
    writeIn(d.cwd, 'cfg.jsonnet', '{}');
    expect(() => loadAndValidate({ configFile: 'cfg.jsonnet', env: {}, cwd: d.cwd })).toThrow(
      'jsonnet is not evaluated; render it first (`make -C /etc/managed-tokens` or `jsonnet -o managedTokens.json managedTokens.jsonnet`) and pass the .json file',
    );
  });

  it('-c with another extension (case-sensitive) is an unsupported type; relative paths resolve against cwd', () => {
    const d = dirs();
    writeIn(d.cwd, 'cfg.YML', VALID);
    expect(() => loadAndValidate({ configFile: 'cfg.YML', env: {}, cwd: d.cwd })).toThrow(
      /unsupported config type "YML"/,
    );
    writeIn(d.cwd, 'sub/cfg.yml', VALID);
    expect(loadAndValidate({ configFile: 'sub/cfg.yml', env: {}, cwd: d.cwd }).file).toBe(
      join(d.cwd, 'sub/cfg.yml'),
    );
  });

  it('parse errors name file, line and column', () => {
    const d = dirs();
    const file = writeIn(d.cwd, 'bad.yml', 'a: 1\nb: [1, 2\nc: 3\n');
    expect(() => loadAndValidate({ configFile: file, env: {}, cwd: d.cwd })).toThrow(
      new RegExp(`^${file}:\\d+:\\d+: cannot parse`),
    );
    const json = writeIn(d.cwd, 'bad.json', '{"a": 1,}');
    expect(() => loadAndValidate({ configFile: json, env: {}, cwd: d.cwd })).toThrow(
      /cannot parse JSON/,
    );
  });
});
