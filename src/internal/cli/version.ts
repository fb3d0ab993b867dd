/**
 * `--version` (token-push.md 1.4): `Managed tokens library version <v>, build <ts>`. The identity comes from
 * src/version.generated.ts, written by `npm run build`; a build without it cannot say its version (exit 1,
 * as the original does for a binary without embedded module info).
 */

export interface BuildIdentity {
  readonly version: string;
  readonly buildTimestamp: string;
}

export const NO_VERSION_ERROR = 'could not read version info from binary';

// Computed specifier: the generated file does not exist before the first build, and typechecking must not
// depend on it.
const GENERATED_MODULE = ['..', '..', 'version.generated.js'].join('/');

export async function readBuildIdentity(): Promise<BuildIdentity | undefined> {
  try {
    const mod = (await import(GENERATED_MODULE)) as {
      MODULE_VERSION?: unknown;
      BUILD_TIMESTAMP?: unknown;
    };
    if (typeof mod.MODULE_VERSION !== 'string' || mod.MODULE_VERSION === '') return undefined;
    const ts = typeof mod.BUILD_TIMESTAMP === 'string' ? mod.BUILD_TIMESTAMP : '';
    return { version: mod.MODULE_VERSION, buildTimestamp: ts };
  } catch {
    return undefined;
  }
}

export function versionLine(id: BuildIdentity): string {
  return `Managed tokens library version ${id.version}, build ${id.buildTimestamp}`;
}
