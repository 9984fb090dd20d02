import { EventEmitter } from 'node:events';
import type { ControlPolicy } from '../../shared/protocol.js';

export type ControlChangeReason = 'granted' | 'released' | 'revoked' | 'disconnected' | 'heartbeat' | 'policy';

export interface ControlLeaseEvents {
  /** Who holds control, who waits, or the policy changed. `previousHolder` lost control now if set. */
  changed: [{ reason: ControlChangeReason; previousHolder: string | undefined }];
}

export type ControlRequestResult = { outcome: 'granted' | 'pending' } | { outcome: 'refused'; code: 'control-off'; message: string };

/**
 * Who may drive the desktop: at most one holder at a time. Under `request` a viewer asks and
 * an admin grants (an admin's own request is granted at once); under `free` whoever asks gets
 * it (taking it from the previous holder); under `off` nobody has it. The holder must prove it
 * is alive with heartbeats, or loses control. Pure bookkeeping: the caller injects input and
 * releases held keys when `changed` reports a lost holder.
 */
export class ControlLease extends EventEmitter<ControlLeaseEvents> {
  #policy: ControlPolicy;
  #holder: string | undefined;
  #lastHeartbeat = 0;
  readonly #requests = new Set<string>();
  readonly #heartbeatTimeoutMs: number;
  readonly #now: () => number;

  constructor(options: { policy: ControlPolicy; heartbeatTimeoutMs: number; now?: () => number }) {
    super();
    this.#policy = options.policy;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs;
    this.#now = options.now ?? Date.now;
  }

  get policy(): ControlPolicy {
    return this.#policy;
  }

  get holder(): string | undefined {
    return this.#holder;
  }

  holds(id: string): boolean {
    return this.#holder === id;
  }

  requested(id: string): boolean {
    return this.#requests.has(id);
  }

  request(id: string, isAdmin: boolean): ControlRequestResult {
    if (this.#policy === 'off') {
      return { outcome: 'refused', code: 'control-off', message: 'Remote control is turned off on this broadcast (--control off; the admin can turn it on).' };
    }
    if (this.#holder === id) return { outcome: 'granted' };
    if (this.#policy === 'free' || isAdmin) {
      this.#give(id, 'granted');
      return { outcome: 'granted' };
    }
    this.#requests.add(id);
    this.emit('changed', { reason: 'granted', previousHolder: undefined });
    return { outcome: 'pending' };
  }

  /** Admin: give control to `id` (whether it asked or not). */
  grant(id: string): void {
    if (this.#policy === 'off') return;
    this.#give(id, 'granted');
  }

  /** The holder gives control back, or a waiting viewer withdraws its request. */
  release(id: string): void {
    if (this.#holder === id) this.#take('released');
    else if (this.#requests.delete(id)) this.emit('changed', { reason: 'released', previousHolder: undefined });
  }

  /** Admin: take control away from whoever holds it. */
  revoke(): void {
    if (this.#holder !== undefined) this.#take('revoked');
  }

  /** The connection is gone: it neither holds nor waits any more. */
  forget(id: string): void {
    this.#requests.delete(id);
    if (this.#holder === id) this.#take('disconnected');
  }

  setPolicy(policy: ControlPolicy): void {
    if (policy === this.#policy) return;
    this.#policy = policy;
    if (policy === 'off') {
      this.#requests.clear();
      if (this.#holder !== undefined) return this.#take('policy');
    }
    this.emit('changed', { reason: 'policy', previousHolder: undefined });
  }

  heartbeat(id: string): void {
    if (this.#holder === id) this.#lastHeartbeat = this.#now();
  }

  /** Call periodically: releases control from a holder whose heartbeats stopped. */
  checkHeartbeat(): void {
    if (this.#holder !== undefined && this.#now() - this.#lastHeartbeat > this.#heartbeatTimeoutMs) this.#take('heartbeat');
  }

  #give(id: string, reason: ControlChangeReason): void {
    const previous = this.#holder;
    this.#requests.delete(id);
    this.#holder = id;
    this.#lastHeartbeat = this.#now();
    this.emit('changed', { reason, previousHolder: previous !== id ? previous : undefined });
  }

  #take(reason: ControlChangeReason): void {
    const previous = this.#holder;
    this.#holder = undefined;
    this.emit('changed', { reason, previousHolder: previous });
  }
}
