import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPLICATION_ID,
  DbOpenError,
  DbOperationError,
  DbWrongTypeError,
  ManagedTokensDb,
  NoRowsError,
  type DbLog,
  createFileForTest,
} from '../../../src/internal/db/index.js';
import { V1_TABLES, V1_TABLE_SQL } from '../../../src/internal/db/schema.js';
import { snapshot, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
const opened: ManagedTokensDb[] = [];
const raws: Database.Database[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  for (const r of raws.splice(0)) if (r.open) r.close();
  cleanup();
});

function open(path: string, log?: DbLog, busyTimeoutMs?: number): ManagedTokensDb {
  const db = ManagedTokensDb.open(path, {
    ...(log ? { log } : {}),
    ...(busyTimeoutMs ? { busyTimeoutMs } : {}),
  });
  opened.push(db);
  return db;
}

function raw(path: string): Database.Database {
  const r = new Database(path);
  raws.push(r);
  return r;
}

function captureLog(): DbLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (_o, m) => warnings.push(m), debug: () => undefined };
}

function expectOpenError(path: string, failure: DbOpenError['failure']): DbOpenError {
  let caught: unknown;
  try {
    open(path, undefined, 200);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DbOpenError);
  const e = caught as DbOpenError;
  expect(e.failure).toBe(failure);
  expect(e.path).toBe(path);
  expect(e.message).toContain(path);
  return e;
}

