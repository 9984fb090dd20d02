import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeskcastServer } from '../../server/DeskcastServer.js';
import { parseSettings } from '../../server/settings/parseSettings.js';
import { setLogLevel } from '../../server/util/logger.js';
import { animateDisplay } from './xvfb.js';

const execFileAsync = promisify(execFile);

/**
 * The real server in this test process: its own Xvfb (no demo content unless asked for, so tests
 * control the picture), real mediasoup workers on loopback, real native capture.
 */
export async function startDeskcast(flags: string[] = [], options: { animate?: boolean; demoContent?: boolean } = {}): Promise<DeskcastServer> {
  setLogLevel((process.env['DESKCAST_TEST_LOG_LEVEL'] as 'info' | undefined) ?? 'warn');
  // Settings come from the flags alone: a developer's own $DISPLAY, $PULSE_SERVER or DESKCAST_*
  // must not leak into a test.
  // A random media port range: another deskcast (a developer's, a parallel test run) may hold 40000.
  const rtcPort = String(41_000 + 2 * Math.floor(Math.random() * 4000));
  const settings = parseSettings([...testDefaults(flags), '--rtc-port', rtcPort, ...flags], {});
  const server = await DeskcastServer.create({ settings, embeddedDemoContent: options.demoContent ?? false });
  if (options.animate) {
    const ticker = animateDisplay(server.display);
    const close = server.close.bind(server);
    server.close = async () => {
      ticker.stop();
      await close();
    };
  }
  return server;
}


/**
 * The flags every test server gets (later flags override them): loopback, two workers, a
 * small desktop, its own config folder (never the developer's ~/.config), and — unless the
 * test is about the upstream — a loopback-sized upstream so the bandwidth cap stays out of the way.
 */
export function testDefaults(flags: readonly string[]): string[] {
  const defaults = ['--port', '0', '--bind', '127.0.0.1', '--announced-address', '127.0.0.1', '--workers', '2', '--embedded-size', '640x480'];
  if (!flags.includes('--config-dir')) defaults.push('--config-dir', mkdtempSync(join(tmpdir(), 'deskcast-config-')));
  const aboutUpstream = flags.some((f) => /^--(upstream-mbps|preflight-url|no-preflight|reconfigure)/.test(f));
  if (!aboutUpstream) defaults.push('--upstream-mbps', '1000');
  return defaults;
}

/** Paints the whole root window of `display` one colour (what a presenter's screen shows). */
export async function paintRoot(display: string, color: string): Promise<void> {
  await execFileAsync('xsetroot', ['-display', display, '-solid', color]);
}

/** The viewer link with the loopback address (the announced address in tests). */
export function viewerUrl(server: DeskcastServer, token = server.token): string {
  return `https://127.0.0.1:${server.port}/?t=${encodeURIComponent(token)}`;
}
