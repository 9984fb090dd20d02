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
}

export function sampleStats(report: RTCStatsReport, previous: OverlaySample | undefined): OverlaySample {
  let bytesReceived = 0;
  let width = 0;
  let height = 0;
  let fps = 0;
  let framesDecoded = 0;
  let roundTripMs: number | undefined;
  report.forEach((stat: Record<string, unknown> & { type: string }) => {
    if (stat.type === 'inbound-rtp') {
      bytesReceived += Number(stat['bytesReceived'] ?? 0);
      if (stat['kind'] === 'video') {
        width = Number(stat['frameWidth'] ?? 0);
        height = Number(stat['frameHeight'] ?? 0);
        fps = Number(stat['framesPerSecond'] ?? 0);
        framesDecoded = Number(stat['framesDecoded'] ?? 0);
      }
    } else if (stat.type === 'candidate-pair' && stat['nominated'] && stat['currentRoundTripTime'] !== undefined) {
      roundTripMs = Number(stat['currentRoundTripTime']) * 1000;
    }
  });
  const at = performance.now();
  const kbps = previous && at > previous.at ? ((bytesReceived - previous.bytesReceived) * 8) / (at - previous.at) : 0;
  return { at, bytesReceived, width, height, fps, framesDecoded, roundTripMs, kbps: Math.max(0, kbps) };
}

export function formatSample(s: OverlaySample, encoder: string): string {
  return [
    `${s.width}×${s.height}  ${s.fps.toFixed(0)} fps`,
    `${(s.kbps / 1000).toFixed(2)} Mb/s`,
    `RTT ${s.roundTripMs === undefined ? '–' : `${s.roundTripMs.toFixed(0)} ms`}`,
    encoder ? `encoder ${encoder}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
