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
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, stereo: 1, 'sprop-stereo': 1 },
  },
];

/**
 * What the native addon sends into a PlainTransport. The feedback list matters: mediasoup
 * forwards PLI/FIR to a PlainTransport producer only if its codec lists them.
 */
export interface IngestStreamSpec {
  kind: 'video' | 'audio';
  ssrc: number;
  payloadType: number;
  cname: string;
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
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
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
