// Late-joiner time to first frame on a static screen: a new viewer opens the link while
// nothing changes on the desktop. Run: npx tsx bench/first-frame.bench.ts
import { instrumentPeerConnections, launchChromium } from '../test/helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../test/helpers/deskcast.js';
import { report, summarize } from './benchLib.js';

const JOINS = Number(process.env['BENCH_SAMPLES'] ?? 10);

const server = await startDeskcast(['--keyframe-interval', '60', ...process.argv.slice(2)]);
const { browser, close } = await launchChromium();
try {
  await paintRoot(server.display, '#808000');
  await new Promise((r) => setTimeout(r, 2000));
  const fromNavigation: number[] = [];
  const fromConnected: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await instrumentPeerConnections(page);
    await page.goto(viewerUrl(server));
    const t = await page.evaluate(
      () =>
        new Promise<{ connectedAt: number; firstFrameAt: number }>((resolve) => {
          const video = document.getElementById('screen') as HTMLVideoElement;
          video.requestVideoFrameCallback((now) =>
            resolve({ connectedAt: (window as unknown as { __connectedAt: number[] }).__connectedAt[0] ?? NaN, firstFrameAt: now }),
          );
        }),
    );
    fromNavigation.push(t.firstFrameAt);
    fromConnected.push(t.firstFrameAt - t.connectedAt);
    await context.close();
    await new Promise((r) => setTimeout(r, 1200)); // mediasoup forwards at most one keyframe request per second
  }
  const nav = summarize(fromNavigation);
  const conn = summarize(fromConnected);
  report(
    'first-frame',
    { unit: 'ms', fromNavigation: nav, fromMediaConnected: conn, samplesFromNavigation: fromNavigation, samplesFromConnected: fromConnected },
    `median ${nav.median} ms from opening the link, ${conn.median} ms from media connected, ${JOINS} joins on a static screen`,
  );
} finally {
  await close();
  await server.close();
}
