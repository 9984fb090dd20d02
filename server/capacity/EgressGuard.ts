// The live guard: decides from measured egress and receiver-reported loss whether the uplink is
// saturated, so new admissions pause before everyone's picture degrades. Pure apart from the
// clock it is given.

/** Egress at or above this share of the upstream counts as a full link. */
export const EGRESS_SATURATION_SHARE = 0.9;
/** A viewer whose receiver reports at least this loss (RTCP fraction lost) counts as lossy. */
export const LOSSY_VIEWER_FRACTION = 0.03;
/**
 * Loss on a majority (and at least two) of the viewers means the shared uplink, not one viewer's
 * own network: one viewer on a bad Wi-Fi must not close the door on everybody.
 */
export const LOSSY_MAJORITY = 0.5;
export const MIN_LOSSY_VIEWERS = 2;
/** Admissions stay paused this long after the last saturated sample (no flapping). */
export const GUARD_HOLD_MS = 10_000;

export interface EgressSample {
  /** Wall clock of the sample, ms. */
  at: number;
  /** Bytes/s sent to viewers over the last interval, as Mb/s. */
  egressMbps: number;
  /** Upstream in force, Mb/s. */
  upstreamMbps: number;
  /** Per admitted viewer with stats: the fraction (0–1) of video packets its receiver reports lost. */
  losses: readonly number[];
}

export class EgressGuard {
  #pausedUntil = 0;
  #reason = '';

  /** Feeds one sample; returns the reason admissions are paused, or '' when they are open. */
  update(sample: EgressSample): string {
    const why = saturationReason(sample);
    if (why) {
      this.#pausedUntil = sample.at + GUARD_HOLD_MS;
      this.#reason = why;
    }
    return this.reason(sample.at);
  }

  reason(now: number): string {
    return now < this.#pausedUntil ? this.#reason : '';
  }
}

/** Why this sample says the uplink is saturated, or ''. */
export function saturationReason(sample: EgressSample): string {
  if (sample.upstreamMbps > 0 && sample.egressMbps >= EGRESS_SATURATION_SHARE * sample.upstreamMbps) {
    return `egress ${sample.egressMbps.toFixed(1)} Mb/s is ${Math.round((100 * sample.egressMbps) / sample.upstreamMbps)} % of the ${sample.upstreamMbps} Mb/s upstream`;
  }
  const lossy = sample.losses.filter((l) => l >= LOSSY_VIEWER_FRACTION);
  if (lossy.length >= MIN_LOSSY_VIEWERS && lossy.length >= LOSSY_MAJORITY * sample.losses.length) {
    const worst = Math.max(...lossy);
    return `${lossy.length} of ${sample.losses.length} viewers report packet loss (up to ${(100 * worst).toFixed(0)} %)`;
  }
  return '';
}
