// --mic: mixes the presenter's microphone into the broadcast sound.
//
// It mixes SOURCES, never the speakers: a deskcast-owned null sink `deskcast_mix_<pid>` gets two
// loopbacks, one from the desktop sound (the default sink's monitor, --audio-source, or the
// --audio-app sink's monitor) and one from the microphone (--mic-source, else the sound server's
// default source; a sink's monitor is never taken for a microphone), and deskcast captures
// `deskcast_mix_<pid>.monitor`. The presenter does not hear their own microphone, and with
// --audio-app nothing the presenter's speakers play reaches the mix except that app. With the
// default sink as desktop sound, a microphone near speakers hears the broadcast again: use
// headphones (README).
//
// When the microphone disappears, its loopback unloads itself; the desktop loopback stays, so
// the broadcast keeps its desktop sound, and `mic` says why ("microphone gone: ..."). When a
// source of that name (or a new default source) appears, the loopback is added again. Events
// come from `pactl subscribe`, with a safety re-check every 5 s (and after the server returns).
import { type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createLogger } from '../util/logger.js';
import { AudioRouterError, SoundServerUnreachableError } from './errors.js';
import { Pactl, parseModuleArguments, serverLabel, type PulseConnection } from './pactl.js';
import { processIdentity } from './processIdentity.js';

const log = createLogger('audio');

export const MIX_SINK_PREFIX = 'deskcast_mix_';

function mixSinkName(pid: number): string {
  return `${MIX_SINK_PREFIX}${pid}`;
}

