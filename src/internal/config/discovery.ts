import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigLoadError } from './types.js';

/** Extensions the original tried, in its order; the port reads only json, yaml and yml (config.md 1.1). */
const ORIGINAL_EXTENSION_ORDER = [
  'json',
  'toml',
  'yaml',
  'yml',
  'properties',
  'props',
  'prop',
  'hcl',
  'tfvars',
  'dotenv',
  'env',
  'ini',
] as const;
const SUPPORTED: Readonly<Record<string, 'json' | 'yaml'>> = {
  json: 'json',
  yaml: 'yaml',
  yml: 'yaml',
};
export const CONFIG_BASE_NAME = 'managedTokens';

export const JSONNET_MESSAGE =
  'jsonnet is not evaluated; render it first (`make -C /etc/managed-tokens` or `jsonnet -o managedTokens.json managedTokens.jsonnet`) and pass the .json file';

export interface ConfigFileChoice {
  readonly path: string;
  readonly format: 'json' | 'yaml';
  /** Other candidates in the chosen directory that were shadowed by it. */
  readonly shadowed: readonly string[];
}

export function defaultSearchDirs(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string[] {
  return ['/etc/managed-tokens/', `${env['HOME'] ?? ''}/.managed-tokens/`, cwd];
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function extensionOf(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash ? path.slice(dot + 1) : '';
}

/** `-c PATH`: exactly that file; the parser is chosen by the (case-sensitive) extension. */
export function explicitConfigFile(configFile: string, cwd: string): ConfigFileChoice {
  const path = resolve(cwd, configFile);
  const extension = extensionOf(configFile);
  if (extension === 'jsonnet')
    throw new ConfigLoadError(
      `${configFile}: unsupported config type "jsonnet": ${JSONNET_MESSAGE}`,
    );
  const format = SUPPORTED[extension];
  if (format === undefined) {
    throw new ConfigLoadError(
      `${configFile}: unsupported config type ${JSON.stringify(extension)} (supported: .json, .yaml, .yml)`,
    );
  }
  try {
    if (!statSync(path).isFile()) throw new ConfigLoadError(`${configFile}: not a regular file`);
  } catch (error) {
    if (error instanceof ConfigLoadError) throw error;
    throw new ConfigLoadError(`open ${configFile}: config file does not exist`);
  }
  return { path, format, shadowed: [] };
}

/** No `-c`: first directory holding any candidate wins; inside it json → yaml → yml. */
export function discoverConfigFile(searchDirs: readonly string[]): ConfigFileChoice {
  for (const dir of searchDirs) {
    const present = ORIGINAL_EXTENSION_ORDER.map((ext) =>
      join(dir, `${CONFIG_BASE_NAME}.${ext}`),
    ).filter(isRegularFile);
    const [first, ...rest] = present;
    if (first === undefined) continue;
    const extension = extensionOf(first);
    const format = SUPPORTED[extension];
    if (format === undefined) {
      throw new ConfigLoadError(
        `${first}: config files of type ".${extension}" are not supported (only .json, .yaml, .yml); ` +
          `it takes precedence over any other managedTokens file in ${dir}, so convert it to YAML or JSON (or remove it)`,
      );
    }
    return { path: first, format, shadowed: rest };
  }
  const jsonnet = searchDirs
    .map((dir) => join(dir, `${CONFIG_BASE_NAME}.jsonnet`))
    .find(isRegularFile);
  const hint = jsonnet === undefined ? '' : `; found ${jsonnet}: ${JSONNET_MESSAGE}`;
  throw new ConfigLoadError(
    `Config File "${CONFIG_BASE_NAME}" Not Found in [${searchDirs.join(' ')}] (looked for ${CONFIG_BASE_NAME}.json, .yaml, .yml)${hint}`,
  );
}
