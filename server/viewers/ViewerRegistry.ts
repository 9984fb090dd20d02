import type { Viewer } from './Viewer.js';

/**
 * Every connection, kept apart by stage: connecting (authenticated, not yet admitted) and
 * admitted (counted against the cap, holding a worker). A viewer leaves the registry when it
 * closes.
 */
export class ViewerRegistry {
  readonly #connecting = new Map<string, Viewer>();
  readonly #admitted = new Map<string, Viewer>();

  add(viewer: Viewer): void {
    this.#connecting.set(viewer.id, viewer);
    viewer.once('close', () => {
      this.#connecting.delete(viewer.id);
      this.#admitted.delete(viewer.id);
    });
  }

  markAdmitted(viewer: Viewer): void {
    if (viewer.closed) return;
    this.#connecting.delete(viewer.id);
    this.#admitted.set(viewer.id, viewer);
  }

  isAdmitted(viewer: Viewer): boolean {
    return this.#admitted.has(viewer.id);
  }

  get admittedCount(): number {
    return this.#admitted.size;
  }

  /** For tests: connections authenticated but not (yet) admitted. */
  get connectingCount(): number {
    return this.#connecting.size;
  }

  admitted(): IterableIterator<Viewer> {
    return this.#admitted.values();
  }

  all(): Viewer[] {
    return [...this.#connecting.values(), ...this.#admitted.values()];
  }

  /** Admitted viewers per worker, for the given workers (all at 0 when empty). `except` is left out. */
  workerLoads(workerIndexes: readonly number[], except?: Viewer): Map<number, number> {
    const loads = new Map<number, number>(workerIndexes.map((i) => [i, 0]));
    for (const v of this.#admitted.values()) {
      if (v === except || v.workerIndex === undefined || !loads.has(v.workerIndex)) continue;
      loads.set(v.workerIndex, loads.get(v.workerIndex)! + 1);
    }
    return loads;
  }
}
