/**
 * A real SMTP receiver for tests and the demo (smtp-server + mailparser) on a free 127.0.0.1
 * port. Every accepted message is parsed and recorded; connections, AUTH attempts and the
 * EHLO name are recorded too. Without `tls` the server does not offer STARTTLS; with `tls`
 * (PEM key + certificate) it offers STARTTLS and records whether each message arrived over it.
 *
 * Standalone (demo): `tsx src/testenv/smtp.ts [--port N]` prints one JSON line per message.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Address of the From header. */
  readonly from: string;
  /** Addresses of the To header, in header order. */
  readonly to: readonly string[];
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly subject: string;
  readonly text: string;
  /** Lower-cased header names → raw header values. */
  readonly headers: ReadonlyMap<string, string>;
  /** The message was transferred over a STARTTLS-upgraded connection. */
  readonly secure: boolean;
  /** The name the client gave in EHLO/HELO. */
  readonly heloName: string;
}

export interface SmtpServerHandle {
  readonly host: string;
  readonly port: number;
  readonly messages: readonly ReceivedMail[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** AUTH commands seen so far (each is rejected). */
  readonly authAttempts: number;
  /** Resolves once at least `count` messages arrived; rejects after `timeoutMs` (default 10 s). */
  waitFor(count: number, timeoutMs?: number): Promise<readonly ReceivedMail[]>;
  stop(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Offer STARTTLS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Listen on this port instead of a free one. */
  readonly port?: number;
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return objects.flatMap((o) => o.value.map((a) => a.address ?? '')).filter((a) => a !== '');
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpServerHandle> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let connections = 0;
  let authAttempts = 0;

  const server = new SMTPServer({
    ...(options.tls
      ? { key: options.tls.key, cert: options.tls.cert }
      : { disabledCommands: ['STARTTLS'] }),
    secure: false,
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(_auth, _session, callback) {
      authAttempts++;
      callback(new Error('authentication is not accepted by the test server'));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const headers = new Map<string, string>();
          for (const line of parsed.headerLines) headers.set(line.key.toLowerCase(), line.line);
          const envelopeFrom =
            session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          messages.push({
            from: addressesOf(parsed.from)[0] ?? '',
            to: addressesOf(parsed.to),
            envelopeFrom,
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            headers,
            secure: session.secure,
            heloName: session.hostNameAppearsAs,
          });
          for (const wake of waiters) wake();
          callback();
        })
        .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    },
  });
  server.on('error', () => undefined);
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    messages,
    get connections() {
      return connections;
    },
    get authAttempts() {
      return authAttempts;
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (messages.length < count) return;
          cleanup();
          resolve(messages);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `expected ${count} message(s) within ${timeoutMs} ms, got ${messages.length}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const portFlag = process.argv.indexOf('--port');
  const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;
  const handle = await startSmtpServer({ port });
  process.stdout.write(`${JSON.stringify({ listening: `${handle.host}:${handle.port}` })}\n`);
  let printed = 0;
  for (;;) {
    const all = await handle.waitFor(printed + 1, 2_147_483_647);
    for (const mail of all.slice(printed)) {
      process.stdout.write(
        `${JSON.stringify({ ...mail, headers: Object.fromEntries(mail.headers) })}\n`,
      );
    }
    printed = all.length;
  }
}
