/**
 * Two-way compatibility with the original (README decision 3): a file produced by the
 * original's statements and pragmas works in ours, and the file ours produces has the same
 * schema text, identity and contents as the original would produce for the same operations.
 * "The original" is emulated with a raw SQLite connection running the statements the
 * original runs (spec ferry-and-db.md 4.3-4.5), in autocommit multi-statement mode as it does.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagedTokensDb, NoRowsError } from '../../../src/internal/db/index.js';
import { ORIGINAL_CREATE_SCRIPT } from '../../../src/internal/db/schema.js';
import { snapshot, tempDir } from './helpers.js';

const ORIGINAL_SQL = {
  upsertUid:
    'INSERT INTO uids(username, uid) VALUES (?, ?) ON CONFLICT(username) DO UPDATE SET uid = ?;',
  insertService: 'INSERT INTO services(name) VALUES (?) ON CONFLICT(name) DO NOTHING;',
  insertNode: 'INSERT INTO nodes(name) VALUES (?) ON CONFLICT(name) DO NOTHING;',
  upsertSetup: `INSERT INTO setup_errors(service_id, count)
    SELECT (SELECT services.id FROM services WHERE services.name = ?) AS service_id, ? AS count
    ON CONFLICT(service_id) DO UPDATE SET count = ?;`,
  upsertPush: `INSERT INTO push_errors(service_id, node_id, count)
    SELECT (SELECT services.id FROM services WHERE services.name = ?) AS service_id,
           (SELECT nodes.id FROM nodes WHERE nodes.name = ?) AS node_id, ? as count
    ON CONFLICT(service_id, node_id) DO UPDATE SET count = ?;`,
};

/** What the original does for the operations below, on a raw connection. */
class OriginalEmulation {
  private readonly conn: Database.Database;
  constructor(path: string) {
    this.conn = new Database(path, { timeout: 5000 });
    this.conn.exec(ORIGINAL_CREATE_SCRIPT);
    this.conn.pragma('foreign_keys = ON');
  }
  private batch(sql: string, rows: unknown[][]): void {
    const stmt = this.conn.prepare(sql);
    this.conn.transaction(() => rows.forEach((r) => stmt.run(...r)))();
  }
  uids(rows: [string, number][]): void {
    this.batch(
      ORIGINAL_SQL.upsertUid,
      rows.map(([u, id]) => [u, id, id]),
    );
  }
  services(names: string[]): void {
    this.batch(
      ORIGINAL_SQL.insertService,
      names.map((n) => [n]),
    );
  }
  nodes(names: string[]): void {
    this.batch(
      ORIGINAL_SQL.insertNode,
      names.map((n) => [n]),
    );
  }
  setup(items: [string, number][]): void {
    this.batch(
      ORIGINAL_SQL.upsertSetup,
      items.map(([s, c]) => [s, c, c]),
    );
  }
  push(items: [string, string, number][]): void {
    this.batch(
      ORIGINAL_SQL.upsertPush,
      items.map(([s, n, c]) => [s, n, c, c]),
    );
  }
  close(): void {
    this.conn.close();
  }
}

const SCENARIO = {
  uids1: [
    ['dunepro', 500],
    ['mu2epro', 10002],
    ['olduser', 42],
  ] as [string, number][],
  uids2: [
    ['dunepro', 10001],
    ['sbndpro', 10003],
  ] as [string, number][],
  services: ['dune_production', 'mu2e_production', 'dune_production'],
  nodes: ['node1.example', 'node2.example'],
  setup1: [
    ['dune_production', 1],
    ['ghost_service', 1],
  ] as [string, number][],
  setup2: [
    ['dune_production', 2],
    ['mu2e_production', 0],
  ] as [string, number][],
  push1: [
    ['dune_production', 'node1.example', 1],
    ['mu2e_production', 'node2.example', 3],
    ['dune_production', 'ghost-node', 1],
  ] as [string, string, number][],
  push2: [['dune_production', 'node1.example', 0]] as [string, string, number][],
};

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('mt-compat-')));
afterEach(() => cleanup());

