/**
 * The Managed Tokens SQLite database shared with the original Go binaries
 * (spec ferry-and-db.md section 4). One synchronous connection per process, rollback
 * journal, busy timeout 5000 ms, foreign keys on.
 */
import { rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  DbOpenError,
  DbOperationError,
  DbWrongStructureError,
  DbWrongTypeError,
  NoRowsError,
  messageOf,
  sqliteCodeOf,
} from './errors.js';
import { APPLICATION_ID, EXTENSION_TABLES, MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export * from './errors.js';
export { APPLICATION_ID, SCHEMA_VERSION } from './schema.js';

/** Default busy timeout of every connection (the original's driver default). */
export const BUSY_TIMEOUT_MS = 5000;

export interface UidRow {
  readonly username: string;
  readonly uid: number;
}

export interface SetupErrorCount {
  readonly service: string;
  readonly count: number;
}

export interface PushErrorCount {
  readonly service: string;
  readonly node: string;
  readonly count: number;
}

/** Where the module reports what is worth a log line; the caller's logger fits. */
export interface DbLog {
  warn(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
}

export interface DbOpenOptions {
  readonly log?: DbLog;
  /** Busy timeout of the connection; defaults to 5000 ms. */
  readonly busyTimeoutMs?: number;
}

export interface WriteOptions {
  /**
   * Deadline of the whole write (refresh passes timeouts.dbTimeout). better-sqlite3 is
   * synchronous, so the only place a write can wait is the busy handler: the deadline caps it.
   */
  readonly timeoutMs?: number;
}

const SQL = {
  upsertUid:
    'INSERT INTO uids(username, uid) VALUES (?, ?) ON CONFLICT(username) DO UPDATE SET uid = ?',
  allUids: 'SELECT username, uid FROM uids',
  uidByUsername: 'SELECT uid FROM uids WHERE username = ?',
  insertService: 'INSERT INTO services(name) VALUES (?) ON CONFLICT(name) DO NOTHING',
  insertNode: 'INSERT INTO nodes(name) VALUES (?) ON CONFLICT(name) DO NOTHING',
  allServices: 'SELECT name FROM services',
  allNodes: 'SELECT name FROM nodes',
  setupErrors: `SELECT services.name AS service, setup_errors.count AS count
    FROM setup_errors INNER JOIN services ON services.id = setup_errors.service_id`,
  setupErrorsByService: `SELECT services.name AS service, setup_errors.count AS count
    FROM setup_errors INNER JOIN services ON services.id = setup_errors.service_id
    WHERE services.name = ?`,
  pushErrors: `SELECT services.name AS service, nodes.name AS node, push_errors.count AS count
    FROM push_errors
    INNER JOIN services ON services.id = push_errors.service_id
    INNER JOIN nodes ON nodes.id = push_errors.node_id`,
  pushErrorsByService: `SELECT services.name AS service, nodes.name AS node, push_errors.count AS count
    FROM push_errors
    INNER JOIN services ON services.id = push_errors.service_id
    INNER JOIN nodes ON nodes.id = push_errors.node_id
    WHERE services.name = ?`,
  // Unknown service/node names resolve to NULL ids: such rows never conflict and pile up (KEEP, Q14).
  upsertSetupErrors: `INSERT INTO setup_errors(service_id, count)
    VALUES ((SELECT id FROM services WHERE name = ?), ?)
    ON CONFLICT(service_id) DO UPDATE SET count = ?`,
  upsertPushErrors: `INSERT INTO push_errors(service_id, node_id, count)
    VALUES ((SELECT id FROM services WHERE name = ?), (SELECT id FROM nodes WHERE name = ?), ?)
    ON CONFLICT(service_id, node_id) DO UPDATE SET count = ?`,
} as const;

type Params = readonly (string | number)[];

export class ManagedTokensDb {
  private constructor(
    readonly location: string,
    private readonly conn: Database.Database,
    private readonly busyTimeoutMs: number,
  ) {}

  /**
   * Opens the file at `path`, or creates and initialises it when it does not exist
   * (spec 4.4). Never deletes or repairs an existing file. Throws DbOpenError.
   */
  static open(path: string, options: DbOpenOptions = {}): ManagedTokensDb {
    if (path === '') throw new DbOpenError(path, 'empty-path', 'dbLocation is empty');
    const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    requireParentDirectory(path);
    const conn = fileIsAbsent(path)
      ? createFile(path, busyTimeoutMs)
      : openExistingFile(path, busyTimeoutMs);
    try {
      conn.pragma('foreign_keys = ON');
      checkApplicationId(path, conn);
      migrateIfBehind(path, conn, options.log);
      createExtensionTables(path, conn);
    } catch (err) {
      conn.close();
      throw err;
    }
    options.log?.debug({ dbLocation: path }, 'ManagedTokensDatabase connection ready');
    return new ManagedTokensDb(path, conn, busyTimeoutMs);
  }

  close(): void {
    if (this.conn.open) this.conn.close();
  }

  get isOpen(): boolean {
    return this.conn.open;
  }

  // ---- uids (refresh-uids-from-ferry, token-push) ----

  /** Upserts every row in one transaction; any failure (e.g. a uid collision) rolls back all of them. */
  insertUidsIntoTableFromFerry(rows: readonly UidRow[], options: WriteOptions = {}): void {
    this.writeBatch(
      'InsertUidsIntoTableFromFERRY',
      SQL.upsertUid,
      rows.map((r) => [r.username, r.uid, r.uid]),
      options,
    );
  }

  /** Every (username, uid) row; throws DbWrongTypeError if one is not (string, integer). */
  confirmUidsInTable(): UidRow[] {
    const rows = this.query('ConfirmUIDsInTable', SQL.allUids, []);
    return rows.map((row) => {
      const username = row['username'];
      const uid = row['uid'];
      if (typeof username !== 'string' || !isInteger(uid)) {
        throw new DbWrongTypeError(
          `uid table row has wrong type.  Expected (string, int64), got (${sqlTypeName(username)}, ${sqlTypeName(uid)})`,
        );
      }
      return { username, uid: Number(uid) };
    });
  }

  /** The uid stored for `username`; throws NoRowsError when there is none. */
  getUidByUsername(username: string): number {
    const rows = this.query('GetUIDByUsername', SQL.uidByUsername, [username]);
    const first = rows[0];
    if (!first) throw new NoRowsError();
    const uid = first['uid'];
    if (!isInteger(uid)) {
      throw new DbWrongTypeError(
        `uid query result has wrong type.  Expected int64, got ${sqlTypeName(uid)}`,
      );
    }
    return Number(uid);
  }

  // ---- services and nodes (token-push) ----

  updateServices(names: readonly string[], options: WriteOptions = {}): void {
    this.writeBatch(
      'UpdateServices',
      SQL.insertService,
      names.map((n) => [n]),
      options,
    );
  }

  updateNodes(names: readonly string[], options: WriteOptions = {}): void {
    this.writeBatch(
      'UpdateNodes',
      SQL.insertNode,
      names.map((n) => [n]),
      options,
    );
  }

  getAllServices(): string[] {
    return this.namesOf('GetAllServices', SQL.allServices);
  }

  getAllNodes(): string[] {
    return this.namesOf('GetAllNodes', SQL.allNodes);
  }

  // ---- consecutive error counts (notifications) ----

  /** All stored setup-error counts of known services; throws NoRowsError when there are none. */
  getSetupErrorsInfo(): SetupErrorCount[] {
    const rows = this.query('GetSetupErrorsInfo', SQL.setupErrors, []);
    if (rows.length === 0) throw new NoRowsError();
    return rows.map(toSetupErrorCount);
  }

  /** The setup-error count of one service; throws NoRowsError when it has none. */
  getSetupErrorsInfoByService(service: string): SetupErrorCount {
    const rows = this.query('GetSetupErrorsInfoByService', SQL.setupErrorsByService, [service]);
    const [only, ...rest] = rows;
    if (!only) throw new NoRowsError();
    if (rest.length > 0) {
      throw new DbWrongStructureError(
        `setup error data should only have 1 row for service ${service}, got ${rows.length}`,
      );
    }
    return toSetupErrorCount(only);
  }

  /** All stored push-error counts of known (service, node) pairs; throws NoRowsError when there are none. */
  getPushErrorsInfo(): PushErrorCount[] {
    const rows = this.query('GetPushErrorsInfo', SQL.pushErrors, []);
    if (rows.length === 0) throw new NoRowsError();
    return rows.map(toPushErrorCount);
  }

  /** The push-error counts of one service, one per node; throws NoRowsError when it has none. */
  getPushErrorsInfoByService(service: string): PushErrorCount[] {
    const rows = this.query('GetPushErrorsInfoByService', SQL.pushErrorsByService, [service]);
    if (rows.length === 0) throw new NoRowsError();
    return rows.map(toPushErrorCount);
  }

  updateSetupErrorsTable(items: readonly SetupErrorCount[], options: WriteOptions = {}): void {
    this.writeBatch(
      'UpdateSetupErrorsTable',
      SQL.upsertSetupErrors,
      items.map((i) => [i.service, i.count, i.count]),
      options,
    );
  }

  updatePushErrorsTable(items: readonly PushErrorCount[], options: WriteOptions = {}): void {
    this.writeBatch(
      'UpdatePushErrorsTable',
      SQL.upsertPushErrors,
      items.map((i) => [i.service, i.node, i.count, i.count]),
      options,
    );
  }

  // ---- plumbing ----

  private query(operation: string, sql: string, params: Params): Record<string, unknown>[] {
    try {
      return this.conn.prepare(sql).all(...params) as Record<string, unknown>[];
    } catch (err) {
      throw this.operationError(operation, err);
    }
  }

  private namesOf(operation: string, sql: string): string[] {
    return this.query(operation, sql, []).map((row) => {
      const name = row['name'];
      if (typeof name !== 'string') {
        throw new DbWrongTypeError(
          `dimension name query result has wrong type.  Expected string, got ${sqlTypeName(name)}`,
        );
      }
      return name;
    });
  }

  /**
   * One deferred transaction, one prepared statement run per item. better-sqlite3 rolls the
   * transaction back when a statement throws (FIX Q8: the original left it open).
   */
  private writeBatch(
    operation: string,
    sql: string,
    items: readonly Params[],
    options: WriteOptions,
  ): void {
    const busyTimeout = Math.max(
      0,
      Math.min(this.busyTimeoutMs, options.timeoutMs ?? this.busyTimeoutMs),
    );
    if (busyTimeout !== this.busyTimeoutMs)
      this.conn.pragma(`busy_timeout = ${Math.floor(busyTimeout)}`);
    try {
      const statement = this.conn.prepare(sql);
      const runAll = this.conn.transaction((batch: readonly Params[]) => {
        for (const params of batch) statement.run(...params);
      });
      runAll(items);
    } catch (err) {
      throw this.operationError(operation, err);
    } finally {
      if (busyTimeout !== this.busyTimeoutMs)
        this.conn.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  private operationError(operation: string, err: unknown): DbOperationError {
    return new DbOperationError(this.location, operation, sqliteCodeOf(err), messageOf(err), {
      cause: err,
    });
  }
}

// ---- open / create / migrate ----

function requireParentDirectory(path: string): void {
  const dir = dirname(resolve(path));
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    throw new DbOpenError(
      path,
      'missing-directory',
      `directory ${dir} is not accessible: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!isDirectory) throw new DbOpenError(path, 'not-a-directory', `${dir} is not a directory`);
}

/** Only "does not exist" means create; any other stat outcome means open (spec 4.4 step 1). */
function fileIsAbsent(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function connect(path: string, busyTimeoutMs: number, mustExist: boolean): Database.Database {
  return new Database(path, { fileMustExist: mustExist, timeout: busyTimeoutMs });
}

function openExistingFile(path: string, busyTimeoutMs: number): Database.Database {
  try {
    return connect(path, busyTimeoutMs, true);
  } catch (err) {
    throw new DbOpenError(path, 'open-failed', messageOf(err), { cause: err });
  }
}

/**
 * Creates a new file: application id, then every migration, all in one transaction so a
 * failure leaves nothing half-initialised. On failure the new file is removed best effort
 * and the original error is reported (FIX Q11).
 */
function createFile(path: string, busyTimeoutMs: number): Database.Database {
  let conn: Database.Database;
  try {
    conn = connect(path, busyTimeoutMs, false);
  } catch (err) {
    throw new DbOpenError(path, 'create-failed', messageOf(err), { cause: err });
  }
  try {
    conn
      .transaction(() => {
        // Another process may have created the file between our stat and open: initialise only
        // a file that is still blank, under the write lock. The identity check that follows the
        // create handles the other case.
        if (!isBlank(conn)) return;
        conn.pragma(`application_id = ${APPLICATION_ID}`);
        applyMigrations(conn, 0, SCHEMA_VERSION);
      })
      .immediate();
    return conn;
  } catch (err) {
    // Remove the file only while it is still blank, i.e. nobody else has made it a database.
    const blank = safely(() => isBlank(conn), false);
    conn.close();
    if (blank) removeBestEffort(path);
    throw new DbOpenError(
      path,
      'create-failed',
      `Could not create new ManagedTokensDatabase: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** The create step alone, for tests of the stat/open race. */
export const createFileForTest = createFile;

/** No identity, no version, no schema: nothing anybody could have written yet. */
function isBlank(conn: Database.Database): boolean {
  const objects = conn.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number };
  return (
    readPragmaNumber(conn, 'application_id') === 0 &&
    readPragmaNumber(conn, 'user_version') === 0 &&
    objects.n === 0
  );
}

function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function removeBestEffort(path: string): void {
  for (const p of [path, `${path}-journal`]) {
    try {
      rmSync(p, { force: true });
    } catch {
      // The open error is what matters; a leftover file is reported by the next open.
    }
  }
}

function readPragmaNumber(
  conn: Database.Database,
  name: 'application_id' | 'user_version',
): number {
  return Number(conn.pragma(name, { simple: true }));
}

function checkApplicationId(path: string, conn: Database.Database): void {
  let id: number;
  try {
    id = readPragmaNumber(conn, 'application_id');
  } catch (err) {
    const failure = sqliteCodeOf(err) === 'SQLITE_BUSY' ? 'locked' : 'not-a-database';
    throw new DbOpenError(
      path,
      failure,
      `Could not get application_id from ManagedTokensDatabase: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
  if (id !== APPLICATION_ID) {
    throw new DbOpenError(
      path,
      'foreign-application-id',
      `Application IDs do not match.  Got ${id}, expected ${APPLICATION_ID}`,
    );
  }
}

function migrateIfBehind(path: string, conn: Database.Database, log: DbLog | undefined): void {
  let version: number;
  try {
    version = readPragmaNumber(conn, 'user_version');
  } catch (err) {
    const failure = sqliteCodeOf(err) === 'SQLITE_BUSY' ? 'locked' : 'not-a-database';
    throw new DbOpenError(
      path,
      failure,
      `Could not get user_version from ManagedTokensDatabase: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
  if (version > SCHEMA_VERSION) {
    log?.warn(
      { dbLocation: path, userVersion: version },
      'Database is from a newer version of the Managed Tokens library.  There may have been breaking changes in newer migrations',
    );
    return;
  }
  if (version === SCHEMA_VERSION) return;
  try {
    conn.transaction(() => applyMigrations(conn, Math.max(0, version), SCHEMA_VERSION)).immediate();
  } catch (err) {
    throw new DbOpenError(
      path,
      sqliteCodeOf(err) === 'SQLITE_BUSY' ? 'locked' : 'migration-failed',
      `Could not migrate between schemaVersions ${version} and ${SCHEMA_VERSION}: ${messageOf(err)}`,
      { cause: err },
    );
  }
  log?.debug({ dbLocation: path, from: version, to: SCHEMA_VERSION }, 'Migrated database');
}

/** Runs migration steps from..to-1 on a connection already inside a transaction; user_version last. */
function applyMigrations(conn: Database.Database, from: number, to: number): void {
  if (to > MIGRATIONS.length) {
    throw new Error(`trying to migrate to a database version that does not exist: ${to}`);
  }
  for (let step = from; step < to; step++) {
    for (const statement of MIGRATIONS[step] ?? []) conn.exec(statement);
  }
  conn.pragma(`user_version = ${to}`);
}

function createExtensionTables(path: string, conn: Database.Database): void {
  if (EXTENSION_TABLES.length === 0) return;
  try {
    conn.transaction(() => {
      for (const statement of EXTENSION_TABLES) conn.exec(statement);
    })();
  } catch (err) {
    throw new DbOpenError(
      path,
      'migration-failed',
      `Could not create additional tables: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
}

// ---- row checks ----

function isInteger(value: unknown): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
}

function sqlTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return 'string';
  if (isInteger(value)) return 'int64';
  if (typeof value === 'number') return 'float64';
  if (Buffer.isBuffer(value)) return '[]uint8';
  return typeof value;
}

function toSetupErrorCount(row: Record<string, unknown>): SetupErrorCount {
  const service = row['service'];
  const count = row['count'];
  if (typeof service !== 'string' || !isInteger(count)) {
    throw new DbWrongTypeError(
      `setup errors query result has wrong type.  Expected (string, int64), got (${sqlTypeName(service)}, ${sqlTypeName(count)})`,
    );
  }
  return { service, count: Number(count) };
}

function toPushErrorCount(row: Record<string, unknown>): PushErrorCount {
  const service = row['service'];
  const node = row['node'];
  const count = row['count'];
  if (typeof service !== 'string' || typeof node !== 'string' || !isInteger(count)) {
    throw new DbWrongTypeError(
      `push errors query result has wrong type.  Expected (string, string, int64), got (${sqlTypeName(service)}, ${sqlTypeName(node)}, ${sqlTypeName(count)})`,
    );
  }
  return { service, node, count: Number(count) };
}
