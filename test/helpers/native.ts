// Loads the native addon for tests and benchmarks, with the test-only `__test` exports typed.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { NativeAddon, NativeVideoEvent, NativeVideoStats, VideoSessionOptions } from '../../server/native/nativeAddon.js';

export type { NativeAddon, NativeVideoEvent, NativeVideoStats, VideoSessionOptions };

export interface RtcpFeedbackSummary {
  malformed: boolean;
  isRtcp: boolean;
  packets: number;
  senderReports: number;
  receiverReports: number;
  pli: number;
  fir: number;
  nack: number;
  ignoredFeedback: number;
  lastFirSeq: number;
}

export interface DecodedFrame {
  width: number;
  height: number;
  keyFrame: boolean;
  /** Y, U, V samples at the picture's center */
  y: number;
  u: number;
  v: number;
}

export interface NativeTestBindings {
  packetize(annexB: Buffer, maxPayload?: number, opts?: { ssrc?: number; payloadType?: number; sequenceNumber?: number; timestamp?: number }): Buffer[];
  splitAnnexB(annexB: Buffer): Buffer[];
  parseRtcp(datagram: Buffer, ourSsrc: number): RtcpFeedbackSummary;
  buildSr(sr: { ssrc: number; ntpTimestamp?: bigint; rtpTimestamp: number; packetCount: number; octetCount: number; cname: string }): Buffer;
  mediaClock(monoNs?: bigint): { monoNs: bigint; epochMonoNs: bigint; ntp: bigint; rtp90k: number; rtp48k: number };
  decodeH264(accessUnits: Buffer[]): DecodedFrame[];
  vp8Packetize(frames: Buffer[], maxPayload?: number, opts?: { ssrc?: number; payloadType?: number; sequenceNumber?: number; pictureId?: number; timestamp?: number }): Buffer[];
  vp8Encode(opts: { width?: number; height?: number; frames?: number; forceKeyframeAt?: number[]; bitrateKbps?: number }): { data: Buffer; keyframe: boolean }[];
  /** A screen source driven synchronously (tests only): capture backends without the encoder. */
  openScreenSource(options: { capture: string; display?: string; waylandDisplay?: string; output?: string; drawCursor?: boolean }): {
    openInfo: string;
    displayName: string;
    waitFd: number;
    /** The source reports changes (waitFd / onWaitFdReadable) instead of being grabbed on every tick. */
    changeDriven: boolean;
    /** `full`: the whole picture is new; else `dirty` lists what changed (empty: the same picture again). */
    grab(): {
      result: 'ok' | 'resized' | 'failed' | 'lost';
      width: number;
      height: number;
      stride: number;
      presentedNs: number;
      lastError: string;
      full: boolean;
      dirty: { x: number; y: number; width: number; height: number }[];
    };
    onWaitFdReadable(): boolean;
    /** 0xRRGGBB at (x, y) of the last grab; null outside. */
    pixel(x: number, y: number): number | null;
    /** Pixels of the last grab that are not 0xRRGGBB, and their bounding box (x1, y1 exclusive). */
    differing(rgb: number): { count: number; x0: number; y0: number; x1: number; y1: number };
    counters(): { framesCopied?: number; reconfigurations?: number };
  };
}

export const nativeAddonPath = fileURLToPath(new URL('../../native/build/Release/deskcast_native.node', import.meta.url));

export function loadNative(): NativeAddon & { __test: NativeTestBindings } {
  if (!existsSync(nativeAddonPath)) {
    throw new Error(`native addon not built: ${nativeAddonPath} is missing (run: bash scripts/build-native.sh)`);
  }
  return createRequire(import.meta.url)(nativeAddonPath) as NativeAddon & { __test: NativeTestBindings };
}

type VideoStatsEvent = Extract<NativeVideoEvent, { type: 'stats' }>;

/** Collects a VideoSession's stats events (pass `onEvent` on) and waits for the next one. */
export function videoStatsCollector(): { onEvent(e: NativeVideoEvent): void; next(timeoutMs?: number): Promise<VideoStatsEvent> } {
  const stats: VideoStatsEvent[] = [];
  return {
    onEvent(e) {
      if (e.type === 'stats') stats.push(e);
    },
    async next(timeoutMs = 3000) {
      const n = stats.length;
      for (let waited = 0; waited < timeoutMs && stats.length === n; waited += 50) await new Promise((r) => setTimeout(r, 50));
      if (stats.length === n) throw new Error(`no stats event within ${timeoutMs / 1000} s`);
      return stats.at(-1)!;
    },
  };
}
