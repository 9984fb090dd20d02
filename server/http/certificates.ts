import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { createLogger } from '../util/logger.js';

const log = createLogger('tls');

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where it came from, for the start-up log. */
  origin: string;
}

export class CertificateError extends Error {
  override name = 'CertificateError';
}

/** The user's own certificate and key (PEM files). */
export async function loadCertificate(certPath: string, keyPath: string): Promise<TlsMaterial> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    new X509Certificate(cert); // throws on a file that is not a certificate
    return { cert, key, origin: certPath };
  } catch (err) {
    throw new CertificateError(
      `Cannot use the TLS certificate ${certPath} with key ${keyPath}: ${(err as Error).message}. ` +
        'Give PEM files with --tls-cert/--tls-key, or leave both empty for a generated certificate.',
    );
  }
}

/**
 * A self-signed certificate kept in `dir` and reused on restart, so browsers that accepted it
 * once keep accepting it. Regenerated when missing, unreadable or expiring within a week.
 */
export async function selfSignedCertificate(dir: string, hostNames: readonly string[]): Promise<TlsMaterial> {
  const certPath = join(dir, 'deskcast-selfsigned.crt');
  const keyPath = join(dir, 'deskcast-selfsigned.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    try {
      const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
      const validTo = new Date(new X509Certificate(cert).validTo).getTime();
      if (validTo - Date.now() > 7 * 24 * 3600 * 1000) return { cert, key, origin: certPath };
      log.info(`${certPath} expires soon; generating a new one`);
    } catch (err) {
      log.warn(`${certPath} is unreadable (${(err as Error).message}); generating a new one`);
    }
  }
  log.info('generating a self-signed certificate (once; kept under certs/)');
  const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/;
  const altNames = [...new Set(['localhost', '127.0.0.1', ...hostNames])].map((name) =>
    ipv4.test(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name },
  );
  const notAfterDate = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'deskcast' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [{ name: 'subjectAltName', altNames }],
  });
  await mkdir(dir, { recursive: true });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, origin: `${certPath} (new)` };
}
