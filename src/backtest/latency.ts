// Latency models for the backtester (feed, order entry, response): constant or drawn from a seeded
// distribution (src/sim/rng.ts), always with a known minimum. Also the duration parser ("250us", "5m").
import { EngineError, expected } from '../errors';
import { Rng } from '../sim/rng';

export type LatencySpec =
  | { dist: 'constant'; ns: number }
  | { dist: 'uniform'; minNs: number; maxNs: number }
  /** minNs + medianNs·exp(sigma·Z), Z standard normal. */
  | { dist: 'lognormal'; minNs: number; medianNs: number; sigma: number }
  | { dist: 'exponential'; minNs: number; meanNs: number };

/** A latency source: `draw()` gives one delay in ns (>= minNs). */
export class LatencyModel {
  readonly spec: LatencySpec;
  /** The smallest delay draw() can return. */
  readonly minNs: number;
  private readonly rng: Rng;

  constructor(spec: LatencySpec, seed: number, stream: number) {
    validateSpec(spec);
    this.spec = spec;
    this.rng = new Rng(seed, stream);
    this.minNs = spec.dist === 'constant' ? spec.ns : spec.minNs;
  }

  draw(): number {
    const s = this.spec;
    switch (s.dist) {
      case 'constant':
        return s.ns;
      case 'uniform':
        return s.minNs + (s.maxNs - s.minNs) * this.rng.uniform();
      case 'lognormal':
        return s.minNs + s.medianNs * Math.exp(s.sigma * this.rng.normal());
      case 'exponential':
        return s.minNs + this.rng.exponential(1 / s.meanNs);
    }
  }
}

function validateSpec(s: LatencySpec): void {
  const nonNeg = (v: number, what: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw expected('a finite number of ns >= 0', what, v);
  };
  if (s === null || typeof s !== 'object') throw expected('a latency spec', 'latency', s);
  switch (s.dist) {
    case 'constant':
      nonNeg(s.ns, 'latency ns');
      return;
    case 'uniform':
      nonNeg(s.minNs, 'latency minNs');
      nonNeg(s.maxNs, 'latency maxNs');
      if (s.maxNs < s.minNs) throw expected(`maxNs >= minNs (${s.minNs})`, 'uniform latency', s.maxNs);
      return;
    case 'lognormal':
      nonNeg(s.minNs, 'latency minNs');
      if (!(s.medianNs > 0) || !Number.isFinite(s.medianNs)) throw expected('a positive median', 'lognormal latency', s.medianNs);
      if (!(s.sigma >= 0) || !Number.isFinite(s.sigma)) throw expected('sigma >= 0', 'lognormal latency', s.sigma);
      return;
    case 'exponential':
      nonNeg(s.minNs, 'latency minNs');
      if (!(s.meanNs > 0) || !Number.isFinite(s.meanNs)) throw expected('a positive mean', 'exponential latency', s.meanNs);
      return;
    default:
      throw expected("'constant', 'uniform', 'lognormal' or 'exponential'", 'latency dist', (s as { dist: unknown }).dist);
  }
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** "250us", "1.5ms", "30s", "5m", "0" → ns. A bare number is seconds (except 0). */
export function parseDurationNs(text: string, what = 'a duration'): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(ns|us|ms|s|m|h)?\s*$/i.exec(text);
  if (!m) throw expected('a duration like 250us, 1ms, 30s, 5m', what, text);
  const v = Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()];
  if (!Number.isFinite(v)) throw expected('a finite duration', what, text);
  return v;
}

/**
 * Latency from the command line: "1ms" (constant), "uniform:0.5ms:2ms", "lognormal:MIN:MEDIAN:SIGMA",
 * "exp:MIN:MEAN".
 */
export function parseLatency(text: string, what = 'latency'): LatencySpec {
  const parts = text.split(':');
  try {
    switch (parts[0]) {
      case 'uniform':
        if (parts.length === 3) return { dist: 'uniform', minNs: parseDurationNs(parts[1]), maxNs: parseDurationNs(parts[2]) };
        break;
      case 'lognormal':
        if (parts.length === 4) return { dist: 'lognormal', minNs: parseDurationNs(parts[1]), medianNs: parseDurationNs(parts[2]), sigma: Number(parts[3]) };
        break;
      case 'exp':
        if (parts.length === 3) return { dist: 'exponential', minNs: parseDurationNs(parts[1]), meanNs: parseDurationNs(parts[2]) };
        break;
      default:
        if (parts.length === 1) return { dist: 'constant', ns: parseDurationNs(parts[0]) };
    }
  } catch (err) {
    if (err instanceof EngineError) throw expected('a latency like 1ms, uniform:0.5ms:2ms, lognormal:0.2ms:1ms:0.5, exp:0:1ms', what, text);
    throw err;
  }
  throw expected('a latency like 1ms, uniform:0.5ms:2ms, lognormal:0.2ms:1ms:0.5, exp:0:1ms', what, text);
}
