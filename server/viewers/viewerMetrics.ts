import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.js';

export const viewerMetrics = {
  viewers: new Gauge({ name: 'deskcast_viewers', help: 'Viewers admitted and connected.', registers: [registry] }),
  refused: new Counter({
    name: 'deskcast_viewers_refused_total',
    help: 'Viewers refused, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  badRequests: new Counter({ name: 'deskcast_signaling_bad_requests_total', help: 'Malformed signaling requests answered with an error.', registers: [registry] }),
};
