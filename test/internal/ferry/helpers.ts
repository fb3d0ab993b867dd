import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startFakeFerry,
  type FakeFerry,
  type FakeFerryOptions,
} from '../../../src/testenv/ferry/server.js';
import type { FerryLog } from '../../../src/internal/ferry/index.js';

export interface FerryWorld {
  readonly dir: string;
  readonly ferry: FakeFerry;
  close(): Promise<void>;
}

/** A fake FERRY with a fresh PKI in a private temp dir. */
export async function ferryWorld(opts: Omit<FakeFerryOptions, 'pkiDir'> = {}): Promise<FerryWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'mt-ferry-'));
  try {
    const ferry = await startFakeFerry({ ...opts, pkiDir: join(dir, 'pki') });
    return {
      dir,
      ferry,
      async close() {
        await ferry.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface CapturedLog extends FerryLog {
  readonly lines: { level: string; msg: string; obj: Record<string, unknown> }[];
  info(obj: Record<string, unknown>, msg: string): void;
}

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) =>
    lines.push({ level, msg, obj });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
