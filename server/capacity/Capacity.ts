import { Gauge } from 'prom-client';
import type { CapacityStatus } from '../../shared/protocol.js';
import { registry } from '../metrics/registry.js';
import type { ModuleHealth } from '../health/health.js';
import { createLogger } from '../util/logger.js';
import type { AdmissionPolicy } from '../viewers/AdmissionPolicy.js';
import {
  cpuViewers,
  DEFAULT_CPU_PER_VIEWER,
  DEFAULT_PAYLOAD_BYTES,
  perViewerKbps,
  upstreamViewers,
  type StreamLoad,
} from './CapacityModel.js';
import { EgressGuard } from './EgressGuard.js';
import { EgressMeter, type SentCounter } from './EgressMeter.js';
import type { Upstream } from './UpstreamBandwidth.js';

const log = createLogger('capacity');

const SAMPLE_INTERVAL_MS = 2000;
/** Per-viewer CPU is measured only with at least this many viewers (fewer: the worker's base cost dominates). */
const MIN_VIEWERS_FOR_CPU = 4;
/** Measured packet sizes replace the defaults only from a stream at this share of its configured bitrate or more. */
const REPRESENTATIVE_SHARE = 0.5;
/** Weight of a new CPU sample in the running average. */
const CPU_EWMA = 0.2;

/** What the capacity module reads from the running server each sample. */
export interface CapacityProbe {
  /** CPU ms (user + system) each mediasoup worker has used since it started, by worker index. */
  workerCpuMs(): Promise<number[]>;
  /** Admitted viewers now. */
  viewers(): number;
  /** Each admitted viewer's transport byte counter, and each one's receiver-reported video loss (0–1). */
  viewerStats(): Promise<{ sent: SentCounter[]; losses: number[] }>;
  /** Average RTP payload bytes per packet of an ingest stream and its bitrate now, kb/s (undefined before any packet). */
  ingestLoad(kind: 'video' | 'audio'): Promise<{ payloadBytes: number; kbps: number } | undefined>;
}

export interface CapacityOptions {
  upstream: Upstream;
  admission: AdmissionPolicy;
  workers: number;
  videoKbps: number;
  /** 0 with --no-audio. */
  audioKbps: number;
  probe: CapacityProbe;
}

const metrics = {
  cap: new Gauge({ name: 'deskcast_capacity_viewers', help: 'The viewer cap in force: min of the limits below.', registers: [registry] }),
  limit: new Gauge({ name: 'deskcast_capacity_limit_viewers', help: 'Viewers each limit allows.', labelNames: ['limit'] as const, registers: [registry] }),
  binding: new Gauge({ name: 'deskcast_capacity_binding', help: '1 for the limit that sets the cap.', labelNames: ['limit'] as const, registers: [registry] }),
  upstream: new Gauge({ name: 'deskcast_upstream_mbps', help: 'Upstream bandwidth in force, Mb/s.', labelNames: ['source'] as const, registers: [registry] }),
  perViewer: new Gauge({ name: 'deskcast_capacity_per_viewer_kbps', help: 'Upstream reserved per viewer, kb/s.', registers: [registry] }),
  cpuPerViewer: new Gauge({ name: 'deskcast_worker_cpu_per_viewer', help: 'mediasoup worker CPU per viewer, fraction of a core.', labelNames: ['source'] as const, registers: [registry] }),
  egress: new Gauge({ name: 'deskcast_egress_mbps', help: 'Media sent to viewers, Mb/s (last sample).', registers: [registry] }),
  paused: new Gauge({ name: 'deskcast_admission_paused', help: '1 while the live guard pauses admissions (uplink saturated).', registers: [registry] }),
};

/**
 * How many viewers this host serves: the cap from the upstream, the bitrates and the measured
 * packet sizes and per-viewer worker CPU, plus the live guard. Samples every 2 s.
 */
export class Capacity {
  readonly #o: CapacityOptions;
  readonly #guard = new EgressGuard();
  readonly #timer: NodeJS.Timeout;
  #payload: { video: number; audio: number } = { ...DEFAULT_PAYLOAD_BYTES };
  #cpuPerViewer = DEFAULT_CPU_PER_VIEWER;
  #cpuMeasured = false;
  #idleCores: number | undefined;
  #last: { at: number; cpuMs: number } | undefined;
  readonly #egress = new EgressMeter();
  #egressMbps = 0;
  #saturated = '';
  #lastLogged = '';
  #sampling = false;

  constructor(options: CapacityOptions) {
    this.#o = options;
    this.#timer = setInterval(() => void this.#sample(), SAMPLE_INTERVAL_MS);
    this.#timer.unref();
    this.#publish();
  }

  /** The admin changes --max-viewers at run time (viewers already in stay). */
  setMaxViewers(maxViewers: number): CapacityStatus {
    this.#o.admission.maxViewers = maxViewers;
    this.changed();
    return this.status();
  }

