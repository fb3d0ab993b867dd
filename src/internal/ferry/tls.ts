/**
 * TLS client-certificate material for FERRY (spec ferry-and-db.md 3.2): the key pair from
 * ferry.hostCert/hostKey and a CA pool built only from the `*.pem` files of ferry.caPath.
 * The pool replaces the system trust store; there is no fallback.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface TlsFiles {
  readonly hostCert: string;
  readonly hostKey: string;
  readonly caPath: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** PEM CERTIFICATE blocks; empty means no server can be trusted. */
  readonly ca: readonly string[];
}

export interface TlsWarn {
  warn(obj: Record<string, unknown>, msg: string): void;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Loads and checks the key pair, then the CA directory. Rejects with a message naming the file. */
export async function loadTlsMaterial(files: TlsFiles, log: TlsWarn): Promise<TlsMaterial> {
  const cert = await readNamed(files.hostCert, 'ferry.hostCert');
  const key = await readNamed(files.hostKey, 'ferry.hostKey');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(
      `could not load X509 key pair (ferry.hostCert ${files.hostCert}, ferry.hostKey ${files.hostKey}): ${(err as Error).message}`,
    );
  }
  const ca = await loadCaDirectory(files.caPath, log);
  return { cert, key, ca };
}

async function readNamed(path: string, key: string): Promise<Buffer> {
  if (path === '') throw new Error(`${key} is not set`);
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`could not read ${key} ${path}: ${(err as Error).message}`);
  }
}

/** Every CERTIFICATE block of every `*.pem` entry (case-sensitive suffix, not recursive). */
export async function loadCaDirectory(caPath: string, log: TlsWarn): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(caPath);
  } catch (err) {
    throw new Error(
      `could not read ferry.caPath directory ${JSON.stringify(caPath)}: ${(err as Error).message}`,
    );
  }
  const pems: string[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.pem')) continue;
    const path = join(caPath, name);
    let text: string;
    try {
      text = await readFile(path, 'latin1');
    } catch (err) {
      log.warn(
        { caFile: path },
        `Could not read CA file ${path}, skipping: ${(err as Error).message}`,
      );
      continue;
    }
    pems.push(...(text.match(CERT_BLOCK) ?? []).filter(isParsableCertificate));
  }
  return pems;
}

/** Unparsable blocks are skipped silently, as a PEM pool append does. */
function isParsableCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}
