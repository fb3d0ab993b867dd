/**
 * storeAndGetToken / getToken against real child processes: small bash stand-ins for
 * condor_vault_storer and htgettoken that behave per a mode file and record what they saw.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execRunner } from '../../../src/internal/pipeline/exec-adapter.js';
import {
  authNeededText,
  checkVaultToken,
  getToken,
  removeLocalTokens,
  storeAndGetToken,
  writeFileAtomic,
} from '../../../src/internal/vaulttoken/index.js';
import { backUp } from '../../../src/internal/vaulttoken/store.js';

const uid = process.getuid?.() ?? 0;
const TOKEN_A = 'hvs.AAAAAAAAAAAAAAAAAAAAAAAA';
const TOKEN_B = 'hvs.BBBBBBBBBBBBBBBBBBBBBBBB';

// Modes (first line of $MODE_FILE, one per invocation via a counter): ok | fail | auth403 | garbage | hang | notoken
const STORER = `#!/bin/bash
n=$(cat "$STATE/count" 2>/dev/null || echo 0); echo $((n+1)) > "$STATE/count"
mode=$(sed -n "$((n+1))p" "$STATE/modes"); mode=\${mode:-ok}
loc="$TMPDIR/vt_u$(id -u)-$1"
staged=$(cat "$loc" 2>/dev/null || echo NONE)
printf '%s|%s|%s|%s|%s|%s\\n' "$1" "$_condor_CREDD_HOST" "$_condor_COLLECTOR_HOST" "$_condor_SEC_CREDENTIAL_GETTOKEN_OPTS" "$staged" "$HTGETTOKENOPTS" >> "$STATE/calls"
case "$mode" in
  ok) printf '%s\\n' "$(cat "$STATE/newtoken")" > "$loc"; exit 0;;
  notoken) exit 0;;
  garbage) echo garbage > "$loc"; exit 0;;
  auth403) echo "Authentication needed for $1" >&2; echo "htgettoken: HTTP Error 403: Forbidden: permission denied" >&2; exit 1;;
  hang) exec sleep 30;;
  *) echo "condor_vault_storer: Failed to store condor credentials for $1" >&2; exit 1;;
esac
`;

const HTGETTOKEN = `#!/bin/bash
mode=$(cat "$STATE/htgmode" 2>/dev/null || echo ok)
printf '%s\\n' "$*" > "$STATE/htgargv"
env | grep -E '^(_condor_|HTGETTOKENOPTS|KRB5CCNAME)' | sort > "$STATE/htgenv"
vt=""; out=""
while [ $# -gt 0 ]; do case "$1" in --vaulttokenfile) vt=$2; shift;; -o) out=$2; shift;; esac; shift; done
cat "$vt" > "$STATE/htgsawtoken"
case "$mode" in
  ok) cat "$STATE/newtoken" > "$vt"; echo 'eyJhbGciOiJFUzI1NiJ9.eyJ3bGNnLmdyb3VwcyI6WyIvZHVuZSIsIi9kdW5lL3Byb2R1Y3Rpb24iXX0.c2ln' > "$out"; exit 0;;
  garbage) echo garbage > "$vt"; echo x.y.z > "$out"; exit 0;;
  nobearer) cat "$STATE/newtoken" > "$vt"; rm -f "$out"; exit 0;;
  auth) echo "Authentication needed for dune_production"; echo "htgettoken: Polling for response took longer than 2 minutes"; exit 1;;
  *) echo "htgettoken: Failure getting token" >&2; exit 1;;
esac
`;

let dir: string;
let bin: string;
let state: string;
let tmp: string;
let root: string;

async function writeExecutable(file: string, text: string): Promise<void> {
  await fs.writeFile(file, text, { mode: 0o755 });
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vt-test-'));
  bin = path.join(dir, 'bin');
  state = path.join(dir, 'state');
  tmp = path.join(dir, 'tmp');
  root = path.join(dir, 'root');
  for (const d of [bin, state, tmp, root]) await fs.mkdir(d);
  await writeExecutable(path.join(bin, 'condor_vault_storer'), STORER);
  await writeExecutable(path.join(bin, 'htgettoken'), HTGETTOKEN);
  await fs.writeFile(path.join(state, 'newtoken'), TOKEN_B);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    TMPDIR: tmp,
    STATE: state,
    // parent values of managed variables must not leak into token tools
    _condor_CREDD_HOST: 'parent-credd',
    _condor_SEC_CREDENTIAL_GETTOKEN_OPTS: '-a parent.vault',
    HTGETTOKENOPTS: 'parent-opts',
  };
}

function storeRequest(schedds: string[], perScheddMs = 10_000) {
  return {
    storerPath: path.join(bin, 'condor_vault_storer'),
    realName: 'dune_production',
    schedds,
    collector: 'c2',
    vaultServer: 'vault.test',
    runUID: uid,
    tokenRoot: root,
    tempDir: tmp,
    cache: path.join(dir, 'cache'),
    htgettokenOpts: '--vaulttokenminttl=10s --credkey=dunepro',
    interactive: false,
    env: env(),
    signal: new AbortController().signal,
    perScheddMs,
    run: execRunner,
  };
}

const stored = (schedd: string): string => path.join(root, `vt_u${uid}-${schedd}-dune_production`);
const condorLocation = (): string => path.join(tmp, `vt_u${uid}-dune_production`);
async function calls(): Promise<string[][]> {
  const text = await fs.readFile(path.join(state, 'calls'), 'utf8').catch(() => '');
  return text.trim() === ''
    ? []
    : text
        .trim()
        .split('\n')
        .map((l) => l.split('|'));
}
async function setModes(...modes: string[]): Promise<void> {
  await fs.writeFile(path.join(state, 'modes'), modes.join('\n') + '\n');
}

describe('token checks', () => {
  it('accepts hvs./s. tokens and refuses empty or malformed content', () => {
    expect(checkVaultToken(`${TOKEN_A}\n`)).toEqual({ ok: true, token: TOKEN_A });
    expect(checkVaultToken('s.abcdefghijklmnopqrstuvwx').ok).toBe(true);
    expect(checkVaultToken('').ok).toBe(false);
    expect(checkVaultToken('garbage\n').ok).toBe(false);
    expect(checkVaultToken(`${TOKEN_A}\n${TOKEN_B}\n`).ok).toBe(false);
    expect(checkVaultToken(undefined).ok).toBe(false);
  });

  it('scans output for authentication-needed details', () => {
    expect(
      authNeededText('htgettoken: HTTP Error 403: Forbidden: permission denied'),
    ).toBeUndefined();
    expect(
      authNeededText(
        'Authentication needed for x\nhtgettoken: HTTP Error 403: Forbidden: permission denied',
      ),
    ).toBe(
      'authentication needed for service to generate vault token: permission denied to generate vault token',
    );
    expect(
      authNeededText(
        'Authentication needed for x\nhtgettoken: Polling for response took longer than 2 minutes',
      ),
    ).toBe(
      'authentication needed for service to generate vault token: htgettoken timeout to generate vault token',
    );
    expect(
      authNeededText('Authentication needed for x\nHTTPError: Forbidden: permission denied'),
    ).toBe('authentication needed for service to generate vault token');
  });

  it('writes atomically with mode 0600 even over a 0644 file', async () => {
    const file = path.join(dir, 'tok');
    await fs.writeFile(file, 'old', { mode: 0o644 });
    await writeFileAtomic(file, 'new');
    expect(await fs.readFile(file, 'utf8')).toBe('new');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('storeAndGetToken', () => {
  it('stages the stored token, passes the exact environment, writes back the new token 0600 (checks 34, 29)', async () => {
    await fs.writeFile(stored('s1'), `${TOKEN_A}\n`, { mode: 0o644 });
    const result = await storeAndGetToken(storeRequest(['s1', 's2']));
    expect(result.ok).toBe(true);
    const seen = await calls();
    expect(seen).toEqual([
      [
        'dune_production',
        's1',
        'c2',
        '-a vault.test',
        TOKEN_A,
        '--vaulttokenminttl=10s --credkey=dunepro',
      ],
      [
        'dune_production',
        's2',
        'c2',
        '-a vault.test',
        'NONE',
        '--vaulttokenminttl=10s --credkey=dunepro',
      ],
    ]);
    for (const schedd of ['s1', 's2']) {
      expect(await fs.readFile(stored(schedd), 'utf8')).toBe(`${TOKEN_B}\n`);
      expect((await fs.stat(stored(schedd))).mode & 0o777).toBe(0o600);
    }
    await expect(fs.access(condorLocation())).rejects.toThrow();
  });

  it('hides a pre-existing condor-location token during the call and restores it afterwards (check 35)', async () => {
    await fs.writeFile(condorLocation(), 'OLD');
    await setModes('fail');
    const result = await storeAndGetToken(storeRequest(['s1']));
    expect(result.ok).toBe(false);
    expect((await calls())[0]?.[4]).toBe('NONE');
    expect(await fs.readFile(condorLocation(), 'utf8')).toBe('OLD');
    expect(
      (await fs.readdir(tmp)).filter((f) => f.startsWith('managed_tokens_condor_vault_token')),
    ).toEqual([]);
  });

  it('reports auth-needed with the 403 detail and keeps the stored token (check 36)', async () => {
    await fs.writeFile(stored('s1'), `${TOKEN_A}\n`);
    await setModes('auth403');
    const result = await storeAndGetToken(storeRequest(['s1']));
    expect(result.ok).toBe(false);
    expect(result.message).toBe(
      'Could not store and get vault tokens; s1: authentication needed for service to generate vault token: permission denied to generate vault token',
    );
    expect(await fs.readFile(stored('s1'), 'utf8')).toBe(`${TOKEN_A}\n`);
  });

  it('never replaces a good token with a malformed one', async () => {
    await fs.writeFile(stored('s1'), `${TOKEN_A}\n`);
    await setModes('garbage');
    const result = await storeAndGetToken(storeRequest(['s1']));
    expect(result.ok).toBe(false);
    expect(result.message).toContain('s1: condor_vault_storer left a malformed vault token');
    expect(await fs.readFile(stored('s1'), 'utf8')).toBe(`${TOKEN_A}\n`);
  });

  it('counts a storer that writes nothing as success (external-tools check 19)', async () => {
    await setModes('notoken');
    const result = await storeAndGetToken(storeRequest(['s1']));
    expect(result.ok).toBe(true);
    await expect(fs.access(stored('s1'))).rejects.toThrow();
  });

  it('tries every schedd; a timeout is named, a plain failure adds nothing (check 37)', async () => {
    await setModes('hang', 'fail');
    const result = await storeAndGetToken(storeRequest(['s1', 's2'], 500));
    expect(result.ok).toBe(false);
    expect(result.message).toBe('Could not store and get vault tokens; s1: timeout error');
    expect((await calls()).map((c) => c[1])).toEqual(['s1', 's2']);
  });

  it('treats zero schedds as a failure of the stage (Q10 fix)', async () => {
    const result = await storeAndGetToken(storeRequest([]));
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/^Could not store and get vault tokens; no schedds were found/);
    expect(await calls()).toEqual([]);
  });

  it('removeLocalTokens deletes the condor-location token by real name', async () => {
    await fs.writeFile(condorLocation(), 'x');
    const { removed } = await removeLocalTokens({
      runUID: uid,
      tempDir: tmp,
      realName: 'dune_production',
    });
    expect(removed).toContain(condorLocation());
    await expect(fs.access(condorLocation())).rejects.toThrow();
  });
});

describe('getToken', () => {
  function getRequest() {
    return {
      htgettokenPath: path.join(bin, 'htgettoken'),
      vaultServer: 'vault.test',
      issuer: 'dune',
      role: 'production',
      realName: 'dune_production',
      runUID: uid,
      tokenRoot: root,
      tempDir: tmp,
      cache: path.join(dir, 'cache'),
      htgettokenOpts: '--vaulttokenminttl=10s --credkey=dunepro',
      verbose: false,
      interactive: false,
      env: env(),
      deadline: AbortSignal.timeout(10_000),
      run: execRunner,
    };
  }
  const storedGet = (): string => path.join(root, `vt_u${uid}-dune_production`);

  it('runs htgettoken with the exact argv and env, stores the token 0600, removes temp files (checks 39, 40)', async () => {
    const result = await getToken({ ...getRequest(), verbose: true });
    expect(result.ok).toBe(true);
    const argv = (await fs.readFile(path.join(state, 'htgargv'), 'utf8')).trim().split(' ');
    expect(argv.slice(0, 4)).toEqual(['-a', 'vault.test', '-i', 'dune']);
    expect(argv[4]).toBe('--vaulttokenfile');
    expect(argv[5]).toMatch(new RegExp(`^${tmp}/managed_tokens_vault_token_`));
    expect(argv[6]).toBe('-o');
    expect(argv[7]).toMatch(new RegExp(`^${tmp}/managed_tokens_bearer_token_`));
    expect(argv.slice(8)).toEqual(['--verbose', '--role', 'production']);
    expect(
      (await fs.readFile(path.join(state, 'htgenv'), 'utf8')).trim().split('\n').sort(),
    ).toEqual([
      'HTGETTOKENOPTS=--vaulttokenminttl=10s --credkey=dunepro',
      `KRB5CCNAME=FILE:${path.join(dir, 'cache')}`,
      '_condor_COLLECTOR_HOST=',
    ]);
    expect(await fs.readFile(storedGet(), 'utf8')).toBe(`${TOKEN_B}\n`);
    expect((await fs.stat(storedGet())).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('hands the stored token to htgettoken for renewal (check 41, via a private copy)', async () => {
    await fs.writeFile(storedGet(), `${TOKEN_A}\n`);
    const result = await getToken(getRequest());
    expect(result.ok).toBe(true);
    expect(await fs.readFile(path.join(state, 'htgsawtoken'), 'utf8')).toBe(`${TOKEN_A}\n`);
    expect(await fs.readFile(storedGet(), 'utf8')).toBe(`${TOKEN_B}\n`);
  });

  it('keeps the stored token when htgettoken fails or writes garbage; error shapes of 3.8', async () => {
    await fs.writeFile(storedGet(), `${TOKEN_A}\n`);
    await fs.writeFile(path.join(state, 'htgmode'), 'fail');
    const failed = await getToken(getRequest());
    expect(failed).toEqual({
      ok: false,
      timedOut: false,
      error:
        'could not store and get vault tokens: could not get vault token: error running htgettoken to obtain bearer token: exit status 1',
      outputExcerpt: 'htgettoken: Failure getting token',
    });
    await fs.writeFile(path.join(state, 'htgmode'), 'auth');
    const auth = await getToken(getRequest());
    expect(!auth.ok && auth.error).toBe(
      'could not store and get vault tokens: error running htgettoken to obtain bearer token: authentication needed for service to generate vault token: htgettoken timeout to generate vault token',
    );
    await fs.writeFile(path.join(state, 'htgmode'), 'garbage');
    const garbage = await getToken(getRequest());
    expect(garbage.ok).toBe(false);
    await fs.writeFile(path.join(state, 'htgmode'), 'nobearer');
    const nobearer = await getToken(getRequest());
    expect(nobearer.ok).toBe(false);
    expect(await fs.readFile(storedGet(), 'utf8')).toBe(`${TOKEN_A}\n`);
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('refuses an empty vault server without running htgettoken', async () => {
    const result = await getToken({ ...getRequest(), vaultServer: '' });
    expect(result).toEqual({ ok: false, timedOut: false, error: 'vault server cannot be empty' });
    await expect(fs.access(path.join(state, 'htgargv'))).rejects.toThrow();
  });
});

describe('bearer token checks (warnings only)', () => {
  const jwt = (claims: Record<string, unknown>): string =>
    ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'c2ln'].join('.');
  it('accepts a token with both groups and current times', async () => {
    const { bearerTokenWarnings } = await import('../../../src/internal/vaulttoken/index.js');
    const now = 1_700_000_000;
    expect(
      bearerTokenWarnings(
        jwt({ 'wlcg.groups': ['/dune', '/dune/production'], exp: now + 60, nbf: now - 60 }),
        'dune',
        'production',
        now,
      ),
    ).toEqual([]);
  });
  it('names what is wrong', async () => {
    const { bearerTokenWarnings } = await import('../../../src/internal/vaulttoken/index.js');
    const now = 1_700_000_000;
    expect(bearerTokenWarnings('not-a-jwt', 'dune', 'production', now)).toEqual([
      'bearer token is not a JWT',
    ]);
    expect(
      bearerTokenWarnings(
        jwt({ 'wlcg.groups': ['/mu2e'], exp: now - 1 }),
        'dune',
        'production',
        now,
      ),
    ).toEqual([
      'bearer token is expired',
      'bearer token lacks group /dune',
      'bearer token lacks group /dune/production',
    ]);
  });
});

describe('condor-location backup', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'backup-test-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('removes the empty placeholder when moving the token aside fails, and keeps the token', async () => {
    const location = path.join(dir, `vt_u${uid}-dune_production`);
    await fs.writeFile(location, `${TOKEN_A}\n`);
    const failingMove = async (): Promise<void> => {
      throw new Error('EACCES: permission denied');
    };
    await expect(backUp(location, dir, failingMove)).rejects.toThrow('EACCES');
    expect(await fs.readdir(dir)).toEqual([`vt_u${uid}-dune_production`]);
  });

  it('moves the token to a private backup file', async () => {
    const location = path.join(dir, `vt_u${uid}-dune_production`);
    await fs.writeFile(location, `${TOKEN_A}\n`);
    const backup = await backUp(location, dir);
    expect(backup).toMatch(/managed_tokens_condor_vault_token/);
    expect(await fs.readFile(backup ?? '', 'utf8')).toBe(`${TOKEN_A}\n`);
    expect(await fs.readdir(dir)).toEqual([path.basename(backup ?? '')]);
  });
});
