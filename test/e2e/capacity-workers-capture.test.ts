import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Browser, Page } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import type { AdminViewers } from '../../shared/protocol.js';
import { framesDecoded, launchChromium, openLiveViewer, waitFor } from '../helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../helpers/deskcast.js';

function openViewer(browser: Browser, server: DeskcastServer): Promise<Page> {
  return openLiveViewer(browser, viewerUrl(server));
}

async function adminViewers(server: DeskcastServer): Promise<AdminViewers> {
  const socket: Socket = io(`https://127.0.0.1:${server.port}`, { auth: { token: server.adminToken }, transports: ['websocket'], reconnection: false, rejectUnauthorized: false } as never);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const reply = await new Promise<{ ok: boolean; data: AdminViewers }>((resolve) => socket.emit('request', 'admin.listViewers', {}, resolve));
    return reply.data;
  } finally {
    socket.close();
  }
}

describe('every core, and capture only while watched (real server, 2 workers, --idle-grace 1)', () => {
  let server: DeskcastServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    server = await startDeskcast(['--idle-grace', '1'], { animate: true });
    await paintRoot(server.display, '#226644');
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
  });

  it('capture stops after the last viewer leaves and starts again for the next, who sees a picture', async () => {
    expect(await waitFor(async () => server.captureStatus.state === 'idle', 10_000)).toBe(true);
    const first = await openViewer(browser, server);
    expect(server.captureStatus.state).toBe('running');
    expect(await waitFor(async () => (await framesDecoded(first)) > 5, 10_000)).toBe(true);
    await first.browserContext().close();
    expect(await waitFor(async () => server.captureStatus.state === 'idle', 8_000)).toBe(true);

    const started = Date.now();
    const next = await openViewer(browser, server);
    expect(await waitFor(async () => (await framesDecoded(next)) > 0, 10_000)).toBe(true);
    console.log(`cold start: first decoded frame ${Date.now() - started} ms after opening the link`);
    expect(await waitFor(async () => (await framesDecoded(next)) > 5, 10_000)).toBe(true);
    await next.browserContext().close();
  });

  it('splits viewers across both workers; a killed worker\'s viewer decodes again', async () => {
    const pages = [await openViewer(browser, server), await openViewer(browser, server)];
    const list = await adminViewers(server);
    const workers = list.viewers.filter((v) => v.role === 'viewer').map((v) => v.workerIndex);
    expect(new Set(workers)).toEqual(new Set([0, 1]));
    for (const page of pages) expect(await waitFor(async () => (await framesDecoded(page)) > 5, 10_000)).toBe(true);

    // Kill worker 1 (not the one taking the ingest): its viewer must come back on its own.
    const victim = server.workerPids[1]!;
    const before = await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as { __pcs: unknown[] }).__pcs.length)));
    process.kill(victim, 'SIGKILL');
    const recovered = await waitFor(async () => {
      const counts = await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as { __pcs: unknown[] }).__pcs.length)));
      return counts.some((c, i) => c > before[i]!);
    }, 20_000);
    expect(recovered).toBe(true);
    for (const page of pages) {
      await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
      const now = await framesDecoded(page);
      expect(await waitFor(async () => (await framesDecoded(page)) > now + 5, 15_000)).toBe(true);
    }
    expect(server.workerPids).not.toContain(victim);
    expect(server.workerPids).toHaveLength(2);
    for (const page of pages) await page.browserContext().close();
  });
});
