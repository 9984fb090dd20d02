import { Router, type Request, type Response } from 'express';
import type { RecordingList } from '../../shared/protocol.js';
import { roleForToken, type AccessTokens } from '../viewers/roles.js';
import { TapError } from './errors.js';
import type { Taps } from './Taps.js';

/** The admin token from `Authorization: Bearer …` or `?t=`; undefined when none was given. */
function presentedToken(req: Request): string | undefined {
  const auth = req.get('authorization');
  if (auth) return /^Bearer\s+(\S+)$/i.exec(auth)?.[1] ?? '';
  const t = req.query['t'];
  return typeof t === 'string' ? t : undefined;
}

function fail(res: Response, err: unknown): void {
  if (err instanceof TapError) res.status(err.status).json({ error: err.message });
  else res.status(500).json({ error: `internal error: ${(err as Error).message}` });
}

/**
 * The taps' HTTP API, admin token only: screenshot, recordings (start, stop, list, download).
 * Errors are JSON `{ "error": "…" }`.
 */
export function tapsApi(taps: Taps, tokens: AccessTokens): Router {
  const api = Router();
  api.use((req, res, next) => {
    res.set('Cache-Control', 'no-store');
    const token = presentedToken(req);
    if (token === undefined) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'the API needs the admin token: Authorization: Bearer <admin token> (or ?t=<admin token>)' });
      return;
    }
    if (roleForToken(token, tokens) !== 'admin') {
      res.status(403).json({ error: 'this token does not open the API; use the admin link\'s token' });
      return;
    }
    next();
  });
  api.get('/screenshot', async (_req, res) => {
    try {
      const png = await taps.screenshot();
      res.type('png').set('Content-Disposition', `inline; filename="deskcast-${new Date().toISOString().replace(/:/g, '-')}.png"`).send(png);
    } catch (err) {
      fail(res, err);
    }
  });
  api.get('/recordings', async (_req, res) => {
    try {
      const body: RecordingList = { recording: taps.recorder.current() ?? null, recordings: await taps.recorder.list(), dir: taps.recorder.dir };
      res.json(body);
    } catch (err) {
      fail(res, err);
    }
  });
  api.post('/recordings', async (_req, res) => {
    try {
      res.status(201).json(await taps.recorder.start());
    } catch (err) {
      fail(res, err);
    }
  });
  api.delete('/recordings/current', async (_req, res) => {
    try {
      res.json({ recordings: await taps.recorder.stop() });
    } catch (err) {
      fail(res, err);
    }
  });
  api.get('/recordings/:name', async (req, res) => {
    try {
      const name = String(req.params['name']);
      if (taps.recorder.current()?.name === name) throw new TapError('this recording is still being written; stop it first', 409);
      const path = await taps.recorder.pathOf(name);
      res.type('video/x-matroska').set('Content-Disposition', `attachment; filename="${name}"`);
      res.sendFile(path, { dotfiles: 'deny' }, (err) => {
        if (err && !res.headersSent) fail(res, new TapError(`cannot send ${name}: ${err.message}`, 500));
      });
    } catch (err) {
      fail(res, err);
    }
  });
  api.use((_req, res) => {
    res.status(404).json({ error: 'no such API route: GET /api/screenshot, GET|POST /api/recordings, DELETE /api/recordings/current, GET /api/recordings/<name>' });
  });
  return api;
}
