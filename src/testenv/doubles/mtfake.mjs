// Test doubles for the HTCondor / htgettoken programs that Debian does not ship (external-tools.md §5).
// One script, installed as symlinks named condor_status, condor_config_val, condor_vault_storer,
// condor_store_cred and htgettoken; it dispatches on the name it was started under. Knobs live in
// mtfake.json beside the symlinks (found from this script's own path, never from the environment,
// because the environment is part of the contract being checked). Every call is appended to
// <stateDir>/calls.jsonl. A contract violation prints `mtfake-contract: <reason>` and exits 97.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TOOL = path.basename(process.argv[1] ?? '');
const BIN_DIR = path.dirname(process.argv[1] ?? '');
const ARGV = process.argv.slice(2);
const KNOBS = JSON.parse(fs.readFileSync(path.join(BIN_DIR, 'mtfake.json'), 'utf8'));
const STRICT = KNOBS.strict !== false;
const STATE = KNOBS.stateDir;
const EUID = process.geteuid();
const ENV = process.env;
const VIA_STORER = ENV.MTFAKE_VIA_STORER === '1';
const MANAGED = [
  'KRB5CCNAME',
  '_condor_CREDD_HOST',
  '_condor_COLLECTOR_HOST',
  'HTGETTOKENOPTS',
  '_condor_SEC_CREDENTIAL_GETTOKEN_OPTS',
];
const LOGGED_ENV = [
  ...MANAGED,
  'KRB5_CONFIG',
  'KRB5_KTNAME',
  'XDG_RUNTIME_DIR',
  'BEARER_TOKEN_FILE',
  'PATH',
  'HOME',
  'TMPDIR',
  'MTFAKE_VIA_STORER',
];

const record = {
  tool: TOOL,
  argv: ARGV,
  env: Object.fromEntries(LOGGED_ENV.filter((k) => k in ENV).map((k) => [k, ENV[k]])),
  uid: EUID,
  cwd: process.cwd(),
  stdin: safe(() => fs.readlinkSync('/proc/self/fd/0'), null),
  stdoutTty: process.stdout.isTTY === true,
  stderrTty: process.stderr.isTTY === true,
  pid: process.pid,
  ppid: process.ppid,
  tStart: Date.now() / 1000,
  mode: 'ok',
  files: {},
};

function safe(fn, fallback) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function write(fd, text) {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length;) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (err) {
      if (err.code !== 'EAGAIN') return;
    }
  }
}
const out = (t) => write(1, t);
const err = (t) => write(2, t);

function logCall(extra) {
  const line = JSON.stringify({ ...record, ...extra, tEnd: Date.now() / 1000 });
  fs.appendFileSync(path.join(STATE, 'calls.jsonl'), `${line}\n`);
}

function finish(code) {
  logCall({ exit: code });
  process.exit(code);
}

function violation(reason) {
  err(`mtfake-contract: ${reason}\n`);
  logCall({ exit: 97, violation: reason });
  process.exit(97);
}

function fileFacts(file) {
  const content = safe(() => fs.readFileSync(file), null);
  if (content === null) return null;
  const text = content.toString('utf8').trim();
  const facts = {
    sha256: createHash('sha256').update(content).digest('hex'),
    size: content.length,
  };
  const decoded = decodeVaultToken(text);
  if (decoded) facts.tag = decoded.tag;
  return facts;
}

function noteFile(label, file) {
  if (file && !file.startsWith('/dev/'))
    record.files[label] = { path: file, ...(fileFacts(file) ?? { absent: true }) };
}

// ---------- modes ----------

function seqIndex() {
  const f = path.join(STATE, `${TOOL}.seq`);
  const fd = fs.openSync(f, 'a');
  fs.writeSync(fd, '.');
  const size = fs.fstatSync(fd).size;
  fs.closeSync(fd);
  return size - 1;
}

