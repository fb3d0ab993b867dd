/**
 * Standalone fake FERRY for end-to-end runs, the demo and the benchmark:
 *
 *   node dist/src/testenv/ferry/main.js --fixtures <pki dir> [--behaviors <file.json>] [--log <file>] [--port N]
 *
 * Prints one JSON line `{"port":N,"caDir":...,"clientCert":...,"clientKey":...}` once it is
 * listening, appends one JSON line per request to --log, and stops on SIGTERM/SIGINT.
 *
 * Behaviour file: { "default"?: Behavior, "users"?: { name: Behavior }, "uids"?: { name: uid },
 *                   "tls"?: { serverCert, clientAuth, minVersion }, "auth"?: "cert"|"bearer"|"either",
 *                   "bearerToken"?: string }
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseBehavior, type Behavior } from './behaviors.js';
import { startFakeFerry, type AuthMode, type TlsSettings } from './server.js';

interface BehaviorFile {
  readonly default?: Behavior;
  readonly users: Record<string, Behavior>;
  readonly uids: Record<string, number>;
  readonly tls?: Partial<TlsSettings>;
  readonly auth?: AuthMode;
  readonly bearerToken?: string;
}

function readBehaviorFile(path: string | undefined): BehaviorFile {
  if (!path) return { users: {}, uids: {} };
  const data = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const users: Record<string, Behavior> = {};
  for (const [name, b] of Object.entries(
    (data['users'] as Record<string, unknown> | undefined) ?? {},
  )) {
    users[name] = parseBehavior(b, `users.${name}`);
  }
  const uids: Record<string, number> = {};
  for (const [name, uid] of Object.entries(
    (data['uids'] as Record<string, unknown> | undefined) ?? {},
  )) {
    if (typeof uid !== 'number') throw new Error(`${path}: uids.${name} must be a number`);
    uids[name] = uid;
  }
  return {
    users,
    uids,
    ...(data['default'] !== undefined
      ? { default: parseBehavior(data['default'], 'default') }
      : {}),
    ...(data['tls'] !== undefined ? { tls: data['tls'] as Partial<TlsSettings> } : {}),
    ...(typeof data['auth'] === 'string' ? { auth: data['auth'] as AuthMode } : {}),
    ...(typeof data['bearerToken'] === 'string' ? { bearerToken: data['bearerToken'] } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fixtures: { type: 'string' },
      behaviors: { type: 'string' },
      log: { type: 'string' },
      port: { type: 'string' },
    },
  });
  if (!values.fixtures) throw new Error('--fixtures <dir> is required');
  const file = readBehaviorFile(values.behaviors);
  const logPath = values.log;
  const ferry = await startFakeFerry({
    pkiDir: values.fixtures,
    port: values.port ? Number(values.port) : 0,
    uids: file.uids,
    ...(file.tls ? { tls: file.tls } : {}),
    ...(file.auth ? { auth: file.auth } : {}),
    ...(file.bearerToken ? { bearerToken: file.bearerToken } : {}),
    ...(logPath ? { onRequest: (r) => appendFileSync(logPath, `${JSON.stringify(r)}\n`) } : {}),
  });
  if (file.default) ferry.setDefault(file.default);
  for (const [name, b] of Object.entries(file.users)) ferry.setUser(name, b);
  // Keep memory flat in long benchmark runs: the log file is the record here.
  const trim = setInterval(() => ferry.resetLog(), 60_000);
  const shutdown = (): void => {
    clearInterval(trim);
    void ferry.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdout.write(
    `${JSON.stringify({ port: ferry.port, caDir: ferry.caDir, clientCert: ferry.clientCert, clientKey: ferry.clientKey })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`fake FERRY: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
