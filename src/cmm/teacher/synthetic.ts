// A seeded synthetic limit-order-book process that yields teacher windows and targets with learnable structure
// (persistent order flow moves the mid; volatility regimes drive spread and volume). For development and tests
// until the dataset builder exists; not a market model to draw conclusions from.
import { expected } from '../../errors';
import { SeededRandom } from './nn';
import { TeacherDataset } from './teacher';

/** The 16 per-snapshot features the synthetic process emits, in column order. */
export const SYNTHETIC_FEATURES = [
  'mid_price', 'mid_change_ticks', 'spread_ticks', 'bid_size_1', 'ask_size_1', 'bid_depth_5', 'ask_depth_5',
  'depth_imbalance_5', 'buy_volume', 'sell_volume', 'trade_count', 'microprice_offset_ticks', 'realized_vol_ticks',
  'dt_seconds', 'ofi', 'signed_volume_ewm',
];

export interface SyntheticOptions {
  /** Windows to produce. */
  n: number;
  /** Snapshots per window (default 32). */
  T?: number;
  /** Target horizon in snapshots (default 10). */
  horizon?: number;
  /** Snapshots between consecutive windows' decision times (default 1). */
  stride?: number;
  seed?: number;
  tick?: number;
  startPrice?: number;
}

/** Windows (N×T×16), targets (mid change ticks, mean spread ticks, log1p volume over the next `horizon` snapshots) and times (s). */
export function syntheticDataset(opts: SyntheticOptions): TeacherDataset & { tick: number; regime: Uint8Array } {
  const n = opts.n, T = opts.T ?? 32, h = opts.horizon ?? 10, stride = opts.stride ?? 1;
  if (!Number.isInteger(n) || n < 1) throw expected('a positive integer', 'n', n);
  if (!Number.isInteger(T) || T < 1) throw expected('a positive integer', 'T', T);
  if (!Number.isInteger(h) || h < 1) throw expected('a positive integer', 'horizon', h);
  if (!Number.isInteger(stride) || stride < 1) throw expected('a positive integer', 'stride', stride);
  const tick = opts.tick ?? 0.01;
  const rng = new SeededRandom(opts.seed ?? 7);
  const F = SYNTHETIC_FEATURES.length;
  const S = (n - 1) * stride + T + h; // snapshots needed
  const snaps = new Float32Array(S * F);
  const midTicks = new Float64Array(S), spread = new Float64Array(S), volume = new Float64Array(S), time = new Float64Array(S);
  const regimeOf = new Uint8Array(S);
  const poisson = (lambda: number) => {
    // Knuth for small λ, normal approximation above 30.
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
    const L = Math.exp(-lambda);
    let k = 0, p = 1;
    do { k++; p *= rng.next(); } while (p > L);
    return k - 1;
  };
  let mid = Math.round((opts.startPrice ?? 100) / tick), flow = 0, regime = 1, sp = 2, t = 0;
  let bid1 = 20, ask1 = 20, ewm = 0;
  const recent: number[] = [];
  const VOL = [0.4, 1.0, 2.2]; // mid-move scale in ticks per snapshot, per regime
  for (let i = 0; i < S; i++) {
    if (rng.next() < 0.01) regime = Math.min(2, Math.max(0, regime + (rng.next() < 0.5 ? -1 : 1)));
    const vol = VOL[regime];
    flow = 0.93 * flow + 0.37 * rng.normal(); // persistent order-flow pressure, stationary std ≈ 1
    const dt = -Math.log(1 - rng.next()) * 0.1 / (0.6 + 0.4 * regime);
    t += dt;
    const lam = 2 + 3 * regime;
    const buy = poisson(lam * Math.exp(0.6 * flow)), sell = poisson(lam * Math.exp(-0.6 * flow));
    const dm = Math.round(0.45 * flow * vol + vol * rng.normal() * 0.8);
    mid += dm;
    sp = Math.max(1, Math.round(0.7 * sp + 0.3 * (1 + regime * 1.5) + 0.6 * rng.normal()));
    const bidDepth = Math.max(1, 100 * Math.exp(0.25 * flow + 0.3 * rng.normal()));
    const askDepth = Math.max(1, 100 * Math.exp(-0.25 * flow + 0.3 * rng.normal()));
    const newBid1 = Math.max(1, Math.round(bidDepth / 5 * (0.5 + rng.next())));
    const newAsk1 = Math.max(1, Math.round(askDepth / 5 * (0.5 + rng.next())));
    const ofi = newBid1 - bid1 - (newAsk1 - ask1);
    bid1 = newBid1; ask1 = newAsk1;
    ewm = 0.9 * ewm + 0.1 * (buy - sell);
    recent.push(dm);
    if (recent.length > 20) recent.shift();
    const rm = recent.reduce((a, b) => a + b, 0) / recent.length;
    const rv = Math.sqrt(recent.reduce((a, b) => a + (b - rm) ** 2, 0) / recent.length);
    const midPrice = (mid + (sp % 2) * 0.5) * tick;
    const f = snaps.subarray(i * F, (i + 1) * F);
    f.set([
      midPrice, dm, sp, bid1, ask1, bidDepth, askDepth, (bidDepth - askDepth) / (bidDepth + askDepth), buy, sell,
      poisson(lam), (sp / 2) * (bid1 - ask1) / (bid1 + ask1), rv, dt, ofi, ewm,
    ]);
    midTicks[i] = mid; spread[i] = sp; volume[i] = buy + sell; time[i] = t; regimeOf[i] = regime;
  }
  const windows = new Float32Array(n * T * F), targets = new Float32Array(n * 3), times = new Float64Array(n);
  const regimeOut = new Uint8Array(n);
  for (let w = 0; w < n; w++) {
    const s0 = w * stride, last = s0 + T - 1;
    windows.set(snaps.subarray(s0 * F, (last + 1) * F), w * T * F);
    let spSum = 0, vol = 0;
    for (let j = last + 1; j <= last + h; j++) { spSum += spread[j]; vol += volume[j]; }
    targets[w * 3] = midTicks[last + h] - midTicks[last];
    targets[w * 3 + 1] = spSum / h;
    targets[w * 3 + 2] = Math.log1p(vol);
    times[w] = time[last];
    regimeOut[w] = regimeOf[last];
  }
  return { spec: { T, F, features: SYNTHETIC_FEATURES.slice() }, windows, targets, times, tick, regime: regimeOut };
}
