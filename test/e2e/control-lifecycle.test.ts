// Remote control across the server's life, with the real server on a real Xvfb: started with
// --control off and turned on by the admin at run time; the two links `deskcast` prints and its
// default policy; and the temporary keymap bindings it must not leave on the desktop whether it
// is stopped by a signal, dies of an uncaught error, or is killed outright (the next start
// removes those). Raw socket.io clients play the viewer and the admin; an xterm running
// `cat > FILE` shows what was typed, `xmodmap -pke` what the keymap holds.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { waitFor } from '../helpers/browser.js';
import { startDeskcast, testDefaults } from '../helpers/deskcast.js';
import { readWhenLength } from '../helpers/files.js';
import { startXvfb, type XvfbServer } from '../helpers/xvfb.js';

const insecureAgent = new Agent({ rejectUnauthorized: false });
const projectDir = resolve(import.meta.dirname, '../..');
const BINDINGS_PROPERTY = '_DESKCAST_INPUT_BINDINGS';

type Reply<T = unknown> = { ok: boolean; data?: T; error?: { code: string; message: string } };
function request<T = unknown>(client: Socket, method: string, data: object = {}): Promise<Reply<T>> {
  return new Promise((resolve) => client.emit('request', method, data, resolve));
}

async function connect(port: number, token: string): Promise<Socket> {
  const client = io(`https://127.0.0.1:${port}`, { auth: { token }, transports: ['websocket'], reconnection: false, agent: insecureAgent as never, rejectUnauthorized: false } as never);
  await new Promise<void>((resolve, reject) => {
    client.on('connect', () => resolve());
    client.on('connect_error', reject);
  });
  return client;
}

