/**
 * Identity and schema of the Managed Tokens SQLite file (spec ferry-and-db.md 4.2-4.4).
 *
 * The CREATE TABLE texts are part of the on-disk contract with the original Go binaries:
 * SQLite stores them verbatim in sqlite_master, and the file must stay two-way compatible
 * (README decision 3). Their exact bytes, including the tab indentation of the foreign key
 * clauses, reproduce what the original writes. Do not reformat them.
 */

/** `PRAGMA application_id` of every Managed Tokens database (0x5DA82553). */
export const APPLICATION_ID = 1571300691;

/** `PRAGMA user_version` this implementation reads and writes. */
export const SCHEMA_VERSION = 1;

export const V1_TABLES = ['uids', 'services', 'nodes', 'setup_errors', 'push_errors'] as const;
export type V1Table = (typeof V1_TABLES)[number];

const CREATE_UIDS = `CREATE TABLE uids (
username STRING UNIQUE NOT NULL PRIMARY KEY,
uid INTEGER UNIQUE NOT NULL
)`;

const CREATE_SERVICES = `CREATE TABLE services (
id INTEGER NOT NULL PRIMARY KEY,
name STRING UNIQUE NOT NULL
)`;

const CREATE_NODES = `CREATE TABLE nodes (
id INTEGER NOT NULL PRIMARY KEY,
name STRING UNIQUE NOT NULL
)`;

const CREATE_SETUP_ERRORS = `CREATE TABLE setup_errors (
service_id INTEGER UNIQUE,
count INTEGER,
FOREIGN KEY (service_id)
\tREFERENCES services (id)
\t\tON DELETE CASCADE
\t\tON UPDATE NO ACTION
)`;

const CREATE_PUSH_ERRORS = `CREATE TABLE push_errors (
service_id INTEGER,
node_id INTEGER,
count INTEGER,
UNIQUE(service_id, node_id),
FOREIGN KEY (service_id)
\tREFERENCES services (id)
\t\tON DELETE CASCADE
\t\tON UPDATE NO ACTION,
FOREIGN KEY (node_id)
\tREFERENCES nodes (id)
\t\tON DELETE CASCADE
\t\tON UPDATE NO ACTION
)`;

/** The text sqlite_master.sql holds for each v1 table in a file either implementation created. */
export const V1_TABLE_SQL: Readonly<Record<V1Table, string>> = {
  uids: CREATE_UIDS,
  services: CREATE_SERVICES,
  nodes: CREATE_NODES,
  setup_errors: CREATE_SETUP_ERRORS,
  push_errors: CREATE_PUSH_ERRORS,
};

/**
 * Migration steps; index i migrates user_version i to i+1. Each step is a list of DDL
 * statements run inside one transaction, after which user_version is set (FIX Q10: the
 * original bumped user_version first and outside any transaction).
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  [CREATE_UIDS, CREATE_SERVICES, CREATE_NODES, CREATE_SETUP_ERRORS, CREATE_PUSH_ERRORS],
];

/**
 * Tables only this implementation needs. They live beside the v1 tables, are created with
 * IF NOT EXISTS on every open and are never required by the original. Empty for now.
 */
export const EXTENSION_TABLES: readonly string[] = [];

/**
 * The statements the original executes to create a fresh file, as one script: its v0→v1
 * migration text preceded by the application id. Used by compatibility tests to produce a
 * file "as the original would", never by the implementation itself.
 */
export const ORIGINAL_CREATE_SCRIPT = `PRAGMA application_id=${APPLICATION_ID};
PRAGMA user_version=1;
PRAGMA foreign_keys=on;

${CREATE_UIDS};

${CREATE_SERVICES};

${CREATE_NODES};

${CREATE_SETUP_ERRORS};

${CREATE_PUSH_ERRORS};`;
