/** One transport's cumulative byte counter, as read in one sample. */
export interface SentCounter {
  /** The transport's id: a viewer moved to a new transport starts a new counter. */
  transportId: string;
  bytes: number;
}

/**
 * Bytes sent to viewers between two samples, from each transport's cumulative counter: only
 * what a transport sent between two readings of it counts. A sum of the counters jumped by a
 * viewer's whole history whenever its counter was unreadable in one sample (0 in the sum) and
 * readable in the next, and such a jump can pause admissions (the guard reads it as a full
 * uplink). The price: a transport's first interval is left out (a joining viewer's first ~2 s).
 */
export class EgressMeter {
  #last = new Map<string, number>();

  /** Bytes sent since the previous call by the transports in both; `counters` replaces the baseline. */
  sentSince(counters: readonly SentCounter[]): number {
    let bytes = 0;
    const next = new Map<string, number>();
    for (const { transportId, bytes: now } of counters) {
      const before = this.#last.get(transportId);
      if (before !== undefined && now >= before) bytes += now - before;
      next.set(transportId, now);
    }
    this.#last = next;
    return bytes;
  }
}
