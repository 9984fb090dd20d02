// --audio-app NAME: broadcast one application's sound instead of the whole desktop's.
//
// It creates a deskcast-owned null sink `deskcast_app_<pid>` (the PID is what --repair checks),
// loops that sink's monitor back to the presenter's real default sink (so the presenter keeps
// hearing the app), and moves every playback stream whose application.name equals NAME
// (case-insensitive) into it, now and whenever one appears. deskcast captures
// `deskcast_app_<pid>.monitor` (see monitorSource).
//
// New streams are found with `pactl subscribe` (one long-lived pactl; it reports a new stream
// within milliseconds, so almost none of its first sound reaches the presenter's speakers only,
// and it costs nothing while idle), plus a safety re-scan every 5 s for events lost while
// subscribe (re)connects. Polling every 500 ms instead would run two pactl processes a second
// forever and leak up to half a second of every new stream to the wrong sink.
//
// If the sound server restarts, subscribe reconnects every second and the sink and loopback are
// created again; the native capture reconnects to the same source name by itself.
import { type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createLogger } from '../util/logger.js';
import { AudioError, AudioRouterError, SoundServerUnreachableError } from './errors.js';
import { Pactl, serverLabel, type PulseConnection, type PulseSinkInput } from './pactl.js';
import { processIdentity } from './processIdentity.js';

const log = createLogger('audio');

export const APP_SINK_PREFIX = 'deskcast_app_';

/** Name of the per-app sink of process `pid`. */
export function appSinkName(pid: number): string {
  return `${APP_SINK_PREFIX}${pid}`;
}

