import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../metrics/registry.js';

export const videoMetrics = {
  fps: new Gauge({ name: 'deskcast_capture_fps', help: 'Frames captured per second (last second).', registers: [registry] }),
  captureMs: new Gauge({ name: 'deskcast_capture_ms', help: 'Mean time to grab one frame from X, ms.', registers: [registry] }),
  convertMs: new Gauge({ name: 'deskcast_convert_ms', help: 'Mean BGRX to I420 conversion time, ms.', registers: [registry] }),
  encodeMs: new Gauge({ name: 'deskcast_encode_ms', help: 'Mean H.264 encode time per frame, ms.', registers: [registry] }),
  encoder: new Gauge({
    name: 'deskcast_encoder_info',
    help: 'The H.264 encoder in use (label), value 1.',
    labelNames: ['encoder'] as const,
    registers: [registry],
  }),
  width: new Gauge({ name: 'deskcast_video_width', help: 'Encoded width, pixels.', registers: [registry] }),
  height: new Gauge({ name: 'deskcast_video_height', help: 'Encoded height, pixels.', registers: [registry] }),
  keyframes: new Gauge({ name: 'deskcast_keyframes_sent', help: 'Keyframes sent since start.', registers: [registry] }),
  rtpBytes: new Gauge({ name: 'deskcast_rtp_bytes_sent', help: 'RTP bytes sent by the capture to the media server.', registers: [registry] }),
  /**
   * Per frame, where the server's time goes: change_to_grab (first change noticed → grab
   * starts; the fps pacing wait), grab, convert, encode, send (packetize + UDP to mediasoup).
   */
  stageSeconds: new Histogram({
    name: 'deskcast_video_stage_seconds',
    help: 'Per-frame time of each capture pipeline stage, seconds.',
    labelNames: ['stage'] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.033, 0.066, 0.133],
    registers: [registry],
  }),
  framesEncoded: new Gauge({ name: 'deskcast_frames_encoded', help: 'Frames encoded since start (still screen: none).', registers: [registry] }),
  vp8Active: new Gauge({ name: 'deskcast_vp8_active', help: 'The VP8 encoder runs (1) for viewers without H.264, or not (0).', registers: [registry] }),
  vp8EncodeMs: new Gauge({ name: 'deskcast_vp8_encode_ms', help: 'Mean VP8 encode time per frame, ms (0 while off).', registers: [registry] }),
  vp8Viewers: new Gauge({ name: 'deskcast_vp8_viewers', help: 'Viewers receiving the VP8 video.', registers: [registry] }),
  errors: new Counter({ name: 'deskcast_capture_errors_total', help: 'Fatal capture pipeline errors.', registers: [registry] }),
};
