// /healthz is built from each module's own health: an operator's probe sees `degraded` and the
// reason while a part is down, and `ok` again once it is back.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeskcastServer } from '../../server/DeskcastServer.js';
import { waitFor } from '../helpers/pulse.js';
import { startDeskcast } from '../helpers/deskcast.js';
import { insecureFetch } from '../helpers/https.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

interface Health {
  status: 'ok' | 'degraded';
  reasons: string[];
  modules: Record<string, { status: string; reason: string }>;
}

async function health(server: DeskcastServer): Promise<Health> {
  return (await (await insecureFetch(`https://127.0.0.1:${server.port}/healthz`)).json()) as Health;
}

/** PIDs of this test process's children named `name` (the embedded desktop's daemons). */
function childPids(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', name], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

describe('/healthz reports each module: degraded with the reason, ok when it is back', () => {
  let server: DeskcastServer | undefined;
  const xservers: XvfbServer[] = [];

  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const x of xservers.splice(0)) await x.stop();
  });

  it('capture: the X server gone → degraded naming the display; the server back → ok', async () => {
    const first = await startXvfb({ width: 320, height: 240 });
    xservers.push(first);
    server = await startDeskcast(['--display', first.display, '--no-audio', '--always-on']);
    expect((await health(server)).status).toBe('ok');

    await first.stop();
    const down = await waitFor(async () => {
      const h = await health(server!);
      return h.status === 'degraded' ? h : null;
    }, 10_000, 'health degraded after the X server went away');
    expect(down.modules['capture']?.status).toBe('degraded');
    expect(down.reasons.join('\n')).toMatch(new RegExp(`^capture: .*X display '?${first.display}'?.*; retrying$`, 'm'));

    // The same display comes back: capture retries by itself and health clears.
    xservers.push(await startXvfb({ width: 320, height: 240, displayNumber: first.displayNumber }));
    const back = await waitFor(async () => {
      const h = await health(server!);
      return h.status === 'ok' ? h : null;
    }, 15_000, 'health ok once the X server was back');
    expect(back.modules['capture']?.status).toBe('ok');
  }, 60_000);

  it('control follows the capture: --capture auto falling back from a dead compositor to X11 injects into the X display', async () => {
    const x = await startXvfb({ width: 320, height: 240 });
    xservers.push(x);
    server = await startDeskcast(['--display', x.display, '--wayland-display', '/nonexistent/wayland-9', '--capture', 'auto', '--no-audio']);
    expect(server.captureStatus.backend).toBe('x11');
    expect(server.desktopName).toBe(`X display ${x.display}`);
    const h = await health(server);
    // Input opened on the X display the capture reached, not on the compositor it could not.
    expect(h.modules['control']).toEqual({ status: 'ok', reason: '' });
    expect(h.status).toBe('ok');
  }, 60_000);

  it('desktop: the embedded sound server failing for good → degraded with the reason', async () => {
    server = await startDeskcast([]); // no --display: the embedded desktop with its own PulseAudio
    expect((await health(server)).status).toBe('ok');
    // It is restarted after each crash, up to 5 times a minute; the sixth crash is for good.
    for (let crash = 1; crash <= 6; crash++) {
      const pid = await waitFor(() => childPids('pulseaudio')[0], 10_000, `the embedded pulseaudio before crash ${crash}`);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !childPids('pulseaudio').includes(pid), 5_000, `pulseaudio ${pid} gone`);
    }
    const failed = await waitFor(async () => {
      const h = await health(server!);
      return h.modules['desktop']?.status === 'degraded' ? h : null;
    }, 10_000, 'health degraded after the embedded sound server failed for good');
    expect(failed.status).toBe('degraded');
    expect(failed.reasons.join('\n')).toMatch(/^desktop: embedded sound server failed: .*crashed 5 times within a minute/m);
    // The broadcast itself goes on: capture is still fine.
    expect(failed.modules['capture']?.status).toBe('ok');
  }, 90_000);
});
