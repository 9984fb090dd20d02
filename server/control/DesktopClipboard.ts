import { spawn, type ChildProcess } from 'node:child_process';
import { createLogger } from '../util/logger.js';

const log = createLogger('control');

const READ_TIMEOUT_MS = 2000;
const MAX_READ_BYTES = 64 * 1024;

export class ClipboardError extends Error {
  override name = 'ClipboardError';
}

/**
 * The X desktop's clipboard, through xclip: writing keeps one `xclip -quiet` running in the
 * foreground as the selection's owner (replaced by the next write, stopped on close), so the
 * text stays pastable on the desktop; reading asks the current owner.
 */
export class DesktopClipboard {
  readonly #display: string;
  #owner: ChildProcess | undefined;

  constructor(display: string) {
    this.#display = display;
  }

  async write(text: string): Promise<void> {
    this.#owner?.kill();
    const owner = spawn('xclip', ['-quiet', '-selection', 'clipboard', '-i'], {
      env: { ...process.env, DISPLAY: this.#display },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.#owner = owner;
    await new Promise<void>((resolve, reject) => {
      owner.once('error', (err) => reject(new ClipboardError(`Cannot run xclip (${err.message}): install it (apt-get install xclip).`)));
      owner.once('spawn', () => resolve());
    });
    owner.stdin?.end(text, 'utf8');
    owner.once('exit', () => {
      if (this.#owner === owner) this.#owner = undefined;
    });
    // xclip owns the selection once it has read its input; give it that moment.
    await new Promise((r) => setTimeout(r, 50));
  }

  async read(): Promise<string> {
    const child = spawn('xclip', ['-selection', 'clipboard', '-o'], { env: { ...process.env, DISPLAY: this.#display }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => child.kill(), READ_TIMEOUT_MS);
      child.stdout?.on('data', (d: Buffer) => {
        size += d.length;
        if (size <= MAX_READ_BYTES) chunks.push(d);
        else child.kill();
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new ClipboardError(`Cannot run xclip (${err.message}): install it (apt-get install xclip).`));
      });
      child.once('exit', () => {
        clearTimeout(timer);
        // No owner (nothing copied yet) makes xclip fail: that is an empty clipboard.
        resolve(Buffer.concat(chunks).toString('utf8').slice(0, MAX_READ_BYTES));
      });
    });
  }

  close(): void {
    this.#owner?.kill();
    this.#owner = undefined;
    log.debug('clipboard owner stopped');
  }
}
