/** Numbers for the overlay, from one getStats() report and the previous sample. */
export interface OverlaySample {
  at: number;
  bytesReceived: number;
  width: number;
  height: number;
  fps: number;
  framesDecoded: number;
  roundTripMs: number | undefined;
  kbps: number;
  /** Cumulative receiver counters (inbound-rtp), for per-second deltas. */
  totals: ReceiverTotals;
  /** Per-frame receiver delays over the last interval, ms (undefined: no frames). */
  jitterBufferMs: number | undefined;
  assemblyMs: number | undefined;
  decodeMs: number | undefined;
  processingMs: number | undefined;
  /** abs-capture-time → playout of the latest frame, ms (the server's capture to the screen). */
  captureToPlayoutMs: number | undefined;
}

interface ReceiverTotals {
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  totalAssemblyTime: number;
  framesAssembledFromMultiplePackets: number;
  totalDecodeTime: number;
  totalProcessingDelay: number;
  framesDecoded: number;
}

/** Mean ms per item of a cumulative seconds counter between two samples. */
function perItemMs(seconds: number, prevSeconds: number | undefined, count: number, prevCount: number | undefined): number | undefined {
  const items = count - (prevCount ?? 0);
  return items > 0 ? ((seconds - (prevSeconds ?? 0)) * 1000) / items : undefined;
}

export function sampleStats(report: RTCStatsReport, previous: OverlaySample | undefined, captureToPlayoutMs?: number): OverlaySample {
  let bytesReceived = 0;
  let width = 0;
  let height = 0;
  let fps = 0;
  let framesDecoded = 0;
  let roundTripMs: number | undefined;
  const totals: ReceiverTotals = {
    jitterBufferDelay: 0, jitterBufferEmittedCount: 0, totalAssemblyTime: 0, framesAssembledFromMultiplePackets: 0,
    totalDecodeTime: 0, totalProcessingDelay: 0, framesDecoded: 0,
  };
  report.forEach((stat: Record<string, unknown> & { type: string }) => {
    if (stat.type === 'inbound-rtp') {
      bytesReceived += Number(stat['bytesReceived'] ?? 0);
      if (stat['kind'] === 'video') {
        width = Number(stat['frameWidth'] ?? 0);
        height = Number(stat['frameHeight'] ?? 0);
        fps = Number(stat['framesPerSecond'] ?? 0);
        framesDecoded = Number(stat['framesDecoded'] ?? 0);
        for (const key of Object.keys(totals) as (keyof ReceiverTotals)[]) totals[key] = Number(stat[key] ?? 0);
      }
    } else if (stat.type === 'candidate-pair' && stat['nominated'] && stat['currentRoundTripTime'] !== undefined) {
      roundTripMs = Number(stat['currentRoundTripTime']) * 1000;
    }
  });
  const at = performance.now();
  const kbps = previous && at > previous.at ? ((bytesReceived - previous.bytesReceived) * 8) / (at - previous.at) : 0;
  const p = previous?.totals;
  return {
    at, bytesReceived, width, height, fps, framesDecoded, roundTripMs, kbps: Math.max(0, kbps), totals,
    jitterBufferMs: perItemMs(totals.jitterBufferDelay, p?.jitterBufferDelay, totals.jitterBufferEmittedCount, p?.jitterBufferEmittedCount),
    assemblyMs: perItemMs(totals.totalAssemblyTime, p?.totalAssemblyTime, totals.framesAssembledFromMultiplePackets, p?.framesAssembledFromMultiplePackets),
    decodeMs: perItemMs(totals.totalDecodeTime, p?.totalDecodeTime, totals.framesDecoded, p?.framesDecoded),
    processingMs: perItemMs(totals.totalProcessingDelay, p?.totalProcessingDelay, totals.framesDecoded, p?.framesDecoded),
    captureToPlayoutMs,
  };
}

const ms = (v: number | undefined): string => (v === undefined ? '–' : `${v.toFixed(1)} ms`);

export function formatSample(s: OverlaySample, encoder: string): string {
  return [
    `${s.width}×${s.height}  ${s.fps.toFixed(0)} fps`,
    `${(s.kbps / 1000).toFixed(2)} Mb/s`,
    `RTT ${s.roundTripMs === undefined ? '–' : `${s.roundTripMs.toFixed(0)} ms`}`,
    `capture→screen ${ms(s.captureToPlayoutMs)}`,
    `jitter buffer ${ms(s.jitterBufferMs)}  assembly ${ms(s.assemblyMs)}`,
    `decode ${ms(s.decodeMs)}  receive→render ${ms(s.processingMs)}`,
    encoder ? `encoder ${encoder}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