/** `deskcast` itself (server/main.ts) in a child process, as a user starts it. */
interface DeskcastProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The two links, once printed. */
  links: Promise<{ viewer: URL; admin: URL }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDeskcastProcess(flags: string[], preload?: string): DeskcastProcess {
  // Settings from the flags alone: the developer's $DISPLAY or DESKCAST_* must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DESKCAST_|DISPLAY$|WAYLAND_DISPLAY$|PULSE_)/.test(k)));
  const rtcPort = String(41_000 + 2 * Math.floor(Math.random() * 4000));
  const args = ['--import', 'tsx', ...(preload ? ['--import', preload] : []), 'server/main.ts', ...testDefaults(flags), '--rtc-port', rtcPort, '--log-level', 'warn', ...flags];
  const child = spawn(process.execPath, args, { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const links = (async () => {
    const printed = await waitFor(async () => {
      const viewer = /Viewer link: (\S+)/.exec(out)?.[1];
      const admin = /Admin link: +(\S+)/.exec(out)?.[1];
      return viewer && admin ? { viewer: new URL(viewer), admin: new URL(admin) } : child.exitCode !== null ? null : undefined;
    }, 60_000);
    if (!printed) throw new Error(`deskcast printed no links (exit ${child.exitCode}):\n${out}\n${err}`);
    return printed;
  })();
  links.catch(() => undefined);
  return { child, stdout: () => out, stderr: () => err, links, exited };
}

describe('remote control across the server\'s life', () => {
  let xvfb: XvfbServer;
  let dir: string;
  let terminal: ChildProcess | undefined;
  const running: DeskcastProcess[] = [];

  const keymap = (): Promise<string> => xvfb.run('xmodmap', ['-pke']);
  const bindingsNote = (): Promise<string> => xvfb.run('xprop', ['-root', BINDINGS_PROPERTY]);
  /** The keycodes the X server has down now (XQueryKeymap, from an X client of its own): '' when none. */
  const keysDown = async (): Promise<string> => {
    const query = "import ctypes; x = ctypes.CDLL('libX11.so.6'); x.XOpenDisplay.restype = ctypes.c_void_p; d = ctypes.c_void_p(x.XOpenDisplay(None)); k = ctypes.create_string_buffer(32); x.XQueryKeymap(d, k); print(' '.join(str(i * 8 + b) for i in range(32) for b in range(8) if k.raw[i] >> b & 1))";
    return (await xvfb.run('python3', ['-c', query])).trim();
  };

  async function openTerminal(name: string): Promise<string> {
    terminal?.kill();
    const file = join(dir, `${name}.txt`);
    rmSync(file, { force: true });
    terminal = spawn('xterm', ['-display', xvfb.display, '-geometry', '80x20+0+0', '-e', 'sh', '-c', `cat > '${file}'`], {
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      stdio: 'ignore',
    });
    await xvfb.run('xdotool', ['search', '--sync', '--onlyvisible', '--class', 'xterm']);
    return file;
  }

  /** A started deskcast process, its links, and an admin connection holding control. */
  async function startHoldingControl(flags: string[] = [], preload?: string): Promise<{ server: DeskcastProcess; admin: Socket }> {
    const server = startDeskcastProcess(['--display', xvfb.display, '--no-audio', ...flags], preload);
    running.push(server);
    const { admin: adminLink } = await server.links;
    const admin = await connect(Number(adminLink.port), adminLink.searchParams.get('t')!);
    expect(await request(admin, 'control.request')).toMatchObject({ ok: true, data: { youHaveControl: true } });
    return { server, admin };
  }

  /** Types a character the us layout lacks: the injector binds it to a spare keycode while control lasts. */
  async function bindEuro(admin: Socket, before: string): Promise<void> {
    admin.emit('input', { type: 'text', text: '€' });
    const bound = await waitFor(async () => ((await keymap()) !== before ? true : undefined), 5000);
    expect(bound, 'typing € on the us layout binds a spare keycode').toBe(true);
    expect(await bindingsNote()).toMatch(/= \d+, \d+/);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskcast-control-life-'));
    xvfb = await startXvfb({ width: 640, height: 480 });
    await xvfb.run('setxkbmap', ['us']);
  });

  afterAll(async () => {
    terminal?.kill();
    for (const server of running) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await Promise.all(running.map((s) => s.exited));
    await xvfb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--control off opens no input; when the admin turns control on, the viewer it grants control types into the desktop', async () => {
    const server = await startDeskcast(['--display', xvfb.display, '--no-audio', '--control', 'off']);
    const admin = await connect(server.port, server.adminToken);
    const viewer = await connect(server.port, server.token);
    try {
      // Off means off: nobody may take control, not even the admin.
      expect(await request(viewer, 'control.request')).toMatchObject({ ok: false, error: { code: 'control-off' } });
      expect(await request(admin, 'control.request')).toMatchObject({ ok: false, error: { code: 'control-off' } });
      expect(await request(admin, 'admin.setControlPolicy', { policy: 'request' })).toEqual({ ok: true, data: {} });
      expect(await request(viewer, 'control.request')).toMatchObject({ ok: true, data: { policy: 'request', youRequested: true } });
      const list = await request<{ viewers: { viewerId: string; requestedControl: boolean }[] }>(admin, 'admin.listViewers');
      const asking = list.data!.viewers.find((v) => v.requestedControl)!;
      const granted = new Promise<void>((resolve) => viewer.on('control.state', (s: { youHaveControl: boolean }) => s.youHaveControl && resolve()));
      expect(await request(admin, 'admin.grantControl', { viewerId: asking.viewerId })).toEqual({ ok: true, data: {} });
      await granted;
      const file = await openTerminal('turned-on');
      // The controller points at the terminal (no window manager: keys go where the pointer is) and types.
      viewer.emit('input', { type: 'pointer', x: 100, y: 60, width: 640, height: 480 });
      viewer.emit('input', { type: 'text', text: 'hello € ok\n' });
      expect(await readWhenLength(file, 'hello € ok\n'.length, 8000)).toBe('hello € ok\n');
    } finally {
      admin.close();
      viewer.close();
      terminal?.kill();
      terminal = undefined;
      await server.close();
    }
  });

  it('when the desktop\'s input cannot be opened, turning control on fails with the reason and the policy stays off', async () => {
    const noXTest = await startXvfb({ width: 320, height: 240, extraArgs: ['-extension', 'XTEST'] });
    const server = await startDeskcast(['--display', noXTest.display, '--no-audio', '--control', 'off']);
    const admin = await connect(server.port, server.adminToken);
    try {
      const reply = await request(admin, 'admin.setControlPolicy', { policy: 'free' });
      expect(reply).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(/^The control policy stays "off": cannot inject input into X display :\d+: .*no XTEST extension/) } });
      expect(await request(admin, 'control.request')).toMatchObject({ ok: false, error: { code: 'control-off' } });
      expect(await request<{ policy: string }>(admin, 'admin.listViewers')).toMatchObject({ ok: true, data: { policy: 'off' } });
    } finally {
      admin.close();
      await server.close();
      await noXTest.stop();
    }
  });

  it('deskcast prints the viewer and the admin link; the default policy is `request`; SIGHUP removes its keymap bindings', async () => {
    const before = await keymap();
    const { server, admin } = await startHoldingControl();
    const { viewer, admin: adminLink } = await server.links;
    for (const link of [viewer, adminLink]) {
      expect(link.protocol).toBe('https:');
      expect(link.pathname).toBe('/');
      expect(link.searchParams.get('t')).toMatch(/^[\w-]{20,}$/);
    }
    expect(viewer.searchParams.get('t')).not.toBe(adminLink.searchParams.get('t'));
    // The viewer link is a viewer: under the default policy it asks and waits for the admin.
    const watcher = await connect(Number(viewer.port), viewer.searchParams.get('t')!);
    expect(await request(watcher, 'control.request')).toMatchObject({ ok: true, data: { policy: 'request', youHaveControl: false, youRequested: true } });
    expect(await request(watcher, 'admin.listViewers')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    watcher.close();

    await bindEuro(admin, before);
    server.child.kill('SIGHUP'); // the terminal deskcast ran in was closed
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(await keymap()).toBe(before);
    expect(await bindingsNote()).toMatch(/not found/);
    admin.close();
  });

  for (const fault of ['throw', 'reject'] as const) {
    it(`an ${fault === 'throw' ? 'uncaught exception' : 'unhandled rejection'} runs the shutdown stack before deskcast exits: no binding is left`, async () => {
      // The fault is raised inside the real server process, on a signal from the test.
      const preload = join(dir, `fault-${fault}.mjs`);
      writeFileSync(
        preload,
        fault === 'throw'
          ? "process.on('SIGUSR2', () => setImmediate(() => { throw new Error('test fault: uncaught'); }));\n"
          : "process.on('SIGUSR2', () => { Promise.reject(new Error('test fault: unhandled')); });\n",
      );
      const before = await keymap();
      const { server, admin } = await startHoldingControl([], preload);
      await bindEuro(admin, before);
      server.child.kill('SIGUSR2');
      expect(await server.exited).toEqual({ code: 1, signal: null });
      expect(server.stderr()).toMatch(fault === 'throw' ? /uncaught exception: Error: test fault: uncaught/ : /unhandled promise rejection: Error: test fault: unhandled/);
      expect(await keymap()).toBe(before);
      admin.close();
    });
  }

  it('a deskcast killed outright (SIGKILL) leaves its bindings and held keys noted on the display; the next deskcast removes and releases them at start', async () => {
    const before = await keymap();
    const { server, admin } = await startHoldingControl();
    await bindEuro(admin, before);
    const modifiers = { shift: true, ctrl: false, alt: false, meta: false, altGraph: false, capsLock: false };
    admin.emit('input', { type: 'key', code: 'ShiftLeft', key: 'Shift', down: true, repeat: false, mode: 'text', modifiers });
    expect(await waitFor(async () => ((await keysDown()) === '50' ? true : undefined), 3000), 'Shift_L (keycode 50) held for the controller').toBe(true);
    const note = await bindingsNote();
    server.child.kill('SIGKILL');
    await server.exited;
    admin.close();
    // XTest presses outlive their client, and so do keymap changes.
    expect(await keysDown(), 'the killed server could not release Shift').toBe('50');
    expect(await keymap(), 'the killed server could not clean up').not.toBe(before);
    expect(await bindingsNote()).toBe(note);

    const next = startDeskcastProcess(['--display', xvfb.display, '--no-audio']);
    running.push(next);
    await next.links;
    expect(await keymap()).toBe(before);
    expect(await keysDown()).toBe('');
    expect(await bindingsNote()).toMatch(/not found/);
    const told = [/released 1 key\(s\)\/button\(s\) left pressed by a deskcast that did not exit cleanly/, /removed 1 temporary keysym binding\(s\) left on the keymap by a deskcast that did not exit cleanly/];
    expect(await waitFor(async () => told.every((t) => t.test(next.stderr())), 3000), next.stderr()).toBe(true);
    next.child.kill('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
  });
});