/** PID encoded in a mix sink name, or null if `name` is not one. */
export function parseMixSinkName(name: string): number | null {
  const m = /^deskcast_mix_(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

export interface MicMixerOptions extends PulseConnection {
  /** The desktop sound to mix: a source name; '' = the default sink's monitor. */
  desktopSource: string;
  /** The microphone: a source name; '' = the sound server's default source. */
  micSource: string;
  /** Microphone level in the mix, percent (100 = unchanged). */
  micVolumePercent: number;
  /** Loopback latency (each path). Default 30 ms: low, yet no underruns on a busy machine. */
  latencyMs?: number;
  /** Safety re-check interval besides subscribe events. Default 5000 ms. */
  recheckMs?: number;
}

export interface MicStatus {
  /** live: mixed in; gone: not available now (the desktop sound goes on). */
  state: 'live' | 'gone';
  /** The microphone source (resolved), or what was asked for. */
  source: string;
  /** Empty when live. */
  reason: string;
}

export interface MicMixerEvents {
  micChanged: [MicStatus];
}

const SAFE_NAME = /^[A-Za-z0-9_.:@-]{1,200}$/;

export class MicMixer extends EventEmitter<MicMixerEvents> {
  readonly sinkName = mixSinkName(process.pid);
  /** What to capture: deskcast_mix_<pid>.monitor */
  readonly monitorSource = `${mixSinkName(process.pid)}.monitor`;
  readonly #pactl: Pactl;
  readonly #options: MicMixerOptions & { latencyMs: number; recheckMs: number };
  #desktopSource = '';
  #sinkModule = -1;
  #desktopLoopback = -1;
  #micLoopback = -1;
  #mic: MicStatus;
  /** The last microphone that was in the mix (named when it disappears). */
  #lastMic = '';
  #subscriber: ChildProcess | null = null;
  #timers = new Set<NodeJS.Timeout>();
  #recheck: NodeJS.Timeout | undefined;
  #checking: Promise<void> | null = null;
  #checkAgain = false;
  #closed: Promise<void> | null = null;

  static async create(options: MicMixerOptions): Promise<MicMixer> {
    for (const [flag, name] of [['--mic-source', options.micSource], ['--audio-source', options.desktopSource]] as const) {
      if (name && !SAFE_NAME.test(name)) {
        throw new AudioRouterError(`Invalid ${flag} '${name}': give a source name as \`pactl list short sources\` shows it.`);
      }
    }
    if (!(options.micVolumePercent >= 0 && options.micVolumePercent <= 200)) throw new AudioRouterError('--mic-volume must be 0..200 (percent).');
    const mixer = new MicMixer(options);
    try {
      await mixer.#check();
      if (mixer.#sinkModule < 0) throw new AudioRouterError(`could not create the mix sink '${mixer.sinkName}'`);
    } catch (err) {
      await mixer.close().catch(() => undefined);
      throw err;
    }
    mixer.#subscribe();
    mixer.#recheck = setInterval(() => void mixer.#check().catch(() => undefined), mixer.#options.recheckMs);
    mixer.#recheck.unref();
    log.info(
      `mixing the microphone ${mixer.#mic.state === 'live' ? `'${mixer.#mic.source}'` : `(${mixer.#mic.reason})`} at ${options.micVolumePercent}% ` +
        `with the desktop sound '${mixer.#desktopSource}' in '${mixer.sinkName}' (captured from '${mixer.monitorSource}')`,
    );
    return mixer;
  }

  private constructor(options: MicMixerOptions) {
    super();
    this.#pactl = new Pactl(options);
    this.#options = { latencyMs: 30, recheckMs: 5000, ...options };
    this.#mic = { state: 'gone', source: options.micSource || 'the default source', reason: 'not connected yet' };
  }

  get mic(): MicStatus {
    return { ...this.#mic };
  }

  get modules(): { sink: number; desktopLoopback: number; micLoopback: number } {
    return { sink: this.#sinkModule, desktopLoopback: this.#desktopLoopback, micLoopback: this.#micLoopback };
  }

  /** Unloads the loopbacks and the mix sink. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    clearInterval(this.#recheck);
    for (const t of this.#timers) clearTimeout(t);
    const sub = this.#subscriber;
    this.#subscriber = null;
    sub?.kill('SIGTERM');
    await this.#checking?.catch(() => undefined);
    for (const m of [this.#micLoopback, this.#desktopLoopback, this.#sinkModule]) {
      if (m < 0) continue;
      try {
        await this.#pactl.unloadModule(m);
      } catch (err) {
        if (err instanceof SoundServerUnreachableError) return;
        log.warn(`could not unload module #${m}: ${(err as Error).message}; \`deskcast --repair\` removes leftovers`);
      }
    }
  }

  /** Brings the sink and both loopbacks to where they should be; concurrent calls coalesce. */
  #check(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#checking) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      try {
        do {
          this.#checkAgain = false;
          await this.#checkOnce();
        } while (this.#checkAgain && !this.#closed);
      } finally {
        this.#checking = null;
      }
    })();
    return this.#checking;
  }

  async #checkOnce(): Promise<void> {
    const [modules, sources] = await Promise.all([this.#pactl.listModules(), this.#pactl.listSources()]);
    const loaded = new Set(modules.map((m) => m.index));
    if (!loaded.has(this.#sinkModule)) {
      // First run, or the sound server restarted: everything is gone.
      this.#sinkModule = this.#desktopLoopback = this.#micLoopback = -1;
      await this.#loadSink(modules);
    }
    if (!loaded.has(this.#desktopLoopback) || this.#desktopLoopback < 0) {
      this.#desktopLoopback = -1;
      this.#desktopSource = this.#options.desktopSource || `${(await this.#pactl.getDefaultSink()) ?? ''}.monitor`;
      if (this.#desktopSource === this.monitorSource || !sources.some((s) => s.name === this.#desktopSource)) {
        log.warn(`the desktop sound source '${this.#desktopSource}' does not exist (yet); retrying`);
      } else {
        this.#desktopLoopback = await this.#loadLoopback(this.#desktopSource, 'desktop sound');
      }
    }
    if (this.#micLoopback >= 0 && !loaded.has(this.#micLoopback)) this.#micLoopback = -1;
    if (this.#micLoopback >= 0) return;

    // The microphone: the named source, else the default one; never a sink's monitor.
    const wanted = this.#options.micSource || (await this.#pactl.getDefaultSource()) || '';
    const source = sources.find((s) => s.name === wanted);
    let reason = '';
    if (!wanted) reason = 'the sound server has no default source (no microphone)';
    else if (!source) reason = `source '${wanted}' does not exist (unplugged?)`;
    else if (source.monitorOfSink !== null) reason = `the default source '${wanted}' is the monitor of sink '${source.monitorOfSink}', not a microphone (pass --mic-source NAME)`;
    if (reason) {
      // Name the microphone that was in the mix: when it goes, the server picks another default.
      const lost = this.#lastMic && this.#lastMic !== wanted && !sources.some((s) => s.name === this.#lastMic) ? `'${this.#lastMic}' disappeared; ` : '';
      this.#setMic({ state: 'gone', source: this.#lastMic || wanted || this.#mic.source, reason: `microphone gone: ${lost}${reason}; the desktop sound goes on` });
      return;
    }
    this.#lastMic = wanted;
    this.#micLoopback = await this.#loadLoopback(wanted, 'microphone');
    const input = (await this.#pactl.listSinkInputs()).find((i) => i.ownerModule === this.#micLoopback);
    if (input && this.#options.micVolumePercent !== 100) await this.#pactl.setSinkInputVolume(input.index, this.#options.micVolumePercent);
    this.#setMic({ state: 'live', source: wanted, reason: '' });
  }

  async #loadSink(modules: { index: number; name: string; argument: string }[]): Promise<void> {
    // A sink of ours left by an earlier process with our PID: remove it first.
    for (const m of modules) {
      if (m.name === 'module-null-sink' && parseModuleArguments(m.argument)['sink_name'] === this.sinkName) await this.#pactl.unloadModule(m.index).catch(() => undefined);
    }
    const me = processIdentity(process.pid);
    const props =
      `device.description="deskcast broadcast mix (desktop + microphone)" deskcast.pid=${process.pid} ` +
      `deskcast.pid_start=${me.startTime ?? 'unknown'} deskcast.pidns=${me.pidNamespace ?? 'unknown'}`;
    const defaultSink = await this.#pactl.getDefaultSink();
    this.#sinkModule = await this.#pactl.loadModule(
      'module-null-sink',
      [`sink_name=${this.sinkName}`, 'rate=48000', 'channels=2', `sink_properties='${props}'`],
      'Check that the sound server supports module-null-sink (PulseAudio and pipewire-pulse do).',
    );
    // The mix must never become the presenter's default sink (it would swallow their sound).
    if (defaultSink && (await this.#pactl.getDefaultSink()) === this.sinkName) await this.#pactl.setDefaultSink(defaultSink);
  }

  async #loadLoopback(source: string, what: string): Promise<number> {
    return this.#pactl.loadModule(
      'module-loopback',
      [
        `source=${source}`,
        `sink=${this.sinkName}`,
        `latency_msec=${this.#options.latencyMs}`,
        'source_dont_move=true',
        'sink_dont_move=true',
        `sink_input_properties='media.name="deskcast: ${what} into the broadcast" deskcast.pid=${process.pid}'`,
      ],
      'Check that the sound server supports module-loopback (PulseAudio and pipewire-pulse do).',
    );
  }

  #setMic(next: MicStatus): void {
    const prev = this.#mic;
    this.#mic = next;
    if (prev.state === next.state && prev.reason === next.reason && prev.source === next.source) return;
    if (next.state === 'live') log.info(`microphone '${next.source}' is mixed into the broadcast`);
    else log.warn(next.reason);
    this.emit('micChanged', this.mic);
  }

  #subscribe(): void {
    if (this.#closed) return;
    const child = this.#pactl.subscribe(
      (event) => {
        const ours = event.facility === 'module' && event.type === 'remove' && [this.#sinkModule, this.#desktopLoopback, this.#micLoopback].includes(event.index);
        const sources = event.facility === 'source' && event.type !== 'change';
        const defaults = event.facility === 'server' && event.type === 'change' && this.#mic.state === 'gone';
        if (ours || sources || defaults) void this.#check().catch((err: unknown) => this.#checkFailed(err));
      },
      (detail) => {
        if (this.#closed || this.#subscriber !== child) return;
        this.#subscriber = null;
        log.debug(`mic mixer lost the sound server ${serverLabel(this.#pactl.connection)}: ${detail}; retrying`);
        const t = setTimeout(() => {
          this.#timers.delete(t);
          this.#subscribe();
          void this.#check().catch((err: unknown) => this.#checkFailed(err));
        }, 1000);
        this.#timers.add(t);
      },
    );
    this.#subscriber = child;
  }

  #checkFailed(err: unknown): void {
    if (this.#closed || err instanceof SoundServerUnreachableError) return; // retried on reconnect
    log.warn(`mixing the microphone failed: ${(err as Error).message}; retrying`);
  }
}
