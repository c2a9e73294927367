// Rounding a quote to the price grid, floor(x / step) * step and ceil(x / step) * step, for strategies that
// recompute their quotes on every event: x drifts a little per event while the rounded price rarely moves,
// so the last grid cell is kept and an x well inside it is answered with two compares instead of a division.

/** Clearance from a cell's edges, relative: far above the division's rounding error (2^-53), so the cached answer is exact. */
const MARGIN = 2 ** -40;
/** Cells are cached only where k·step is an exact integer. */
const EXACT = 2 ** 52;

export class GridRounding {
  private step = NaN;
  // Floor: x in (floorLo, floorHi) rounds down to floorPx; ceil: x in (ceilLo, ceilHi) rounds up to ceilPx.
  private floorLo = NaN;
  private floorHi = NaN;
  private floorPx = NaN;
  private ceilLo = NaN;
  private ceilHi = NaN;
  private ceilPx = NaN;

  /** Math.floor(x / step) * step, bit for bit (NaN in, NaN out). */
  floor(x: number, step: number): number {
    if (x > this.floorLo && x < this.floorHi && step === this.step) return this.floorPx;
    const k = Math.floor(x / step);
    const px = k * step;
    this.setStep(step);
    this.floorPx = px;
    // k = 0 (maybe -0) and huge or non-finite k are not cached: the compares above then fail.
    const cache = k !== 0 && Math.abs(px) < EXACT;
    const m = MARGIN * (Math.abs(k) + 1) * step;
    this.floorLo = cache ? px + m : NaN;
    this.floorHi = cache ? px + step - m : NaN;
    return px;
  }

  /** Math.ceil(x / step) * step, bit for bit (NaN in, NaN out). */
  ceil(x: number, step: number): number {
    if (x > this.ceilLo && x < this.ceilHi && step === this.step) return this.ceilPx;
    const k = Math.ceil(x / step);
    const px = k * step;
    this.setStep(step);
    this.ceilPx = px;
    const cache = k !== 0 && Math.abs(px) < EXACT;
    const m = MARGIN * (Math.abs(k) + 1) * step;
    this.ceilLo = cache ? px - step + m : NaN;
    this.ceilHi = cache ? px - m : NaN;
    return px;
  }

  /** A new step voids both cached cells. */
  private setStep(step: number): void {
    if (step === this.step) return;
    this.step = step;
    this.floorLo = this.floorHi = this.ceilLo = this.ceilHi = NaN;
  }
}
