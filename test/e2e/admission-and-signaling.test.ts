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
    const error = await new Promise<Error & { data?: unknown }>((resolve) => socket.on('connect_error', resolve));
    expect(error.message).toBe(wrongTokenMessage);
    expect(error.data).toEqual({ code: 'wrong-token' });
    socket.close();
  });

  it('answers malformed requests with an error that names the problem, and keeps serving', async () => {
    const socket = connectSocket(server, server.token);
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    const cases: [unknown, unknown, RegExp][] = [
      ['fly', {}, /Unknown method "fly"/],
      ['media.join', 'nope', /"data" must be an object/],
      ['media.createTransport', {}, /Send "media.join" first/],
      ['media.resumeConsumer', { consumerId: 7 }, /"data.consumerId" must be a string of 1 to 64 characters/],
      [{ evil: true }, null, /Unknown method/],
    ];
    for (const [method, data, message] of cases) {
      const reply = await request(socket, method, data);
      expect(reply.ok).toBe(false);
      expect(reply.error?.message).toMatch(message);
      expect(reply.error?.code).toBe(method === 'media.createTransport' ? 'not-joined' : 'bad-request');
    }
    // A request without an ack, and garbage events, are ignored without harm.
    socket.emit('request', 'media.join', {});
    socket.emit('something-else', Buffer.alloc(1000));
    const join = await request(socket, 'media.join', {});
    expect(join.ok).toBe(true);
    const dtlsParameters = { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] };
    const wrongTransport = await request(socket, 'media.connectTransport', { transportId: 'nope', dtlsParameters });
    expect(wrongTransport.error).toMatchObject({ code: 'bad-request', message: expect.stringMatching(/No transport "nope"/) });
    socket.close();
    const health = JSON.parse((await httpsGet(server, '/healthz')).body) as { status: string; reasons: string[] };
    expect(health).toMatchObject({ status: 'ok', reasons: [] });
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
    // Change-driven capture: a still screen grabs nothing, but the viewer's keyframe was encoded.
    expect(Number(/^deskcast_frames_encoded (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^deskcast_video_stage_seconds_count\{stage="encode"\} [1-9]/m);
    expect(Number(/^deskcast_bytes_sent (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);

    await first.browserContext().close();
    await new Promise((r) => setTimeout(r, 500));
    await second.reload();
    await second.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    expect(await waitFor(async () => (await framesDecoded(second)) > 5, 10_000)).toBe(true);
    await second.browserContext().close();
  });
});
