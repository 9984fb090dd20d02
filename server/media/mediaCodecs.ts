import type { types as ms } from 'mediasoup';

/**
 * H.264 Constrained Baseline 3.1: what the native encoder really emits (hardware encoders default
 * to Main/High, and Safari and Firefox refuse a stream whose bitstream does not match the SDP).
 */
const H264_PROFILE_LEVEL_ID = '42e01f';

export const routerMediaCodecs: ms.RouterRtpCodecCapability[] = [
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': H264_PROFILE_LEVEL_ID,
      'level-asymmetry-allowed': 1,
    },
  },
  {
    // Second video path, only for browsers without a usable H.264 (Firefox without OpenH264).
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
  },
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, stereo: 1, 'sprop-stereo': 1 },
  },
];

/** The video codecs the broadcast can carry (`--codecs`). */
export type VideoCodec = 'h264' | 'vp8';

/**
 * What the native addon sends into a PlainTransport. The feedback list matters: mediasoup
 * forwards PLI/FIR to a PlainTransport producer only if its codec lists them.
 */
export interface IngestStreamSpec {
  kind: 'video' | 'audio';
  ssrc: number;
  payloadType: number;
  cname: string;
  /**
   * Video only: the VP8 stream the addon sends on the SAME socket (own SSRC and payload type),
   * so one PlainTransport carries both producers (mediasoup tells them apart by SSRC).
   */
  vp8?: { ssrc: number; payloadType: number };
}

const VIDEO_FEEDBACK: ms.RtcpFeedback[] = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

/** The VP8 producer's parameters (with the same PLI/FIR feedback as H.264: keyframes on request). */
export function vp8IngestRtpParameters(spec: IngestStreamSpec & { vp8: NonNullable<IngestStreamSpec['vp8']> }): ms.RtpParameters {
  return {
    codecs: [{ mimeType: 'video/VP8', payloadType: spec.vp8.payloadType, clockRate: 90000, parameters: {}, rtcpFeedback: VIDEO_FEEDBACK }],
    encodings: [{ ssrc: spec.vp8.ssrc }],
    rtcp: { cname: spec.cname, reducedSize: false },
  };
}

/**
 * RTP header extensions the native video sender writes (RFC 8285 one-byte ids) on each frame's
 * first packet; mediasoup proxies both to consumers whose browser offered them:
 * abs-capture-time (the capture NTP time: the viewer's capture-to-screen delay) and
 * playout-delay min = max = 0 (render at once, no smoothing delay in the jitter buffer).
 */
export const VIDEO_HEADER_EXTENSION_IDS = { absCaptureTime: 10, playoutDelay: 11 } as const;

export function ingestRtpParameters(spec: IngestStreamSpec): ms.RtpParameters {
  const codec: ms.RtpCodecParameters =
    spec.kind === 'video'
      ? {
          mimeType: 'video/H264',
          payloadType: spec.payloadType,
          clockRate: 90000,
          parameters: { 'packetization-mode': 1, 'profile-level-id': H264_PROFILE_LEVEL_ID, 'level-asymmetry-allowed': 1 },
          rtcpFeedback: VIDEO_FEEDBACK,
        }
      : {
          mimeType: 'audio/opus',
          payloadType: spec.payloadType,
          clockRate: 48000,
          channels: 2,
          parameters: { useinbandfec: 1, stereo: 1, 'sprop-stereo': 1 },
          rtcpFeedback: [],
        };
  const headerExtensions: ms.RtpHeaderExtensionParameters[] =
    spec.kind === 'video'
      ? [
          { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time', id: VIDEO_HEADER_EXTENSION_IDS.absCaptureTime },
          { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay', id: VIDEO_HEADER_EXTENSION_IDS.playoutDelay },
        ]
      : [];
  return { codecs: [codec], headerExtensions, encodings: [{ ssrc: spec.ssrc }], rtcp: { cname: spec.cname, reducedSize: false } };
}
