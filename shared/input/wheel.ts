// Browser wheel events → whole X wheel clicks. One notch of a mouse wheel must scroll exactly
// one click on the desktop, whatever the browser reports for it (Chromium: ~100-120 px in pixel
// mode; Firefox: 3 lines in line mode; some users: a page), and touchpads' small pixel deltas
// add up rather than being lost or each becoming a click.

const DOM_DELTA_PIXEL = 0;
const DOM_DELTA_LINE = 1;

/** Pixels of one wheel notch when deltas arrive in small steps (touchpads). */
const PIXELS_PER_CLICK = 100;
/** A pixel delta at least this large is a notch of a mouse wheel, not a touchpad step. */
const NOTCH_PIXELS = 50;
/** Lines per notch: Firefox's default `mousewheel.default.delta_multiplier_y` scrolls 3 lines. */
const LINES_PER_CLICK = 3;

export class WheelNormalizer {
  #restX = 0;
  #restY = 0;

  /** Returns whole clicks (positive = down / right) and keeps the remainder for the next event. */
  add(deltaX: number, deltaY: number, deltaMode: number): { dx: number; dy: number } {
    const [x, restX] = this.#axis(deltaX, deltaMode, this.#restX);
    const [y, restY] = this.#axis(deltaY, deltaMode, this.#restY);
    this.#restX = restX;
    this.#restY = restY;
    return { dx: x, dy: y };
  }

  reset(): void {
    this.#restX = 0;
    this.#restY = 0;
  }

  #axis(delta: number, mode: number, rest: number): [clicks: number, rest: number] {
    if (!Number.isFinite(delta) || delta === 0) return [0, rest];
    if (mode === DOM_DELTA_PIXEL && Math.abs(delta) >= NOTCH_PIXELS) {
      // A mouse notch (or several coalesced): count notches, at least one; drop touchpad rest.
      return [Math.sign(delta) * Math.max(1, Math.round(Math.abs(delta) / PIXELS_PER_CLICK)), 0];
    }
    const units = mode === DOM_DELTA_PIXEL ? delta / PIXELS_PER_CLICK : mode === DOM_DELTA_LINE ? delta / LINES_PER_CLICK : delta;
    // Snapped to whole clicks within rounding error: three thirds of a click are one click.
    const sum = rest + units;
    const total = Math.abs(sum - Math.round(sum)) < 1e-9 ? Math.round(sum) : sum;
    const clicks = Math.trunc(total) || 0; // never -0
    return [clicks, total - clicks];
  }
}
