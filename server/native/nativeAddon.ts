import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/projectRoot.js';
import type { NativeAudioEvent, NativeVideoEvent, VideoStartInfo } from './addonEvents.js';

export type { NativeAudioEvent, NativeAudioStats, NativeVideoEvent, NativeVideoStats, VideoStartInfo } from './addonEvents.js';

// The JS face of native/ (node-addon-api): native/src/js/js_video_session.cc,
// js_audio_session.cc and js_session_wrap.h. The events are declared in addonEvents.ts.

export type EncoderChoice = 'auto' | 'x264' | 'nvenc' | 'vaapi';

export interface VideoSessionOptions {
  /** X display (':0'); '' or absent when capturing Wayland only. */
  display?: string;
  /** 'auto' (default): Wayland (ext-image-copy-capture, else wlr-screencopy) when waylandDisplay is given, else X11. */
  capture?: 'auto' | 'x11' | 'wayland' | 'ext-image-copy-capture' | 'wlr-screencopy';
  /** Wayland socket: a name in $XDG_RUNTIME_DIR or an absolute path. */
  waylandDisplay?: string;
  /** Wayland output name ('' or absent: the first). */
  output?: string;
  fps: number;
  bitrateKbps: number;
  /** 0: keyframes on request only (PLI/FIR, start, new destination); else 0.5..60 s. */
  keyframeIntervalSec: number;
  encoder: EncoderChoice;
  width?: number;
  height?: number;
  destinationHost: string;
  destinationPort: number;
  ssrc: number;
  payloadType: number;
  cname: string;
  /** RFC 8285 one-byte ids (1..14) as declared in the producer's rtpParameters; absent/0: not sent. */
  absCaptureTimeExtensionId?: number;
  playoutDelayExtensionId?: number;
  /** The optional VP8 stream on the same socket (both or neither; off until setVp8Enabled(true)). */
  vp8Ssrc?: number;
  vp8PayloadType?: number;
  onEvent: (event: NativeVideoEvent) => void;
}

/**
 * The process's one video pipeline. The constructor only validates (a bad option throws a
 * TypeError, ERR_INVALID_OPTION; a second live session throws ERR_SESSION_ACTIVE); start()
 * opens the display, probes the encoders and opens the socket off the JS thread, and rejects
 * with the DeskcastError `code` (ERR_DISPLAY_OPEN, ERR_NO_ENCODER, ...), after which the
 * session is released. stop() during a pending start() cancels it: the promise rejects with
 * ERR_SESSION_STATE once everything is released, and a new session may follow.
 */
export interface VideoSession {
  start(): Promise<VideoStartInfo>;
  reconfigure(opts: { fps?: number; bitrateKbps?: number; width?: number; height?: number; keyframeIntervalSec?: number }): void;
  setDestination(host: string, port: number): void;
  requestKeyframe(): void;
  /**
   * Starts or stops VP8 encoding of the same pictures (from the next frame; the capture is
   * untouched). Throws ERR_SESSION_STATE when the session was created without vp8Ssrc.
   */
  setVp8Enabled(enabled: boolean): void;
  stop(): void;
  /** The RTP/RTCP socket's local port; 0 until start() has resolved. */
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

/** start() stays synchronous: it only starts libpulse's thread, which connects by itself. */
export interface AudioSession {
  start(): void;
  setDestination(host: string, port: number): void;
  stop(): void;
  readonly localPort: number;
}

// ── Remote control: InputInjector (native/src/input; see native/README.md "Input injection") ──

export type InputInjectorOptions = (
  | {
      backend?: 'x11';
      /** X display to inject into, e.g. ':57'. */
      display: string;
    }
  | {
      /** zwp_virtual_keyboard_v1 + zwlr_virtual_pointer_v1 (wlroots compositors). */
      backend: 'wayland';
      /** A socket name in $XDG_RUNTIME_DIR or an absolute path. */
      waylandDisplay: string;
      /** The output absolute pointer motion maps to ('' or absent: the first). */
      output?: string;
      /** XKB layout of the uploaded keymap, as setxkbmap names it: 'us' (default), 'de', 'de(nodeadkeys)'. */
      keyboardLayout?: string;
    }
) & {
  onEvent?: (event: NativeInputEvent) => void;
};

export type NativeInputEvent =
  | { type: 'error'; code: string; message: string } // e.g. ERR_DISPLAY_LOST: the injector has stopped
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export interface InputKeyEvent {
  /** The DOM `code` ('KeyA', 'ShiftLeft'): key-up releases exactly what key-down with this id pressed. */
  id: string;
  /** X keysym of the DOM `key` (0x61 'a', 0xff0d Return, 0xfe51 dead_acute, 0x01000000|cp for other Unicode). */
  keysym: number;
  /** Physical X keycode of the DOM `code` (evdev code + 8), 0 or absent if unknown. */
  keycode?: number;
  down: boolean;
  /** 'text' (default): type the keysym on the desktop's layout. 'raw': press the physical keycode. */
  mode?: 'text' | 'raw';
}

/** Input methods queue a command and return at once: false if the queue (1024) was full. */
export interface InputInjector {
  /** Connects off the JS thread; rejects with an Error carrying `code` (ERR_DISPLAY_OPEN, ERR_NO_XTEST). */
  start(): Promise<void>;
  pointerMove(x: number, y: number): boolean;
  pointerMoveRelative(dx: number, dy: number): boolean;
  button(button: number, down: boolean): boolean;
  /** Whole notches, -100..100 each: +dy down (button 5), +dx right (button 7). */
  scroll(dxClicks: number, dyClicks: number): boolean;
  key(event: InputKeyEvent): boolean;
  /** Committed text (an input method's result), at most 256 characters per call. */
  text(text: string): boolean;
  releaseAll(): boolean;
  /** releaseAll, then disconnect. Idempotent. */
  stop(): void;
  stats(): { commandsQueued: number; commandsDropped: number };
}

export interface NativeAddon {
  VideoSession: new (options: VideoSessionOptions) => VideoSession;
  AudioSession: new (options: AudioSessionOptions) => AudioSession;
  InputInjector: new (options: InputInjectorOptions) => InputInjector;
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
