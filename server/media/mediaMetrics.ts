import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.js';

export const mediaMetrics = {
  consumers: new Gauge({ name: 'deskcast_consumers', help: 'mediasoup consumers (viewer streams) open.', registers: [registry] }),
  bytesSent: new Gauge({
    name: 'deskcast_bytes_sent',
    help: 'Bytes sent to viewers by the WebRTC transports open now.',
    registers: [registry],
  }),
  workers: new Gauge({ name: 'deskcast_workers', help: 'mediasoup workers alive.', registers: [registry] }),
  workerRestarts: new Counter({ name: 'deskcast_worker_restarts_total', help: 'mediasoup workers that died and were replaced.', registers: [registry] }),
};
