import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registry } from '../metrics/registry.js';
import { wrongTokenMessage } from '../../shared/protocol.js';
import { roleForToken, type AccessTokens } from '../viewers/roles.js';
import type { HealthReport } from '../health/health.js';

export interface HttpAppOptions {
  tokens: AccessTokens;
  /** Folder with the bundled viewer page (index.html, assets). */
  clientDir: string;
  /** Health aggregated from the modules, plus facts for the operator (viewers, workers). */
  health: () => HealthReport & Record<string, unknown>;
  /** Refreshes gauges that are read on demand (e.g. bytes sent) before /metrics renders. */
  beforeMetrics: () => Promise<void>;
  /** Admin API routes mounted under /api (screenshots, recordings); they check the token themselves. */
  api?: Router;
}

function refusalPage(message: string): string {
  const escaped = message.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>deskcast: access refused</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/viewer.css"></head><body class="refused"><main><h1>Access refused</h1><p id="refusal">${escaped}</p></main></body></html>`;
}

/** The HTTPS routes: the viewer page (token-checked), its assets, /healthz, /metrics. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          mediaSrc: ["'self'", 'blob:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  const indexHtml = readFileSync(join(options.clientDir, 'index.html'), 'utf8');

  app.get('/', (req, res) => {
    if (!roleForToken(req.query['t'], options.tokens)) {
      res.status(403).type('html').send(refusalPage(wrongTokenMessage));
      return;
    }
    res.set('Cache-Control', 'no-store').type('html').send(indexHtml);
  });
  app.use('/assets', express.static(join(options.clientDir, 'assets'), { index: false, maxAge: '1h' }));
  // An upload sink, so one deskcast host can measure its upstream against another
  // (--preflight-url https://OTHER:8443/api/upload-sink?t=TOKEN): reads and discards the body,
  // then answers how much arrived and how long it took. Needs a token; at most 2 minutes.
  app.post('/api/upload-sink', (req, res) => {
    if (!roleForToken(req.query['t'], options.tokens)) {
      res.status(403).json({ error: wrongTokenMessage });
      return;
    }
    const start = performance.now();
    let bytes = 0;
    req.setTimeout(120_000, () => req.destroy());
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.set('Cache-Control', 'no-store').json({ bytes, ms: Math.round(performance.now() - start) }));
    req.on('error', () => undefined);
  });
  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(options.health());
  });
  app.get('/metrics', async (_req, res) => {
    await options.beforeMetrics();
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
  if (options.api) app.use('/api', options.api);
  app.use((_req, res) => {
    res.status(404).type('text').send('Not found. The viewer page is at / with the link the server printed.');
  });
  return app;
}
