/** Why a viewer was refused; `message` is shown to them as it is. */
export interface Refusal {
  reason: 'max-viewers';
  message: string;
}

/**
 * Admission control: at most `maxViewers` viewers at once (--max-viewers). The capacity
 * issue adds a bandwidth-derived cap beside this one.
 */
export class ViewerCapacity {
  readonly #maxViewers: number;
  readonly #admitted = new Set<string>();

  constructor(maxViewers: number) {
    this.#maxViewers = maxViewers;
  }

  get admitted(): number {
    return this.#admitted.size;
  }

  get maxViewers(): number {
    return this.#maxViewers;
  }

  /** Admits the viewer (idempotent for one already admitted) or says why not. */
  tryAdmit(viewerId: string): Refusal | undefined {
    if (this.#admitted.has(viewerId)) return undefined;
    if (this.#admitted.size >= this.#maxViewers) {
      return {
        reason: 'max-viewers',
        message: `This broadcast is full: ${this.#maxViewers} of ${this.#maxViewers} viewers are watching. Try again in a few minutes.`,
      };
    }
    this.#admitted.add(viewerId);
    return undefined;
  }

  release(viewerId: string): void {
    this.#admitted.delete(viewerId);
  }
}
