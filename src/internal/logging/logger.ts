/**
 * Log sinks (notifications-observability.md 5.1): stderr gets everything from debug up, the debug file
 * debug+, the log file info+, both in the logrus text format; extra streams (Loki) get pino's JSON lines.
 * Each file entry is an open-append-close, so logrotate works without copytruncate. Sinks fail
 * independently (fix of Q13). Every line passes through redactSecrets first.
 */
import { appendFileSync, mkdirSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { formatLogrusLine } from './format.js';
import { redactSecrets } from './redact.js';

const LEVEL_VALUES: Readonly<Record<Level, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

export interface ExtraStream {
  /** Lowest level this stream receives. */
  readonly level: Level;
  /** Receives each pino JSON line (already redacted). */
  readonly stream: DestinationStream;
  /** Flushes pending entries; awaited by LoggerHandle.close(). */
  readonly close?: () => Promise<void>;
}

export interface LoggerOptions {
  /** Value of the `executable` field on every line. */
  readonly executable: string;
  /** Info+ file (`logs.<exe>.logfile`); undefined or '' → no file. */
  readonly logFile?: string | undefined;
  /** Debug+ file (`logs.<exe>.debugfile`); undefined or '' → no file. */
  readonly debugFile?: string | undefined;
  readonly extraStreams?: readonly ExtraStream[] | undefined;
  /** Log one warning per unset file key (Q33 fix). Default true; false for the pre-config logger. */
  readonly warnMissingFiles?: boolean | undefined;
  /** Where stderr lines go; default fd 2. */
  readonly stderrWrite?: ((text: string) => void) | undefined;
  /** Literal secrets to mask in every line. */
  readonly secrets?: readonly string[] | undefined;
}

export interface LoggerHandle {
  readonly log: Logger;
  /** Flushes and closes every sink. Idempotent. */
  close(): Promise<void>;
}

function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nothing sensible left to do
  }
}

/** A file sink that opens, appends and closes per entry. */
class AppendFileSink {
  private complained = false;

  constructor(
    readonly file: string,
    readonly minLevel: number,
    private readonly complain: (text: string) => void,
  ) {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
    } catch {
      // reported on the first failing write
    }
  }

  write(level: number, text: string): void {
    if (level < this.minLevel) return;
    try {
      appendFileSync(this.file, text, { mode: 0o666 });
    } catch (err) {
      if (this.complained) return;
      this.complained = true;
      this.complain(`Failed to write to log file ${this.file}: ${(err as Error).message}\n`);
    }
  }
}

class FanoutStream implements DestinationStream {
  constructor(
    private readonly stderr: (text: string) => void,
    private readonly files: readonly AppendFileSink[],
    private readonly extras: readonly ExtraStream[],
    private readonly secrets: readonly string[],
  ) {}

  write(line: string): void {
    const safe = redactSecrets(line, this.secrets);
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(safe) as Record<string, unknown>;
    } catch {
      this.stderr(safe.endsWith('\n') ? safe : `${safe}\n`);
      return;
    }
    const level = typeof record['level'] === 'number' ? record['level'] : LEVEL_VALUES.info;
    const text = formatLogrusLine(record);
    this.stderr(text);
    for (const file of this.files) file.write(level, text);
    for (const extra of this.extras) {
      if (level < LEVEL_VALUES[extra.level]) continue;
      try {
        extra.stream.write(safe);
      } catch (err) {
        this.stderr(`Failed to fire hook: ${(err as Error).message}\n`);
      }
    }
  }
}

export function createLogger(opts: LoggerOptions): LoggerHandle {
  const stderr = opts.stderrWrite ?? writeStderr;
  const files: AppendFileSink[] = [];
  const missing: string[] = [];
  const fileSpecs = [
    { key: 'debugfile', file: opts.debugFile, level: LEVEL_VALUES.debug },
    { key: 'logfile', file: opts.logFile, level: LEVEL_VALUES.info },
  ];
  for (const spec of fileSpecs) {
    if (spec.file === undefined || spec.file === '') missing.push(spec.key);
    else files.push(new AppendFileSink(spec.file, spec.level, stderr));
  }
  const extras = opts.extraStreams ?? [];
  const stream = new FanoutStream(stderr, files, extras, opts.secrets ?? []);
  const log = pino(
    {
      level: 'debug',
      base: { executable: opts.executable },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    stream,
  );
  if (opts.warnMissingFiles !== false) {
    for (const key of missing) {
      log.warn(
        `logs.${opts.executable}.${key} is not configured: not writing a ${key === 'logfile' ? 'log' : 'debug log'} file`,
      );
    }
  }

  let closing: Promise<void> | undefined;
  return {
    log,
    close(): Promise<void> {
      closing ??= Promise.allSettled(extras.map((e) => e.close?.() ?? Promise.resolve())).then(
        () => undefined,
      );
      return closing;
    },
  };
}
