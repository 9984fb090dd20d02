import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { types as ms } from 'mediasoup';
import { AdmissionPolicy } from '../../server/viewers/AdmissionPolicy.js';
import { roleForToken } from '../../server/viewers/roles.js';
import { Viewer, type ViewerConnection } from '../../server/viewers/Viewer.js';
import { ViewerRegistry } from '../../server/viewers/ViewerRegistry.js';
import { aggregateHealth } from '../../server/health/health.js';
import { ShutdownStack } from '../../server/lifecycle/ShutdownStack.js';

const connection: ViewerConnection = { address: '192.0.2.1', notify: () => undefined, disconnect: () => undefined };

describe('AdmissionPolicy', () => {
  it('admits up to --max-viewers on the least-loaded worker, then refuses politely', () => {
    const policy = new AdmissionPolicy({ maxViewers: 3 });
    expect(policy.decide({ admitted: 0, workerLoads: new Map([[0, 0], [1, 0]]) })).toEqual({ admit: true, workerIndex: 0 });
    expect(policy.decide({ admitted: 2, workerLoads: new Map([[0, 2], [1, 0]]) })).toEqual({ admit: true, workerIndex: 1 });
    expect(policy.decide({ admitted: 2, workerLoads: new Map([[0, 1], [1, 1], [2, 0]]) })).toEqual({ admit: true, workerIndex: 2 });
    expect(policy.decide({ admitted: 3, workerLoads: new Map([[0, 1], [1, 2]]) })).toEqual({
      admit: false,
      reason: 'full',
      binding: 'max-viewers',
      message: "The host is full (3 of 3 watching). You'll join automatically when a place frees.",
    });
  });

  it('refuses with a retry hint while no worker can take viewers', () => {
    const decision = new AdmissionPolicy({ maxViewers: 3 }).decide({ admitted: 0, workerLoads: new Map() });
    expect(decision).toMatchObject({ admit: false, reason: 'no-worker' });
  });
});

describe('roleForToken', () => {
  const tokens = { viewer: 'v-token-123', admin: 'a-token-456' };
  it('derives the role from the token presented', () => {
    expect(roleForToken('v-token-123', tokens)).toBe('viewer');
    expect(roleForToken('a-token-456', tokens)).toBe('admin');
  });
  it('opens nothing for a wrong, missing or malformed token', () => {
    for (const t of ['', 'v-token-12', 'v-token-1234', undefined, null, 42, { token: 'v-token-123' }, 'x'.repeat(10_000)]) {
      expect(roleForToken(t, tokens)).toBeUndefined();
    }
  });
  it('an empty admin token opens no admin role', () => {
    expect(roleForToken('', { viewer: 'v', admin: '' })).toBeUndefined();
  });
});

/** Stands in for a mediasoup transport only in the one place a unit test cannot start a worker: its close. */
class TransportDouble extends EventEmitter {
  closed = false;
  readonly id = 'transport-1';
  close(): void {
    this.closed = true;
  }
}

describe('Viewer and ViewerRegistry', () => {
  it('keeps connecting and admitted viewers apart and counts workers', () => {
    const registry = new ViewerRegistry();
    const a = new Viewer('viewer', connection);
    const b = new Viewer('viewer', connection);
    registry.add(a);
    registry.add(b);
    expect(registry.connectingCount).toBe(2);
    a.admit(1);
    registry.markAdmitted(a);
    expect(registry.admittedCount).toBe(1);
    expect(registry.connectingCount).toBe(1);
    expect([...registry.workerLoads([0, 1])]).toEqual([[0, 0], [1, 1]]);
    expect([...registry.workerLoads([0, 1], a)]).toEqual([[0, 0], [1, 0]]);
  });

  it('on disconnect closes its transport, leaves the registry, and says so once', () => {
    const registry = new ViewerRegistry();
    const viewer = new Viewer('viewer', connection);
    registry.add(viewer);
    viewer.admit(0);
    registry.markAdmitted(viewer);
    const transport = new TransportDouble();
    viewer.setTransport(transport as unknown as ms.WebRtcTransport);
    let closes = 0;
    viewer.on('close', () => closes++);
    viewer.close();
    viewer.close();
    expect(transport.closed).toBe(true);
    expect(closes).toBe(1);
    expect(registry.admittedCount).toBe(0);
    expect(registry.connectingCount).toBe(0);
    expect(viewer.workerIndex).toBeUndefined();
  });

  it('reports lost media once when its router closes (a worker died)', () => {
    const viewer = new Viewer('viewer', connection);
    viewer.admit(0);
    const transport = new TransportDouble();
    viewer.setTransport(transport as unknown as ms.WebRtcTransport);
    const reasons: string[] = [];
    viewer.on('mediaLost', (r) => reasons.push(r));
    transport.emit('routerclose');
    transport.emit('listenserverclose');
    expect(reasons).toEqual(['A media worker restarted; reconnecting.']);
  });
});

describe('health aggregation', () => {
  it('is ok when every module is ok or off, degraded with the reasons otherwise', () => {
    const ok = { health: () => ({ status: 'ok' as const, reason: '' }) };
    const off = { health: () => ({ status: 'off' as const, reason: 'turned off with --no-audio' }) };
    const lost = { health: () => ({ status: 'degraded' as const, reason: 'lost the X display; retrying' }) };
    expect(aggregateHealth({ capture: ok, audio: off })).toMatchObject({ status: 'ok', reasons: [] });
    expect(aggregateHealth({ capture: lost, audio: off })).toMatchObject({ status: 'degraded', reasons: ['capture: lost the X display; retrying'] });
  });
});

describe('ShutdownStack', () => {
  it('closes newest first, once, and goes on past a failing close', async () => {
    const order: string[] = [];
    const stack = new ShutdownStack();
    stack.push('a', { close: () => order.push('a') });
    stack.push('b', { close: () => { throw new Error('boom'); } });
    stack.push('c', { close: async () => { order.push('c'); } });
    await stack.close();
    await stack.close();
    expect(order).toEqual(['c', 'a']);
  });
});
