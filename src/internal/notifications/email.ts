/**
 * One email = one SMTP session via nodemailer (spec notifications-observability.md 2.2):
 * plain SMTP to host:port, no authentication, STARTTLS whenever the server offers it (the
 * certificate must verify against the SMTP host name, else the send fails), EHLO `localhost`,
 * 10 s connection timeout, no retries, one text/plain quoted-printable part.
 */
import { isIP } from 'node:net';
import nodemailer from 'nodemailer';

export interface EmailSettings {
  /** `From` header and envelope sender. */
  readonly from: string;
  readonly smtpHost: string;
  /** 0 when unset: the connection then fails, as in the original. */
  readonly smtpPort: number;
  /** Extra trusted CA certificates (PEM) for STARTTLS; tests with a self-signed server use it. */
  readonly tlsCa?: string | undefined;
}

export interface OutgoingEmail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

const CONNECT_TIMEOUT_MS = 10_000;

/** Resolves when the server accepted the message; rejects on any failure or when `signal` aborts. */
export async function sendEmail(
  settings: EmailSettings,
  email: OutgoingEmail,
  signal: AbortSignal,
): Promise<void> {
  signal.throwIfAborted();
  const recipients = [...new Set(email.to)];
  if (recipients.length === 0) throw new Error('no recipients');
  // nodemailer would silently use port 587 for 0; the original fails to connect.
  if (!Number.isInteger(settings.smtpPort) || settings.smtpPort <= 0 || settings.smtpPort > 65535) {
    throw new Error(`invalid SMTP port ${settings.smtpPort} (email.smtpPort)`);
  }
  // The original cannot send without a sender; a null sender would change who gets bounces.
  if (settings.from.trim() === '') throw new Error('no sender address (email.from is not set)');
  const transport = nodemailer.createTransport({
    host: settings.smtpHost,
    port: settings.smtpPort,
    secure: false,
    ignoreTLS: false,
    requireTLS: false,
    name: 'localhost',
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: CONNECT_TIMEOUT_MS * 3,
    tls: {
      // SNI must not carry an IP address; the certificate is still checked against it.
      ...(isIP(settings.smtpHost) === 0 ? { servername: settings.smtpHost } : {}),
      rejectUnauthorized: true,
      ...(settings.tlsCa !== undefined ? { ca: settings.tlsCa } : {}),
    },
  });
  // nodemailer closes the connection when the signal aborts (its types do not list the option yet).
  const message = {
    from: settings.from,
    to: recipients.join(', '),
    subject: email.subject,
    text: email.text,
    textEncoding: 'quoted-printable' as const,
    envelope: { from: settings.from, to: recipients },
    signal,
  };
  try {
    await transport.sendMail(message);
  } catch (err) {
    throw signal.aborted ? abortReason(signal) : err;
  } finally {
    transport.close();
  }
}

export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new Error('notification delivery deadline exceeded');
}
