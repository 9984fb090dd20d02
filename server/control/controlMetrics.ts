import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/registry.js';

export const controlMetrics = {
  controlled: new Gauge({ name: 'deskcast_control_held', help: '1 while a viewer holds control of the desktop.', registers: [registry] }),
  inputEvents: new Counter({
    name: 'deskcast_input_events_total',
    help: 'Input events injected into the desktop, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
  }),
  inputDropped: new Counter({
    name: 'deskcast_input_dropped_total',
    help: 'Input events dropped, by reason (no-control, rate-limited, bad-request).',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
};
