// The Wayland capture backends against real compositors:
//  - Debian bookworm's sway 1.7 headless (wlr-screencopy v3): the right colours, a resize soak,
//    the compositor-painted cursor where the virtual pointer put it, --output among two outputs;
//  - sway from a throwaway Debian unstable root (ext-image-copy-capture-v1, which no bookworm
//    compositor offers; the root's package versions are logged and checked): the same, with the
//    500-resize soak (one session, VmSize and RSS flat);
//  - labwc from the same root (ext-image-copy-capture-v1): the frame round trip.
// Skipped with the reason when the root cannot be built.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Desktop } from '../../server/desktop/Desktop.js';
import { EmbeddedSway } from '../../server/desktop/EmbeddedSway.js';
import { HeadlessLabwc } from '../helpers/labwc.js';
import { loadNative } from '../helpers/native.js';
import { ROOT_BUILD_TIMEOUT_MS, rootPackages, unstableRoot, versionAtLeast } from '../helpers/testroot.js';
import { startXvfb } from '../helpers/xvfb.js';

const native = loadNative();
type Source = ReturnType<typeof native.__test.openScreenSource>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function memory(): { vmSizeKb: number; rssKb: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { vmSizeKb: field('VmSize'), rssKb: field('VmRSS') };
}

/** Grabs until the frame has `size` and (if given) the colour at (x, y); the compositor paints asynchronously. */
async function grabUntil(source: Source, want: { width?: number; height?: number; color?: number }, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let last: ReturnType<Source['grab']> | undefined;
  let pixel: number | null = null;
  while (Date.now() < deadline) {
    last = source.grab();
    pixel = source.pixel(Math.floor(last.width / 2), Math.floor(last.height / 2));
    const sizeOk = (want.width === undefined || last.width === want.width) && (want.height === undefined || last.height === want.height);
    if (last.result !== 'failed' && last.result !== 'lost' && sizeOk && (want.color === undefined || pixel === want.color)) return last;
    await sleep(3);
  }
  throw new Error(`no frame with ${JSON.stringify(want)} in ${timeoutMs} ms; last ${JSON.stringify(last)}, pixel ${pixel?.toString(16)}`);
}

/** Resizes the output `count` times, checking each new size arrives on the same source; returns memory before/after. */
async function resizeSoak(sway: EmbeddedSway, source: Source, count: number) {
  const sizes = [[640, 480], [800, 600], [656, 488], [720, 400]] as const;
  let warm = memory();
  for (let i = 0; i < count; i++) {
    const [w, h] = sizes[i % sizes.length]!;
    await sway.command(`output HEADLESS-1 resolution ${w}x${h}`);
    await grabUntil(source, { width: w, height: h });
    if (i === 49) warm = memory(); // after warm-up: the pool has grown to the largest size, V8 settled
  }
  return { warm, end: memory() };
}

/**
 * Grabs until the pixels unlike `background` are the cursor at (x, y) alone: its tip there and
 * every such pixel within a cursor's size of it (so none left where it was before).
 */
async function cursorAlone(source: Source, background: number, x: number, y: number, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let box: ReturnType<Source['differing']> | undefined;
  while (Date.now() < deadline) {
    const frame = source.grab();
    if (frame.result === 'ok' || frame.result === 'resized') {
      box = source.differing(background);
      const tipHere = box.x0 <= x + 1 && box.y0 <= y + 1 && box.x1 > x && box.y1 > y;
      const nothingElse = box.x0 >= x - 24 && box.y0 >= y - 24 && box.x1 <= x + 48 && box.y1 <= y + 48;
      if (box.count >= 20 && tipHere && nothingElse) return box;
    }
    await sleep(10);
  }
  throw new Error(`the cursor is not at (${x}, ${y}) alone after ${timeoutMs} ms: pixels unlike the background: ${JSON.stringify(box)}`);
}

