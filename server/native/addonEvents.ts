// Every event the native addon sends to JS (`onEvent`), declared once: the TypeScript types are
// derived from these schemas, and test/integration/addon-events.test.ts checks real events of
// a real session against them exactly (no missing, mistyped or undeclared field). Keep in step
// with JsEventSink::toJs (native/src/js/js_event_sink.cc) and session_events.h.
import { type Infer, boolean, number, object, oneOf, string, variant, array } from '../../shared/schema.js';

const count = number({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
const milliseconds = number({ min: 0, max: 3_600_000 });
const pixels = number({ min: 0, max: 16_384, integer: true });
/** The libavcodec encoders of native/src/video/h264_encoder_backends.cc. */
const encoderName = oneOf('h264_nvenc', 'h264_vaapi', 'libx264');
/** DeskcastError codes (native/src/common/errors.h). */
const errorCode = string({ min: 5, max: 64, pattern: /^ERR_[A-Z_]+$/ });
/** Human text: what happened and what to do (FFmpeg's and libpulse's words included). */
const message = string({ min: 1, max: 16_384 });
const strict = { unknownFields: 'reject' } as const;

const errorEvent = object({ code: errorCode, message }, strict);
const logEvent = object({ level: oneOf('info', 'warn'), message }, strict);

export const videoStatsSchema = object(
  {
    framesCaptured: count,
    framesEncoded: count,
    framesSent: count,
    keyframesSent: count,
    packetsSent: count,
    bytesSent: count,
    /** Frames grabbed per second over the last ~1 s window. */
    captureFps: number({ min: 0, max: 1000 }),
    captureMsAvg: milliseconds,
    convertMsAvg: milliseconds,
    encodeMsAvg: milliseconds,
    /** Medians over the same window (benches read these). */
    captureMsP50: milliseconds,
    convertMsP50: milliseconds,
    encodeMsP50: milliseconds,
    width: pixels,
    height: pixels,
    encoder: encoderName,
    pliReceived: count,
    firReceived: count,
    /** Datagrams on the socket that were not valid RTCP (ignored). */
    rtcpMalformed: count,
    /**
     * Per frame of the window (ms): first change noticed → grab (change-driven capture only),
     * grab, convert, encode, packetize + send. Feeds the /metrics histograms.
     */
    stageMs: object(
      {
        changeToGrab: array(milliseconds, { max: 4096 }),
        grab: array(milliseconds, { max: 4096 }),
        convert: array(milliseconds, { max: 4096 }),
        encode: array(milliseconds, { max: 4096 }),
        send: array(milliseconds, { max: 4096 }),
      },
      strict,
    ),
    /** The VP8 stream (native/src/video/vp8_stream.h): libvpx open now (a viewer needs it). */
    vp8Active: boolean(),
    vp8FramesSent: count,
    vp8KeyframesSent: count,
    vp8BytesSent: count,
    /** PLIs and FIRs for the VP8 SSRC. */
    vp8PliReceived: count,
    /** Mean VP8 encode time per frame over the last window (0 while off). */
    vp8EncodeMsAvg: milliseconds,
  },
  strict,
);

/** `VideoSession`'s events: stats about once a second, a notice per keyframe sent, a fatal error, log lines. */
export const videoEventSchema = variant('type', {
  stats: videoStatsSchema,
  keyframe: object({ reason: oneOf('start', 'pli', 'fir', 'interval', 'request', 'reconfigure') }, strict),
  error: errorEvent,
  log: logEvent,
});

export const audioStatsSchema = object(
  {
    /** 20 ms PCM chunks delivered by the sound server. */
    chunksCaptured: count,
    /** RTP packets (one Opus packet each) and their datagram bytes, headers included. */
    packetsSent: count,
    bytesSent: count,
    /** Opus encode time, mean over the last ~1 s window. */
    encodeMsAvg: milliseconds,
    /** Chunks the encoder rejected (not sent). */
    encodeErrors: count,
    /** RTP/RTCP datagrams the kernel refused. */
    sendErrors: count,
    senderReports: count,
    /** Datagrams read from the socket, and of those the ones that were not valid RTCP. */
    rtcpReceived: count,
    rtcpMalformed: count,
    /** RTP timeline re-anchors (the first chunk, reconnects, source changes). */
    discontinuities: count,
  },
  strict,
);

/**
 * `AudioSession`'s events: connection state with the reason, stats about once a second, log lines.
 * No error event: nothing after start() is fatal to it (it reconnects to the sound server by itself).
 */
export const audioEventSchema = variant('type', {
  state: object(
    {
      state: oneOf('connecting', 'connected', 'disconnected'),
      /** Why (and what to do) when not connected; may be empty once connected. */
      reason: string({ max: 16_384 }),
      /** The PulseAudio source recorded; '' = the default sink's monitor. */
      source: string({ max: 1024 }),
    },
    strict,
  ),
  stats: audioStatsSchema,
  log: logEvent,
});

/** What `VideoSession.start()` resolves to: the encoder that opened and why the ones before it did not. */
export const videoStartInfoSchema = object(
  {
    encoder: encoderName,
    /** How the screen is captured. */
    backend: oneOf('x11', 'ext-image-copy-capture', 'wlr-screencopy'),
    width: pixels,
    height: pixels,
    skipped: array(object({ encoder: encoderName, reason: message }, strict), { max: 3 }),
  },
  strict,
);

export type NativeVideoEvent = Infer<typeof videoEventSchema>;
export type NativeVideoStats = Extract<NativeVideoEvent, { type: 'stats' }>;
export type NativeAudioEvent = Infer<typeof audioEventSchema>;
export type NativeAudioStats = Extract<NativeAudioEvent, { type: 'stats' }>;
export type VideoStartInfo = Infer<typeof videoStartInfoSchema>;
