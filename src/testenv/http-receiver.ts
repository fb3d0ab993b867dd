import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/**
 * A generic recording HTTP server on 127.0.0.1 (free port) for tests, the demo and the bench:
 * stands in for Slack webhooks, an OTLP/HTTP collector, Loki or anything that receives POSTs.
 * OTLP trace bodies are protobuf: decode them with `decodeExportTraceServiceRequest(r.body)` from ./otlp.js.
 * Every request is recorded (method, path, query, headers, decompressed body). Per path one
 * can set the status, the response body and a delay before the response headers go out
 * (to exercise client timeouts).
 *
 *   const rx = await startHttpReceiver({ routes: { '/loki/api/v1/push': { status: 204 } } });
 *   ... rx.url ...; await rx.waitFor((r) => r.path === '/v1/traces');
 *   rx.requests; rx.setRoute('/x', { status: 500, delayMs: 2000 }); await rx.close();
 */

export interface RouteBehaviour {
  /** Default 200. */
  readonly status?: number;
  /** Sent as the response body (default empty). */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before sending the status line (default 0). */
  readonly delayMs?: number;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Body after undoing Content-Encoding gzip/deflate. */
  readonly body: Buffer;
  readonly receivedAt: number;
  text(): string;
  json<T = unknown>(): T;
}

export interface HttpReceiverOptions {
  /** Behaviour per exact path; unknown paths get `fallback`. */
  readonly routes?: Readonly<Record<string, RouteBehaviour>>;
  readonly fallback?: RouteBehaviour;
}

export interface HttpReceiver {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  setRoute(path: string, behaviour: RouteBehaviour): void;
  /** Requests whose path equals `path`. */
  requestsTo(path: string): RecordedRequest[];
  /** Resolves with the first recorded request (past or future) matching; rejects after timeoutMs. */
  waitFor(predicate: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  clear(): void;
  close(): Promise<void>;
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').toLowerCase()) {
    case 'gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    default:
      return body;
  }
}

function record(
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): RecordedRequest {
  const url = new URL(rawUrl, 'http://receiver.invalid');
  const decoded = decode(body, headers['content-encoding']);
  return {
    method,
    path: url.pathname,
    query: url.searchParams,
    headers,
    body: decoded,
    receivedAt: Date.now(),
    text: () => decoded.toString('utf8'),
    json: <T>() => JSON.parse(decoded.toString('utf8')) as T,
  };
}

export async function startHttpReceiver(opts: HttpReceiverOptions = {}): Promise<HttpReceiver> {
  const routes = new Map<string, RouteBehaviour>(Object.entries(opts.routes ?? {}));
  const fallback = opts.fallback ?? {};
  const requests: RecordedRequest[] = [];
  const waiters: {
    predicate: (r: RecordedRequest) => boolean;
    resolve: (r: RecordedRequest) => void;
  }[] = [];
  const sockets = new Set<Socket>();
  const pendingTimers = new Set<NodeJS.Timeout>();

  const respond = (res: ServerResponse, behaviour: RouteBehaviour): void => {
    if (res.destroyed) return;
    res.writeHead(behaviour.status ?? 200, { ...(behaviour.headers ?? {}) });
    res.end(behaviour.body ?? '');
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let rec: RecordedRequest;
      try {
        rec = record(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks));
      } catch (err) {
        res.writeHead(400).end(`receiver could not decode the body: ${(err as Error).message}`);
        return;
      }
      requests.push(rec);
      for (const w of [...waiters]) {
        if (w.predicate(rec)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      }
      const behaviour = routes.get(rec.path) ?? fallback;
      const delay = behaviour.delayMs ?? 0;
      if (delay <= 0) {
        respond(res, behaviour);
        return;
      }
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        respond(res, behaviour);
      }, delay);
      pendingTimers.add(timer);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setRoute: (path, behaviour) => void routes.set(path, behaviour),
    requestsTo: (path) => requests.filter((r) => r.path === path),
    waitFor: (predicate, timeoutMs = 10_000) => {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise<RecordedRequest>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (r: RecordedRequest) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(`no matching request within ${timeoutMs} ms (${requests.length} recorded)`),
          );
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    clear: () => void requests.splice(0, requests.length),
    close: async () => {
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
