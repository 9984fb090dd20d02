// Late-joiner time to first frame on a static screen: a new viewer opens the link while
// nothing changes on the desktop. Warm: capture already runs (--always-on). Cold: nobody was
// watching, so capture and encoding start with this viewer (capture only while watched).
// Run: npx tsx bench/first-frame.bench.ts
import { instrumentPeerConnections, launchChromium, waitFor } from '../test/helpers/browser.js';
import { paintRoot, startDeskcast, viewerUrl } from '../test/helpers/deskcast.js';
import { report, summarize } from './benchLib.js';

const JOINS = Number(process.env['BENCH_SAMPLES'] ?? 10);

async function measure(mode: 'warm' | 'cold'): Promise<{ fromNavigation: number[]; fromConnected: number[] }> {
  const flags = mode === 'warm' ? ['--always-on'] : ['--idle-grace', '0'];
  const server = await startDeskcast(['--keyframe-interval', '60', ...flags, ...process.argv.slice(2)]);
  const { browser, close } = await launchChromium();
  const fromNavigation: number[] = [];
  const fromConnected: number[] = [];
  try {
    await paintRoot(server.display, '#808000');
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < JOINS; i++) {
      if (mode === 'cold' && !(await waitFor(async () => server.captureStatus.state === 'idle', 10_000))) throw new Error('capture did not stop');
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
  } finally {
    await close();
    await server.close();
  }
  return { fromNavigation, fromConnected };
}

const warm = await measure('warm');
const cold = await measure('cold');
const s = (xs: number[]): ReturnType<typeof summarize> => summarize(xs);
report(
  'first-frame',
  {
    unit: 'ms',
    warm: { fromNavigation: s(warm.fromNavigation), fromMediaConnected: s(warm.fromConnected), samples: warm },
    cold: { fromNavigation: s(cold.fromNavigation), fromMediaConnected: s(cold.fromConnected), samples: cold },
  },
  `warm: median ${s(warm.fromNavigation).median} ms from opening the link (${s(warm.fromConnected).median} ms from media connected); ` +
    `cold (capture starts with the viewer): ${s(cold.fromNavigation).median} ms (${s(cold.fromConnected).median} ms), ${JOINS} joins each on a static screen`,
);
