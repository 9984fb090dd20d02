import { spawn, type ChildProcess } from 'node:child_process';
import { createLogger } from '../util/logger.js';

const log = createLogger('desktop');

export class EmbeddedDesktopError extends Error {
  override name = 'EmbeddedDesktopError';
}

export interface EmbeddedDesktopOptions {
  width: number;
  height: number;
  /** Start a clock and a live `top` so the broadcast visibly moves (off in tests that paint). */
  withDemoContent: boolean;
  /** Extra environment for programs on this desktop (e.g. PULSE_SERVER of the embedded sound server). */
  env?: Record<string, string>;
}

/**
 * deskcast's own X display for machines without one: Xvfb on a free display number
 * (Xvfb picks it and reports it through -displayfd), plus something moving on it.
 */
export class EmbeddedDesktop {
  readonly display: string;
  readonly #xvfb: ChildProcess;
  readonly #clients: ChildProcess[] = [];
  readonly #env: Record<string, string>;
  #stopped = false;

  static async create(options: EmbeddedDesktopOptions): Promise<EmbeddedDesktop> {
    const xvfb = spawn(
      'Xvfb',
      ['-displayfd', '3', '-screen', '0', `${options.width}x${options.height}x24`, '-nolisten', 'tcp', '+extension', 'MIT-SHM'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const display = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      let out = '';
      const timer = setTimeout(() => fail(new EmbeddedDesktopError('Xvfb did not report a display within 10 s.')), 10_000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        xvfb.kill('SIGKILL');
        reject(err);
      };
      xvfb.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      xvfb.on('error', (err) =>
        fail(new EmbeddedDesktopError(`Cannot start Xvfb (${err.message}). Install it (apt-get install xvfb) or pass --display of a running X server.`)),
      );
      xvfb.on('exit', (code) => fail(new EmbeddedDesktopError(`Xvfb exited (code ${code}) before it was ready: ${stderr.trim().slice(-500)}`)));
      (xvfb.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          xvfb.removeAllListeners('exit');
          resolve(`:${out.trim()}`);
        }
      });
    });
    const desktop = new EmbeddedDesktop(display, xvfb, options.env ?? {});
    if (options.withDemoContent) desktop.#startDemoContent(options);
    log.info(`started Xvfb on ${display} (${options.width}x${options.height})`);
    return desktop;
  }

  private constructor(display: string, xvfb: ChildProcess, env: Record<string, string>) {
    this.display = display;
    this.#xvfb = xvfb;
    this.#env = env;
    xvfb.on('exit', (code, signal) => {
      if (!this.#stopped) log.error(`Xvfb on ${display} exited unexpectedly (code ${code}, signal ${signal})`);
    });
  }

  /** Starts an X client on this display; it is stopped with the desktop. */
  #spawnClient(command: string, args: string[]): ChildProcess {
    const child = spawn(command, args, { stdio: 'ignore', env: { ...process.env, ...this.#env, DISPLAY: this.display } });
    child.on('error', (err) => log.warn(`${command} could not start on ${this.display}: ${err.message}`));
    this.#clients.push(child);
    return child;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const c of this.#clients) c.kill('SIGTERM');
    this.#xvfb.kill('SIGTERM');
  }

  #startDemoContent(options: EmbeddedDesktopOptions): void {
    this.#spawnClient('xsetroot', ['-solid', '#1d3b53']);
    const clockSize = Math.round(Math.min(options.width, options.height) / 3);
    this.#spawnClient('xclock', ['-update', '1', '-geometry', `${clockSize}x${clockSize}-40+40`]);
    this.#spawnClient('xterm', ['-geometry', '90x28+40+40', '-bg', 'black', '-fg', 'lightgreen', '-e', 'top', '-d', '0.5']);
  }
}