describe('create', () => {
  it('creates a v1 file with the application id, the five tables and the exact schema text', () => {
    const path = join(dir, 'new.db');
    open(path).close();
    const snap = snapshot(path);
    expect(snap.applicationId).toBe(APPLICATION_ID);
    expect(snap.applicationId).toBe(1571300691);
    expect(snap.userVersion).toBe(1);
    const tables = snap.schema.filter((s) => s.type === 'table');
    expect(tables.map((t) => t.name).sort()).toEqual([...V1_TABLES].sort());
    for (const t of tables) expect(t.sql).toBe(V1_TABLE_SQL[t.name as keyof typeof V1_TABLE_SQL]);
    expect(
      snap.schema
        .filter((s) => s.type === 'index')
        .map((s) => s.name)
        .sort(),
    ).toEqual([
      'sqlite_autoindex_nodes_1',
      'sqlite_autoindex_push_errors_1',
      'sqlite_autoindex_services_1',
      'sqlite_autoindex_setup_errors_1',
      'sqlite_autoindex_uids_1',
      'sqlite_autoindex_uids_2',
    ]);
    expect(snap.schema.some((s) => s.type === 'trigger' || s.type === 'view')).toBe(false);
    for (const t of V1_TABLES) expect(snap.tables[t]).toEqual([]);
  });

  it('matches the spec schema token for token (whitespace collapsed)', () => {
    const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();
    expect(collapse(V1_TABLE_SQL.setup_errors)).toBe(
      'CREATE TABLE setup_errors ( service_id INTEGER UNIQUE, count INTEGER, FOREIGN KEY (service_id) REFERENCES services (id) ON DELETE CASCADE ON UPDATE NO ACTION )',
    );
    expect(collapse(V1_TABLE_SQL.uids)).toBe(
      'CREATE TABLE uids ( username STRING UNIQUE NOT NULL PRIMARY KEY, uid INTEGER UNIQUE NOT NULL )',
    );
  });

  it('uses a rollback journal, busy timeout 5000 and foreign keys on its connection', () => {
    const path = join(dir, 'pragmas.db');
    const db = open(path);
    // Read the settings through the module's own connection.
    const conn = (db as unknown as { conn: Database.Database }).conn;
    expect(conn.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(conn.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(conn.pragma('foreign_keys', { simple: true })).toBe(1);
    db.insertUidsIntoTableFromFerry([{ username: 'a', uid: 1 }]);
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(existsSync(`${path}-journal`)).toBe(false);
  });

  it('refuses a missing parent directory with an error naming the path and creates nothing', () => {
    const path = join(dir, 'missing', 'sub', 'uid.db');
    const e = expectOpenError(path, 'missing-directory');
    expect(e.message).toContain(join(dir, 'missing', 'sub'));
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('refuses a parent that is a file', () => {
    writeFileSync(join(dir, 'afile'), 'x');
    expectOpenError(join(dir, 'afile', 'uid.db'), 'not-a-directory');
  });

  it('refuses an empty dbLocation', () => {
    expect(() => ManagedTokensDb.open('')).toThrow(DbOpenError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('refusing foreign files (file left byte-identical)', () => {
  it('a zero-byte file is not initialised', () => {
    const path = join(dir, 'zero.db');
    writeFileSync(path, '');
    const e = expectOpenError(path, 'foreign-application-id');
    expect(e.message).toContain('Application IDs do not match.  Got 0, expected 1571300691');
    expect(readFileSync(path).length).toBe(0);
    expect(readdirSync(dir)).toEqual(['zero.db']);
  });

  it('a text file is "not a database"', () => {
    const path = join(dir, 'text.db');
    const content = 'this is not a database\n'.repeat(50);
    writeFileSync(path, content);
    const e = expectOpenError(path, 'not-a-database');
    expect(e.message).toContain('file is not a database');
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it.each([0, 42])('a SQLite file with application_id %i', (id) => {
    const path = join(dir, `foreign-${id}.db`);
    const r = raw(path);
    r.pragma(`application_id = ${id}`);
    r.exec('CREATE TABLE other (x)');
    r.close();
    const before = readFileSync(path);
    const e = expectOpenError(path, 'foreign-application-id');
    expect(e.message).toContain(`Got ${id}, expected 1571300691`);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('migration', () => {
  it('migrates a v0 file with the right application id and no tables', () => {
    const path = join(dir, 'v0.db');
    const r = raw(path);
    r.pragma(`application_id = ${APPLICATION_ID}`);
    r.close();
    const db = open(path);
    db.insertUidsIntoTableFromFerry([{ username: 'dunepro', uid: 10001 }]);
    expect(db.getUidByUsername('dunepro')).toBe(10001);
    db.close();
    const snap = snapshot(path);
    expect(snap.userVersion).toBe(1);
    expect(
      snap.schema
        .filter((s) => s.type === 'table')
        .map((s) => s.name)
        .sort(),
    ).toEqual([...V1_TABLES].sort());
  });

  it('FIX Q10: a v0 file with a pre-existing uids table fails and stays v0 with nothing added', () => {
    const path = join(dir, 'v0-uids.db');
    const r = raw(path);
    r.pragma(`application_id = ${APPLICATION_ID}`);
    r.exec('CREATE TABLE uids (username STRING, uid INTEGER)');
    r.close();
    const e = expectOpenError(path, 'migration-failed');
    expect(e.message).toContain('table uids already exists');
    const snap = snapshot(path);
    expect(snap.userVersion).toBe(0);
    expect(snap.schema.map((s) => s.name)).toEqual(['uids']);
    // and a second attempt fails the same way instead of running with missing tables
    expectOpenError(path, 'migration-failed');
  });

  it('a newer user_version only warns and keeps working', () => {
    const path = join(dir, 'v2.db');
    open(path).close();
    const r = raw(path);
    r.pragma('user_version = 2');
    r.close();
    const log = captureLog();
    const db = open(path, log);
    expect(log.warnings.join('\n')).toContain('newer version');
    db.insertUidsIntoTableFromFerry([{ username: 'a', uid: 5 }]);
    expect(db.confirmUidsInTable()).toEqual([{ username: 'a', uid: 5 }]);
    db.close();
    expect(snapshot(path).userVersion).toBe(2);
  });
});

describe('uids', () => {
  it('upserts, updates a changed uid and keeps unrelated rows', () => {
    const db = open(join(dir, 'u.db'));
    db.insertUidsIntoTableFromFerry([
      { username: 'dunepro', uid: 500 },
      { username: 'olduser', uid: 42 },
    ]);
    db.insertUidsIntoTableFromFerry([{ username: 'dunepro', uid: 10001 }]);
    expect(db.getUidByUsername('dunepro')).toBe(10001);
    expect(db.getUidByUsername('olduser')).toBe(42);
    expect(db.confirmUidsInTable()).toEqual([
      { username: 'dunepro', uid: 10001 },
      { username: 'olduser', uid: 42 },
    ]);
  });

  it('a duplicate account with the same uid in one batch is fine', () => {
    const db = open(join(dir, 'dup.db'));
    db.insertUidsIntoTableFromFerry([
      { username: 'dunepro', uid: 10001 },
      { username: 'dunepro', uid: 10001 },
    ]);
    expect(db.confirmUidsInTable()).toEqual([{ username: 'dunepro', uid: 10001 }]);
  });

  it('a uid collision inside the batch fails the whole batch and rolls back', () => {
    const path = join(dir, 'coll.db');
    const db = open(path);
    db.insertUidsIntoTableFromFerry([{ username: 'keep', uid: 1 }]);
    expect(() =>
      db.insertUidsIntoTableFromFerry([
        { username: 'a', uid: 5000 },
        { username: 'b', uid: 5000 },
      ]),
    ).toThrow(/UNIQUE constraint failed: uids.uid/);
    expect(db.confirmUidsInTable()).toEqual([{ username: 'keep', uid: 1 }]);
    // FIX Q8: the failed transaction was rolled back, so another connection can write at once.
    const other = new Database(path, { timeout: 0 });
    raws.push(other);
    expect(() => other.prepare("INSERT INTO uids VALUES ('x', 9)").run()).not.toThrow();
  });

  it('a uid held by a stale row of another username fails the batch', () => {
    const db = open(join(dir, 'stale.db'));
    db.insertUidsIntoTableFromFerry([{ username: 'olduser', uid: 5000 }]);
    let caught: unknown;
    try {
      db.insertUidsIntoTableFromFerry([
        { username: 'mu2epro', uid: 10002 },
        { username: 'dunepro', uid: 5000 },
      ]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DbOperationError);
    expect((caught as DbOperationError).sqliteCode).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect((caught as Error).message).toContain('stale.db');
    expect(db.confirmUidsInTable()).toEqual([{ username: 'olduser', uid: 5000 }]);
  });

  it('check 60: confirmUidsInTable and getAllServices on empty tables → empty results, no error', () => {
    const path = join(dir, 'empty.db');
    const db = open(path);
    expect(db.confirmUidsInTable()).toEqual([]);
    expect(db.getAllServices()).toEqual([]);
    // read-backs only: the file still has no rows
    const r = raw(path);
    expect(r.prepare('SELECT COUNT(*) AS n FROM uids').get()).toEqual({ n: 0 });
    expect(r.prepare('SELECT COUNT(*) AS n FROM services').get()).toEqual({ n: 0 });
    // once a row exists it is returned, so the empty result above is not a constant
    db.insertUidsIntoTableFromFerry([{ username: 'dunepro', uid: 10001 }]);
    expect(db.confirmUidsInTable()).toEqual([{ username: 'dunepro', uid: 10001 }]);
  });

  it('no row → the "no rows" error with the original text', () => {
    const db = open(join(dir, 'none.db'));
    expect(() => db.getUidByUsername('nobody')).toThrow(NoRowsError);
    expect(() => db.getUidByUsername('nobody')).toThrow('sql: no rows in result set');
    expect(db.confirmUidsInTable()).toEqual([]);
  });

  it('numeric-looking usernames are stored as numbers (NUMERIC affinity) and fail the type check', () => {
    const path = join(dir, 'affinity.db');
    const db = open(path);
    db.insertUidsIntoTableFromFerry([
      { username: '007', uid: 7 },
      { username: 'dunepro', uid: 10001 },
    ]);
    // lookup with a text parameter still matches
    expect(db.getUidByUsername('007')).toBe(7);
    expect(() => db.confirmUidsInTable()).toThrow(DbWrongTypeError);
    expect(snapshot(path).tables['uids']).toContainEqual(
      expect.objectContaining({ username: 7, username_type: 'integer' }),
    );
  });
});

describe('services and nodes', () => {
  it('insert-if-absent, list, empty list without error', () => {
    const db = open(join(dir, 's.db'));
    expect(db.getAllServices()).toEqual([]);
    expect(db.getAllNodes()).toEqual([]);
    db.updateServices(['dune_production', 'mu2e_production']);
    db.updateServices(['dune_production']);
    db.updateNodes(['node1.example', 'node2.example', 'node1.example']);
    expect(db.getAllServices()).toEqual(['dune_production', 'mu2e_production']);
    expect(db.getAllNodes()).toEqual(['node1.example', 'node2.example']);
  });
});

describe('error counts', () => {
  it('empty tables → "no rows" for the info queries', () => {
    const db = open(join(dir, 'e.db'));
    expect(() => db.getSetupErrorsInfo()).toThrow(NoRowsError);
    expect(() => db.getSetupErrorsInfoByService('x')).toThrow(NoRowsError);
    expect(() => db.getPushErrorsInfo()).toThrow(NoRowsError);
    expect(() => db.getPushErrorsInfoByService('x')).toThrow(NoRowsError);
  });

  it('setup errors: upsert by service name, read back, reset to 0', () => {
    const db = open(join(dir, 'se.db'));
    db.updateServices(['dune_production', 'mu2e_production']);
    db.updateSetupErrorsTable([{ service: 'dune_production', count: 1 }]);
    db.updateSetupErrorsTable([
      { service: 'dune_production', count: 2 },
      { service: 'mu2e_production', count: 1 },
    ]);
    expect(db.getSetupErrorsInfoByService('dune_production')).toEqual({
      service: 'dune_production',
      count: 2,
    });
    expect(db.getSetupErrorsInfo()).toEqual([
      { service: 'dune_production', count: 2 },
      { service: 'mu2e_production', count: 1 },
    ]);
    db.updateSetupErrorsTable([{ service: 'dune_production', count: 0 }]);
    expect(db.getSetupErrorsInfoByService('dune_production').count).toBe(0);
  });

  it('KEEP Q14: an unknown service inserts NULL-id rows that pile up and are never returned', () => {
    const path = join(dir, 'orphan.db');
    const db = open(path);
    db.updateSetupErrorsTable([{ service: 'ghost', count: 1 }]);
    db.updateSetupErrorsTable([{ service: 'ghost', count: 2 }]);
    const rows = snapshot(path).tables['setup_errors'] as { service_id: unknown }[];
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.service_id === null)).toBe(true);
    expect(() => db.getSetupErrorsInfo()).toThrow(NoRowsError);
    expect(() => db.getSetupErrorsInfoByService('ghost')).toThrow(NoRowsError);
  });

  it('push errors: per (service, node), read all and by service', () => {
    const db = open(join(dir, 'pe.db'));
    db.updateServices(['dune_production', 'mu2e_production']);
    db.updateNodes(['n1', 'n2']);
    db.updatePushErrorsTable([
      { service: 'dune_production', node: 'n1', count: 1 },
      { service: 'dune_production', node: 'n2', count: 3 },
      { service: 'mu2e_production', node: 'n1', count: 1 },
    ]);
    db.updatePushErrorsTable([{ service: 'dune_production', node: 'n1', count: 2 }]);
    expect(db.getPushErrorsInfoByService('dune_production')).toEqual([
      { service: 'dune_production', node: 'n1', count: 2 },
      { service: 'dune_production', node: 'n2', count: 3 },
    ]);
    expect(db.getPushErrorsInfo()).toHaveLength(3);
    expect(() => db.getPushErrorsInfoByService('nobody')).toThrow(NoRowsError);
    // unknown node → orphan row, invisible to the join
    db.updatePushErrorsTable([{ service: 'dune_production', node: 'ghost', count: 1 }]);
    expect(db.getPushErrorsInfoByService('dune_production')).toHaveLength(2);
  });

  it('a failing item rolls back the whole error-count batch', () => {
    const path = join(dir, 'rb.db');
    const db = open(path);
    db.updateServices(['svc']);
    const r = raw(path);
    r.exec(
      "CREATE TRIGGER boom BEFORE INSERT ON setup_errors WHEN NEW.count = 99 BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    r.close();
    expect(() =>
      db.updateSetupErrorsTable([
        { service: 'svc', count: 1 },
        { service: 'svc', count: 99 },
      ]),
    ).toThrow(/boom/);
    expect(() => db.getSetupErrorsInfoByService('svc')).toThrow(NoRowsError);
  });
});

describe('locking', () => {
  it('a write waits for the busy timeout (capped by the write deadline) and fails with "database is locked"', () => {
    const path = join(dir, 'lock.db');
    const db = open(path);
    const holder = raw(path);
    holder.exec('BEGIN IMMEDIATE');
    // reads still work while another connection holds RESERVED
    expect(db.confirmUidsInTable()).toEqual([]);
    let caught: unknown;
    try {
      db.insertUidsIntoTableFromFerry([{ username: 'a', uid: 1 }], { timeoutMs: 150 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DbOperationError);
    expect((caught as Error).message).toContain('database is locked');
    holder.exec('ROLLBACK');
    db.insertUidsIntoTableFromFerry([{ username: 'a', uid: 1 }], { timeoutMs: 150 });
    expect(db.getUidByUsername('a')).toBe(1);
    // the busy timeout is restored after a capped write
    const conn = (db as unknown as { conn: Database.Database }).conn;
    expect(conn.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('a held EXCLUSIVE lock makes the open fail as "locked"', () => {
    const path = join(dir, 'excl.db');
    open(path).close();
    const holder = raw(path);
    holder.exec('BEGIN EXCLUSIVE');
    const e = expectOpenError(path, 'locked');
    expect(e.message).toContain('database is locked');
    holder.exec('ROLLBACK');
  });
});

describe('creation racing another process', () => {
  // The create path runs when stat said "absent"; another process may have created the file since.
  it('adopts a database another process initialised meanwhile instead of failing or deleting it', () => {
    const path = join(dir, 'race.db');
    const other = open(path);
    other.insertUidsIntoTableFromFerry([{ username: 'theirs', uid: 1 }]);
    other.close();
    const conn = createFileForTest(path, 5000);
    conn.close();
    expect(snapshot(path).tables['uids']).toEqual([
      expect.objectContaining({ username: 'theirs', uid: 1 }),
    ]);
    // and the normal open afterwards works on it
    expect(open(path).getUidByUsername('theirs')).toBe(1);
  });

  it('leaves a foreign file created meanwhile untouched (the identity check then refuses it)', () => {
    const path = join(dir, 'race-foreign.db');
    const r = raw(path);
    r.pragma('application_id = 42');
    r.exec('CREATE TABLE t (x)');
    r.close();
    const before = readFileSync(path);
    createFileForTest(path, 5000).close();
    expect(readFileSync(path).equals(before)).toBe(true);
    expectOpenError(path, 'foreign-application-id');
  });
});