  status(): CapacityStatus {
    const limits = this.#limits();
    const { cap, binding } = this.#o.admission.cap(limits);
    return {
      cap,
      binding,
      watching: this.#o.probe.viewers(),
      limits: { maxViewers: this.#o.admission.maxViewers, upstream: limits.upstream, cpu: limits.cpu },
      upstreamMbps: this.#o.upstream.mbps,
      upstreamSource: this.#o.upstream.source,
      upstreamDetail: this.#o.upstream.detail,
      perViewerKbps: Math.round(this.#perViewerKbps()),
      cpuPerViewer: this.#cpuPerViewer,
      cpuMeasured: this.#cpuMeasured,
      egressMbps: Math.round(this.#egressMbps * 100) / 100,
      paused: this.#saturated,
    };
  }

  health(): ModuleHealth {
    return this.#saturated ? { status: 'degraded', reason: `admissions paused: ${this.#saturated}` } : { status: 'ok', reason: '' };
  }

  /** One line for the log: the cap and what binds it. */
  summary(): string {
    const s = this.status();
    return (
      `viewer cap ${s.cap} (bound by ${s.binding}): --max-viewers ${s.limits.maxViewers}, upstream ${s.limits.upstream} ` +
      `(${s.upstreamMbps} Mb/s, ${s.upstreamSource}, ${s.perViewerKbps} kb/s per viewer), CPU ${s.limits.cpu} ` +
      `(${(100 * s.cpuPerViewer).toFixed(2)} % of a core per viewer, ${s.cpuMeasured ? 'measured' : 'default until measured'}, ${this.#o.workers} workers)`
    );
  }

  /** Re-publishes after a change (e.g. the admin set --max-viewers). */
  changed(): void {
    this.#publish();
    log.info(this.summary());
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #streams(): { video: StreamLoad; audio: StreamLoad } {
    return {
      video: { kbps: this.#o.videoKbps, payloadBytes: this.#payload.video },
      audio: { kbps: this.#o.audioKbps, payloadBytes: this.#payload.audio },
    };
  }

  #perViewerKbps(): number {
    const { video, audio } = this.#streams();
    return perViewerKbps(video, audio);
  }

  #limits(): { maxViewers: number; upstream: number; cpu: number } {
    const { video, audio } = this.#streams();
    return {
      maxViewers: this.#o.admission.maxViewers,
      upstream: upstreamViewers(this.#o.upstream.mbps, video, audio),
      cpu: cpuViewers(this.#o.workers, this.#cpuPerViewer),
    };
  }

  async #sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const probe = this.#o.probe;
      const [cpu, stats, video, audio] = await Promise.all([probe.workerCpuMs(), probe.viewerStats(), probe.ingestLoad('video'), probe.ingestLoad('audio')]);
      // Packet sizes count only while the stream runs near its configured bitrate: a static
      // screen sends small packets at a fraction of the bitrate, which says nothing about the
      // packets of a busy screen at full rate (the case the cap must hold for).
      if (video && video.kbps >= REPRESENTATIVE_SHARE * this.#o.videoKbps) this.#payload.video = video.payloadBytes;
      if (audio && audio.kbps >= REPRESENTATIVE_SHARE * this.#o.audioKbps) this.#payload.audio = audio.payloadBytes;
      const now = Date.now();
      const cpuMs = cpu.reduce((a, b) => a + b, 0);
      const viewers = probe.viewers();
      const last = this.#last;
      this.#last = { at: now, cpuMs };
      const bytes = this.#egress.sentSince(stats.sent);
      if (last && now > last.at) {
        // A worker restart resets its CPU counter: a negative delta counts as none.
        const cores = Math.max(0, cpuMs - last.cpuMs) / (now - last.at);
        this.#egressMbps = (bytes * 8) / ((now - last.at) * 1000);
        if (viewers === 0) this.#idleCores = this.#idleCores === undefined ? cores : this.#idleCores * 0.8 + cores * 0.2;
        else if (viewers >= MIN_VIEWERS_FOR_CPU) {
          const perViewer = Math.max(0, cores - (this.#idleCores ?? 0)) / viewers;
          this.#cpuPerViewer = this.#cpuMeasured ? this.#cpuPerViewer * (1 - CPU_EWMA) + perViewer * CPU_EWMA : Math.max(perViewer, 1e-4);
          this.#cpuMeasured = true;
        }
        const was = this.#saturated;
        this.#saturated = this.#guard.update({ at: now, egressMbps: this.#egressMbps, upstreamMbps: this.#o.upstream.mbps, losses: stats.losses });
        if (this.#saturated && !was) log.warn(`new viewers wait: the uplink looks saturated (${this.#saturated}); ${viewers} keep watching`);
        if (!this.#saturated && was) log.info('the uplink recovered: admissions resume');
      }
      this.#publish();
      const line = this.summary();
      const key = `${this.status().cap}/${this.status().binding}`;
      if (key !== this.#lastLogged) {
        if (this.#lastLogged) log.info(line);
        this.#lastLogged = key;
      }
    } catch (err) {
      log.debug(`capacity sample failed: ${(err as Error).message}`);
    } finally {
      this.#sampling = false;
    }
  }

  /** Hands the limits to admission and the figures to /metrics. */
  #publish(): void {
    const { upstream, cpu } = this.#limits();
    this.#o.admission.setMeasured({ limits: { upstream, cpu }, saturated: this.#saturated || undefined });
    const s = this.status();
    metrics.cap.set(s.cap);
    for (const [limit, value] of [['max-viewers', s.limits.maxViewers], ['upstream', s.limits.upstream], ['cpu', s.limits.cpu]] as const) {
      metrics.limit.set({ limit }, value);
      metrics.binding.set({ limit }, limit === s.binding ? 1 : 0);
    }
    metrics.upstream.reset();
    metrics.upstream.set({ source: s.upstreamSource }, s.upstreamMbps);
    metrics.perViewer.set(s.perViewerKbps);
    metrics.cpuPerViewer.reset();
    metrics.cpuPerViewer.set({ source: s.cpuMeasured ? 'measured' : 'default' }, s.cpuPerViewer);
    metrics.egress.set(s.egressMbps);
    metrics.paused.set(s.paused ? 1 : 0);
  }
}
