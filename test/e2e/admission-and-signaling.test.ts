import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Browser } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { wrongTokenMessage } from '../../shared/protocol.js';
import { framesDecoded, instrumentPeerConnections, launchChromium, waitFor } from '../helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../helpers/deskcast.js';

const insecureAgent = new Agent({ rejectUnauthorized: false });

function connectSocket(server: DeskcastServer, token: string): Socket {
  return io(`https://127.0.0.1:${server.port}`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    agent: insecureAgent as never,
    rejectUnauthorized: false,
  } as never);
}

function request(socket: Socket, method: unknown, data: unknown): Promise<{ ok: boolean; error?: { code: string; message: string }; data?: unknown }> {
  return new Promise((resolve) => socket.emit('request', method, data, resolve));
}

async function httpsGet(server: DeskcastServer, path: string): Promise<{ status: number; body: string }> {
  const { get } = await import('node:https');
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: server.port, path, agent: insecureAgent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('admission, signaling input and metrics (real server, --max-viewers 1)', () => {
  let server: DeskcastServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    server = await startDeskcast(['--max-viewers', '1']);
    await paintRoot(server.display, '#336699');
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
  });

  it('refuses a socket.io client with a wrong token, naming the problem', async () => {
    const socket = connectSocket(server, 'not-the-token');
    const error = await new Promise<Error>((resolve) => socket.on('connect_error', resolve));
    expect(error.message).toBe(wrongTokenMessage);
    socket.close();
  });

  it('answers malformed requests with an error that names the problem, and keeps serving', async () => {
    const socket = connectSocket(server, server.token);
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    const cases: [unknown, unknown, RegExp][] = [
      ['fly', {}, /Unknown method "fly"/],
      ['join', 'nope', /payload of "join" must be an object/],
      ['createTransport', {}, /Send "join" first/],
      ['resumeConsumer', { consumerId: 7 }, /"consumerId" must be a non-empty string/],
      [{ evil: true }, null, /Unknown method/],
    ];
    for (const [method, data, message] of cases) {
      const reply = await request(socket, method, data);
      expect(reply.ok).toBe(false);
      expect(reply.error?.message).toMatch(message);
    }
    // A request without an ack, and garbage events, are ignored without harm.
    socket.emit('request', 'join', {});
    socket.emit('something-else', Buffer.alloc(1000));
    const join = await request(socket, 'join', {});
    expect(join.ok).toBe(true);
    const wrongTransport = await request(socket, 'connectTransport', { transportId: 'nope', dtlsParameters: { fingerprints: [{}] } });
    expect(wrongTransport.error?.message).toMatch(/no transport "nope"/);
    socket.close();
    const health = JSON.parse((await httpsGet(server, '/healthz')).body) as { status: string };
    expect(health.status).toBe('ok');
  });

  it('admits one viewer, refuses the next politely, and admits it once a place frees', async () => {
    const first = await (await browser.createBrowserContext()).newPage();
    await instrumentPeerConnections(first);
    await first.goto(viewerUrl(server));
    await first.waitForSelector('body[data-state="live"]', { timeout: 20_000 });

    const second = await (await browser.createBrowserContext()).newPage();
    await instrumentPeerConnections(second);
    await second.goto(viewerUrl(server));
    await second.waitForSelector('body[data-state="refused"]', { timeout: 20_000 });
    expect(await second.$eval('#message', (el) => el.textContent)).toBe(
      'This broadcast is full: 1 of 1 viewers are watching. Try again in a few minutes.',
    );

    const metrics = (await httpsGet(server, '/metrics')).body;
    expect(metrics).toMatch(/^deskcast_viewers 1$/m);
    expect(metrics).toMatch(/^deskcast_viewers_refused_total\{reason="max-viewers"\} 1$/m);
    expect(metrics).toMatch(/^deskcast_encoder_info\{encoder="libx264"\} 1$/m);
    expect(Number(/^deskcast_capture_fps (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^deskcast_bytes_sent (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);

    await first.browserContext().close();
    await new Promise((r) => setTimeout(r, 500));
    await second.reload();
    await second.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    expect(await waitFor(async () => (await framesDecoded(second)) > 5, 10_000)).toBe(true);
    await second.browserContext().close();
  });
});
