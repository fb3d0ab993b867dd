import {
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/internal/logging/index.js';

const LINE = /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=\w+ msg=/;

let dir: string;
let stderr: string[];
const capture = (t: string): void => {
  stderr.push(t);
};

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'logging-'));
  stderr = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

describe('createLogger sinks', () => {
  it('log file gets info+, debug file gets debug+, stderr gets everything, in logrus text format', async () => {
    const logFile = path.join(dir, 'nested', 'dir', 'token-push.log');
    const debugFile = path.join(dir, 'token-push.debug.log');
    const h = createLogger({ executable: 'token-push', logFile, debugFile, stderrWrite: capture });
    h.log.debug('a debug line');
    h.log.info('Successes: dune_production, mu2e_production');
    h.log.warn('careful');
    h.log.error({ service: 'dune_production', node: 'n1' }, 'boom');
    await h.close();

    const info = lines(logFile);
    const debug = lines(debugFile);
    expect(info).toHaveLength(3);
    expect(info.some((l) => l.includes('level=debug'))).toBe(false);
    expect(debug).toHaveLength(4);
    expect(debug[0]).toContain('level=debug msg="a debug line" executable=token-push');
    for (const l of [...info, ...debug]) expect(l).toMatch(LINE);
    expect(info[0]).toMatch(
      / level=info msg="Successes: dune_production, mu2e_production" executable=token-push$/,
    );
    expect(info[1]).toContain('level=warning msg=careful executable=token-push');
    expect(info[2]).toMatch(
      /level=error msg=boom executable=token-push node=n1 service=dune_production$/,
    );
    expect(stderr.join('')).toContain('a debug line');
    expect(stderr).toHaveLength(4);
  });

  it('sorts extra fields, quotes like Go %q and renders errors and arrays like logrus', async () => {
    const logFile = path.join(dir, 'f.log');
    const h = createLogger({
      executable: 'refresh-uids-from-ferry',
      logFile,
      debugFile: path.join(dir, 'd.log'),
      stderrWrite: capture,
    });
    h.log
      .child({
        zeta: 'a b',
        alpha: 'tab\there',
        path: '/tmp/x_y-z.1@R^+',
        empty: '',
        quote: 'say "hi" \\ ok',
      })
      .info({ err: new Error('exit status 1'), list: ['a', 'b'], n: 3 }, 'line\nbreak é');
    await h.close();
    const [line] = lines(logFile);
    expect(line).toMatch(LINE);
    const afterTime = line!.replace(/^time="[^"]+" /, '');
    expect(afterTime).toBe(
      'level=info msg="line\\nbreak é" alpha="tab\\there" empty= error="exit status 1" executable=refresh-uids-from-ferry ' +
        'list="[a b]" n=3 path=/tmp/x_y-z.1@R^+ quote="say \\"hi\\" \\\\ ok" zeta="a b"',
    );
  });

  it('appends per write: a rotated file is not written to again, a new one is created', async () => {
    const logFile = path.join(dir, 'rot.log');
    const h = createLogger({
      executable: 'token-push',
      logFile,
      debugFile: path.join(dir, 'rot.debug.log'),
      stderrWrite: capture,
    });
    h.log.info('before rotation');
    renameSync(logFile, `${logFile}.1`);
    h.log.info('after rotation');
    await h.close();
    expect(lines(`${logFile}.1`)).toHaveLength(1);
    expect(lines(logFile)).toHaveLength(1);
    expect(lines(logFile)[0]).toContain('after rotation');
  });

  it('appends to an existing file instead of truncating it', async () => {
    const logFile = path.join(dir, 'append.log');
    for (const msg of ['first run', 'second run']) {
      const h = createLogger({
        executable: 'token-push',
        logFile,
        debugFile: '',
        warnMissingFiles: false,
        stderrWrite: capture,
      });
      h.log.info(msg);
      await h.close();
    }
    expect(lines(logFile).map((l) => l.replace(/^.* msg=/, ''))).toEqual([
      '"first run" executable=token-push',
      '"second run" executable=token-push',
    ]);
  });

  it('unset file keys: no file sink and exactly one warning per key', async () => {
    const h = createLogger({
      executable: 'token-push',
      logFile: '',
      debugFile: undefined,
      stderrWrite: capture,
    });
    h.log.info('hello');
    await h.close();
    const warnings = stderr.filter((l) => l.includes('level=warning'));
    expect(warnings).toHaveLength(2);
    expect(warnings.join('')).toContain('logs.token-push.logfile is not configured');
    expect(warnings.join('')).toContain('logs.token-push.debugfile is not configured');
  });

  it('an unwritable debug file does not stop the log file (sinks independent) and complains once', async () => {
    // A path below a regular file cannot be created, whoever runs the test (root ignores permissions).
    const plainFile = path.join(dir, 'plainfile');
    writeFileSync(plainFile, '');
    const logFile = path.join(dir, 'ok.log');
    const h = createLogger({
      executable: 'token-push',
      logFile,
      debugFile: path.join(plainFile, 'd.log'),
      stderrWrite: capture,
    });
    h.log.info('one');
    h.log.info('two');
    await h.close();
    expect(lines(logFile)).toHaveLength(2);
    expect(stderr.filter((l) => l.startsWith('Failed to write to log file'))).toHaveLength(1);
  });

  it('creates files with mode 0666 & ~umask', async () => {
    const logFile = path.join(dir, 'mode.log');
    const h = createLogger({
      executable: 'x',
      logFile,
      debugFile: '',
      warnMissingFiles: false,
      stderrWrite: capture,
    });
    h.log.info('m');
    await h.close();
    const umask = process.umask();
    expect(statSync(logFile).mode & 0o777).toBe(0o666 & ~umask);
  });
});

describe('redaction and extra streams', () => {
  it('masks tokens in every sink, including extra streams, and honours their level', async () => {
    const got: string[] = [];
    let closed = false;
    const extra = new Writable({
      write(chunk: Buffer, _enc, cb) {
        got.push(chunk.toString());
        cb();
      },
    });
    const logFile = path.join(dir, 'r.log');
    const h = createLogger({
      executable: 'token-push',
      logFile,
      debugFile: path.join(dir, 'r.debug.log'),
      stderrWrite: capture,
      secrets: ['my-keytab-secret'],
      extraStreams: [
        {
          level: 'info',
          stream: { write: (s: string) => void extra.write(s) },
          close: async () => {
            closed = true;
          },
        },
      ],
    });
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    h.log.debug(`debug output ${jwt}`);
    h.log.info(
      { output: 'Authorization: Bearer abc.def-ghi' },
      'token hvs.CAESIabcdefghijklmnop and my-keytab-secret',
    );
    await h.close();
    expect(closed).toBe(true);
    expect(got).toHaveLength(1);
    const all = [
      ...stderr,
      readFileSync(logFile, 'utf8'),
      readFileSync(path.join(dir, 'r.debug.log'), 'utf8'),
      ...got,
    ].join('');
    expect(all).not.toContain('CAESI');
    expect(all).not.toContain('my-keytab-secret');
    expect(all).not.toContain('abc.def-ghi');
    expect(all).not.toContain('c2lnbmF0dXJl');
    expect(JSON.parse(got[0]!)).toMatchObject({
      executable: 'token-push',
      msg: 'token hvs.[REDACTED] and [REDACTED]',
    });
    expect(existsSync(logFile)).toBe(true);
  });
});
