// `--embedded wayland` end to end: deskcast starts its own headless sway (as nobody, its own
// runtime dir, a terminal running top on it), captures it with wlr-screencopy, and a real
// Chromium viewer decodes frames showing that terminal; closing the server leaves no sway, no
// client of it and no runtime dir behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { framesDecoded, launchChromium, openLiveViewer, waitFor } from '../helpers/browser.js';
import { startDeskcast, viewerUrl } from '../helpers/deskcast.js';

/** Processes whose environment or command line names `dir` (a sway session and its clients). */
function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
      if (environ.includes(`XDG_RUNTIME_DIR=${dir}`) || cmdline.includes(dir)) found.push(`${pid} ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('--embedded wayland', () => {
  it('a Chromium viewer decodes the embedded sway desktop (a terminal running top); closing leaves nothing behind', async () => {
    const server = await startDeskcast(['--embedded', 'wayland', '--no-audio'], { demoContent: true });
    let closed = false;
    let runtimeDir = '';
    try {
      expect(server.display).toMatch(/^wayland:\/tmp\/deskcast-sway-[^/]+\/wayland-\d+$/);
      runtimeDir = dirname(server.display.slice('wayland:'.length));
      const running = processesOf(runtimeDir);
      expect(running.some((p) => / sway -c /.test(p)), running.join('\n')).toBe(true);

      const { browser, close } = await launchChromium();
      try {
        const page = await openLiveViewer(browser, viewerUrl(server));
        expect(await waitFor(async () => (await framesDecoded(page)) > 3, 15_000)).toBe(true);
        // foot's light text on its dark background: a picture of several tones, not one colour.
        const tones = async () =>
          page.evaluate(() => {
            const video = document.getElementById('screen') as HTMLVideoElement;
            const canvas = document.createElement('canvas');
            canvas.width = video.videoWidth;
            canvas.height = video.videoHeight;
            if (!canvas.width) return { width: 0, height: 0, bright: 0, dark: 0 };
            const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
            ctx.drawImage(video, 0, 0);
            const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let bright = 0;
            let dark = 0;
            for (let i = 0; i < data.length; i += 4) {
              const luma = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
              if (luma > 150) bright++;
              else if (luma < 80) dark++;
            }
            const n = data.length / 4;
            return { width: canvas.width, height: canvas.height, bright: bright / n, dark: dark / n };
          });
        const seen = await waitFor(async () => {
          const t = await tones();
          return t.bright > 0.005 && t.dark > 0.3 ? t : undefined;
        }, 20_000);
        const last = await tones();
        expect(seen, `the viewer shows no terminal text: ${JSON.stringify(last)}`).toBeDefined();
        console.log(`[embedded wayland] ${last.width}x${last.height}: ${(last.bright * 100).toFixed(1)} % bright (text), ${(last.dark * 100).toFixed(1)} % dark`);
        expect([last.width, last.height]).toEqual([640, 480]);
      } finally {
        await close();
      }

      await server.close();
      closed = true;
      expect(existsSync(runtimeDir), `${runtimeDir} is still there`).toBe(false);
      expect(processesOf(runtimeDir)).toEqual([]);
    } finally {
      if (!closed) await server.close();
    }
  }, 90_000);
});
