import { Gauge } from 'prom-client';
import { registry } from '../metrics/registry.js';

export const audioMetrics = {
  up: new Gauge({
    name: 'deskcast_audio_up',
    help: 'Audio capture connected to the sound server (1) or not (0; see deskcast_audio_state).',
    registers: [registry],
  }),
  state: new Gauge({
    name: 'deskcast_audio_state',
    help: 'Audio capture state (label), value 1; reason in /healthz.',
    labelNames: ['state'] as const,
    registers: [registry],
  }),
  bytesSent: new Gauge({ name: 'deskcast_audio_rtp_bytes_sent', help: 'Opus RTP bytes sent to the media server.', registers: [registry] }),
};
