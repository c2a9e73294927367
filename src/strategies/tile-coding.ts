// Tile coding (Sutton & Barto, ch. 9.5) for a linear Q-function: `tilings` offset grids over the whole
// state (coarse, joint) plus `tilings` offset 1-D grids per variable (fine), in the spirit of the linear
// combination of tile codings of Spooner et al. (2018). Offsets are asymmetric: tiling t shifts variable d
// by t·(2d+1)/tilings of a cell. encode() writes the active feature indices into `active` (no allocation).
import { expected } from '../errors';

export interface TileCodingSpec {
  /** Lower and upper bound of each state variable; values outside are clipped. */
  lo: number[];
  hi: number[];
  /** Cells per variable in the joint grid. */
  jointBins: number;
  /** Cells per variable in the 1-D grids. */
  lineBins: number;
  tilings: number;
}

export class TileCoder {
  readonly spec: TileCodingSpec;
  readonly dims: number;
  /** Number of features (weights per action). */
  readonly size: number;
  /** Active features per state. */
  readonly nActive: number;
  readonly active: Int32Array;
  private readonly jointPer: number;
  private readonly u = new Float64Array(16);

  constructor(spec: TileCodingSpec) {
    const d = spec.lo.length;
    if (d < 1 || d > 16 || spec.hi.length !== d) throw expected('1..16 variables with matching lo/hi', 'tile coding', `${spec.lo.length}/${spec.hi.length}`);
    for (let i = 0; i < d; i++) if (!(spec.hi[i] > spec.lo[i])) throw expected(`hi > lo for variable ${i}`, 'tile coding', `${spec.lo[i]}..${spec.hi[i]}`);
    for (const k of ['jointBins', 'lineBins', 'tilings'] as const) {
      if (!Number.isInteger(spec[k]) || spec[k] < 1) throw expected('a positive integer', `tile coding ${k}`, spec[k]);
    }
    this.spec = { ...spec, lo: [...spec.lo], hi: [...spec.hi] };
    this.dims = d;
    this.jointPer = Math.pow(spec.jointBins + 1, d);
    if (this.jointPer * spec.tilings > 1 << 22) throw expected('at most 4M joint tiles', 'tile coding', this.jointPer * spec.tilings);
    this.size = this.jointPer * spec.tilings + d * spec.tilings * (spec.lineBins + 1);
    this.nActive = spec.tilings * (1 + d);
    this.active = new Int32Array(this.nActive);
  }

  /** Fills `active` for state x (length dims) and returns it. */
  encode(x: ArrayLike<number>): Int32Array {
    const { lo, hi, jointBins, lineBins, tilings } = this.spec;
    const d = this.dims;
    const u = this.u;
    for (let i = 0; i < d; i++) {
      let v = (x[i] - lo[i]) / (hi[i] - lo[i]);
      if (!(v >= 0)) v = 0; // NaN → the low edge
      if (v > 1) v = 1;
      u[i] = v;
    }
    let k = 0;
    for (let t = 0; t < tilings; t++) {
      let idx = 0;
      let mul = 1;
      for (let i = 0; i < d; i++) {
        const off = ((t * (2 * i + 1)) % tilings) / tilings;
        let c = Math.floor(u[i] * jointBins + off);
        if (c > jointBins) c = jointBins;
        idx += c * mul;
        mul *= jointBins + 1;
      }
      this.active[k++] = t * this.jointPer + idx;
    }
    const lineBase = this.jointPer * tilings;
    for (let i = 0; i < d; i++) {
      for (let t = 0; t < tilings; t++) {
        let c = Math.floor(u[i] * lineBins + t / tilings);
        if (c > lineBins) c = lineBins;
        this.active[k++] = lineBase + (i * tilings + t) * (lineBins + 1) + c;
      }
    }
    return this.active;
  }
}
