import { Registry, collectDefaultMetrics } from 'prom-client';

// One registry for the process; each concern declares its own metrics next to its code
// (video/videoMetrics.ts, media/mediaMetrics.ts, signaling/viewerMetrics.ts).
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'deskcast_process_' });
