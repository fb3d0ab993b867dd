/** Building the rsync command line (token-push.md 3.13 step 5, external-tools.md 3.9-3.10). */
import { isIP, isIPv6 } from 'node:net';

/** ssh defaults, in the original's (lexicographic) order. */
const SSH_DEFAULTS: readonly (readonly [string, string])[] = [
  ['ConnectTimeout', '30'],
  ['ServerAliveCountMax', '1'],
  ['ServerAliveInterval', '30'],
];

/**
 * `-o K=V …` from the operator's sshOptions: a `Key=Value` word with a default's key (exact case)
 * replaces that default in place, every other one is appended in order; `-o` words are skipped and
 * words without `=` are dropped (ssh options are only passed as `-o`). An attached `-oKey=Value` is
 * read as `Key=Value`.
 */
export function mergeSshOptions(sshOptions: readonly string[]): string[] {
  const merged: [string, string][] = SSH_DEFAULTS.map(([k, v]) => [k, v]);
  for (const raw of sshOptions) {
    if (raw === '-o') continue;
    const word = raw.startsWith('-o') ? raw.slice(2) : raw;
    const eq = word.indexOf('=');
    if (eq <= 0) continue;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const existing = SSH_DEFAULTS.findIndex(([k]) => k === key);
    const slot = existing >= 0 ? merged[existing] : undefined;
    if (slot !== undefined) slot[1] = value;
    else merged.push([key, value]);
  }
  return merged.flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/** The `-e` value: rsync splits it on spaces itself. */
export function remoteShell(sshPath: string, sshOptions: readonly string[]): string {
  return [sshPath, ...mergeSshOptions(sshOptions)].join(' ');
}

export function rsyncArgv(opts: {
  rsyncPath: string;
  sshPath: string;
  sshOptions: readonly string[];
  fileCopierOptions: readonly string[];
  source: string;
  account: string;
  node: string;
  destination: string;
}): string[] {
  return [
    opts.rsyncPath,
    '-e',
    remoteShell(opts.sshPath, opts.sshOptions),
    ...opts.fileCopierOptions,
    opts.source,
    `${opts.account}@${remoteHost(opts.node)}:${opts.destination}`,
  ];
}

/**
 * The host part of rsync's `user@host:path`: a bare IPv6 address (as the config allows) goes in
 * brackets, or rsync would split it at its first `:`.
 */
export function remoteHost(node: string): string {
  return isIPv6(node) ? `[${node}]` : node;
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;
const ACCOUNT = /^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$/;
const REMOTE_PATH = /^[A-Za-z0-9._/+@%=,:~-]+$/;

/**
 * Q5 fix: values that end up in a remote command line must not carry whitespace, quotes or shell
 * metacharacters. Returns the problem, or undefined when the values are safe.
 */
export function unsafeDestination(
  account: string,
  node: string,
  destination: string,
): string | undefined {
  if (!HOST.test(node) && isIP(node) === 0)
    return `node name ${JSON.stringify(node)} is not a plain host name or address`;
  if (!ACCOUNT.test(account)) return `account ${JSON.stringify(account)} is not a plain user name`;
  if (!REMOTE_PATH.test(destination)) {
    return `destination ${JSON.stringify(destination)} contains whitespace, quotes or shell metacharacters`;
  }
  return undefined;
}
