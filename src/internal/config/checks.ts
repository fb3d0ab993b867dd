import { isIP } from 'node:net';

/** Value-shape checks used by validation (config.md 6.2). */
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isHostName(value: string): boolean {
  if (isIP(value) !== 0) return true;
  if (value.length === 0 || value.length > 253) return false;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  return name.split('.').every((label) => HOST_LABEL.test(label));
}

/** `host`, `host:port`, `[v6]:port`, or a bare IPv6 address. */
export function isHostPort(value: string): boolean {
  if (isIP(value) === 6) return true;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed !== null) return isIP(bracketed[1] ?? '') === 6 && isPort(bracketed[2]);
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  return match !== null && isHostName(match[1] ?? '') && isPort(match[2]);
}

function isPort(text: string | undefined): boolean {
  if (text === undefined) return true;
  const port = Number(text);
  return port >= 1 && port <= 65535;
}

const ADDR_SPEC = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
export function isEmailAddress(value: string): boolean {
  return ADDR_SPEC.test(value) && !value.startsWith('.') && !value.includes('..');
}

export function isUnixUserName(value: string): boolean {
  return /^[a-z_][a-z0-9_.-]*\$?$/i.test(value);
}

export function parseAbsoluteUrl(value: string): URL | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

export const EXPERIMENT_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const ROLE_KEY = /^[A-Za-z0-9]+$/;
