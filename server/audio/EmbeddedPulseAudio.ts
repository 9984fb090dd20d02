// deskcast's own PulseAudio for the embedded desktop (headless, as root is fine):
//   pulseaudio --daemonize=no --exit-idle-time=-1 --disallow-exit -n
//     --load="module-null-sink sink_name=<sink> rate=48000 ..." --load="module-native-protocol-unix socket=<dir>/native ..."
// with its own runtime dir, socket and cookie, so it never meets a user's sound server or a
// parallel test. Its null sink is the default sink; deskcast captures `<sink>.monitor`.
//
// Unlike the usual `pulseaudio -D` it runs in the foreground under `setpriv --pdeathsig TERM`: we
// know its PID and exit at once, get its log on a pipe, and the kernel ends it if deskcast dies
// (even by SIGKILL), so no orphaned daemon is left behind. If it crashes, it is restarted on
// the same socket (the native capture reconnects by itself).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '../util/logger.js';
import { AudioError, EmbeddedPulseAudioError, PulseToolMissingError } from './errors.js';
import { Pactl, pulseEnv, type PulseConnection } from './pactl.js';
import { renderChimeWav } from './testSound.js';

const log = createLogger('audio');

export interface EmbeddedPulseAudioOptions {
  /** Runtime dir (socket, cookie, pid file). Created 0700 if missing. Default: a fresh temp dir, removed on stop(). */
  runtimeDir?: string;
  /** Name of the null sink that desktop apps play into. Default 'deskcast_desktop'. */
  sinkName?: string;
  /** Something audible on the sink: a soft chime every `chimePeriodMs`, or nothing. Default 'chime'. */
  testSound?: 'chime' | 'none';
  /** Default 3000 ms. */
  chimePeriodMs?: number;
  /** How long to wait for the daemon to answer. Default 10000 ms. */
  startTimeoutMs?: number;
  /** Restart the daemon when it dies unexpectedly (at most 5 times a minute). Default true. */
  restartOnCrash?: boolean;
}

export interface EmbeddedPulseAudioEvents {
  /** The daemon died unexpectedly and is running again (same socket). */
  restarted: [];
  /** The daemon died and could not be (or was not to be) restarted. */
  failed: [EmbeddedPulseAudioError];
}

const SINK_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const RESTART_LIMIT = 5;
const RESTART_WINDOW_MS = 60_000;
/** Lines of the daemon's log that are expected when it runs headless as root. */
const LOG_NOISE = /not intended to be run as root|Unable to contact D-Bus|autolaunch a dbus-daemon/;

export class EmbeddedPulseAudio extends EventEmitter<EmbeddedPulseAudioEvents> {
  /** libpulse server string: 'unix:<runtimeDir>/native'. */
  readonly server: string;
  readonly runtimeDir: string;
  readonly cookieFile: string;
  readonly sinkName: string;
  /** What to capture: the null sink's monitor. */
  readonly monitorSource: string;

  readonly #options: Required<Omit<EmbeddedPulseAudioOptions, 'runtimeDir' | 'sinkName'>>;
  readonly #ownsRuntimeDir: boolean;
  readonly #pactl: Pactl;
  #daemon: ChildProcess | null = null;
  #daemonExit: Promise<void> = Promise.resolve();
  #logTail = '';
  #player: ChildProcess | null = null;
  #playerTimer: NodeJS.Timeout | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #restarts: number[] = [];
  #stopping = false;
  #started = false;
  #stopped: Promise<void> | null = null;