/** PID encoded in a per-app sink name, or null if `name` is not one. */
export function parseAppSinkName(name: string): number | null {
  const m = /^deskcast_app_(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

export interface PerAppAudioRouterOptions extends PulseConnection {
  /** application.name of the streams to broadcast, matched case-insensitively (e.g. 'Firefox', 'mpv'). */
  appName: string;
  /** Latency of the loopback to the presenter's speakers. Default 60 ms. */
  monitorLatencyMs?: number;
  /** Safety re-scan interval besides subscribe events. Default 5000 ms. */
  rescanMs?: number;
}

export interface RoutedStream {
  index: number;
  appName: string;
  mediaName: string;
}

export interface PerAppAudioRouterEvents {
  /** A stream of the app was moved into the broadcast sink. */
  moved: [RoutedStream];
  /** Something went wrong that the router works around or retries (server gone, a move refused). */
  warning: [AudioError];
}

export interface RouterCloseResult {
  /** Streams moved back to the default sink. */
  movedBack: number;
  /** Modules unloaded (loopback, sink). */
  unloadedModules: number[];
}

const SAFE_SINK_NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;

export class PerAppAudioRouter extends EventEmitter<PerAppAudioRouterEvents> {
  readonly appName: string;
  /** deskcast_app_<pid> */
  readonly sinkName: string;
  /** The source to capture: deskcast_app_<pid>.monitor */
  readonly monitorSource: string;

  readonly #pactl: Pactl;
  readonly #matchName: string;
  readonly #latencyMs: number;
  readonly #rescanMs: number;
  #presenterSink: string;
  #sinkModule = -1;
  #sinkIndex = -1;
  #loopbackModule = -1;
  #subscriber: ChildProcess | null = null;
  #resubscribeTimer: NodeJS.Timeout | null = null;
  #rescanTimer: NodeJS.Timeout | null = null;
  #scanning: Promise<void> | null = null;
  #scanAgain = false;
  #needsEnsure = false;
  #closed: Promise<RouterCloseResult> | null = null;
  #failedMoves = new Set<number>();
  #announcedWaiting = false;
  #serverLost = false;

  static async create(options: PerAppAudioRouterOptions): Promise<PerAppAudioRouter> {
    const appName = options.appName?.trim() ?? '';
    // eslint-disable-next-line no-control-regex
    if (!appName || appName.length > 200 || /[\x00-\x1f\x7f]/.test(appName)) {
      throw new AudioRouterError(
        `Invalid --audio-app '${options.appName}': give the application name as the sound server shows it ` +
          "(see `pactl list sink-inputs | grep application.name`), e.g. --audio-app Firefox.",
      );
    }
    const latency = options.monitorLatencyMs ?? 60;
    if (!(latency >= 10 && latency <= 2000)) throw new AudioRouterError('monitorLatencyMs must be between 10 and 2000.');
    const pactl = new Pactl(options);
    const presenterSink = await resolvePresenterSink(pactl);
    const router = new PerAppAudioRouter(pactl, appName, presenterSink, latency, options.rescanMs ?? 5000);
    await router.#ensureModules(true);
    try {
      router.#subscribe();
      await router.scan();
    } catch (err) {
      await router.close().catch(() => undefined); // leave nothing behind
      throw err;
    }
    router.#rescanTimer = setInterval(() => void router.scan().catch(() => undefined), router.#rescanMs);
    router.#rescanTimer.unref();
    log.info(
      `broadcasting only '${appName}': its streams go to '${router.sinkName}' (captured from '${router.monitorSource}') ` +
        `and loop back to '${presenterSink}' so you still hear them`,
    );
    return router;
  }

  private constructor(pactl: Pactl, appName: string, presenterSink: string, latencyMs: number, rescanMs: number) {
    super();
    this.#pactl = pactl;
    this.appName = appName;
    this.#matchName = appName.toLowerCase();
    this.#presenterSink = presenterSink;
    this.#latencyMs = latencyMs;
    this.#rescanMs = rescanMs;
    this.sinkName = appSinkName(process.pid);
    this.monitorSource = `${this.sinkName}.monitor`;
  }

  /** The sink the presenter listens on (the loopback's target). */
  get presenterSink(): string {
    return this.#presenterSink;
  }

  /** Module indexes this router loaded: [null sink, loopback]. */
  get modules(): { sink: number; loopback: number } {
    return { sink: this.#sinkModule, loopback: this.#loopbackModule };
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  /** Application names currently playing anywhere on the server (to help choose --audio-app). */
  async playingApps(): Promise<string[]> {
    const inputs = await this.#pactl.listSinkInputs();
    const names = new Set<string>();
    for (const i of inputs) {
      if (i.ownerModule === this.#loopbackModule) continue;
      const n = i.properties['application.name'];
      if (n) names.add(n);
    }
    return [...names].sort();
  }

  /** Moves every matching stream into the broadcast sink now. Runs by itself on events; concurrent calls coalesce. */
  scan(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#scanning) {
      this.#scanAgain = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      try {
        do {
          this.#scanAgain = false;
          await this.#scanOnce();
        } while (this.#scanAgain && !this.#closed);
      } finally {
        this.#scanning = null;
      }
    })();
    return this.#scanning;
  }

  /**
   * Moves the app's streams back to the default sink and unloads the loopback and the sink.
   * Idempotent. Call it on shutdown (SIGINT/SIGTERM); after a crash, `deskcast --repair` cleans up.
   */
  close(): Promise<RouterCloseResult> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<RouterCloseResult> {
    if (this.#rescanTimer) clearInterval(this.#rescanTimer);
    if (this.#resubscribeTimer) clearTimeout(this.#resubscribeTimer);
    const sub = this.#subscriber;
    this.#subscriber = null;
    sub?.kill('SIGTERM');
    await this.#scanning?.catch(() => undefined);
    const result: RouterCloseResult = { movedBack: 0, unloadedModules: [] };
    try {
      let target = await this.#pactl.getDefaultSink();
      if (!target || target === this.sinkName) target = this.#presenterSink;
      for (const input of await this.#pactl.listSinkInputs()) {
        if (input.sink !== this.#sinkIndex || input.ownerModule === this.#loopbackModule) continue;
        try {
          await this.#pactl.moveSinkInput(input.index, target);
          result.movedBack++;
        } catch (err) {
          log.warn(`could not move stream #${input.index} back to '${target}': ${(err as Error).message}`);
        }
      }
      for (const m of [this.#loopbackModule, this.#sinkModule]) {
        if (m < 0) continue;
        try {
          await this.#pactl.unloadModule(m);
          result.unloadedModules.push(m);
        } catch (err) {
          log.warn(`could not unload module #${m}: ${(err as Error).message}; \`deskcast --repair\` removes leftovers`);
        }
      }
      log.info(`stopped broadcasting '${this.appName}' only: moved ${result.movedBack} stream(s) back to '${target}', removed '${this.sinkName}'`);
    } catch (err) {
      if (!(err instanceof SoundServerUnreachableError)) throw err;
      log.info(`sound server gone while closing the '${this.appName}' router: nothing left to clean up`);
    }
    return result;
  }

  // ---- internals ----

  async #scanOnce(): Promise<void> {
    if (this.#needsEnsure) await this.#ensureModules(false);
    const inputs = await this.#pactl.listSinkInputs();
    if (this.#serverLost && this.#subscriber) {
      this.#serverLost = false;
      log.debug(`sound server is reachable again: routing '${this.appName}' through '${this.sinkName}'`);
    }
    let matched = 0;
    for (const input of inputs) {
      if (!this.#matches(input)) continue;
      matched++;
      if (input.sink === this.#sinkIndex) continue;
      if (this.#closed) return;
      try {
        await this.#pactl.moveSinkInput(input.index, this.sinkName);
        this.#failedMoves.delete(input.index);
        const routed: RoutedStream = {
          index: input.index,
          appName: input.properties['application.name'] ?? '',
          mediaName: input.properties['media.name'] ?? '',
        };
        log.info(`moved '${routed.appName}' stream #${routed.index} (${routed.mediaName || 'unnamed'}) into '${this.sinkName}'`);
        this.emit('moved', routed);
      } catch (err) {
        if (err instanceof SoundServerUnreachableError) throw err;
        // e.g. the stream ended meanwhile, or it was created with DONT_MOVE
        if (!this.#failedMoves.has(input.index)) {
          this.#failedMoves.add(input.index);
          const warning = new AudioRouterError(
            `Could not move '${this.appName}' stream #${input.index} into '${this.sinkName}': ${(err as Error).message}. ` +
              'If the stream still plays, restart it in the app; deskcast retries on the next change.',
          );
          log.warn(warning.message);
          this.emit('warning', warning);
        }
      }
    }
    if (matched === 0 && !this.#announcedWaiting) {
      this.#announcedWaiting = true;
      const others = [...new Set(inputs.filter((i) => i.ownerModule !== this.#loopbackModule).map((i) => i.properties['application.name']).filter(Boolean))];
      log.info(
        `no stream from '${this.appName}' is playing yet (playing now: ${others.length ? others.join(', ') : 'nothing'}); ` +
          'it is captured as soon as it starts',
      );
    } else if (matched > 0) {
      this.#announcedWaiting = false;
    }
  }

  #matches(input: PulseSinkInput): boolean {
    if (input.ownerModule !== null && input.ownerModule === this.#loopbackModule) return false;
    return (input.properties['application.name'] ?? '').trim().toLowerCase() === this.#matchName;
  }

  /** Loads the sink and the loopback, or re-creates them after the server lost them (restart). */
  async #ensureModules(initial: boolean): Promise<void> {
    await this.#loadModules(initial);
    this.#needsEnsure = false; // only once it worked: a failure is retried on the next scan
  }

  async #loadModules(initial: boolean): Promise<void> {
    const sinks = await this.#pactl.listSinks();
    const existing = sinks.find((s) => s.name === this.sinkName);
    const me = processIdentity(process.pid);
    if (existing) {
      const sameProcess = existing.properties['deskcast.pid_start'] === (me.startTime ?? 'unknown');
      if (initial && sameProcess) {
        throw new AudioRouterError(
          `This process already routes audio through '${this.sinkName}': close() the other PerAppAudioRouter first.`,
        );
      }
      if (!initial && sameProcess && existing.ownerModule === this.#sinkModule) {
        this.#sinkIndex = existing.index;
        if ((await this.#pactl.listModules()).some((m) => m.index === this.#loopbackModule)) return;
        await this.#loadLoopback();
        return;
      }
      // Left over by an earlier process that had our PID: remove it.
      if (existing.ownerModule !== null) {
        log.warn(`removing stale '${this.sinkName}' (module #${existing.ownerModule}) left by an earlier process with PID ${process.pid}`);
        await this.#pactl.unloadModule(existing.ownerModule);
      }
    }
    if (!initial) {
      // The server restarted: the presenter's default sink may be a different one now.
      this.#presenterSink = await resolvePresenterSink(this.#pactl);
      log.info(`sound server is back: re-creating '${this.sinkName}' and its loopback to '${this.#presenterSink}'`);
    }
    const description = `deskcast broadcast of ${safeText(this.appName)}`;
    const props =
      `device.description="${description}" deskcast.pid=${process.pid} deskcast.pid_start=${me.startTime ?? 'unknown'} ` +
      `deskcast.pidns=${me.pidNamespace ?? 'unknown'} deskcast.app="${safeText(this.appName)}"`;
    this.#sinkModule = await this.#pactl.loadModule(
      'module-null-sink',
      [`sink_name=${this.sinkName}`, 'rate=48000', 'channels=2', `sink_properties='${props}'`],
      `Check that the sound server supports module-null-sink (PulseAudio and pipewire-pulse do).`,
    );
    try {
      const sink = (await this.#pactl.listSinks()).find((s) => s.name === this.sinkName);
      if (!sink) throw new AudioRouterError(`The sound server loaded module #${this.#sinkModule} but shows no sink '${this.sinkName}'.`);
      this.#sinkIndex = sink.index;
      // A new sink must not become the presenter's default (it would swallow all their sound).
      if ((await this.#pactl.getDefaultSink()) === this.sinkName) await this.#pactl.setDefaultSink(this.#presenterSink);
      await this.#loadLoopback();
    } catch (err) {
      await this.#pactl.unloadModule(this.#sinkModule).catch(() => undefined);
      this.#sinkModule = -1;
      throw err;
    }
  }

  async #loadLoopback(): Promise<void> {
    const props = `media.name="deskcast: ${safeText(this.appName)} to your speakers" deskcast.pid=${process.pid}`;
    this.#loopbackModule = await this.#pactl.loadModule(
      'module-loopback',
      [
        `source=${this.monitorSource}`,
        `sink=${this.#presenterSink}`,
        `latency_msec=${this.#latencyMs}`,
        'source_dont_move=true',
        `sink_input_properties='${props}'`,
      ],
      `Check that the sound server supports module-loopback (PulseAudio and pipewire-pulse do).`,
    );
  }

  #subscribe(): void {
    if (this.#closed) return;
    const child = this.#pactl.subscribe(
      (event) => {
        if (event.facility === 'sink-input' && (event.type === 'new' || event.type === 'change')) {
          void this.scan().catch((err: unknown) => this.#scanFailed(err));
        } else if (event.type === 'remove' && ((event.facility === 'sink' && event.index === this.#sinkIndex) || (event.facility === 'module' && (event.index === this.#sinkModule || event.index === this.#loopbackModule)))) {
          // someone unloaded our sink or loopback: put it back
          this.#needsEnsure = true;
          void this.scan().catch((err: unknown) => this.#scanFailed(err));
        }
      },
      (detail) => {
        if (this.#closed || this.#subscriber !== child) return;
        this.#subscriber = null;
        this.#needsEnsure = true;
        if (!this.#serverLost) {
          // warn once per outage, not on every retry
          this.#serverLost = true;
          const warning = new AudioRouterError(
            `Lost the sound server ${serverLabel(this.#pactl.connection)} (${detail}); '${this.appName}' is re-routed when it is back (retrying every 1 s).`,
          );
          log.warn(warning.message);
          this.emit('warning', warning);
        } else {
          log.debug(`sound server still unreachable: ${detail}`);
        }
        this.#resubscribeTimer = setTimeout(() => this.#resubscribe(), 1000);
      },
    );
    this.#subscriber = child;
  }

  #resubscribe(): void {
    this.#resubscribeTimer = null;
    if (this.#closed) return;
    this.#subscribe();
    void this.scan().catch((err: unknown) => this.#scanFailed(err));
  }

  #scanFailed(err: unknown): void {
    if (this.#closed) return;
    // Server gone: the subscriber's exit handler reports it and retries. Anything else: warn.
    if (err instanceof SoundServerUnreachableError) {
      this.#needsEnsure = true;
      return;
    }
    const warning = err instanceof AudioError ? err : new AudioRouterError(`Routing '${this.appName}' failed: ${String(err)}`);
    log.warn(warning.message);
    this.emit('warning', warning);
  }
}

/** The sink the presenter hears: the default sink, unless that is a deskcast sink. */
async function resolvePresenterSink(pactl: Pactl): Promise<string> {
  let sink = await pactl.getDefaultSink();
  if (sink && parseAppSinkName(sink) !== null) {
    // An orphaned deskcast sink became the default: loop back to a real one instead.
    sink = (await pactl.listSinks()).find((s) => parseAppSinkName(s.name) === null)?.name ?? null;
  }
  if (!sink) {
    throw new AudioRouterError(
      `The sound server ${serverLabel(pactl.connection)} has no default sink to play the app's sound back on. ` +
        'Set one with `pactl set-default-sink NAME` (`pactl list short sinks` lists them).',
    );
  }
  if (!SAFE_SINK_NAME.test(sink)) {
    throw new AudioRouterError(`The default sink's name '${sink}' has characters deskcast cannot pass to module-loopback; choose another with \`pactl set-default-sink\`.`);
  }
  return sink;
}

/** Text safe inside a double-quoted proplist value inside a single-quoted module argument. */
function safeText(text: string): string {
  return text.replace(/["'\\]/g, '').replace(/\s+/g, ' ').slice(0, 80);
}
