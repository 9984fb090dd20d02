import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { instrumentPeerConnections, launchChromium, waitFor } from '../helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../helpers/deskcast.js';

/** framesDecoded of the newest peer connection the page made, and how many it made. */
async function newestConnection(page: Page): Promise<{ connections: number; framesDecoded: number }> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = pcs.at(-1);
    let frames = 0;
    if (pc) {
      (await pc.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
      });
    }
    return { connections: pcs.length, framesDecoded: frames };
  });
}

describe('recovery without a manual step', () => {
  let server: DeskcastServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let page: Page;

  beforeAll(async () => {
    server = await startDeskcast([], { animate: true });
    await paintRoot(server.display, '#aa5500');
    ({ browser, close: closeBrowser } = await launchChromium());
    page = await browser.newPage();
    await instrumentPeerConnections(page);
    await page.goto(viewerUrl(server));
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000 });
    expect(await waitFor(async () => (await newestConnection(page)).framesDecoded > 5, 15_000)).toBeTruthy();
  });

  afterAll(async () => {
    await closeBrowser?.();
    await server?.close();
  });

  it('a viewer plays again after the media worker carrying the stream is killed', async () => {
    const before = await newestConnection(page);
    const [ingestWorkerPid] = server.workerPids;
    process.kill(ingestWorkerPid!, 'SIGKILL');
    const recovered = await waitFor(async () => {
      const now = await newestConnection(page);
      return now.connections > before.connections && now.framesDecoded > 5;
    }, 20_000);
    expect(recovered, `after the kill: ${JSON.stringify(await newestConnection(page))}`).toBe(true);
    expect(server.workerPids).not.toContain(ingestWorkerPid);
    expect(server.workerPids).toHaveLength(2);
    await page.waitForSelector('body[data-state="live"]', { timeout: 5_000 });
  });

  it('a viewer reconnects by itself when the server comes back', async () => {
    const { token, port } = server;
    const before = await newestConnection(page);
    await server.close();
    await page.waitForSelector('body[data-state="reconnecting"]', { timeout: 15_000 });
    server = await startDeskcast(['--port', String(port), '--token', token], { animate: true }); // a fresh desktop too
    await paintRoot(server.display, '#aa5500');
    const recovered = await waitFor(async () => {
      const now = await newestConnection(page);
      return now.connections > before.connections && now.framesDecoded > 5;
    }, 30_000);
    expect(recovered).toBe(true);
  });
});
