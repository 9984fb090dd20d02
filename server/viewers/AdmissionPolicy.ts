import { capInForce, type BindingLimit } from '../capacity/CapacityModel.js';

/** What the policy needs to know to decide on one more viewer. */
export interface AdmissionRequest {
  /** Viewers admitted now (the newcomer not included). */
  admitted: number;
  /** Load per worker now (viewers), by worker index; only workers able to take viewers are listed. */
  workerLoads: ReadonlyMap<number, number>;
  /** Viewers the upstream and the workers' CPU carry. Absent: the capacity module's last figures, else no limit. */
  limits?: { upstream: number; cpu: number };
  /** Set while the live guard sees the uplink saturated: why. New viewers wait. Absent: the capacity module's verdict. */
  saturated?: string;
}

export type AdmissionDecision =
  | { admit: true; workerIndex: number }
  | { admit: false; reason: 'full' | 'saturated' | 'no-worker'; message: string; binding?: BindingLimit };

/** The text a viewer over the cap sees (the page retries by itself). */
function fullMessage(watching: number, cap: number): string {
  return `The host is full (${watching} of ${cap} watching). You'll join automatically when a place frees.`;
}

/**
 * Who gets in and on which worker: at most the cap in force — min(--max-viewers, what the
 * upstream carries, what the CPU carries) — and none while the uplink is saturated; each on the
 * least-loaded worker. Pure: the caller supplies the counts and limits.
 */
export class AdmissionPolicy {
  #maxViewers: number;
  /** The capacity module's latest limits and guard verdict; a request may bring its own. */
  #measured: Pick<AdmissionRequest, 'limits' | 'saturated'> = {};

  constructor(options: { maxViewers: number }) {
    this.#maxViewers = options.maxViewers;
  }

  get maxViewers(): number {
    return this.#maxViewers;
  }

  /** The admin changes --max-viewers at run time; viewers already in stay. */
  set maxViewers(value: number) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`maxViewers must be a whole number of at least 1; got ${value}`);
    this.#maxViewers = value;
  }

  /** The capacity module publishes what the upstream and CPU carry after each sample. */
  setMeasured(measured: Pick<AdmissionRequest, 'limits' | 'saturated'>): void {
    this.#measured = { ...measured };
  }

  /** The cap in force for these limits and which limit binds. */
  cap(limits: AdmissionRequest['limits']): { cap: number; binding: BindingLimit } {
    const inf = Number.MAX_SAFE_INTEGER;
    return capInForce({ maxViewers: this.#maxViewers, upstream: limits?.upstream ?? inf, cpu: limits?.cpu ?? inf });
  }

  decide(admission: AdmissionRequest): AdmissionDecision {
    const request = { ...this.#measured, ...admission };
    const { cap, binding } = this.cap(request.limits);
    if (request.admitted >= cap) {
      return { admit: false, reason: 'full', binding, message: fullMessage(request.admitted, cap) };
    }
    if (request.saturated) {
      return {
        admit: false,
        reason: 'saturated',
        message: `The host's upload is saturated (${request.admitted} watching). You'll join automatically when it recovers.`,
      };
    }
    let best: { index: number; load: number } | undefined;
    for (const [index, load] of request.workerLoads) if (!best || load < best.load) best = { index, load };
    if (!best) {
      return { admit: false, reason: 'no-worker', message: 'The media server is restarting. The page retries by itself in a moment.' };
    }
    return { admit: true, workerIndex: best.index };
  }
}
