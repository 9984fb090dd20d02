// Change-driven Wayland capture against real compositors (sway 1.7: wlr-screencopy
// copy_with_damage; the Debian unstable root's sway: ext-image-copy-capture-v1, whose frames
// wait for damage): a still output completes no copy, so the pipeline grabs and encodes nothing;
// a change (the cursor moving) is grabbed and sent at once; the compositor's damage reaches the pipeline as dirty
// rectangles (a pointer move refreshes only what spans the old and the new cursor).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedSway } from '../../server/desktop/EmbeddedSway.js';
import { loadNative, videoStatsCollector } from '../helpers/native.js';
import { RtpReceiver } from '../helpers/rtp.js';
import { ROOT_BUILD_TIMEOUT_MS, unstableRoot } from '../helpers/testroot.js';

const FPS = 30;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const native = loadNative();
type VideoSession = InstanceType<typeof native.VideoSession>;

function describeChangeDriven(label: string, protocol: 'wlr-screencopy' | 'ext-image-copy-capture', rootOf: () => Promise<string | { skip: string }>, hookTimeoutMs = 180_000) {
  describe(`change-driven Wayland capture: ${label}`, () => {
    let sway: EmbeddedSway | undefined;
    let receiver: RtpReceiver | undefined;
    let session: VideoSession | undefined;
    let skipReason = '';
    const stats = videoStatsCollector();
    const nextStats = (): ReturnType<typeof stats.next> => stats.next(3000);

    beforeAll(async () => {
      const root = await rootOf();
      if (typeof root !== 'string') {
        skipReason = root.skip;
        return;
      }
      sway = await EmbeddedSway.create({ width: 1280, height: 720, background: '#204060', root: root || undefined });
      receiver = await RtpReceiver.open();
      session = new native.VideoSession({
        capture: protocol,
        waylandDisplay: sway.socketPath,
        fps: FPS,
        bitrateKbps: 2000,
        keyframeIntervalSec: 0,
        encoder: 'auto',
        destinationHost: '127.0.0.1',
        destinationPort: receiver.port,
        ssrc: 0x0d4a6e02,
        payloadType: 102,
        cname: 'wayland-damage-test',
        onEvent: stats.onEvent,
      });
      await session.start();
      await receiver.firstAccessUnit(5000);
    }, hookTimeoutMs);

    afterAll(async () => {
      session?.stop();
      await receiver?.close();
      await sway?.stop();
    });

    it('grabs and encodes nothing while the output is still', async (ctx) => {
      if (skipReason) {
        console.warn(`[skip] ${label}: ${skipReason}`);
        return ctx.skip();
      }
      await sleep(400); // the start's frames and the tail repeat
      const before = await nextStats();
      const aus = receiver!.accessUnits.length;
      await sleep(1200);
      const after = await nextStats();
      console.log(`[still] ${label}: captured ${before.framesCaptured} → ${after.framesCaptured}, encoded ${before.framesEncoded} → ${after.framesEncoded}`);
      expect(after.framesCaptured).toBe(before.framesCaptured);
      expect(after.framesEncoded).toBe(before.framesEncoded);
      expect(receiver!.accessUnits.length).toBe(aus);
    });

    it('grabs a change at once and sends it', async (ctx) => {
      if (skipReason) return ctx.skip();
      // The change: the cursor moves (the compositor repaints at once; a background change would
      // time sway's restart of swaybg instead).
      const injector = new native.InputInjector({ backend: 'wayland', waylandDisplay: sway!.socketPath });
      await injector.start();
      const delays: number[] = [];
      try {
        // A new virtual pointer's first motion repaints nothing (sway 1.7 and 1.12 alike: the
        // cursor appears with the next one), so it is not timed.
        injector.pointerMove(640, 360);
        await sleep(200);
        injector.pointerMove(641, 361);
        for (const [x, y] of [[100, 100], [500, 300], [900, 600], [300, 500], [700, 200]] as const) {
          await sleep(400); // the screen is still again (the last frame's tail repeat is out)
          const next = receiver!.nextAccessUnit(() => true, 2000);
          const moved = Date.now();
          injector.pointerMove(x, y);
          await next;
          delays.push(Date.now() - moved);
        }
      } finally {
        injector.stop();
      }
      console.log(`[change] ${label}: pointer move → access unit received in ${delays.join(', ')} ms`);
      delays.sort((a, b) => a - b);
      // The compositor's next frame, the copy, one encode, loopback: well under 100 ms.
      expect(delays[Math.floor(delays.length / 2)]!).toBeLessThan(100);
    });

    it('hands the compositor damage on: a pointer move refreshes only what spans the old and new cursor', async (ctx) => {
      if (skipReason) return ctx.skip();
      await sway!.command('output * bg #204060 solid_color');
      const source = native.__test.openScreenSource({ capture: protocol, waylandDisplay: sway!.socketPath });
      expect(source.changeDriven).toBe(true);
      expect(source.grab()).toMatchObject({ result: 'ok', full: true }); // the session's first picture
      const injector = new native.InputInjector({ backend: 'wayland', waylandDisplay: sway!.socketPath });
      await injector.start();
      try {
        injector.pointerMove(200, 200);
        await sleep(300);
        // Drain what the first move caused, then the output is still: no news, the same picture.
        for (let i = 0; i < 5; i++) {
          source.onWaitFdReadable();
          source.grab();
          await sleep(50);
        }
        const still = source.grab();
        expect(still).toMatchObject({ result: 'ok', full: false, dirty: [] });
        expect(source.onWaitFdReadable()).toBe(false);

        injector.pointerMove(600, 400);
        const deadline = Date.now() + 2000;
        while (!source.onWaitFdReadable() && Date.now() < deadline) await sleep(5);
        const moved = source.grab();
        console.log(`[damage] ${label}: pointer (200,200) → (600,400): dirty ${JSON.stringify(moved.dirty)}`);
        expect(moved.full).toBe(false);
        expect(moved.dirty.length).toBeGreaterThan(0);
        // Only what spans the old and the new cursor (wlroots 0.15 reports one bounding box of
        // both, newer ones each area), never the whole output.
        for (const r of moved.dirty) {
          expect(r.x >= 190 && r.y >= 190 && r.x + r.width <= 640 && r.y + r.height <= 440, JSON.stringify(r)).toBe(true);
        }
        // Where the cursor is now is among them.
        expect(moved.dirty.some((r) => r.x <= 600 && r.x + r.width > 600 && r.y <= 400 && r.y + r.height > 400)).toBe(true);
      } finally {
        injector.stop();
      }
    });
  });
}

describeChangeDriven("Debian bookworm's sway 1.7 (wlr-screencopy)", 'wlr-screencopy', async () =>
  existsSync('/usr/bin/sway') ? '' : { skip: 'sway is not installed (apt-get install sway)' },
);
describeChangeDriven("Debian unstable's sway (ext-image-copy-capture-v1)", 'ext-image-copy-capture', unstableRoot, ROOT_BUILD_TIMEOUT_MS + 60_000);
