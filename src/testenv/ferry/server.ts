/**
 * A fake FERRY over HTTPS with mutual TLS (spec ferry-and-db.md 8.1). It listens on
 * 127.0.0.1, serves `GET /getUserInfo?username=<u>`, validates every request, records it,
 * and answers according to a per-user or default behaviour.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { DEFAULT_USERS, failureBody, render, type Behavior } from './behaviors.js';
import { generateFerryPki, type FerryPki } from './pki.js';

export type ClientAuth = 'require' | 'optional' | 'none';
export type AuthMode = 'cert' | 'bearer' | 'either';

export interface TlsSettings {
  readonly serverCert: 'good' | 'rogue';
  readonly clientAuth: ClientAuth;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly username: string | null;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly clientCertCN: string | null;
  readonly tlsProtocol: string | null;
  readonly tStart: number;
  tEnd: number | null;
  /** Set when the request failed validation (also listed in `violations`). */
  violation?: string;
}

export interface Violation {
  readonly request: RecordedRequest;
  readonly problem: string;
}

export interface FakeFerryOptions {
  /** Directory for the generated PKI; reused when complete. Required. */
  readonly pkiDir: string;
  /** Port to listen on (0 = any free port). */
  readonly port?: number;
  /** Extra username → uid table answered with `ok` (merged over the default users). */
  readonly uids?: Readonly<Record<string, number>>;
  readonly tls?: Partial<TlsSettings>;
  readonly auth?: AuthMode;
  readonly bearerToken?: string;
  /** Called for every finished request (the standalone server writes its log from this). */
  readonly onRequest?: (request: RecordedRequest) => void;
}

export interface FakeFerry {
  /** `https://localhost` (the port is separate, as in the config). */
  readonly url: string;
  readonly port: number;
  readonly caDir: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly pki: FerryPki;
  readonly requests: RecordedRequest[];
  readonly violations: Violation[];
  /** Highest number of requests handled at the same time so far. */
  readonly maxInFlight: number;
  setUser(name: string, behavior: Behavior): void;
  setDefault(behavior: Behavior | undefined): void;
  setTls(settings: Partial<TlsSettings>): Promise<void>;
  setAuth(mode: AuthMode, opts?: { bearerToken?: string }): void;
  /** Forget recorded requests, violations and maxInFlight. */
  resetLog(): void;
  /** Forget every per-user and default behaviour (back to the built-in users). */
  resetBehaviors(): void;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

const BEARER = /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_REDIRECT_HOPS = 20;

export async function startFakeFerry(options: FakeFerryOptions): Promise<FakeFerry> {
  const pki = await generateFerryPki(options.pkiDir);
  const instance = new FakeFerryServer(pki, options);
  await instance.listen(options.port ?? 0);
  return instance;
}

class FakeFerryServer implements FakeFerry {
  readonly url = 'https://localhost';
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  maxInFlight = 0;
  port = 0;
  private inFlight = 0;
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly users = new Map<string, Behavior>();
  private defaultBehavior: Behavior | undefined;
  private readonly uids: Record<string, number>;
  private tls: TlsSettings;
  private auth: AuthMode;
  private bearerToken: string | undefined;

  constructor(
    readonly pki: FerryPki,
    private readonly options: FakeFerryOptions,
  ) {
    this.uids = { ...DEFAULT_USERS, ...(options.uids ?? {}) };
    this.tls = {
      serverCert: 'good',
      clientAuth: 'require',
      minVersion: 'TLSv1.2',
      ...(options.tls ?? {}),
    };
    this.auth = options.auth ?? 'cert';
    this.bearerToken = options.bearerToken;
  }

  get caDir(): string {
    return this.pki.caDir;
  }
  get clientCert(): string {
    return this.pki.clientCert;
  }
  get clientKey(): string {
    return this.pki.clientKey;
  }

  setUser(name: string, behavior: Behavior): void {
    this.users.set(name, behavior);
  }

  setDefault(behavior: Behavior | undefined): void {
    this.defaultBehavior = behavior;
  }

  async setTls(settings: Partial<TlsSettings>): Promise<void> {
    this.tls = { ...this.tls, ...settings };
    if (this.server) await this.restart();
  }

  setAuth(mode: AuthMode, opts: { bearerToken?: string } = {}): void {
    this.auth = mode;
    this.bearerToken = opts.bearerToken;
  }

  resetBehaviors(): void {
    this.users.clear();
    this.defaultBehavior = undefined;
  }

  resetLog(): void {
    this.requests.length = 0;
    this.violations.length = 0;
    this.maxInFlight = 0;
  }

