/**
 * The executables import the metrics and tracing modules lazily: `--version` and `--list-services`
 * must not load prom-client or OpenTelemetry (start-up cost). Checked on the built executables,
 * run as the unprivileged user, with a CommonJS preload that records every module in the require
 * cache at exit (both packages are CommonJS, so an ESM import of them lands there too).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  createSandbox,
  ensureBuilt,
  REPO,
  tokenPushConfig,
  type Sandbox,
} from '../../fixtures/cli/harness.js';

const RECORDER = `process.on('exit', () => {
  require('fs').writeFileSync(process.env.MT_LOADED_OUT, JSON.stringify(Object.keys(require.cache)));
});
`;

interface Loaded {
  readonly prom: string[];
  readonly otel: string[];
}

let sb: Sandbox | undefined;
afterEach(() => {
  sb?.cleanup();
  sb = undefined;
});

beforeAll(() => {
  ensureBuilt();
});

async function runRecorded(
  argv: readonly string[],
): Promise<{ code: number | null; stdout: string; loaded: Loaded }> {
  const s = (sb ??= createSandbox());
  const recorder = s.write('recorder/record.cjs', RECORDER);
  const out = path.join(s.tmp, `loaded-${path.basename(argv[0] ?? 'x')}.json`);
  const res = await s.run(argv, {
    env: s.env({ extra: { NODE_OPTIONS: `--require ${recorder}`, MT_LOADED_OUT: out } }),
  });
  const modules = JSON.parse(readFileSync(out, 'utf8')) as string[];
  return {
    code: res.code,
    stdout: res.stdout,
    loaded: {
      prom: modules.filter((m) => m.includes(`${path.sep}prom-client${path.sep}`)),
      otel: modules.filter((m) => m.includes(`${path.sep}@opentelemetry${path.sep}`)),
    },
  };
}

describe('lazy loading of metrics and tracing in the executables', () => {
  it('the recorder sees prom-client and OpenTelemetry when the metrics module is loaded (control)', () => {
    const s = (sb ??= createSandbox());
    const recorder = s.write('recorder/record.cjs', RECORDER);
    const out = path.join(s.dir, 'control.json');
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(path.join(REPO, 'dist/src/internal/metrics/index.js'))});`,
      ],
      {
        env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--require ${recorder}`, MT_LOADED_OUT: out },
        stdio: 'pipe',
      },
    );
    const modules = JSON.parse(readFileSync(out, 'utf8')) as string[];
    expect(modules.some((m) => m.includes('/prom-client/'))).toBe(true);
  });

  it('token-push --version loads neither', async () => {
    const res = await runRecorded([BIN.tokenPush, '--version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Managed tokens library version /);
    expect(res.loaded).toEqual({ prom: [], otel: [] });
  });

  it('token-push --list-services loads neither', async () => {
    const s = (sb ??= createSandbox());
    const config = s.write(
      'etc/managedTokens.yml',
      tokenPushConfig(s, {
        extra: 'prometheus:\n  host: http://127.0.0.1:9\ntracing:\n  url: http://127.0.0.1:9\n',
      }),
    );
    const res = await runRecorded([BIN.tokenPush, '--list-services', '-c', config]);
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'dune_production',
      'mu2e_production',
    ]);
    expect(res.loaded).toEqual({ prom: [], otel: [] });
  });

  it('refresh-uids-from-ferry --version loads neither', async () => {
    const res = await runRecorded([BIN.refresh, '--version']);
    expect(res.code).toBe(0);
    expect(res.loaded).toEqual({ prom: [], otel: [] });
  });
});
