import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/projectRoot.js';

// The JS face of native/ (node-addon-api). Keep in step with native/src/js/addon.cc.

export type EncoderChoice = 'auto' | 'x264' | 'nvenc' | 'vaapi';

export interface VideoSessionOptions {
  display: string;
  fps: number;
  bitrateKbps: number;
  keyframeIntervalSec: number;
  encoder: EncoderChoice;
  width?: number;
  height?: number;
  destinationHost: string;
  destinationPort: number;
  ssrc: number;
  payloadType: number;
  cname: string;
  onEvent: (event: NativeVideoEvent) => void;
}

export interface NativeVideoStats {
  type: 'stats';
  framesCaptured: number;
  framesEncoded: number;
  framesSent: number;
  keyframesSent: number;
  packetsSent: number;
  bytesSent: number;
  captureFps: number;
  captureMsAvg: number;
  convertMsAvg: number;
  encodeMsAvg: number;
  captureMsP50: number;
  convertMsP50: number;
  encodeMsP50: number;
  width: number;
  height: number;
  encoder: string;
  pliReceived: number;
  firReceived: number;
  rtcpMalformed: number;
}

export type NativeVideoEvent =
  | NativeVideoStats
  | { type: 'keyframe'; reason: 'start' | 'pli' | 'fir' | 'interval' | 'request' | 'reconfigure' }
  | { type: 'error'; code: string; message: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export interface VideoStartResult {
  encoder: string;
  width: number;
  height: number;
  skipped: { encoder: string; reason: string }[];
}

export interface VideoSession {
  start(): VideoStartResult;
  reconfigure(opts: { fps?: number; bitrateKbps?: number; width?: number; height?: number; keyframeIntervalSec?: number }): void;
  setDestination(host: string, port: number): void;
  requestKeyframe(): void;
  stop(): void;
  readonly localPort: number;
}

export interface AudioSessionOptions {
  /** PulseAudio source; '' = the default sink's monitor (followed when the default changes). */
  source: string;
  /** libpulse server string; '' = libpulse's default ($PULSE_SERVER, then the user's socket). */
  server: string;
  /** Cookie file for `server`; '' = libpulse's default ($PULSE_COOKIE, then the user's). */
  cookieFile?: string;
  bitrateKbps: number;
  destinationHost: string;
  destinationPort: number;
  ssrc: number;
  payloadType: number;
  cname: string;
  onEvent: (event: NativeAudioEvent) => void;
}

export type NativeAudioEvent =
  | { type: 'state'; state: 'connecting' | 'connected' | 'disconnected'; reason: string; source: string }
  | { type: 'stats'; chunksCaptured: number; packetsSent: number; bytesSent: number; encodeMsAvg: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export interface AudioSession {
  start(): void;
  setDestination(host: string, port: number): void;
  stop(): void;
  readonly localPort: number;
}

export interface NativeAddon {
  VideoSession: new (options: VideoSessionOptions) => VideoSession;
  AudioSession: new (options: AudioSessionOptions) => AudioSession;
}

export const nativeAddonPath = join(projectRoot, 'native', 'build', 'Release', 'deskcast_native.node');

class NativeAddonMissingError extends Error {
  override name = 'NativeAddonMissingError';
}

let cached: NativeAddon | undefined;

export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(nativeAddonPath)) {
    throw new NativeAddonMissingError(`The native addon is not built (${nativeAddonPath} is missing). Run "npm run build" (or "npm start", which builds it).`);
  }
  cached = createRequire(import.meta.url)(nativeAddonPath) as NativeAddon;
  return cached;
}