  async listen(port: number): Promise<void> {
    const tls = this.tls;
    const good = tls.serverCert === 'good';
    const server = https.createServer({
      cert: readFileSync(good ? this.pki.serverCert : this.pki.rogueServerCert),
      key: readFileSync(good ? this.pki.serverKey : this.pki.rogueServerKey),
      ca: [readFileSync(this.pki.caCert)],
      requestCert: tls.clientAuth !== 'none',
      rejectUnauthorized: tls.clientAuth === 'require',
      minVersion: tls.minVersion,
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // Handshake failures (e.g. an untrusted client certificate) are expected in negative tests.
    server.on('tlsClientError', () => undefined);
    server.on('request', (req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new Error('fake FERRY: no TCP address');
    this.port = address.port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restart(): Promise<void> {
    const port = this.port;
    await this.stop();
    await this.listen(port);
  }

  // ---- request handling ----

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const record = this.record(req);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.inFlight--;
      record.tEnd = Date.now();
      this.options.onRequest?.(record);
    };
    // Counted as done when the answer is handed over, not when the socket write completes, so
    // the next request of a keep-alive connection never overlaps it in maxInFlight.
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      finish();
      return end(...args);
    }) as ServerResponse['end'];
    res.on('close', finish);

    const rejection = this.validate(req, record);
    if (rejection) {
      record.violation = rejection.problem;
      this.violations.push({ request: record, problem: rejection.problem });
      sendText(res, rejection.status, rejection.contentType, rejection.body);
      return;
    }
    this.apply(this.behaviorFor(record.username ?? ''), req, res, 0);
  }

  private record(req: IncomingMessage): RecordedRequest {
    const rawUrl = req.url ?? '';
    const q = rawUrl.indexOf('?');
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate?.();
    const cn =
      peer && socket.authorized && typeof peer.subject?.CN === 'string' ? peer.subject.CN : null;
    const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1);
    const params = new URLSearchParams(rawQuery);
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: q === -1 ? rawUrl : rawUrl.slice(0, q),
      rawQuery,
      username: params.get('username'),
      headers: { ...req.headers },
      clientCertCN: cn,
      tlsProtocol: socket.getProtocol?.() ?? null,
      tStart: Date.now(),
      tEnd: null,
    };
    this.requests.push(record);
    return record;
  }

  private validate(
    req: IncomingMessage,
    record: RecordedRequest,
  ): { status: number; contentType: string; body: string; problem: string } | undefined {
    const fail = (status: number, problem: string) => ({
      status,
      contentType: 'application/json',
      body: JSON.stringify(failureBody([problem])),
      problem,
    });
    if (record.path !== '/getUserInfo') {
      return {
        status: 404,
        contentType: 'text/plain',
        body: 'not found',
        problem: `unexpected path ${record.path}`,
      };
    }
    if (record.method !== 'GET') return fail(405, `method ${record.method} not allowed`);
    const params = [...new URLSearchParams(record.rawQuery)];
    if (params.length !== 1 || params[0]?.[0] !== 'username') {
      return fail(
        400,
        `query must be exactly one username parameter, got ${JSON.stringify(record.rawQuery)}`,
      );
    }
    if (params[0][1] === '') return fail(400, 'username is empty');
    const socket = req.socket as TLSSocket;
    const hasCert = socket.authorized === true && record.clientCertCN !== null;
    const authz = req.headers.authorization;
    const bearerProblem = this.bearerProblem(authz);
    switch (this.auth) {
      case 'cert':
        if (!hasCert) return fail(401, 'no verified client certificate');
        break;
      case 'bearer':
        if (bearerProblem) return fail(401, bearerProblem);
        break;
      case 'either':
        if (!hasCert && bearerProblem)
          return fail(401, `no verified client certificate and ${bearerProblem}`);
        break;
    }
    return undefined;
  }

  private bearerProblem(header: string | undefined): string | undefined {
    if (header === undefined) return 'missing Authorization header';
    if (!BEARER.test(header)) return 'Authorization header is not "Bearer <jwt>"';
    if (this.bearerToken !== undefined && header !== `Bearer ${this.bearerToken}`)
      return 'bearer token mismatch';
    return undefined;
  }

  private behaviorFor(username: string): Behavior {
    const own = this.users.get(username);
    if (own) return own;
    if (this.defaultBehavior) return this.defaultBehavior;
    const uid = this.uids[username];
    if (uid !== undefined) return { kind: 'ok', uid };
    return { kind: 'ferryFailure', messages: [`User ${username} does not exist.`] };
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private apply(b: Behavior, req: IncomingMessage, res: ServerResponse, hops: number): void {
    switch (b.kind) {
      case 'hang':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'redirect':
        if (hops > MAX_REDIRECT_HOPS) return sendText(res, 508, 'text/plain', 'loop');
        res.writeHead(302, { Location: b.path, 'Content-Length': '0' });
        res.end();
        return;
      case 'delay':
        this.later(b.ms, () => {
          if (!res.destroyed) this.apply(b.inner, req, res, hops);
        });
        return;
      case 'slowBody': {
        const answer = render(b.inner);
        const bytes = Buffer.from(answer.body);
        const half = Math.max(1, Math.floor(bytes.length / 2));
        res.writeHead(answer.statusCode, {
          'Content-Type': answer.contentType,
          'Content-Length': String(bytes.length),
        });
        res.write(bytes.subarray(0, half));
        this.later(b.ms, () => {
          if (!res.destroyed) res.end(bytes.subarray(half));
        });
        return;
      }
      default: {
        const answer = render(b);
        sendText(res, answer.statusCode, answer.contentType, answer.body);
      }
    }
  }
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(bytes.length) });
  res.end(bytes);
}
