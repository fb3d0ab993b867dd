/** Errors of the database module. Each names the database file it concerns. */

export type DbOpenFailure =
  | 'empty-path'
  | 'missing-directory'
  | 'not-a-directory'
  | 'create-failed'
  | 'open-failed'
  | 'not-a-database'
  | 'foreign-application-id'
  | 'migration-failed'
  | 'locked';

/** The file could not be opened, created, identified or migrated. Nothing was repaired or deleted. */
export class DbOpenError extends Error {
  override readonly name = 'DbOpenError';
  constructor(
    readonly path: string,
    readonly failure: DbOpenFailure,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Could not open or create the managed tokens database ${JSON.stringify(path)}: ${detail}`,
      options,
    );
  }
}

/**
 * A query found nothing where one row was expected. The message is the one the original
 * surfaces (token-push logs `could not get UID by username: sql: no rows in result set`).
 */
export class NoRowsError extends Error {
  override readonly name = 'NoRowsError';
  constructor() {
    super('sql: no rows in result set');
  }
}

/** A row came back with a value of the wrong type (e.g. a numeric-looking username stored as INTEGER). */
export class DbWrongTypeError extends Error {
  override readonly name = 'DbWrongTypeError';
}

/** A query returned a shape the operation does not allow (e.g. two setup-error rows for one service). */
export class DbWrongStructureError extends Error {
  override readonly name = 'DbWrongStructureError';
}

/** A statement or transaction failed; the batch was rolled back. */
export class DbOperationError extends Error {
  override readonly name = 'DbOperationError';
  constructor(
    readonly path: string,
    readonly operation: string,
    readonly sqliteCode: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} on database ${JSON.stringify(path)} failed: ${detail}`, options);
  }
}

export function sqliteCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
