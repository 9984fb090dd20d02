import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface XvfbOptions {
  /** Xvfb (default), or TigerVNC's Xvnc: a headless server that can also change its screen size. */
  server?: 'Xvfb' | 'Xvnc';
  width?: number;
  height?: number;
  depth?: number;
  /** Extra Xvfb arguments, e.g. ['-extension', 'MIT-SHM']. */
  extraArgs?: string[];
  /** How long to wait for the server to answer xdpyinfo (ms). */
  readyTimeoutMs?: number;
  /** This display number (e.g. to bring a stopped server back); default: a free one. */
  displayNumber?: number;
}

export interface XvfbServer {
  /** ':57' */
  readonly display: string;
  readonly displayNumber: number;
  readonly width: number;
  readonly height: number;
  readonly process: ChildProcess;
  /** Runs an X client against this display (DISPLAY set), e.g. run('xsetroot', ['-solid', 'red']). */
  run(command: string, args: string[]): Promise<string>;
  /** Paints the root window one colour. */
  paint(color: string): Promise<void>;
  /**
   * Keeps a 16x16 corner of the screen changing 200 times a second (x11-painter tick), so a
   * change-driven capture produces frames at its full rate. stop() ends it.
   */
  animate(): { stop(): void };
  /** The current screen size, as xdpyinfo reports it. */
  screenSize(): Promise<{ width: number; height: number }>;
  /**
   * Changes the screen size through RandR (`xrandr --fb`). Resolves true if the size changed.
   * Xvfb (xorg-server 21.1) cannot: its RandR offers only the startup size. Xvnc can.
   */
  resize(width: number, height: number): Promise<boolean>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the server has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Builds test/helpers/x11-painter.c (once per process) and returns the binary's path. */
export function painterBinary(): string {
  const binary = `/tmp/deskcast-x11-painter-${process.pid}`;
  if (!existsSync(binary)) {
    execFileSync('cc', ['-O2', fileURLToPath(new URL('./x11-painter.c', import.meta.url)), '-o', binary, '-lX11']);
  }
  return binary;
}

/**
 * Keeps a 16x16 bottom-right corner of `display` changing 200 times a second. Capture is
 * change-driven: a still screen sends a keyframe and then nothing, so tests that watch frames
 * flow (framesDecoded growing) keep this running. startDeskcast's `animate: true` does it for
 * the server's own desktop until close().
 */
export function animateDisplay(display: string): { stop(): void } {
  const ticker = spawn(painterBinary(), ['tick', '200'], { env: { ...process.env, DISPLAY: display }, stdio: 'ignore' });
  ticker.on('error', () => undefined);
  return { stop: () => void ticker.kill('SIGKILL') };
}

function displayInUse(n: number): boolean {
  return existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`);
}

/** A display number that is free right now (random in [from, to) to avoid racing peers). */
export function pickFreeDisplayNumber(from = 50, to = 900): number {
  for (let i = 0; i < 200; i++) {
    const n = from + Math.floor(Math.random() * (to - from));
    if (!displayInUse(n)) return n;
  }
  throw new Error(`no free X display number in [${from}, ${to})`);
}

/** Resolves once `xdpyinfo -display <display>` succeeds; rejects after timeoutMs. */
export async function waitForDisplay(display: string, timeoutMs = 10_000, exited?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = exited?.();
    if (why !== undefined) throw new Error(why);
    try {
      await execFileAsync('xdpyinfo', ['-display', display], { timeout: 2000 });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`X display ${display} did not come up within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Whether TigerVNC's Xvnc (Debian: tigervnc-standalone-server) is installed. */
export function hasXvnc(): boolean {
  return (process.env['PATH'] ?? '/usr/bin').split(':').some((dir) => existsSync(`${dir}/Xvnc`));
}

/**
 * Starts a headless X server (Xvfb by default) on a free display number and waits until it
 * answers. Retries with another number if a concurrently started server took the chosen one.
 */
export async function startXvfb(options: XvfbOptions = {}): Promise<XvfbServer> {
  const serverBinary = options.server ?? 'Xvfb';
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const depth = options.depth ?? 24;
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.displayNumber === undefined ? 5 : 1); attempt++) {
    const displayNumber = options.displayNumber ?? pickFreeDisplayNumber();
    const display = `:${displayNumber}`;
    // -noreset: otherwise the server resets (and forgets e.g. xsetroot's colour) whenever its
    // last client disconnects.
    const args =
      serverBinary === 'Xvfb'
        ? [display, '-screen', '0', `${width}x${height}x${depth}`, '-nolisten', 'tcp', '-noreset']
        : [display, '-geometry', `${width}x${height}`, '-depth', String(depth), '-SecurityTypes', 'None', '-rfbport', '-1', '-nolisten', 'tcp', '-noreset'];
    const child = spawn(serverBinary, [...args, ...(options.extraArgs ?? [])], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let exitedWith: string | undefined;
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 10_000) stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitedWith = `${serverBinary} ${display} exited (${signal ?? code}) before it was ready: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        resolve();
      });
      child.once('error', (err) => {
        exitedWith = `cannot run ${serverBinary}: ${err.message} (install the ${serverBinary === 'Xvfb' ? 'xvfb' : 'tigervnc-standalone-server'} package)`;
        resolve();
      });
    });
    try {
      await waitForDisplay(display, options.readyTimeoutMs ?? 10_000, () => exitedWith);
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      await exited;
      continue;
    }
    child.stderr?.removeAllListeners('data');
    child.stderr?.resume();
    const env = { ...process.env, DISPLAY: display };
    let stopping: Promise<void> | undefined;
    const server: XvfbServer = {
      display,
      displayNumber,
      width,
      height,
      process: child,
      run: async (command, args) => (await execFileAsync(command, args, { env, timeout: 10_000 })).stdout,
      paint: async (color) => {
        await execFileAsync('xsetroot', ['-display', display, '-solid', color], { timeout: 10_000 });
      },
      animate: () => animateDisplay(display),
      screenSize: async () => {
        const info = (await execFileAsync('xdpyinfo', ['-display', display], { timeout: 10_000 })).stdout;
        const m = /dimensions:\s+(\d+)x(\d+) pixels/.exec(info);
        if (!m) throw new Error(`cannot read the screen size of ${display}`);
        return { width: Number(m[1]), height: Number(m[2]) };
      },
      resize: async (w, h) => {
        // xrandr may exit non-zero (it also tries to fit the output's mode) even when the
        // framebuffer did change: judge by the result.
        await execFileAsync('xrandr', ['-display', display, '--fb', `${w}x${h}`], { timeout: 10_000 }).catch(() => undefined);
        const now = await server.screenSize();
        return now.width === w && now.height === h;
      },
      stop: () => {
        stopping ??= (async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(killer);
        })();
        return stopping;
      },
    };
    return server;
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
