import { createServer, type Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import type { Express } from 'express';
import { projectRoot } from '../util/projectRoot.js';
import { createLogger } from '../util/logger.js';
import { loadCertificate, selfSignedCertificate } from './certificates.js';

const log = createLogger('tls');

export class StartupError extends Error {
  override name = 'StartupError';
}

export interface WebServerOptions {
  port: number;
  bind: string;
  /** PEM files; both empty = a self-signed certificate made once under certs/ and reused. */
  tlsCert: string;
  tlsKey: string;
  /** Names the self-signed certificate is made for. */
  announcedAddress: string;
  app: Express;
}

/** The HTTPS listener for the page, signaling, /healthz and /metrics. */
export class WebServer {
  readonly https: HttpsServer;
  readonly port: number;

  static async create(options: WebServerOptions): Promise<WebServer> {
    const tls = options.tlsCert
      ? await loadCertificate(options.tlsCert, options.tlsKey)
      : await selfSignedCertificate(join(projectRoot, 'certs'), [options.announcedAddress]);
    log.info(`TLS certificate: ${tls.origin}`);
    const https = createServer({ cert: tls.cert, key: tls.key }, options.app);
    await new Promise<void>((resolve, reject) => {
      https.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new StartupError(
            err.code === 'EADDRINUSE'
              ? `Port ${options.port} is already in use on ${options.bind}. Stop the other program or pick another port with --port.`
              : `Cannot listen on ${options.bind}:${options.port}: ${err.message}`,
          ),
        ),
      );
      https.listen(options.port, options.bind, () => resolve());
    });
    const address = https.address();
    return new WebServer(https, typeof address === 'object' && address ? address.port : options.port);
  }

  private constructor(https: HttpsServer, port: number) {
    this.https = https;
    this.port = port;
  }

  close(): Promise<void> {
    this.https.closeAllConnections();
    return new Promise((resolve) => this.https.close(() => resolve()));
  }
}
