/**
 * `--version` and `--list-services` must stay fast: the entry points' static import graph may not reach
 * the heavy modules (they are loaded with dynamic import() on the run path only).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FORBIDDEN = [
  /^better-sqlite3$/,
  /^nodemailer$/,
  /^prom-client$/,
  /^@opentelemetry\//,
  /^undici$/,
  /^@slack\//,
  /^ssh2$/,
  /^pino-loki$/,
];

/** Static value imports of a TypeScript module graph (type-only imports are erased by tsc). */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    const pattern = /^\s*(import|export)\s+(type\s+)?([^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm;
    for (const match of source.matchAll(pattern)) {
      if (match[2] !== undefined) continue;
      const spec = match[4] as string;
      if (spec.startsWith('.'))
        visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('entry point import graphs', () => {
  it.each(['token-push', 'refresh-uids-from-ferry', 'managed-tokens'])(
    '%s loads no heavy module statically',
    (exe) => {
      const { files, packages } = staticGraph(path.join(REPO, 'src', 'cmd', `${exe}.ts`));
      const heavy = [...packages].filter((p) => FORBIDDEN.some((re) => re.test(p)));
      expect(heavy).toEqual([]);
      const relative = [...files].map((f) => path.relative(REPO, f));
      expect(
        relative.filter((f) =>
          /internal\/(db|metrics|tracing|notifications|pipeline|refresh)\//.test(f),
        ),
      ).toEqual([]);
      expect(relative).toContain('src/internal/cli/startup.ts');
      // the walker does see packages (pino is the logger every entry point uses)
      expect(packages.has('pino')).toBe(true);
    },
  );
});