function chooseMode(facts, defaultMode) {
  const knob = (KNOBS.tools ?? {})[TOOL] ?? {};
  if (Array.isArray(knob.seq) && knob.seq.length) {
    const m = knob.seq[seqIndex()];
    if (m !== undefined) return m;
  }
  for (const rule of knob.rules ?? []) {
    const { mode, ...when } = rule;
    if (Object.entries(when).every(([k, v]) => facts[k] === v)) return mode;
  }
  return knob.mode ?? defaultMode;
}

function sleepSync(seconds) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

function hangForever(holdGrandchild) {
  if (holdGrandchild) {
    // A grandchild that inherits stdout/stderr and escapes the double's process group (external-tools.md §2.5).
    const child = spawn('/bin/sleep', ['3600'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    const stat = safe(() => fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8'), '');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    fs.appendFileSync(path.join(STATE, 'held.pids'), `${child.pid} ${start}\n`);
    child.unref();
  }
  logCall({ exit: null, hung: true });
  // Block in this very process (no child), so killing the double's process group ends the hang.
  for (;;) sleepSync(3600);
}

/** Handles the universal modes; returns the tool-specific mode left to act on. */
function applyUniversal(mode, afterSlow) {
  record.mode = mode;
  if (mode === 'hang') return hangForever(false);
  if (mode === 'hang-hold') return hangForever(true);
  if (mode.startsWith('exit:')) {
    err(`${TOOL}: simulated failure\n`);
    finish(Number(mode.slice(5)));
  }
  if (mode.startsWith('slow:')) {
    sleepSync(Number(mode.slice(5)));
    return afterSlow;
  }
  return mode;
}

function requireNullStdin() {
  if (STRICT && !VIA_STORER && record.stdin !== '/dev/null')
    violation(`stdin must be /dev/null, got ${record.stdin}`);
}

function requireFileCache() {
  const cc = ENV.KRB5CCNAME ?? '';
  if (!cc.startsWith('FILE:'))
    violation(`KRB5CCNAME must be FILE:<path>, got ${JSON.stringify(ENV.KRB5CCNAME)}`);
  if (!fs.existsSync(cc.slice(5))) violation(`KRB5CCNAME names a missing file ${cc.slice(5)}`);
}

// ---------- tokens ----------

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

function makeVaultToken(ttlSeconds, tag) {
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  const tagPart = KNOBS.tagTokens === false ? '' : `:${tag}`;
  return `hvs.${b64url(`mtfake:${exp}:${randomBytes(9).toString('hex')}${tagPart}`)}`;
}

function decodeVaultToken(token) {
  if (!token.startsWith('hvs.')) return null;
  const text = safe(() => Buffer.from(token.slice(4), 'base64url').toString('utf8'), '');
  const m = /^mtfake:(\d+):([0-9a-f]+)(?::(.*))?$/.exec(text);
  return m ? { exp: Number(m[1]), tag: m[3] ?? null } : null;
}

function makeBearer({ issuer, role, credkey, tag, variant }) {
  const now = Math.floor(Date.now() / 1000);
  const expired = variant === 'expiredbearer';
  const groupsOf = variant === 'wronggroups' ? 'otherexperiment' : issuer;
  const claims = {
    iss: `https://mtfake.invalid/${issuer}`,
    sub: credkey || issuer,
    aud: 'https://wlcg.cern.ch/jwt/v1/any',
    exp: expired ? now - 3600 : now + 3 * 3600,
    iat: expired ? now - 7200 : now,
    nbf: expired ? now - 7200 : now,
    jti: randomUUID(),
    scope:
      'compute.create compute.read compute.cancel compute.modify storage.read:/ storage.create:/',
    'wlcg.ver': '1.0',
    'wlcg.groups': [`/${groupsOf}`, `/${groupsOf}/${role}`],
    'mtfake.tag': tag,
  };
  const header = { alg: 'ES256', typ: 'JWT', kid: 'mtfake' };
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.${randomBytes(64).toString('base64url')}`;
}

/** Like the real tools: remove target, private temp file in the same directory, write, rename. */
function writeTokenFile(file, token) {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.mtfake${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  fs.rmSync(file, { force: true });
  fs.renameSync(tmp, file);
}

function copyViaRename(from, to) {
  const tmp = path.join(path.dirname(to), `.mtfake${randomBytes(6).toString('hex')}`);
  fs.copyFileSync(from, tmp);
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, to);
}

// ---------- shell words (HTGETTOKENOPTS, condor config values) ----------

function shellSplit(text) {
  const words = [];
  let cur = null;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      cur = (cur ?? '') + text[++i];
    } else if (/\s/.test(c)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else {
      cur = (cur ?? '') + c;
    }
  }
  if (cur !== null) words.push(cur);
  return words;
}

// ---------- condor_config_val ----------

function condorConfigVal() {
  requireNullStdin();
  if (STRICT && !(ARGV.length === 1 && ARGV[0] === 'SEC_CREDENTIAL_GETTOKEN_OPTS')) {
    violation(
      `condor_config_val argv must be [SEC_CREDENTIAL_GETTOKEN_OPTS], got ${JSON.stringify(ARGV)}`,
    );
  }
  const mode = applyUniversal(chooseMode({}, 'ok'), 'ok');
  if (mode === 'fail') {
    err(`Not defined: ${ARGV[0]}\n`);
    finish(1);
  }
  if (mode === 'garbage') {
    out('--foo bar\n');
    finish(0);
  }
  if (ARGV.length === 0) {
    err('condor_config_val: no parameter names given\n');
    finish(1);
  }
  const values = [];
  for (const name of ARGV) {
    const value =
      ENV[`_condor_${name}`] ?? ENV[`_CONDOR_${name}`] ?? (KNOBS.condorConfig ?? {})[name];
    if (value === undefined) {
      err(`Not defined: ${name}\n`);
      finish(1);
    }
    values.push(value);
  }
  out(values.map((v) => `${v}\n`).join(''));
  finish(0);
}

// ---------- condor_status ----------

function renderAds(ads) {
  if (typeof ads === 'string') return ads;
  return ads
    .map((ad) =>
      Object.entries({ MyType: 'Scheduler', ...ad })
        .map(([k, v]) => `${k} = ${typeof v === 'number' ? v : JSON.stringify(String(v))}\n`)
        .join(''),
    )
    .join('\n');
}

function condorStatus() {
  requireNullStdin();
  const okShape =
    (ARGV.length === 4 && ARGV[0] === '-pool' && ARGV[2] === '-schedd' && ARGV[3] === '-long') ||
    (ARGV.length === 6 &&
      ARGV[0] === '-pool' &&
      ARGV[2] === '-constraint' &&
      ARGV[4] === '-schedd' &&
      ARGV[5] === '-long');
  if (STRICT && !okShape)
    violation(
      `condor_status argv must be -pool P [-constraint C] -schedd -long, got ${JSON.stringify(ARGV)}`,
    );
  const pool = ARGV[ARGV.indexOf('-pool') + 1] ?? '';
  const ci = ARGV.indexOf('-constraint');
  const constraint = ci >= 0 ? ARGV[ci + 1] : undefined;
  const mode = applyUniversal(chooseMode({ pool }, 'ok'), 'ok');
  const fixtures = KNOBS.statusAds ?? {};
  const ads =
    (constraint !== undefined ? fixtures[`${pool}|${constraint}`] : undefined) ?? fixtures[pool];
  if (mode === 'fail' || (mode === 'ok' && ads === undefined)) {
    err(`Error: Couldn't contact the condor_collector on ${pool}.\n`);
    finish(1);
  }
  if (mode === 'empty') finish(0);
  if (mode === 'malformed') {
    out('MyType = "Scheduler"\nthis line has no equals sign\n');
    finish(0);
  }
  if (mode === 'noname') {
    out('MyType = "Scheduler"\nTotalRunningJobs = 0\n');
    finish(0);
  }
  if (mode === 'noisy') err('x'.repeat(80 * 1024));
  out(renderAds(ads ?? []));
  finish(0);
}

// ---------- condor_store_cred ----------

function condorStoreCred() {
  requireNullStdin();
  const [action, ...rest] = ARGV;
  const opts = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (['-s', '-i', '-S', '-A'].includes(flag) && i + 1 < rest.length) opts[flag] = rest[++i];
    else {
      err(
        `Usage: condor_store_cred [add-oauth|query-oauth|delete-oauth] -s service ...\nunexpected ${flag}\n`,
      );
      finish(1);
    }
  }
  const service = opts['-s'];
  if (!['add-oauth', 'query-oauth', 'delete-oauth'].includes(action) || !service) {
    err('Usage: condor_store_cred [add-oauth|query-oauth|delete-oauth] -s service ...\n');
    finish(1);
  }
  const credd = ENV._condor_CREDD_HOST;
  if (STRICT && (!credd || !ENV._condor_COLLECTOR_HOST)) {
    violation('condor_store_cred needs non-empty _condor_CREDD_HOST and _condor_COLLECTOR_HOST');
  }
  const mode = applyUniversal(chooseMode({ service, schedd: credd }, 'ok'), 'ok');
  const file = path.join(
    KNOBS.creddDir,
    credd || 'default',
    os.userInfo().username,
    `${service}.top`,
  );
  noteFile('credential', file);
  if (mode === 'fail') {
    err('failed to store credential\n');
    finish(1);
  }
  if (action === 'query-oauth') {
    if (mode === 'mismatch') {
      err(`Credentials exist for ${service} with different scopes or audience\n`);
      finish(2);
    }
    finish(fs.existsSync(file) ? 0 : 1);
  }
  if (action === 'delete-oauth') {
    fs.rmSync(file, { force: true });
    finish(0);
  }
  if (opts['-i'] !== '-') {
    err('add-oauth: only -i - is supported\n');
    finish(1);
  }
  const input = safe(() => fs.readFileSync(0, 'utf8'), '');
  const cred = safe(() => JSON.parse(input), null);
  if (!cred || typeof cred.vault_token !== 'string' || typeof cred.vault_url !== 'string') {
    err(
      'condor_store_cred: credential on stdin is not a JSON object with vault_token and vault_url\n',
    );
    finish(1);
  }
  record.oddToken = !cred.vault_token.startsWith('hvs.') && !cred.vault_token.startsWith('s.');
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeTokenFile(file, JSON.stringify(cred));
  record.storedTag = decodeVaultToken(cred.vault_token)?.tag ?? null;
  finish(0);
}

// ---------- htgettoken ----------

const HTG_VALUE_OPTS = {
  '-a': 'vaultserver',
  '--vaultserver': 'vaultserver',
  '-i': 'issuer',
  '--issuer': 'issuer',
  '-r': 'role',
  '--role': 'role',
  '--vaulttokenfile': 'vaulttokenfile',
  '--vaulttokeninfile': 'vaulttokeninfile',
  '--vaulttokenttl': 'vaulttokenttl',
  '--vaulttokenminttl': 'vaulttokenminttl',
  '--credkey': 'credkey',
  '-o': 'outfile',
  '--outfile': 'outfile',
  '--scopes': 'scopes',
  '--audience': 'audience',
  '--minsecs': 'minsecs',
};
const HTG_FLAG_OPTS = {
  '--showbearerurl': 'showbearerurl',
  '--nobearertoken': 'nobearertoken',
  '--nooidc': 'nooidc',
  '--nokerberos': 'nokerberos',
  '--nossh': 'nossh',
  '-q': 'quiet',
  '--quiet': 'quiet',
  '-v': 'verbose',
  '--verbose': 'verbose',
  '-d': 'debug',
  '--debug': 'debug',
};

function parseHtgArgs(words, into) {
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const eq = w.indexOf('=');
    const name = w.startsWith('--') && eq > 0 ? w.slice(0, eq) : w;
    if (HTG_VALUE_OPTS[name]) {
      const value = name !== w ? w.slice(eq + 1) : words[++i];
      if (value === undefined) return `option ${name} requires an argument`;
      into[HTG_VALUE_OPTS[name]] = value;
    } else if (HTG_FLAG_OPTS[w]) {
      into[HTG_FLAG_OPTS[w]] = true;
    } else {
      return `no such option: ${w}`;
    }
  }
  return null;
}