describe('two-way compatibility with the original file format', () => {
  it('a file the original creates and fills opens and works in ours', () => {
    const path = join(dir, 'orig.db');
    const orig = new OriginalEmulation(path);
    orig.uids(SCENARIO.uids1);
    orig.services(SCENARIO.services);
    orig.nodes(SCENARIO.nodes);
    orig.setup(SCENARIO.setup1);
    orig.push(SCENARIO.push1);
    orig.close();

    const before = snapshot(path);
    const db = ManagedTokensDb.open(path);
    try {
      // opening changed nothing (no migration, no extra objects)
      expect(snapshot(path)).toEqual(before);
      expect(db.getUidByUsername('dunepro')).toBe(500);
      expect(db.confirmUidsInTable()).toHaveLength(3);
      expect(db.getAllServices()).toEqual(['dune_production', 'mu2e_production']);
      expect(db.getAllNodes()).toEqual(['node1.example', 'node2.example']);
      expect(db.getSetupErrorsInfo()).toEqual([{ service: 'dune_production', count: 1 }]);
      expect(db.getPushErrorsInfoByService('mu2e_production')).toEqual([
        { service: 'mu2e_production', node: 'node2.example', count: 3 },
      ]);
      db.insertUidsIntoTableFromFerry([{ username: 'dunepro', uid: 10001 }]);
      db.updateSetupErrorsTable([{ service: 'dune_production', count: 2 }]);
      expect(db.getUidByUsername('dunepro')).toBe(10001);
      expect(db.getSetupErrorsInfoByService('dune_production').count).toBe(2);
    } finally {
      db.close();
    }
  });

  it('ours produces the same schema text, identity and table contents as the original for the same operations', () => {
    const origPath = join(dir, 'orig.db');
    const oursPath = join(dir, 'ours.db');

    const orig = new OriginalEmulation(origPath);
    orig.uids(SCENARIO.uids1);
    orig.services(SCENARIO.services);
    orig.nodes(SCENARIO.nodes);
    orig.setup(SCENARIO.setup1);
    orig.push(SCENARIO.push1);
    orig.uids(SCENARIO.uids2);
    orig.setup(SCENARIO.setup2);
    orig.push(SCENARIO.push2);
    orig.close();

    const ours = ManagedTokensDb.open(oursPath);
    const asUids = (rows: [string, number][]) => rows.map(([username, uid]) => ({ username, uid }));
    ours.insertUidsIntoTableFromFerry(asUids(SCENARIO.uids1));
    ours.updateServices(SCENARIO.services);
    ours.updateNodes(SCENARIO.nodes);
    ours.updateSetupErrorsTable(SCENARIO.setup1.map(([service, count]) => ({ service, count })));
    ours.updatePushErrorsTable(
      SCENARIO.push1.map(([service, node, count]) => ({ service, node, count })),
    );
    ours.insertUidsIntoTableFromFerry(asUids(SCENARIO.uids2));
    ours.updateSetupErrorsTable(SCENARIO.setup2.map(([service, count]) => ({ service, count })));
    ours.updatePushErrorsTable(
      SCENARIO.push2.map(([service, node, count]) => ({ service, node, count })),
    );
    ours.close();

    const a = snapshot(origPath);
    const b = snapshot(oursPath);
    expect(b.applicationId).toBe(a.applicationId);
    expect(b.userVersion).toBe(a.userVersion);
    // byte-identical schema text, object for object
    expect(b.schema).toEqual(a.schema);
    expect(b.tables).toEqual(a.tables);
    // sanity: the scenario exercised every table
    for (const t of ['uids', 'services', 'nodes', 'setup_errors', 'push_errors']) {
      expect((a.tables[t] ?? []).length).toBeGreaterThan(0);
    }
  });

  it('a file ours creates is usable by the original statements (reverse direction)', () => {
    const path = join(dir, 'ours-first.db');
    const ours = ManagedTokensDb.open(path);
    ours.insertUidsIntoTableFromFerry([{ username: 'dunepro', uid: 10001 }]);
    ours.updateServices(['dune_production']);
    ours.close();

    // the original's open path: read identity, skip migration at user_version 1, run its statements
    const conn = new Database(path);
    try {
      expect(conn.pragma('application_id', { simple: true })).toBe(1571300691);
      expect(conn.pragma('user_version', { simple: true })).toBe(1);
      conn.prepare(ORIGINAL_SQL.upsertSetup).run('dune_production', 3, 3);
      conn.prepare(ORIGINAL_SQL.upsertUid).run('mu2epro', 10002, 10002);
      expect(conn.prepare('SELECT uid FROM uids WHERE username = ?').get('dunepro')).toEqual({
        uid: 10001,
      });
    } finally {
      conn.close();
    }
    const again = ManagedTokensDb.open(path);
    try {
      expect(again.getSetupErrorsInfoByService('dune_production').count).toBe(3);
      expect(again.getUidByUsername('mu2epro')).toBe(10002);
      expect(() => again.getPushErrorsInfo()).toThrow(NoRowsError);
    } finally {
      again.close();
    }
  });
});

describe('committed fixture made with the original statements', () => {
  const fixture = resolve(import.meta.dirname, '../../fixtures/db/original-v1.db');

  it('opens, reads and writes in ours without changing its identity or schema', () => {
    const path = join(dir, 'fixture.db');
    const fixtureBytes = readFileSync(fixture);
    copyFileSync(fixture, path);
    const before = snapshot(path);
    expect(before.applicationId).toBe(1571300691);
    expect(before.userVersion).toBe(1);
    const db = ManagedTokensDb.open(path);
    try {
      expect(db.confirmUidsInTable()).toEqual([
        { username: 'dunepro', uid: 10001 },
        { username: 'mu2epro', uid: 10002 },
        { username: 'olduser', uid: 42 },
      ]);
      expect(db.getSetupErrorsInfoByService('dune_production')).toEqual({
        service: 'dune_production',
        count: 2,
      });
      expect(db.getPushErrorsInfo()).toEqual([
        { service: 'mu2e_production', node: 'mu2egpvm01.fnal.gov', count: 1 },
      ]);
      db.insertUidsIntoTableFromFerry([{ username: 'sbndpro', uid: 10003 }]);
      db.updateNodes(['sbndgpvm01.fnal.gov']);
    } finally {
      db.close();
    }
    const after = snapshot(path);
    expect(after.schema).toEqual(before.schema);
    expect(after.applicationId).toBe(before.applicationId);
    expect(after.userVersion).toBe(before.userVersion);
    // the committed fixture itself is never modified (the test works on a copy)
    expect(readFileSync(fixture).equals(fixtureBytes)).toBe(true);
  });
});