  /** Starts the daemon, makes its null sink the default and (optionally) starts the chime. */
  static async create(options: EmbeddedPulseAudioOptions = {}): Promise<EmbeddedPulseAudio> {
    const sinkName = options.sinkName ?? 'deskcast_desktop';
    if (!SINK_NAME_RE.test(sinkName)) {
      throw new EmbeddedPulseAudioError(`Invalid sink name '${sinkName}': use 1-64 letters, digits, '_', '.' or '-'.`);
    }
    let runtimeDir: string;
    let owns = false;
    if (options.runtimeDir) {
      runtimeDir = path.resolve(options.runtimeDir);
      await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
    } else {
      runtimeDir = await mkdtemp(path.join(tmpdir(), 'deskcast-pulse-'));
      owns = true;
    }
    // sockaddr_un.sun_path holds 108 bytes
    if (Buffer.byteLength(path.join(runtimeDir, 'native')) > 100) {
      throw new EmbeddedPulseAudioError(`Runtime dir '${runtimeDir}' is too long for a UNIX socket path; choose a shorter one.`);
    }
    const pa = new EmbeddedPulseAudio(runtimeDir, owns, sinkName, options);
    try {
      await pa.#startDaemon();
      pa.#started = true;
      if (pa.#options.testSound === 'chime') await pa.#startChime();
    } catch (err) {
      await pa.stop();
      throw err;
    }
    log.info(`embedded PulseAudio ${pa.server} (pid ${pa.pid}), default sink '${sinkName}', capture '${pa.monitorSource}'`);
    return pa;
  }

  private constructor(runtimeDir: string, ownsRuntimeDir: boolean, sinkName: string, options: EmbeddedPulseAudioOptions) {
    super();
    this.runtimeDir = runtimeDir;
    this.#ownsRuntimeDir = ownsRuntimeDir;
    this.server = `unix:${path.join(runtimeDir, 'native')}`;
    this.cookieFile = path.join(runtimeDir, 'cookie');
    this.sinkName = sinkName;
    this.monitorSource = `${sinkName}.monitor`;
    this.#options = {
      testSound: options.testSound ?? 'chime',
      chimePeriodMs: options.chimePeriodMs ?? 3000,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
      restartOnCrash: options.restartOnCrash ?? true,
    };
    this.#pactl = new Pactl(this.connection);
  }

  /** For Pactl, PerAppAudioRouter, the native capture (server) and so on. */
  get connection(): PulseConnection {
    return { server: this.server, cookie: this.cookieFile };
  }

  /** Environment for programs that should play into this server (desktop apps, pacat, ...). */
  get env(): { PULSE_SERVER: string; PULSE_COOKIE: string } {
    return { PULSE_SERVER: this.server, PULSE_COOKIE: this.cookieFile };
  }

  /** PID of the running daemon, or null while it is down. */
  get pid(): number | null {
    return this.#daemon?.pid ?? null;
  }

