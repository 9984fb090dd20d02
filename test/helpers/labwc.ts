// labwc (the Openbox-like wlroots compositor family) headless inside a root directory, for the
// ext-image-copy-capture round trip: as nobody, pixman renderer, one output (labwc creates
// LABWC_FALLBACK_OUTPUT when the headless backend has none), and a solid background from swaybg
// (labwc draws none itself). Tests only: deskcast embeds sway, not labwc.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const NOBODY = 65534;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class HeadlessLabwc {
  /** The Wayland socket as seen from this process. */
  readonly socketPath: string;
  readonly #root: string;
  readonly #runtimeDir: string;
  readonly #innerRuntimeDir: string;
  readonly #process: ChildProcess;
  readonly #exited: Promise<void>;
  #background: ChildProcess | undefined;
  #stopped = false;

  /** Starts labwc in `root`; rejects with its log when it does not come up within 10 s. */
  static async create(root: string, outputName = 'HEADLESS-1'): Promise<HeadlessLabwc> {
    const runtimeDir = mkdtempSync(join(root, 'tmp', 'deskcast-labwc-'));
    const innerRuntimeDir = runtimeDir.slice(root.replace(/\/$/, '').length);
    chownSync(runtimeDir, NOBODY, NOBODY);
    mkdirSync(join(runtimeDir, 'home', '.config', 'labwc'), { recursive: true, mode: 0o700 });
    for (const dir of ['home', 'home/.config', 'home/.config/labwc']) chownSync(join(runtimeDir, dir), NOBODY, NOBODY);
    const env = [
      'PATH=/usr/local/bin:/usr/bin:/bin',
      `HOME=${innerRuntimeDir}/home`,
      `XDG_RUNTIME_DIR=${innerRuntimeDir}`,
      'WLR_BACKENDS=headless',
      'WLR_RENDERER=pixman',
      'WLR_LIBINPUT_NO_DEVICES=1',
      `LABWC_FALLBACK_OUTPUT=${outputName}`,
      'LANG=C.UTF-8',
    ];
    const child = spawn('chroot', [root, 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'env', '-i', ...env, 'labwc'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    let socket: string | undefined;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      socket = readdirSync(runtimeDir).find((n) => /^wayland-\d+$/.test(n));
      if (socket) break;
      await sleep(50);
    }
    const labwc = new HeadlessLabwc(root, runtimeDir, innerRuntimeDir, socket ?? '', child, exited);
    if (!socket) {
      await labwc.stop();
      throw new Error(`labwc did not start headless (pixman, as uid ${NOBODY}, in ${root}): ${stderr.trim().slice(-800) || 'no output'}`);
    }
    return labwc;
  }

  private constructor(root: string, runtimeDir: string, innerRuntimeDir: string, socket: string, child: ChildProcess, exited: Promise<void>) {
    this.#root = root;
    this.#runtimeDir = runtimeDir;
    this.#innerRuntimeDir = innerRuntimeDir;
    this.socketPath = socket ? join(runtimeDir, socket) : '';
    this.#process = child;
    this.#exited = exited;
  }

  /** Paints the output `color` ('#rrggbb'): a new swaybg, then the old one goes. */
  background(color: string): void {
    const old = this.#background;
    const socket = this.socketPath.slice(this.#runtimeDir.length + 1);
    this.#background = spawn(
      'chroot',
      [this.#root, 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'env', '-i', `XDG_RUNTIME_DIR=${this.#innerRuntimeDir}`, `WAYLAND_DISPLAY=${socket}`, 'swaybg', '-c', color],
      { stdio: 'ignore' },
    );
    if (old) setTimeout(() => old.kill('SIGKILL'), 300);
  }

  /** labwc and every client of its runtime dir go, the dir too. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#background?.kill('SIGKILL');
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.kill('SIGTERM');
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 3000);
      await this.#exited;
      clearTimeout(timer);
    }
    const entry = `XDG_RUNTIME_DIR=${this.#innerRuntimeDir}`;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (existsSync(this.#runtimeDir)) rmSync(this.#runtimeDir, { recursive: true, force: true });
  }
}
