/**
 * The two HTTP transports of the FERRY client (spec ferry-and-db.md 2.1, 3.2, 3.3):
 * - TLS client certificate: node:https, HTTP/1.1, our CA pool only, no proxy, TLS >= 1.2;
 * - bearer token (JWT): undici with the system trust store and the proxy from the environment.
 * Both bound the whole exchange (connect, headers and body) by the caller's AbortSignal.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { gunzipSync, inflateSync } from 'node:zlib';
import { EnvHttpProxyAgent, fetch, type Dispatcher } from 'undici';
import { BodyTooLargeError, readBodyWithin } from '../http/body.js';
import type { TlsMaterial } from './tls.js';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** Bodies larger than this are refused (a FERRY user record is a few hundred bytes). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 10;

/** `<host>:<port>/getUserInfo?username=<account percent-encoded>` (FIX Q6: the original did not encode). */
export function userInfoUrl(host: string, port: number, account: string): string {
  return `${host}:${port}/getUserInfo?username=${encodeQueryValue(account)}`;
}

function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Parses the request URL; only https is accepted (the original fails other schemes too). */
export function parseFerryUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `Get ${JSON.stringify(url)}: could not parse URL (ferry.host must include https://)`,
    );
  }
  if (parsed.protocol !== 'https:') {
    throw new Error(
      `Get ${JSON.stringify(url)}: unsupported protocol scheme ${JSON.stringify(parsed.protocol.replace(/:$/, ''))}`,
    );
  }
  return parsed;
}

function deadlineError(url: string, signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  const detail =
    reason instanceof Error && reason.name !== 'TimeoutError' && reason.name !== 'AbortError'
      ? reason.message
      : 'context deadline exceeded';
  return new Error(`Get ${JSON.stringify(url)}: ${detail}`);
}

/** An agent shared by all requests of one run, so connections are reused. */
export function createTlsAgent(material: TlsMaterial, maxSockets: number): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets,
    cert: material.cert,
    key: material.key,
    // An empty list still replaces the default roots: nothing is trusted.
    ca: [...material.ca],
    minVersion: 'TLSv1.2',
  });
}

export async function getWithClientCert(
  url: string,
  material: TlsMaterial,
  agent: https.Agent,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  let current = parseFerryUrl(url);
  for (let hop = 0; ; hop++) {
    const answer = await singleTlsGet(current, material, agent, signal);
    const location = answer.redirect;
    if (location === undefined) return answer;
    if (hop >= MAX_REDIRECTS)
      throw new Error(`Get ${JSON.stringify(url)}: stopped after ${MAX_REDIRECTS} redirects`);
    current = parseFerryUrl(new URL(location, current).toString());
  }
}

function singleTlsGet(
  url: URL,
  material: TlsMaterial,
  agent: https.Agent,
  signal: AbortSignal,
): Promise<HttpAnswer & { redirect?: string }> {
  const shown = url.toString();
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(deadlineError(shown, signal));
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const req = https.request({
      method: 'GET',
      protocol: 'https:',
      hostname,
      port: url.port === '' ? 443 : Number(url.port),
      path: `${url.pathname}${url.search}`,
      agent,
      cert: material.cert,
      key: material.key,
      ca: [...material.ca],
      minVersion: 'TLSv1.2',
      ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
    });
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    const onAbort = (): void => {
      const err = deadlineError(shown, signal);
      req.destroy(err);
      fail(err);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => fail(new Error(`Get ${JSON.stringify(shown)}: ${err.message}`)));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && status !== 304 && typeof location === 'string') {
        res.resume();
        res.on('end', () => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve({ status, body: '', redirect: location });
        });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          const err = new Error(
            `Get ${JSON.stringify(shown)}: response body larger than ${MAX_BODY_BYTES} bytes`,
          );
          req.destroy(err);
          fail(err);
          return;
        }
        chunks.push(chunk);
      });
      res.on('aborted', () =>
        fail(new Error(`Get ${JSON.stringify(shown)}: connection closed while reading the body`)),
      );
      res.on('error', (err) => fail(new Error(`Get ${JSON.stringify(shown)}: ${err.message}`)));
      res.on('end', () => {
        if (settled) return;
        if (!res.complete) {
          fail(new Error(`Get ${JSON.stringify(shown)}: unexpected EOF while reading the body`));
          return;
        }
        try {
          const body = decodeContent(Buffer.concat(chunks), res.headers['content-encoding']);
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve({ status, body });
        } catch (err) {
          fail(new Error(`Get ${JSON.stringify(shown)}: ${(err as Error).message}`));
        }
      });
    });
    req.end();
  });
}

function decodeContent(raw: Buffer, encoding: string | undefined): string {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case '':
    case 'identity':
      return raw.toString('utf8');
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES }).toString('utf8');
    case 'deflate':
      return inflateSync(raw, { maxOutputLength: MAX_BODY_BYTES }).toString('utf8');
    default:
      throw new Error(`unsupported Content-Encoding ${encoding}`);
  }
}

export interface BearerTransport {
  readonly dispatcher: Dispatcher;
  close(): Promise<void>;
}

/**
 * System trust store plus proxy variables from the given environment (not ferry.caPath, KEEP
 * Q17). `extraCa` exists for tests that cannot install their CA system-wide.
 */
export function createBearerTransport(
  env: Readonly<Record<string, string>>,
  extraCa?: readonly string[],
): BearerTransport {
  const proxy = (name: string): string | undefined => env[name] ?? env[name.toLowerCase()];
  const httpsProxy = proxy('HTTPS_PROXY');
  const httpProxy = proxy('HTTP_PROXY');
  const noProxy = proxy('NO_PROXY');
  const dispatcher = new EnvHttpProxyAgent({
    ...(httpsProxy !== undefined ? { httpsProxy } : {}),
    ...(httpProxy !== undefined ? { httpProxy } : {}),
    ...(noProxy !== undefined ? { noProxy } : {}),
    ...(extraCa ? { connect: { ca: [...rootCertificates, ...extraCa] } } : {}),
  });
  return { dispatcher, close: () => dispatcher.close() };
}

export async function getWithBearer(
  url: string,
  token: string,
  transport: BearerTransport,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  parseFerryUrl(url);
  try {
    const res = await fetch(url, {
      method: 'GET',
      headers: { Authorization: `Bearer ${token}` },
      dispatcher: transport.dispatcher,
      signal,
      redirect: 'follow',
    });
    // Not res.text(): no size cap, and on Node 20 the deadline may not end a stalled body.
    const raw = await readBodyWithin(res as unknown as Response, signal, MAX_BODY_BYTES);
    return { status: res.status, body: new TextDecoder().decode(raw) };
  } catch (err) {
    if (signal.aborted) throw deadlineError(url, signal);
    if (err instanceof BodyTooLargeError)
      throw new Error(`Get ${JSON.stringify(url)}: ${err.message}`);
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : (err as Error).message;
    throw new Error(`Get ${JSON.stringify(url)}: ${detail}`);
  }
}
