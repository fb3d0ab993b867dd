/**
 * Test PKI for the fake FERRY (spec ferry-and-db.md 8.1), generated with the openssl CLI
 * (argv arrays, no shell). Layout under `dir`:
 *
 *   ca/testca.pem            the test CA, the only .pem CA happy-path clients trust
 *   ca/decoy.crt             a valid CA in .crt (clients must ignore it)
 *   ca/README, ca/garbage.pem  decoys: plain text, and a .pem holding non-PEM bytes
 *   testca.key               the test CA key (outside ca/)
 *   server.pem/.key          localhost + 127.0.0.1, serverAuth, signed by the test CA
 *   client.pem/.key          CN managed-tokens-test, clientAuth, signed by the test CA
 *   rogue-ca.pem/.key, rogue-server.pem/.key, rogue-client.pem/.key   a second, untrusted CA and its leaves
 *   other.key                a key that matches no certificate
 *
 * Everything is world-readable on purpose: the executables under test run as the
 * unprivileged test user. These are throwaway test credentials.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FerryPki {
  readonly dir: string;
  readonly caDir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly rogueCaCert: string;
  readonly rogueServerCert: string;
  readonly rogueServerKey: string;
  readonly rogueClientCert: string;
  readonly rogueClientKey: string;
  readonly otherKey: string;
  readonly decoyCaCrt: string;
}

const OPENSSL_ENV = { PATH: '/usr/bin:/bin', OPENSSL_CONF: '/dev/null' } as const;
const DAYS = '36500';

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      [...args],
      { cwd, env: OPENSSL_ENV, timeout: 30_000 },
      (err, _stdout, stderr) => {
        if (err)
          reject(
            new Error(`openssl ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`),
          );
        else resolve();
      },
    );
  });
}

function newKey(path: string, cwd: string): Promise<void> {
  return openssl(
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path],
    cwd,
  );
}

async function selfSignedCa(name: string, cn: string, cwd: string): Promise<void> {
  await newKey(`${name}.key`, cwd);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      DAYS,
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    cwd,
  );
}

async function leaf(
  name: string,
  cn: string,
  ca: string,
  extensions: string,
  cwd: string,
): Promise<void> {
  await newKey(`${name}.key`, cwd);
  await openssl(
    ['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`],
    cwd,
  );
  writeFileSync(join(cwd, `${name}.ext`), extensions);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      DAYS,
      '-extfile',
      `${name}.ext`,
    ],
    cwd,
  );
}

const SERVER_EXT =
  'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n';
const CLIENT_EXT =
  'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';

export function pkiPaths(dir: string): FerryPki {
  const caDir = join(dir, 'ca');
  return {
    dir,
    caDir,
    caCert: join(caDir, 'testca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    rogueCaCert: join(dir, 'rogue-ca.pem'),
    rogueServerCert: join(dir, 'rogue-server.pem'),
    rogueServerKey: join(dir, 'rogue-server.key'),
    rogueClientCert: join(dir, 'rogue-client.pem'),
    rogueClientKey: join(dir, 'rogue-client.key'),
    otherKey: join(dir, 'other.key'),
    decoyCaCrt: join(caDir, 'decoy.crt'),
  };
}

/** Generates the whole PKI into `dir` (created if needed). Reuses a complete earlier generation. */
export async function generateFerryPki(dir: string): Promise<FerryPki> {
  const paths = pkiPaths(dir);
  if (existsSync(join(dir, '.complete'))) return paths;
  mkdirSync(paths.caDir, { recursive: true });
  // the CA is generated in `dir` and then its certificate is placed in ca/
  await selfSignedCa('testca', 'Managed Tokens Test CA', dir);
  await selfSignedCa('rogue-ca', 'Rogue Test CA', dir);
  await selfSignedCa('decoy', 'Decoy Test CA', dir);
  // Leaves of one CA are signed one after the other: openssl rewrites the CA's serial file in
  // place, and two concurrent signings can read it half-written.
  await Promise.all([
    leaf('server', 'localhost', 'testca', SERVER_EXT, dir).then(() =>
      leaf('client', 'managed-tokens-test', 'testca', CLIENT_EXT, dir),
    ),
    leaf('rogue-server', 'localhost', 'rogue-ca', SERVER_EXT, dir).then(() =>
      leaf('rogue-client', 'managed-tokens-test', 'rogue-ca', CLIENT_EXT, dir),
    ),
    newKey('other.key', dir),
  ]);
  await openssl(['x509', '-in', 'testca.pem', '-out', join('ca', 'testca.pem')], dir);
  await openssl(['x509', '-in', 'decoy.pem', '-out', join('ca', 'decoy.crt')], dir);
  writeFileSync(
    join(paths.caDir, 'README'),
    'Test CA directory for the fake FERRY. Only *.pem files count.\n',
  );
  writeFileSync(
    join(paths.caDir, 'garbage.pem'),
    Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x42, 0x41, 0x44]),
  );
  makeWorldReadable(dir);
  writeFileSync(join(dir, '.complete'), '');
  return paths;
}

function makeWorldReadable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) makeWorldReadable(p);
    else chmodSync(p, 0o644);
  }
}
