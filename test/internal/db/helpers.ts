import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export function tempDir(prefix = 'mt-db-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface FileSnapshot {
  readonly applicationId: number;
  readonly userVersion: number;
  readonly schema: { type: string; name: string; tbl_name: string; sql: string | null }[];
  readonly tables: Record<string, unknown[]>;
}

/** Identity, sqlite_master and every table's rows (with storage classes), read with a raw connection. */
export function snapshot(path: string): FileSnapshot {
  const raw = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const schema = raw
      .prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name')
      .all() as FileSnapshot['schema'];
    const tables: Record<string, unknown[]> = {};
    for (const { name } of schema.filter((s) => s.type === 'table')) {
      const cols = (raw.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map(
        (c) => c.name,
      );
      const select = cols.map((c) => `${c}, typeof(${c}) AS ${c}_type`).join(', ');
      tables[name] = raw
        .prepare(`SELECT rowid AS _rowid, ${select} FROM ${name} ORDER BY rowid`)
        .all();
    }
    return {
      applicationId: Number(raw.pragma('application_id', { simple: true })),
      userVersion: Number(raw.pragma('user_version', { simple: true })),
      schema,
      tables,
    };
  } finally {
    raw.close();
  }
}