  /** Stops the chime and the daemon (SIGTERM, SIGKILL after 3 s) and removes a temp runtime dir. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    if (this.#playerTimer) clearTimeout(this.#playerTimer);
    this.#player?.kill('SIGTERM');
    const daemon = this.#daemon;
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      const killTimer = setTimeout(() => daemon.kill('SIGKILL'), 3000);
      await this.#daemonExit;
      clearTimeout(killTimer);
    }
    this.#daemon = null;
    if (this.#ownsRuntimeDir) await rm(this.runtimeDir, { recursive: true, force: true });
  }

  async #startDaemon(): Promise<void> {
    const dir = this.runtimeDir;
    const args = [
      '--daemonize=no',
      '--system=no',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '-n',
      '--use-pid-file=yes',
      '--log-target=stderr',
      `--load=module-null-sink sink_name=${this.sinkName} rate=48000 channels=2 sink_properties=device.description=deskcast-desktop`,
      `--load=module-native-protocol-unix socket=${path.join(dir, 'native')} cookie=${this.cookieFile}`,
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', PULSE_RUNTIME_PATH: dir, PULSE_STATE_PATH: path.join(dir, 'state') };
    delete env['PULSE_SERVER'];
    const daemon = await spawnWithDeathSignal('pulseaudio', args, env);
    this.#daemon = daemon;
    this.#logTail = '';
    daemon.stderr?.on('data', (d: Buffer) => {
      this.#logTail = (this.#logTail + d.toString()).slice(-4000);
    });
    this.#daemonExit = new Promise((resolve) => daemon.once('exit', () => resolve()));
    daemon.once('exit', (code, signal) => this.#onDaemonExit(daemon, code, signal));

    const deadline = Date.now() + this.#options.startTimeoutMs;
    for (;;) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) {
        if (/failed to execute .*No such file/.test(this.#logTail)) throw new PulseToolMissingError('pulseaudio');
        throw new EmbeddedPulseAudioError(
          `PulseAudio exited (code ${daemon.exitCode}, signal ${daemon.signalCode}) before it was ready. Its log: ${this.#relevantLog()}. ` +
            `If another PulseAudio uses ${dir}, stop it (PULSE_RUNTIME_PATH=${dir} pulseaudio -k) or choose another runtime dir.`,
        );
      }
      try {
        await this.#pactl.run(['info'], undefined, 2000);
        break;
      } catch (err) {
        if (err instanceof PulseToolMissingError) throw err;
        if (Date.now() > deadline) {
          throw new EmbeddedPulseAudioError(
            `PulseAudio (pid ${daemon.pid}) did not answer on ${this.server} within ${this.#options.startTimeoutMs} ms ` +
              `(${err instanceof Error ? err.message : String(err)}). Its log: ${this.#relevantLog()}.`,
          );
        }
        await sleep(100);
      }
    }
    await this.#pactl.setDefaultSink(this.sinkName);
  }

  #relevantLog(): string {
    const lines = this.#logTail.split('\n').filter((l) => l.trim() && !LOG_NOISE.test(l));
    return lines.slice(-8).join(' | ') || '(empty)';
  }

  #onDaemonExit(daemon: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping || !this.#started || this.#daemon !== daemon) return;
    this.#daemon = null;
    const what = `embedded PulseAudio exited unexpectedly (code ${code}, signal ${signal}); log: ${this.#relevantLog()}`;
    const now = Date.now();
    this.#restarts = this.#restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (!this.#options.restartOnCrash || this.#restarts.length >= RESTART_LIMIT) {
      const err = new EmbeddedPulseAudioError(
        `${what}. ${this.#options.restartOnCrash ? `It crashed ${RESTART_LIMIT} times within a minute, so deskcast gave up: ` : ''}` +
          'audio stays silent until deskcast is restarted. Check that pulseaudio works here: `pulseaudio -n --daemonize=no --load=module-null-sink -vvv`.',
      );
      log.error(err.message);
      this.emit('failed', err);
      return;
    }
    this.#restarts.push(now);
    log.error(`${what}; restarting it in 1 s`);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      void this.#restart();
    }, 1000);
  }

  async #restart(): Promise<void> {
    if (this.#stopping) return;
    try {
      await this.#startDaemon();
      log.info(`embedded PulseAudio is back on ${this.server} (pid ${this.pid})`);
      this.emit('restarted');
    } catch (err) {
      // #onDaemonExit schedules the next try (or gives up) when the new daemon exits; if it hangs, kill it.
      log.error(`restarting embedded PulseAudio failed: ${err instanceof Error ? err.message : String(err)}`);
      this.#daemon?.kill('SIGKILL');
    }
  }

  async #startChime(): Promise<void> {
    const file = path.join(this.runtimeDir, 'chime.wav');
    await writeFile(file, renderChimeWav({ periodMs: this.#options.chimePeriodMs }));
    const play = (): void => {
      if (this.#stopping) return;
      const startedAt = Date.now();
      const player = spawn(
        'paplay',
        ['--client-name=deskcast-chime', '--property=application.name=deskcast chime', `--device=${this.sinkName}`, file],
        { env: pulseEnv(this.connection), stdio: ['ignore', 'ignore', 'pipe'] },
      );
      this.#player = player;
      let stderr = '';
      player.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
      player.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') log.warn(new PulseToolMissingError('paplay').message);
      });
      player.on('close', (code) => {
        if (this.#player === player) this.#player = null;
        if (this.#stopping) return;
        if (code !== 0 && stderr.trim()) log.debug(`chime player: ${stderr.trim()}`);
        // loop: right away after a full play, after 1 s if it failed quickly (server restarting)
        const ranMs = Date.now() - startedAt;
        this.#playerTimer = setTimeout(play, code === 0 && ranMs >= 1000 ? 0 : 1000);
      });
    };
    play();
  }
}

/** Spawns `command` so that the kernel sends it SIGTERM when this process dies (setpriv --pdeathsig). */
async function spawnWithDeathSignal(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const trySpawn = (file: string, argv: string[]): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.once('spawn', () => resolve(child));
      child.once('error', reject);
    });
  try {
    return await trySpawn('setpriv', ['--pdeathsig', 'TERM', '--', command, ...args]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    log.warn(`setpriv (util-linux) not found: ${command} will not be stopped automatically if deskcast crashes`);
  }
  try {
    return await trySpawn(command, args);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PulseToolMissingError(command);
    throw new AudioError(`Cannot start ${command}: ${(err as Error).message}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
