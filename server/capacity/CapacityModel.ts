// How many viewers this host carries: pure arithmetic over measured inputs (upstream, bitrates,
// packet sizes, per-viewer CPU). No I/O here; server/capacity/Capacity.ts feeds it.

/** Bytes added to every RTP payload on the wire to a viewer. */
export const PACKET_OVERHEAD_BYTES = {
  /** IPv4 header (IPv6 would be 40; viewers are overwhelmingly reached over IPv4). */
  ip: 20,
  /** UDP header. */
  udp: 8,
  /** Fixed RTP header. */
  rtp: 12,
  /**
   * RTP header extensions mediasoup writes on consumer packets: the one-byte-header block (4)
   * with mid, abs-send-time and transport-wide-cc (2+3+4+3 with ids, padded to 4) ≈ 16.
   */
  rtpExtensions: 16,
  /** SRTP authentication tag (AES_CM_128_HMAC_SHA1_80: 10 bytes; AEAD-GCM would be 16). */
  srtpTag: 10,
} as const;

/** The sum of PACKET_OVERHEAD_BYTES: 66 bytes per packet. */
export const PER_PACKET_OVERHEAD_BYTES = Object.values(PACKET_OVERHEAD_BYTES).reduce((a, b) => a + b, 0);

/**
 * RTP payload bytes per packet until measured from the ingest producer's stats: the native
 * packetizer fills video packets up to 1200 bytes (kDefaultMaxRtpPayload) and most of a frame
 * at 3 Mb/s / 30 fps (12.5 kB) travels in full packets; Opus at 128 kb/s in 20 ms frames is
 * 320 bytes.
 */
export const DEFAULT_PAYLOAD_BYTES = { video: 1100, audio: 320 } as const;

/**
 * Extra bandwidth for retransmissions (NACK → RTX, each resent packet also carries a 2-byte
 * OSN), keyframes sent on PLI on top of the encoder's average rate, and RTCP (RFC 3550 keeps
 * it at most 5 % of the session): 10 %.
 */
export const RETRANSMISSION_ALLOWANCE = 0.1;

/**
 * Share of the upstream kept free: the encoder overshoots its target on busy scenes, other
 * traffic shares the link (signaling, the page, the machine's own), and a link run near 100 %
 * queues and then drops for everyone (§3d: at 20 Mb/s, the seventh 2.9 Mb/s viewer — 101 % —
 * pushed 9–12 % loss onto all). 20 %.
 */
export const SAFETY_MARGIN = 0.2;

/** Upstream assumed when none was given or measured (Mb/s): the low end of home broadband uploads. */
export const DEFAULT_UPSTREAM_MBPS = 10;

/**
 * mediasoup worker CPU per viewer (fraction of one core) until measured on this host:
 * §3d measured 0.2 % per viewer (video + audio consumers) here; 2.5× that, for slower cores.
 */
export const DEFAULT_CPU_PER_VIEWER = 0.005;

/** Share of each worker's core viewers may use; the rest absorbs keyframe bursts and pipes. */
export const CPU_HEADROOM = 0.8;

export interface StreamLoad {
  /** Encoder bitrate, kb/s (0 when the stream is off). */
  kbps: number;
  /** Average RTP payload bytes per packet. */
  payloadBytes: number;
}

/** Wire kb/s one viewer needs for one stream: the payload plus per-packet overhead. */
export function wireKbps(stream: StreamLoad): number {
  if (stream.kbps <= 0) return 0;
  const payload = Math.max(1, stream.payloadBytes);
  return stream.kbps * (1 + PER_PACKET_OVERHEAD_BYTES / payload);
}

/**
 * kb/s of upstream to reserve per viewer:
 * (video + audio) × (1 + overhead at the packet sizes) × (1 + retransmissions) / (1 − margin).
 */
export function perViewerKbps(video: StreamLoad, audio: StreamLoad): number {
  return ((wireKbps(video) + wireKbps(audio)) * (1 + RETRANSMISSION_ALLOWANCE)) / (1 - SAFETY_MARGIN);
}

/** Viewers the upstream carries. */
export function upstreamViewers(upstreamMbps: number, video: StreamLoad, audio: StreamLoad): number {
  const per = perViewerKbps(video, audio);
  return per > 0 ? Math.floor((upstreamMbps * 1000) / per) : Number.MAX_SAFE_INTEGER;
}

/** Viewers the workers' CPU carries at `cpuPerViewer` (fraction of a core) each. */
export function cpuViewers(workers: number, cpuPerViewer: number): number {
  return Math.floor((workers * CPU_HEADROOM) / Math.max(1e-4, cpuPerViewer));
}

export type BindingLimit = 'max-viewers' | 'upstream' | 'cpu';

export interface CapacityLimits {
  maxViewers: number;
  upstream: number;
  cpu: number;
}

/** The cap in force and which limit binds (ties: max-viewers, then upstream, then cpu). */
export function capInForce(limits: CapacityLimits): { cap: number; binding: BindingLimit } {
  let best: { cap: number; binding: BindingLimit } = { cap: limits.maxViewers, binding: 'max-viewers' };
  if (limits.upstream < best.cap) best = { cap: limits.upstream, binding: 'upstream' };
  if (limits.cpu < best.cap) best = { cap: limits.cpu, binding: 'cpu' };
  return best;
}
