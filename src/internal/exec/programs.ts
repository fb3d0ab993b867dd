/**
 * Program lookup (external-tools.md 1). The startup appends `:/usr/bin:/usr/sbin` to PATH once, resolves
 * every program to an absolute path, and children inherit the extended PATH through the startup env.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

const SYSTEM_DIRS = '/usr/bin:/usr/sbin';

/**
 * `PATH + ":/usr/bin:/usr/sbin"`. An empty or unset PATH becomes `/usr/bin:/usr/sbin` (the original
 * produced a leading `:`, i.e. the current directory, which we do not reproduce).
 */
export function appendSystemPath(pathValue: string | undefined): string {
  if (pathValue === undefined || pathValue === '') return SYSTEM_DIRS;
  return `${pathValue}:${SYSTEM_DIRS}`;
}

function isExecutableFile(candidate: string): boolean {
  try {
    if (!statSync(candidate).isFile()) return false;
    accessSync(candidate, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds `name` like a shell would, returning an absolute path or `undefined`. Names containing `/` are
 * checked as given. Relative and empty PATH entries are skipped: a lookup must never land in the working
 * directory.
 */
export function resolveProgram(name: string, pathValue: string | undefined): string | undefined {
  if (name === '') return undefined;
  if (name.includes('/')) return isExecutableFile(name) ? path.resolve(name) : undefined;
  for (const dir of (pathValue ?? '').split(':')) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export interface ProgramLookup<N extends string> {
  /** Absolute path per program; `''` for a program that was not found. */
  readonly paths: Readonly<Record<N, string>>;
  readonly missing: readonly N[];
}

/** Resolves several programs against one PATH. */
export function lookupPrograms<N extends string>(
  names: readonly N[],
  pathValue: string | undefined,
): ProgramLookup<N> {
  const paths = {} as Record<N, string>;
  const missing: N[] = [];
  for (const name of names) {
    const found = resolveProgram(name, pathValue);
    paths[name] = found ?? '';
    if (found === undefined) missing.push(name);
  }
  return { paths, missing };
}