function describeCompositor(
  label: string,
  protocol: 'wlr-screencopy' | 'ext-image-copy-capture',
  rootOf: () => Promise<string | { skip: string }>,
  hookTimeoutMs = 180_000,
) {
  describe(label, () => {
    let sway: EmbeddedSway | undefined;
    let source: Source;
    let skipReason = '';

    beforeAll(async () => {
      const root = await rootOf();
      if (typeof root !== 'string') {
        skipReason = root.skip;
        return;
      }
      sway = await EmbeddedSway.create({ width: 1280, height: 720, background: '#ff0000', root: root || undefined });
      source = native.__test.openScreenSource({ capture: protocol, waylandDisplay: sway.socketPath });
    }, hookTimeoutMs);
    afterAll(async () => {
      await sway?.stop();
    });

    it(`captures with ${protocol} and gets the right colours`, async (ctx) => {
      if (skipReason) {
        console.warn(`[skip] ${label}: ${skipReason}`);
        ctx.skip();
      }
      expect(source.openInfo).toContain(protocol === 'wlr-screencopy' ? 'wlr-screencopy-unstable-v1 v3 copy_with_damage' : 'ext-image-copy-capture-v1');
      await grabUntil(source, { width: 1280, height: 720, color: 0xff0000 });
      for (const [css, rgb] of [['#00ff00', 0x00ff00], ['#2040c0', 0x2040c0], ['#ffffff', 0xffffff]] as const) {
        await sway!.command(`output * bg ${css} solid_color`);
        const frame = await grabUntil(source, { color: rgb });
        expect(frame.stride).toBeGreaterThanOrEqual(frame.width * 4);
        // The compositor's presentation time (CLOCK_MONOTONIC), at most a few seconds old.
        expect(frame.presentedNs).toBeGreaterThan(0);
        expect(source.pixel(3, 3)).toBe(rgb);
        expect(source.pixel(frame.width - 2, frame.height - 2)).toBe(rgb);
      }
    });

    it('follows output resizes in place: same session, VmSize and RSS flat', async (ctx) => {
      if (skipReason) ctx.skip();
      const count = protocol === 'ext-image-copy-capture' ? 500 : 150;
      const before = source.counters();
      const started = Date.now();
      const { warm, end } = await resizeSoak(sway!, source, count);
      const after = source.counters();
      console.log(
        `[soak] ${label}: ${count} resizes in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `after 50: VmSize ${warm.vmSizeKb} kB, RSS ${warm.rssKb} kB; after ${count}: VmSize ${end.vmSizeKb} kB, RSS ${end.rssKb} kB; ` +
          `reconfigurations ${after.reconfigurations! - before.reconfigurations!}`,
      );
      expect(after.reconfigurations! - before.reconfigurations!).toBeGreaterThanOrEqual(count);
      expect(end.vmSizeKb - warm.vmSizeKb).toBeLessThan(8 * 1024);
      expect(end.rssKb - warm.rssKb).toBeLessThan(12 * 1024);
      // Still the right pixels after all that.
      await sway!.command('output * bg #123456 solid_color');
      await grabUntil(source, { color: 0x123456 });
    }, 240_000);

    it('has the compositor paint the cursor where the virtual pointer puts it, nowhere else, and it follows', async (ctx) => {
      if (skipReason) ctx.skip();
      await sway!.command('output HEADLESS-1 resolution 1280x720');
      await sway!.command('output * bg #40a040 solid_color');
      await grabUntil(source, { width: 1280, height: 720, color: 0x40a040 });
      const injector = new native.InputInjector({ backend: 'wayland', waylandDisplay: sway!.socketPath });
      await injector.start();
      try {
        for (const [x, y] of [[300, 200], [900, 500], [40, 650]] as const) {
          injector.pointerMove(x, y);
          const box = await cursorAlone(source, 0x40a040, x, y);
          console.log(`[cursor] ${label}: pointer at (${x}, ${y}): ${box.count} cursor pixels in [${box.x0}, ${box.y0}]–[${box.x1}, ${box.y1})`);
        }
      } finally {
        injector.stop();
      }
    });

    it('captures a turned output (transform 90) upright: the size swaps, the cursor is where the pointer is', async (ctx) => {
      if (skipReason) ctx.skip();
      await sway!.command('output HEADLESS-1 resolution 1280x720 bg #40a040 solid_color');
      const injector = new native.InputInjector({ backend: 'wayland', waylandDisplay: sway!.socketPath });
      await injector.start();
      try {
        await sway!.command('output HEADLESS-1 transform 90');
        const turned = await grabUntil(source, { width: 720, height: 1280, color: 0x40a040 });
        expect(turned.result === 'resized' || turned.width === 720).toBe(true);
        // Portrait positions far from their landscape mirror images: a picture turned the wrong
        // way (or not at all) puts the cursor elsewhere.
        for (const [x, y] of [[100, 1000], [600, 150]] as const) {
          injector.pointerMove(x, y);
          await cursorAlone(source, 0x40a040, x, y);
        }
      } finally {
        injector.stop();
        await sway!.command('output HEADLESS-1 transform normal');
      }
      await grabUntil(source, { width: 1280, height: 720, color: 0x40a040 });
    });

    it('--output picks the named one of two outputs', async (ctx) => {
      if (skipReason) ctx.skip();
      await sway!.command('create_output');
      const outputs = (await sway!.ipc(3)) as { name: string }[];
      expect(outputs.map((o) => o.name).sort()).toEqual(['HEADLESS-1', 'HEADLESS-2']);
      await sway!.command('output HEADLESS-2 resolution 640x480 position 1280 0 bg #0000ff solid_color');
      await sway!.command('output HEADLESS-1 bg #ff00ff solid_color');
      const second = native.__test.openScreenSource({ capture: protocol, waylandDisplay: sway!.socketPath, output: 'HEADLESS-2' });
      expect(second.displayName).toContain('output HEADLESS-2');
      await grabUntil(second, { width: 640, height: 480, color: 0x0000ff });
      const first = native.__test.openScreenSource({ capture: protocol, waylandDisplay: sway!.socketPath, output: 'HEADLESS-1' });
      await grabUntil(first, { width: 1280, height: 720, color: 0xff00ff });
      // Each follows its own output only (sway restarts swaybg on every output for a bg change:
      // the first may flicker, then shows its own colour again).
      await sway!.command('output HEADLESS-2 bg #00ffff solid_color');
      await grabUntil(second, { width: 640, height: 480, color: 0x00ffff });
      await grabUntil(first, { width: 1280, height: 720, color: 0xff00ff });
    });
  });
}

describeCompositor("Debian bookworm's sway 1.7 (wlr-screencopy)", 'wlr-screencopy', async () =>
  existsSync('/usr/bin/sway') ? '' : { skip: 'sway is not installed (apt-get install sway)' },
);

describe('the Debian unstable root', () => {
  it('holds compositors that offer ext-image-copy-capture-v1 (sway >= 1.10, labwc >= 0.19); their versions', async (ctx) => {
    const root = await unstableRoot();
    if (typeof root !== 'string') {
      console.warn(`[skip] ${root.skip}`);
      return ctx.skip();
    }
    const packages = rootPackages(root);
    console.log(`[testroot] ${root}: ${[...packages].map(([name, version]) => `${name} ${version}`).join(', ')}`);
    expect(packages.get('sway'), 'the root records no sway version (.deskcast-packages)').toBeDefined();
    expect(versionAtLeast(packages.get('sway')!, '1.10'), `sway ${packages.get('sway')}`).toBe(true);
    expect(versionAtLeast(packages.get('labwc') ?? '0', '0.19'), `labwc ${packages.get('labwc')}`).toBe(true);
  }, ROOT_BUILD_TIMEOUT_MS + 60_000);
});

describeCompositor("Debian unstable's sway in a throwaway root (ext-image-copy-capture-v1)", 'ext-image-copy-capture', unstableRoot, ROOT_BUILD_TIMEOUT_MS + 60_000);

describe("Debian unstable's labwc in the throwaway root (ext-image-copy-capture-v1)", () => {
  let labwc: HeadlessLabwc | undefined;
  let skipReason = '';
  beforeAll(async () => {
    const root = await unstableRoot();
    if (typeof root !== 'string') {
      skipReason = root.skip;
      return;
    }
    labwc = await HeadlessLabwc.create(root);
  }, ROOT_BUILD_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    await labwc?.stop();
  });

  it('captures with ext-image-copy-capture and gets the right colours', async (ctx) => {
    if (skipReason) {
      console.warn(`[skip] labwc: ${skipReason}`);
      return ctx.skip();
    }
    labwc!.background('#ff0000');
    const source = native.__test.openScreenSource({ capture: 'wayland', waylandDisplay: labwc!.socketPath });
    expect(source.openInfo).toContain('Wayland capture with ext-image-copy-capture-v1');
    await grabUntil(source, { color: 0xff0000 }, 10_000);
    for (const [css, rgb] of [['#00ff00', 0x00ff00], ['#2040c0', 0x2040c0]] as const) {
      labwc!.background(css);
      const frame = await grabUntil(source, { color: rgb }, 10_000);
      expect(frame.presentedNs).toBeGreaterThan(0);
      expect(source.pixel(3, 3)).toBe(rgb);
      expect(source.pixel(frame.width - 2, frame.height - 2)).toBe(rgb);
    }
  });
});

describe('--capture auto, --wayland-display', () => {
  it('with a Wayland display that cannot be reached and no X display, says why each was skipped', () => {
    expect(() => native.__test.openScreenSource({ capture: 'auto', display: '', waylandDisplay: '/nonexistent/wayland-7' })).toThrow(
      /no capture backend could open \(--capture auto\): wayland skipped: cannot connect to Wayland display '\/nonexistent\/wayland-7'.*; x11 skipped: no X display given/,
    );
  });

  it('names what a compositor lacks, and a missing output with the ones it has', async () => {
    const sway = await EmbeddedSway.create({ width: 640, height: 480 });
    try {
      expect(() => native.__test.openScreenSource({ capture: 'ext-image-copy-capture', waylandDisplay: sway.socketPath })).toThrow(
        /offers no ext-image-copy-capture-v1.*zwlr_screencopy_manager_v1 v3/,
      );
      expect(() => native.__test.openScreenSource({ capture: 'wayland', waylandDisplay: sway.socketPath, output: 'DP-9' })).toThrow(
        /no output named 'DP-9'; its outputs: HEADLESS-1 640x480/,
      );
      const auto = native.__test.openScreenSource({ capture: 'auto', waylandDisplay: sway.socketPath, display: ':0' });
      expect(auto.openInfo).toMatch(/--capture auto chose wayland: Wayland capture with wlr-screencopy.*ext-image-copy-capture-v1 skipped: the compositor does not offer it/);
    } finally {
      await sway.stop();
    }
  });

  it('falls back to X11 when the Wayland display cannot be reached, and says why', async () => {
    const xvfb = await startXvfb({ width: 320, height: 240 });
    try {
      const source = native.__test.openScreenSource({ capture: 'auto', display: xvfb.display, waylandDisplay: '/nonexistent/wayland-7' });
      expect(source.openInfo).toMatch(
        /^--capture auto chose x11: X11 capture with MIT-SHM, change-driven \(DAMAGE\).*; wayland skipped: cannot connect to Wayland display '\/nonexistent\/wayland-7'/,
      );
      expect(source.grab()).toMatchObject({ result: 'ok', width: 320, height: 240 });
    } finally {
      await xvfb.stop();
    }
  });

  it('without a Wayland display chooses X11 and says why Wayland was skipped; a missing X server keeps its own error', async () => {
    const xvfb = await startXvfb({ width: 320, height: 240 });
    try {
      const source = native.__test.openScreenSource({ capture: 'auto', display: xvfb.display, waylandDisplay: '' });
      expect(source.openInfo).toMatch(/^--capture auto chose x11: X11 capture .*; wayland skipped: no Wayland display given \(--wayland-display \/ \$WAYLAND_DISPLAY\)$/);
    } finally {
      await xvfb.stop();
    }
    expect(() => native.__test.openScreenSource({ capture: 'auto', display: xvfb.display, waylandDisplay: '' })).toThrow(
      new RegExp(`^cannot open X display '${xvfb.display}': is an X server running there\\?`),
    );
  });

  it('with a compositor, says X11 was not tried', async () => {
    const sway = await EmbeddedSway.create({ width: 320, height: 240 });
    try {
      const source = native.__test.openScreenSource({ capture: 'auto', waylandDisplay: sway.socketPath, display: ':0' });
      expect(source.openInfo).toMatch(/--capture auto chose wayland: .*; x11 not tried: wayland opened first$/);
    } finally {
      await sway.stop();
    }
  });

  it('reaches a compositor by socket name in the runtime dir (--wayland-display NAME, --xdg-runtime-dir DIR)', async () => {
    const sway = await EmbeddedSway.create({ width: 320, height: 240, background: '#00ff00' });
    const savedRuntimeDir = process.env['XDG_RUNTIME_DIR'];
    try {
      const name = basename(sway.socketPath);
      const runtimeDir = dirname(sway.socketPath);
      // The server resolves the name against --xdg-runtime-dir (else $XDG_RUNTIME_DIR) itself ...
      const desktop = await Desktop.create({ display: '', embeddedSize: { width: 320, height: 240 }, audio: false, demoContent: false, capture: 'auto', waylandDisplay: name, xdgRuntimeDir: runtimeDir });
      expect(desktop.wayland?.socket).toBe(sway.socketPath);
      await grabUntil(native.__test.openScreenSource({ capture: 'auto', waylandDisplay: desktop.wayland!.socket }), { width: 320, height: 240, color: 0x00ff00 });
      await desktop.close();
      // ... and the native side, given a bare name, looks in $XDG_RUNTIME_DIR as libwayland does.
      process.env['XDG_RUNTIME_DIR'] = runtimeDir;
      const byName = native.__test.openScreenSource({ capture: 'wayland', waylandDisplay: name });
      expect(byName.displayName).toBe(`wayland:${name} output HEADLESS-1`);
      await grabUntil(byName, { width: 320, height: 240, color: 0x00ff00 });
      process.env['XDG_RUNTIME_DIR'] = '/nonexistent';
      expect(() => native.__test.openScreenSource({ capture: 'wayland', waylandDisplay: name })).toThrow(
        new RegExp(`cannot connect to Wayland display '${name}' at \\$XDG_RUNTIME_DIR/${name} \\(XDG_RUNTIME_DIR=/nonexistent\\)`),
      );
    } finally {
      if (savedRuntimeDir === undefined) delete process.env['XDG_RUNTIME_DIR'];
      else process.env['XDG_RUNTIME_DIR'] = savedRuntimeDir;
      await sway.stop();
    }
  });

  it('reaches a compositor socket by absolute path only (no XDG_RUNTIME_DIR needed)', () => {
    expect(() => native.__test.openScreenSource({ capture: 'wayland', waylandDisplay: '/nonexistent/wayland-9' })).toThrow(
      /cannot connect to Wayland display '\/nonexistent\/wayland-9'/,
    );
  });
});
