import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  freePort,
  killProcess,
  sleep,
  startDaemon,
  SYSTEM_PATH,
  waitForExit,
  waitForPort,
} from './proc.js';

/**
 * The real Debian Prometheus pushgateway for tests, the demo and the bench: started on a free
 * 127.0.0.1 port with its own storage directory, stopped (process group killed, directory
 * removed) by stop().
 *
 *   const pgw = await startPushgateway();
 *   ... push to pgw.url ...
 *   const samples = await pgw.samples('managed_tokens_');   // parsed /metrics
 *   await pgw.stop();
 */

export const PUSHGATEWAY_BINARY = '/usr/bin/prometheus-pushgateway';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Pushgateway {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  /** The raw text exposition of GET /metrics. */
  scrape(): Promise<string>;
  /** Parsed samples of GET /metrics whose name starts with `prefix`. */
  samples(prefix?: string): Promise<Sample[]>;
  stop(): Promise<void>;
}

export interface PushgatewayOptions {
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

function unescapeLabelValue(v: string): string {
  return v.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses Prometheus text exposition format (enough for what a pushgateway serves). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    for (const lm of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[lm[1] as string] = unescapeLabelValue(lm[2] as string);
    }
    const rawValue = m[4] as string;
    const value =
      rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`pushgateway at ${url} not ready within ${timeoutMs} ms (${last})`);
}

export async function startPushgateway(opts: PushgatewayOptions = {}): Promise<Pushgateway> {
  const binary = opts.binary ?? PUSHGATEWAY_BINARY;
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'mt-pushgateway-'));
  const logFile = path.join(dir, 'pushgateway.log');
  // A port found free can be taken before the daemon binds it: retry a few times.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort('127.0.0.1');
    const { id } = startDaemon(
      [
        binary,
        `--web.listen-address=127.0.0.1:${port}`,
        `--persistence.file=${path.join(dir, 'metrics.store')}`,
        '--persistence.interval=1s',
        `--web.local-assets=/usr/share/prometheus/pushgateway`,
        '--log.level=warn',
      ],
      { env: { PATH: SYSTEM_PATH, HOME: dir }, logFile },
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForPort(
        '127.0.0.1',
        port,
        { name: 'prometheus-pushgateway', id, logFile },
        timeoutMs,
      );
      await waitReady(url, timeoutMs);
    } catch (err) {
      killProcess(id);
      await waitForExit(id).catch(() => undefined);
      if (attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const scrape = async (): Promise<string> => {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`GET ${url}/metrics: HTTP ${res.status}`);
      return res.text();
    };
    let stopped = false;
    return {
      url,
      port,
      dir,
      logFile,
      scrape,
      samples: async (prefix = '') =>
        parseExposition(await scrape()).filter((s) => s.name.startsWith(prefix)),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        killProcess(id);
        await waitForExit(id).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
