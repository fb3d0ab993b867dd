/**
 * refresh-uids-from-ferry and the database file (spec ferry-and-db.md 4.4, 4.8, checks 43-49):
 * foreign, corrupt, old, newer, locked, missing-directory and unwritable files, through the
 * built executable run as the test user.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManagedTokensDb } from '../../src/internal/db/index.js';
import { createRefreshWorld, readLog, type RefreshWorld } from '../internal/refresh/harness.js';

let w: RefreshWorld;
beforeAll(async () => {
  w = await createRefreshWorld();
}, 120_000);
afterAll(async () => {
  await w?.close();
});
beforeEach(async () => {
  await w.reset();
});

const DB_OPEN_FAILED = 'Could not open or create ManagedTokensDatabase';

function giveToUser(path: string): void {
  chownSync(path, w.user.uid, w.user.gid);
}

function rawFile(path: string, init: (db: Database.Database) => void): void {
  const raw = new Database(path);
  try {
    init(raw);
  } finally {
    raw.close();
  }
  giveToUser(path);
}

function pragma(path: string, name: string): unknown {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.pragma(name, { simple: true });
  } finally {
    raw.close();
  }
}

function tables(path: string): string[] {
  const raw = new Database(path, { readonly: true });
  try {
    return (
      raw.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
  } finally {
    raw.close();
  }
}

describe('foreign and corrupt files are refused and left untouched', () => {
  it('check 43: a text file → exit 1, 0 requests, file byte-identical, admin told at once, no PUT', async () => {
    const content = 'not a database\n'.repeat(20);
    writeFileSync(w.dbPath, content);
    giveToUser(w.dbPath);
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(w.ferry.requests).toHaveLength(0);
    expect(readFileSync(w.dbPath, 'utf8')).toBe(content);
    expect(w.slackTexts('/hooks/admin').join('\n')).toContain(DB_OPEN_FAILED);
    expect(w.pushgateway.requests.filter((q) => q.method === 'PUT')).toHaveLength(0);
    expect(readLog(w.debugFile)).toContain('file is not a database');
  });

  it.each([
    ['a zero-byte file', (p: string) => (writeFileSync(p, ''), giveToUser(p))],
    [
      'a SQLite file with application_id 0',
      (p: string) => rawFile(p, (db) => db.exec('CREATE TABLE t (x)')),
    ],
    [
      'a SQLite file with application_id 42',
      (p: string) =>
        rawFile(p, (db) => (db.pragma('application_id = 42'), db.exec('CREATE TABLE t (x)'))),
    ],
  ])('check 44: %s → exit 1, file unchanged', async (_name, make) => {
    make(w.dbPath);
    const before = readFileSync(w.dbPath);
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(readFileSync(w.dbPath).equals(before)).toBe(true);
    expect(w.ferry.requests).toHaveLength(0);
    expect(readLog(w.debugFile)).toContain('Application IDs do not match');
  });
});

describe('schema versions', () => {
  it('check 45: right application_id, user_version 0, no tables → migrated to v1 and the run succeeds', async () => {
    rawFile(w.dbPath, (db) => db.pragma('application_id = 1571300691'));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code, r.stderr).toBe(0);
    expect(pragma(w.dbPath, 'user_version')).toBe(1);
    expect(tables(w.dbPath)).toEqual(['nodes', 'push_errors', 'services', 'setup_errors', 'uids']);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
  });

  it('check 46 (FIX Q10): user_version 0 with a pre-existing uids table → exit 1, user_version stays 0, nothing added', async () => {
    rawFile(w.dbPath, (db) => {
      db.pragma('application_id = 1571300691');
      db.exec('CREATE TABLE uids (username TEXT, uid INTEGER)');
    });
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(pragma(w.dbPath, 'user_version')).toBe(0);
    expect(tables(w.dbPath)).toEqual(['uids']);
    expect(readLog(w.debugFile)).toContain('table uids already exists');
    // and the next run fails the same way instead of running with missing tables
    const again = await w.run(['-c', w.writeConfig()]);
    expect(again.code).toBe(1);
    expect(pragma(w.dbPath, 'user_version')).toBe(0);
  });

  it('check 47: user_version 2 → warning, run succeeds, user_version still 2', async () => {
    ManagedTokensDb.open(w.dbPath).close();
    rawFile(w.dbPath, (db) => db.pragma('user_version = 2'));
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code, r.stderr).toBe(0);
    expect(pragma(w.dbPath, 'user_version')).toBe(2);
    expect(readLog(w.debugFile)).toMatch(/level=warning msg="Database is from a newer version/);
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
  });
});

describe('location problems', () => {
  it('check 48: the parent directory does not exist → exit 1, nothing created, error names the path', async () => {
    const path = join(w.dir, 'no-such-dir', 'uid.db');
    const r = await w.run(['-c', w.writeConfig({ dbLocation: path })]);
    expect(r.code).toBe(1);
    expect(existsSync(join(w.dir, 'no-such-dir'))).toBe(false);
    expect(w.ferry.requests).toHaveLength(0);
    expect(readLog(w.debugFile)).toContain(path);
  });

  it('a directory the user cannot write → create fails naming the path, nothing left behind', async () => {
    const dir = join(w.dir, 'readonly-dir');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755); // owned by root
    const path = join(dir, 'uid.db');
    const r = await w.run(['-c', w.writeConfig({ dbLocation: path })]);
    expect(r.code).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    expect(readLog(w.debugFile)).toContain(path);
    expect(w.slackTexts('/hooks/admin').join('\n')).toContain(DB_OPEN_FAILED);
  });

  it('a database file the user cannot write → the upsert fails naming the path, exit 1, rows unchanged', async () => {
    ManagedTokensDb.open(w.dbPath).close(); // owned by root, mode 0644
    chmodSync(w.dbPath, 0o644);
    const before = readFileSync(w.dbPath);
    const r = await w.run(['-c', w.writeConfig()]);
    expect(r.code).toBe(1);
    expect(readFileSync(w.dbPath).equals(before)).toBe(true);
    const log = readLog(w.debugFile);
    expect(log).toContain('Could not insert FERRY data into database');
    expect(log).toContain(w.dbPath);
    expect(log).toMatch(/readonly|read-only|unable to open/i);
  });
});

describe('locking (check 49)', () => {
  function holder(): Database.Database {
    ManagedTokensDb.open(w.dbPath).close();
    giveToUser(w.dbPath);
    return new Database(w.dbPath);
  }

  it('a held RESERVED lock: open and reads succeed, the upsert times out with "database is locked"', async () => {
    const h = holder();
    try {
      h.exec('BEGIN IMMEDIATE');
      const r = await w.run(['-c', w.writeConfig()]);
      expect(r.code).toBe(1);
      expect(w.ferry.requests).toHaveLength(3);
      expect(w.slackTexts('/hooks/admin').join('\n')).toContain(
        'Could not insert FERRY data into database',
      );
      expect(readLog(w.debugFile)).toContain('database is locked');
    } finally {
      if (h.inTransaction) h.exec('ROLLBACK');
      h.close();
    }
    expect(w.uids()).toEqual({});
  });

  it('a RESERVED lock released while the upsert waits → success', async () => {
    w.ferry.setDefault(undefined);
    const h = holder();
    h.exec('BEGIN IMMEDIATE');
    // Release as soon as FERRY has answered all three accounts, well inside the 5 s busy timeout.
    const release = setInterval(() => {
      if (w.ferry.requests.filter((q) => q.tEnd !== null).length === 3 && h.inTransaction) {
        setTimeout(() => {
          if (h.inTransaction) h.exec('ROLLBACK');
        }, 500);
        clearInterval(release);
      }
    }, 20);
    try {
      const r = await w.run(['-c', w.writeConfig()]);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      clearInterval(release);
      if (h.inTransaction) h.exec('ROLLBACK');
      h.close();
    }
    expect(w.uids()).toEqual({ dunepro: 10001, mu2epro: 10002, sbndpro: 10003 });
  });

  it('a held EXCLUSIVE lock makes the open fail → admin told, no request', async () => {
    const h = holder();
    try {
      h.exec('BEGIN EXCLUSIVE');
      const r = await w.run(['-c', w.writeConfig()]);
      expect(r.code).toBe(1);
      expect(w.ferry.requests).toHaveLength(0);
      expect(w.slackTexts('/hooks/admin').join('\n')).toContain(DB_OPEN_FAILED);
      expect(readLog(w.debugFile)).toContain('database is locked');
    } finally {
      if (h.inTransaction) h.exec('ROLLBACK');
      h.close();
    }
  });
});
