// The student input x_t, shared by the live path (tick -> x -> students) and the distillation trainer: one
// definition, src/cmm/dataset.ts's studentVector, re-exported here under the inference names so that the
// two can never drift apart.
//
// x_t (STUDENT_INPUT_FEATURES, 11 floats) from one native feature row (src/market/market-engine.ts, FEATURE_NAMES):
//   0 spreadTicks            spread                                   (ticks)
//   1 imbalance1             (B1 - A1) / (B1 + A1)
//   2 imbalance5             same over 5 levels
//   3 imbalance10            same over 10 levels
//   4 ofiSlog                sign(ofi) * log1p(|ofi|)
//   5 tradeFlowSlog          sign(flow) * log1p(|flow|)
//   6 logRealisedVol         log1p(realisedVol)                       (ticks)
//   7 logIntensity           log1p(events per second)
//   8 logTimeSinceTrade      log1p(seconds); NaN before the first trade
//   9 micropriceOffsetTicks  microprice - mid                         (ticks)
//  10 logTopQty              log1p(bidQty + askQty)                   (lots)
// NaN in the row (empty side, no trade yet) stays NaN in x: the students then answer NaN, the MoE reports
// NoValidExpert and the quote rule pulls. Callers may skip such ticks earlier with studentInputFinite.
import { NUM_FEATURES } from '../../market/market-engine';
import { STUDENT_FEATURES, studentVector } from '../dataset';

export const STUDENT_INPUT_FEATURES = STUDENT_FEATURES;
/** F: floats in one student input. */
export const STUDENT_INPUTS = STUDENT_FEATURES.length;

/**
 * Writes x_t of the feature row starting at `rowOffset` in `featuresRow` (NUM_FEATURES doubles, as written by
 * MarketEngine.apply / features) into `out` at `outOffset`. No allocation: the hot path calls it per tick.
 */
export function studentInput(featuresRow: ArrayLike<number>, out: Float32Array | Float64Array, rowOffset = 0, outOffset = 0): void {
  studentVector(featuresRow, rowOffset, out, outOffset);
}

/** True when every float of x (first STUDENT_INPUTS from `offset`) is finite. */
export function studentInputFinite(x: ArrayLike<number>, offset = 0): boolean {
  for (let i = 0; i < STUDENT_INPUTS; i++) if (!Number.isFinite(x[offset + i])) return false;
  return true;
}

/** Rows of a feature matrix (MarketEngine.apply featuresOut, n x NUM_FEATURES) to n student inputs. */
export function studentInputs(features: ArrayLike<number>, n: number, out: Float32Array = new Float32Array(n * STUDENT_INPUTS)): Float32Array {
  for (let i = 0; i < n; i++) studentVector(features, i * NUM_FEATURES, out, i * STUDENT_INPUTS);
  return out;
}
