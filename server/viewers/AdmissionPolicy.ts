/** What the policy needs to know to decide on one more viewer. */
export interface AdmissionRequest {
  /** Viewers admitted now (the newcomer not included). */
  admitted: number;
  /** Viewers per worker now, by worker index; only workers able to take viewers are listed. */
  workerLoads: ReadonlyMap<number, number>;
}

export type AdmissionDecision =
  | { admit: true; workerIndex: number }
  | { admit: false; reason: 'max-viewers' | 'no-worker'; message: string };

/**
 * Who gets in and on which worker: at most `maxViewers` at once (--max-viewers), each on the
 * least-loaded worker. Pure: the caller supplies the counts. The capacity work adds limits
 * from measured bandwidth and CPU here.
 */
export class AdmissionPolicy {
  #maxViewers: number;

  constructor(options: { maxViewers: number }) {
    this.#maxViewers = options.maxViewers;
  }

  get maxViewers(): number {
    return this.#maxViewers;
  }

  decide(request: AdmissionRequest): AdmissionDecision {
    if (request.admitted >= this.#maxViewers) {
      return {
        admit: false,
        reason: 'max-viewers',
        message: `This broadcast is full: ${this.#maxViewers} of ${this.#maxViewers} viewers are watching. Try again in a few minutes.`,
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