function ttlSeconds(text) {
  const m = /^(\d+)([smhd]?)$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

function vaultUrl(server) {
  let url = /^https?:\/\//.test(server) ? server : `https://${server}`;
  if (!/:\d+$/.test(url.replace(/^https?:\/\//, ''))) url = `${url}:8200`;
  return url;
}

function checkDirectHtgettokenCall() {
  const a = ARGV;
  const fixed = a[0] === '-a' && a[2] === '-i' && a[4] === '--vaulttokenfile' && a[6] === '-o';
  const exact =
    fixed &&
    ((a.length === 10 && a[8] === '--role') ||
      (a.length === 11 && a[8] === '--verbose' && a[9] === '--role'));
  if (!exact)
    violation(
      `direct htgettoken argv must be -a V -i I --vaulttokenfile P -o B [--verbose] --role R, got ${JSON.stringify(a)}`,
    );
  if (ENV._condor_COLLECTOR_HOST !== '')
    violation('direct htgettoken needs _condor_COLLECTOR_HOST present and empty');
  if ('_condor_CREDD_HOST' in ENV) violation('direct htgettoken must not get _condor_CREDD_HOST');
  if ('_condor_SEC_CREDENTIAL_GETTOKEN_OPTS' in ENV)
    violation('direct htgettoken must not get _condor_SEC_CREDENTIAL_GETTOKEN_OPTS');
  if (!(ENV.HTGETTOKENOPTS ?? '').includes('--credkey='))
    violation('HTGETTOKENOPTS must contain --credkey=');
  requireFileCache();
}

/** Runs the real klist against the inherited cache; returns the default principal or null. */
function kerberosPrincipal() {
  const r = spawnSync(KNOBS.realKlist ?? '/usr/bin/klist', [], {
    env: ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) return null;
  const m = /Default principal: (.+)/.exec(r.stdout);
  return m ? m[1].trim() : null;
}

function htgettoken() {
  requireNullStdin();
  if (STRICT && !VIA_STORER) checkDirectHtgettokenCall();
  const o = {};
  const problem = parseHtgArgs(shellSplit(ENV.HTGETTOKENOPTS ?? ''), o) ?? parseHtgArgs(ARGV, o);
  const issuer = o.issuer ?? 'default';
  const role = o.role ?? 'default';
  const credd = ENV._condor_CREDD_HOST || '';
  const tag = `${issuer}_${role}${credd ? `@${credd}` : ''}`;
  const mode = applyUniversal(
    chooseMode({ issuer, role, service: `${issuer}_${role}`, schedd: credd || undefined }, 'ok'),
    'ok',
  );
  const say = (msg) => {
    if (!o.quiet) err(`htgettoken: ${msg}\n`);
  };
  if (problem || mode === 'usage') {
    err(`Usage: htgettoken [options]\nhtgettoken: error: ${problem ?? 'simulated usage error'}\n`);
    finish(2);
  }
  if (!o.vaultserver) {
    err('Usage: htgettoken [options]\nhtgettoken: Missing required parameters: -a\n');
    finish(2);
  }
  const server = vaultUrl(o.vaultserver);
  const ttl = ttlSeconds(o.vaulttokenttl ?? '7d');
  const minttl = ttlSeconds(o.vaulttokenminttl ?? '0');
  if (ttl === null || minttl === null) {
    say(`bad time format in vault token ttl ${o.vaulttokenttl ?? o.vaulttokenminttl}`);
    finish(1);
  }
  if (minttl >= ttl) {
    say('--vaulttokenminttl must be less than --vaulttokenttl');
    finish(1);
  }
  const vaultTokenFile = o.vaulttokenfile ?? `/tmp/vt_u${EUID}`;
  const inFile = o.vaulttokeninfile ?? vaultTokenFile;
  if (ttl > 1e6 && !vaultTokenFile.startsWith('/dev/')) {
    say('--vaulttokenttl too large for a vault token stored on disk');
    finish(1);
  }
  if (o.showbearerurl && !o.credkey) {
    say('cannot do --showbearerurl because credkey is not known');
    finish(1);
  }
  const outFile =
    o.outfile ?? ENV.BEARER_TOKEN_FILE ?? `${ENV.XDG_RUNTIME_DIR || '/tmp'}/bt_u${EUID}`;
  noteFile('vaulttokeninfile', inFile);
  noteFile('vaulttokenfile', vaultTokenFile);
  noteFile('outfile', outFile);

  if (mode === 'forbidden' || mode === 'forbidden-legacy') {
    const detail =
      mode === 'forbidden'
        ? 'HTTPError: Forbidden: permission denied'
        : 'HTTP Error 403: Forbidden: permission denied';
    say(
      `Kerberos negotiate with ${server}/v1/auth/kerberos-${issuer}_${role}/login failed: ${detail}`,
    );
    finish(1);
  }
  if (mode === 'polltimeout') {
    say('Polling for response took longer than 2 minutes');
    finish(1);
  }
  if (mode === 'fail') {
    say(`Failure getting token from ${server}`);
    finish(1);
  }

  const badVault = mode === 'badvault';
  const now = Math.floor(Date.now() / 1000);
  const incoming =
    inFile === '/dev/stdin'
      ? safe(() => fs.readFileSync(0, 'utf8'), '').trim()
      : safe(() => fs.readFileSync(inFile, 'utf8'), '').trim();
  const decoded =
    badVault && incoming === 'garbage' ? { exp: now + ttl } : decodeVaultToken(incoming);
  let newToken = null;
  if (mode === 'emptyvault') newToken = '';
  else if (inFile === '/dev/stdin') {
    if (!decoded || decoded.exp <= now) {
      say(`Failure getting token from ${server}: incoming vault token is invalid`);
      finish(1);
    }
    newToken = badVault ? 'garbage' : makeVaultToken(Math.min(ttl, decoded.exp - now), tag);
  } else if (!(decoded && decoded.exp - now >= Math.max(minttl, 1))) {
    let authenticated = false;
    if (mode !== 'noauth' && !o.nokerberos) {
      if (KNOBS.htgKerberos === 'yes') authenticated = true;
      else {
        const principal = kerberosPrincipal();
        authenticated = principal !== null;
        if (
          authenticated &&
          STRICT &&
          o.credkey &&
          principal.replaceAll('@FNAL.GOV', '') !== o.credkey
        ) {
          violation(`credkey ${o.credkey} does not match the Kerberos principal ${principal}`);
        }
      }
    }
    if (!authenticated) {
      say(`Failure getting token from ${server}`);
      finish(1);
    }
    newToken = badVault ? 'garbage' : makeVaultToken(ttl, tag);
  }

  let stdoutText = '';
  if (newToken !== null) {
    if (vaultTokenFile.startsWith('/dev/std') || vaultTokenFile.startsWith('/dev/fd'))
      stdoutText += `${newToken}\n`;
    else if (newToken === '') fs.writeFileSync(vaultTokenFile, '', { mode: 0o600 });
    else writeTokenFile(vaultTokenFile, newToken);
  }
  if (o.showbearerurl)
    stdoutText += `${server}/v1/secret/oauth-${issuer}/creds/${o.credkey}:${role}\n`;
  if (!o.nobearertoken) {
    if (mode === 'nobearerfile') fs.rmSync(outFile, { force: true });
    else if (mode === 'badbearer') writeTokenFile(outFile, 'not-a-jwt');
    else if (mode === 'emptybearer') fs.writeFileSync(outFile, '', { mode: 0o600 });
    else
      writeTokenFile(outFile, makeBearer({ issuer, role, credkey: o.credkey, tag, variant: mode }));
  }
  out(stdoutText);
  record.wroteTag = newToken ? (decodeVaultToken(newToken)?.tag ?? null) : null;
  finish(0);
}

// ---------- condor_vault_storer ----------

function storerFatal(message) {
  err(`condor_vault_storer: ${message}\n`);
  err(
    '  Run condor_vault_storer again with -v to see more details,\n  or ask your HTCondor administrator for help.\n',
  );
  finish(1);
}

function checkStorerContract() {
  if (ARGV.length !== 1 || ARGV[0].startsWith('-') || /[&\s]/.test(ARGV[0])) {
    violation(`condor_vault_storer argv must be exactly [<service>], got ${JSON.stringify(ARGV)}`);
  }
  for (const name of MANAGED)
    if (!(name in ENV)) violation(`condor_vault_storer env lacks ${name}`);
  if (!ENV._condor_CREDD_HOST) violation('_condor_CREDD_HOST must be non-empty');
  if (!ENV._condor_COLLECTOR_HOST) violation('_condor_COLLECTOR_HOST must be non-empty');
  if (!/^-a [^ ]+$/.test(ENV._condor_SEC_CREDENTIAL_GETTOKEN_OPTS)) {
    violation(
      `_condor_SEC_CREDENTIAL_GETTOKEN_OPTS must be exactly "-a <vault>", got ${JSON.stringify(ENV._condor_SEC_CREDENTIAL_GETTOKEN_OPTS)}`,
    );
  }
  if (!ENV.HTGETTOKENOPTS.includes('--credkey='))
    violation('HTGETTOKENOPTS must contain --credkey=');
  requireFileCache();
}

function runChild(tool, args, opts = {}) {
  const r = spawnSync(tool, args, {
    env: { ...ENV, MTFAKE_VIA_STORER: '1' },
    input: opts.input,
    stdio: [
      opts.input === undefined ? 'ignore' : 'pipe',
      'pipe',
      opts.quietStderr ? 'ignore' : 'inherit',
    ],
    encoding: 'utf8',
  });
  if (r.error) storerFatal(`cannot run ${tool}: ${r.error.message}`);
  return { status: r.status ?? 1, stdout: r.stdout ?? '' };
}

function condorVaultStorer() {
  requireNullStdin();
  if (STRICT) checkStorerContract();
  const services = ARGV.filter((a) => !a.startsWith('-'));
  if (services.length === 0) {
    err('Usage: condor_vault_storer [-v] service[&handle=...] ...\n');
    finish(1);
  }
  const first = services[0].split('&')[0];
  const credd = ENV._condor_CREDD_HOST || undefined;
  const mode = applyUniversal(chooseMode({ service: first, schedd: credd }, 'flow'), 'flow');
  const vt = `/tmp/vt_u${EUID}`;
  noteFile('vt', vt);
  noteFile('vtService', `${vt}-${first}`);
  const tag = `${first}@${credd ?? '-'}`;
  switch (mode) {
    case 'ok': {
      const token = makeVaultToken(7 * 86400, tag);
      writeTokenFile(`${vt}-${first}`, token);
      writeTokenFile(vt, token);
      finish(0);
      break;
    }
    case 'ok-notoken':
      finish(0);
      break;
    case 'badtoken':
      writeTokenFile(`${vt}-${first}`, 'garbage');
      finish(0);
      break;
    case 'emptytoken':
      fs.writeFileSync(`${vt}-${first}`, '', { mode: 0o600 });
      finish(0);
      break;
    case 'authneeded':
    case 'authneeded-403':
      if (mode === 'authneeded-403') {
        err(
          `htgettoken: Kerberos negotiate with https://vault:8200/v1/auth/kerberos-${first}/login failed: HTTP Error 403: Forbidden: permission denied\n`,
        );
      }
      err(`Authentication needed for ${first}\n`);
      storerFatal('htgettoken failed');
      break;
    case 'fail':
      storerFatal(`Failed to store condor credentials for ${first}`);
      break;
    case 'mismatch':
      storerFatal(
        `Credentials exist that do not match the request for ${first}.\n  They can be removed by\n    condor_store_cred delete-oauth -s ${first}`,
      );
      break;
    case 'flow':
      for (const service of services) storerFlow(service.split('&')[0]);
      finish(0);
      break;
    default:
      violation(`unknown condor_vault_storer mode ${mode}`);
  }
}

function storerFlow(service) {
  const ccv = runChild('condor_config_val', ['SEC_CREDENTIAL_GETTOKEN_OPTS'], {
    quietStderr: true,
  });
  const condorOpts = ccv.status === 0 ? ccv.stdout.trim() : '';
  if (!condorOpts && !ENV.HTGETTOKENOPTS)
    storerFatal('SEC_CREDENTIAL_GETTOKEN_OPTS is not set and HTGETTOKENOPTS is empty');
  const vt = `/tmp/vt_u${EUID}`;
  const vtService = `${vt}-${service}`;
  const bt = ENV.BEARER_TOKEN_FILE ? null : `${ENV.XDG_RUNTIME_DIR || '/tmp'}/bt_u${EUID}`;
  const btService = bt ? `${bt}-${service}` : null;
  const parts = service.split('_');
  if (parts.length > 2) storerFatal('Only one underscore allowed in use_oauth_services name');
  const [issuer, role] = parts;
  const issuerArgs = ['-i', issuer, ...(role ? ['-r', role] : [])];

  const query = runChild('condor_store_cred', ['query-oauth', '-s', service]);
  if (query.status === 1) fs.rmSync(vtService, { force: true });
  else if (query.status === 2)
    storerFatal(`Credentials exist that do not match the request for ${service}`);
  else if (query.status !== 0) storerFatal(`condor_store_cred query-oauth failed for ${service}`);

  const firstArgs = [
    '--vaulttokenttl=28d',
    ...(btService ? ['-o', btService] : []),
    ...shellSplit(condorOpts),
    ...issuerArgs,
    `--vaulttokeninfile=${vtService}`,
    '--vaulttokenfile=/dev/stdout',
    '--showbearerurl',
  ];
  let got = runChild('htgettoken', [...firstArgs, '--nooidc', '-q']);
  if (got.status !== 0) {
    err(`Authentication needed for ${service}\n`);
    got = runChild('htgettoken', firstArgs);
    if (got.status !== 0) storerFatal('htgettoken failed');
  }
  if (bt && btService && fs.existsSync(btService)) copyViaRename(btService, bt);
  const lines = got.stdout.split('\n').filter((l) => l !== '');
  if (lines.length === 1) return;
  if (lines.length !== 2) storerFatal(`unexpected output from htgettoken: ${lines.length} lines`);
  const [longLived, bearerUrl] = lines;
  const tmpBearer = path.join(
    path.dirname(bt ?? '/tmp/x'),
    `.mtfake-bt${randomBytes(6).toString('hex')}`,
  );
  const exchange = runChild(
    'htgettoken',
    [
      ...shellSplit(condorOpts),
      ...issuerArgs,
      '-o',
      tmpBearer,
      '--vaulttokeninfile=/dev/stdin',
      `--vaulttokenfile=${vtService}`,
      '--showbearerurl',
      '-q',
    ],
    { input: `${longLived}\n` },
  );
  fs.rmSync(tmpBearer, { force: true });
  if (exchange.status !== 0) storerFatal('Failed to exchange vault token');
  copyViaRename(vtService, vt);
  const stored = runChild('condor_store_cred', ['add-oauth', '-s', service, '-i', '-'], {
    input: JSON.stringify({ vault_token: longLived, vault_url: bearerUrl }),
  });
  if (stored.status !== 0) storerFatal(`Failed to store condor credentials for ${service}`);
}

const DISPATCH = {
  condor_config_val: condorConfigVal,
  condor_status: condorStatus,
  condor_store_cred: condorStoreCred,
  htgettoken,
  condor_vault_storer: condorVaultStorer,
};

const main = DISPATCH[TOOL];
if (!main) violation(`mtfake started under unknown name ${TOOL}`);
else main();
