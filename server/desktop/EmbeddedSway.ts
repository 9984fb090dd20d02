import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createLogger } from '../util/logger.js';

const log = createLogger('desktop');

export class EmbeddedSwayError extends Error {
  override name = 'EmbeddedSwayError';
}

/** nobody:nogroup. sway refuses to run as root; deskcast (root) still reaches its socket by path. */
const UNPRIVILEGED = 65534;

export interface EmbeddedSwayOptions {
  width: number;
  height: number;
  /** Output background, '#rrggbb'. */
  background?: string;
  /** XKB layout of sway's own keyboard config (the virtual keyboard uploads its own keymap). */
  keyboardLayout?: string;
  /** Programs started on the desktop once it runs (sway `exec`), e.g. ['foot']. */
  exec?: string[];
  /** Run inside this root directory (chroot), e.g. a Debian unstable root with a newer sway. */
  root?: string;
  /** Extra lines for the sway config. */
  extraConfig?: string[];
  readyTimeoutMs?: number;
}

/**
 * deskcast's own Wayland desktop: a headless sway (pixman renderer, no input devices) as an
 * unprivileged user with its own XDG_RUNTIME_DIR, optionally inside another root. Owns the
 * process and the runtime directory.
 */
export class EmbeddedSway {
  /** Absolute path of the Wayland socket (as seen from this process). */
  readonly socketPath: string;
  /** Absolute path of sway's IPC socket (as seen from this process). */
  readonly ipcPath: string;
  /** The runtime directory, as seen from this process. */
  readonly runtimeDir: string;
  readonly #process: ChildProcess;
  /** The runtime directory as the compositor and its clients see it (inside a root, if any). */
  readonly #innerRuntimeDir: string;
  #stopped = false;
  #exited: Promise<void>;

  static async create(options: EmbeddedSwayOptions): Promise<EmbeddedSway> {
    const root = options.root ?? '';
    // Inside the root the directory is /tmp/deskcast-sway-XXXX; from here, <root>/tmp/...
    const hostTmp = join(root || '/', 'tmp');
    const runtimeDir = mkdtempSync(join(hostTmp, 'deskcast-sway-'));
    const innerRuntimeDir = root ? runtimeDir.slice(root.replace(/\/$/, '').length) : runtimeDir;
    chownSync(runtimeDir, UNPRIVILEGED, UNPRIVILEGED);
    const config = [
      `output * resolution ${options.width}x${options.height} position 0 0`,
      `output * bg ${options.background ?? '#1d3b53'} solid_color`,
      `input type:keyboard xkb_layout ${options.keyboardLayout ?? 'us'}`,
      'default_border none',
      'xwayland disable',
      ...(options.extraConfig ?? []),
      ...(options.exec ?? []).map((cmd) => `exec ${cmd}`),
    ].join('\n');
    const configPath = join(runtimeDir, 'sway.config');
    writeFileSync(configPath, `${config}\n`, { mode: 0o644 });
    chownSync(configPath, UNPRIVILEGED, UNPRIVILEGED);
    mkdirSync(join(runtimeDir, 'home'), { mode: 0o700 });
    chownSync(join(runtimeDir, 'home'), UNPRIVILEGED, UNPRIVILEGED);

    const env = [
      'PATH=/usr/local/bin:/usr/bin:/bin',
      `HOME=${innerRuntimeDir}/home`,
      `XDG_RUNTIME_DIR=${innerRuntimeDir}`,
      'WLR_BACKENDS=headless',
      'WLR_RENDERER=pixman',
      'WLR_LIBINPUT_NO_DEVICES=1',
      'LANG=C.UTF-8',
    ];
    const swayArgs = ['setpriv', `--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', 'env', '-i', ...env, 'sway', '-c', `${innerRuntimeDir}/sway.config`];
    const [command, args] = root ? ['chroot', [root, ...swayArgs]] : [swayArgs[0]!, swayArgs.slice(1)];
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
    let socketName: string | undefined;
    let ipcName: string | undefined;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      const names = existsSync(runtimeDir) ? readdirSync(runtimeDir) : [];
      socketName = names.find((n) => /^wayland-\d+$/.test(n));
      ipcName = names.find((n) => n.startsWith('sway-ipc.') && n.endsWith('.sock'));
      if (socketName && ipcName) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!socketName || !ipcName) {
      child.kill('SIGKILL');
      await exited;
      rmSync(runtimeDir, { recursive: true, force: true });
      const hint = existsSync('/usr/bin/sway') || root ? '' : ' Install it: apt-get install sway foot.';
      throw new EmbeddedSwayError(`sway did not start (headless, pixman, as uid ${UNPRIVILEGED}).${hint} Its log: ${stderr.trim().slice(-800)}`);
    }
    const sway = new EmbeddedSway(runtimeDir, innerRuntimeDir, join(runtimeDir, socketName), join(runtimeDir, ipcName), child, exited);
    log.info(`started headless sway ${options.width}x${options.height}${root ? ` in ${root}` : ''}: Wayland socket ${sway.socketPath}`);
    return sway;
  }

  private constructor(runtimeDir: string, innerRuntimeDir: string, socketPath: string, ipcPath: string, child: ChildProcess, exited: Promise<void>) {
    this.runtimeDir = runtimeDir;
    this.#innerRuntimeDir = innerRuntimeDir;
    this.socketPath = socketPath;
    this.ipcPath = ipcPath;
    this.#process = child;
    this.#exited = exited;
    child.on('exit', (code, signal) => {
      if (!this.#stopped) log.error(`sway exited unexpectedly (code ${code}, signal ${signal})`);
    });
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Runs sway IPC commands (`output HEADLESS-1 resolution 800x600`); rejects when one fails. */
  async command(text: string): Promise<void> {
    const replies = (await this.ipc(0, text)) as { success: boolean; error?: string }[];
    const failed = replies.find((r) => !r.success);
    if (failed) throw new EmbeddedSwayError(`sway refused "${text}": ${failed.error ?? 'no reason given'}`);
  }

  /** One sway IPC message (i3 protocol: "i3-ipc", length, type, JSON payload). */
  ipc(type: number, payload = ''): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.ipcPath);
      const body = Buffer.from(payload);
      const header = Buffer.alloc(14);
      header.write('i3-ipc', 0, 'ascii');
      header.writeUInt32LE(body.length, 6);
      header.writeUInt32LE(type, 10);
      let data = Buffer.alloc(0);
      socket.on('connect', () => socket.write(Buffer.concat([header, body])));
      socket.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d]);
        if (data.length >= 14 && data.length >= 14 + data.readUInt32LE(6)) {
          socket.end();
          try {
            resolve(JSON.parse(data.subarray(14, 14 + data.readUInt32LE(6)).toString()));
          } catch (err) {
            reject(err as Error);
          }
        }
      });
      socket.on('error', reject);
    });
  }

  /**
   * SIGTERM (SIGKILL after 3 s), then the clients sway started (its `exec` detaches them into
   * their own sessions, so they outlive it and some spin once their display is gone): every
   * process whose environment names this runtime directory. Removes the directory. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#process.kill('SIGTERM');
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(timer);
    killProcessesWithEnv(`XDG_RUNTIME_DIR=${this.#innerRuntimeDir}`);
    rmSync(this.runtimeDir, { recursive: true, force: true });
  }
}

/** SIGKILLs every process whose environment holds `entry` (e.g. one session's runtime dir). */
function killProcessesWithEnv(entry: string): void {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}
