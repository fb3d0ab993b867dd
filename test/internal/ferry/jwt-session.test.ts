/** JwtSession.cleanup removes only what the session created itself (never an operator's vault token). */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JwtSession, type JwtSettings } from '../../../src/internal/ferry/jwt.js';
import { captureLog } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('JwtSession cleanup', () => {
  it('keeps the vault token file it did not create, also when the private directory could not be made', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mt-jwt-session-'));
    dirs.push(root);
    const operatorToken = join(root, 'vt_u4242');
    writeFileSync(operatorToken, 'operator vault token');
    const principal = 'ferryservice/host@EXAMPLE.ORG';
    const settings: JwtSettings = {
      serviceExperiment: 'fermilab',
      serviceRole: '',
      serviceKerberosPrincipal: principal,
      serviceKeytabPath: join(root, 'keytab'),
      vaultServer: 'vault.example.org',
      htgettokenopts: undefined,
      serviceCreddVaultTokenPathRoot: operatorToken,
    };
    const programs = {
      kinit: script(root, 'kinit', 'exit 0'),
      klist: script(root, 'klist', `echo "Default principal: ${principal}"`),
      htgettoken: script(root, 'htgettoken', 'exit 1'),
    };
    const session = await JwtSession.start(
      settings,
      programs,
      { PATH: '/usr/bin:/bin', TMPDIR: root },
      captureLog(),
      new AbortController().signal,
      () => {
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    );
    expect(session.dir).toBe(root); // the fallback: the session works in TMPDIR itself
    await expect(session.bearerToken()).rejects.toThrow(/htgettoken failed/);
    session.cleanup();
    expect(existsSync(session.cacheFile)).toBe(false);
    expect(readFileSync(operatorToken, 'utf8')).toBe('operator vault token');
    expect(existsSync(root)).toBe(true);
  });
});
