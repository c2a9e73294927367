// Seeded pseudo-random numbers for simulations: xoshiro128** (Blackman & Vigna) on 32-bit integer ops, seeded
// by splitmix32, so a seed gives the same stream on every run and platform. Nothing in src/sim uses Math.random.
import { expected } from '../errors';

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

/** A splitmix-style 32-bit step (golden-ratio increment, murmur3 finaliser): expands a seed into state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128** generator. `seed` is a non-negative safe integer; `stream` selects an independent stream for
 * the same seed (e.g. one for order flow, one for the regime path), so adding draws to one part of a
 * simulation does not shift the others.
 *
 * Determinism: the integer core is exact. uniform() is exact (53-bit). normal/exponential/poisson use
 * Math.log/Math.sqrt; V8 implements log with its own fdlibm port (not the platform libm) and sqrt is
 * correctly rounded, so results are identical across platforms for a given Node major version.
 */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spareNormal = 0;
  private hasSpare = false;

  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw expected('a non-negative safe integer', 'the random seed', seed);
    if (!Number.isSafeInteger(stream) || stream < 0) throw expected('a non-negative safe integer', 'the random stream', stream);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    const st = { s: lo ^ Math.imul(hi, 0x27d4eb2f) ^ Math.imul(stream + 1, 0x165667b1) };
    splitmix32(st);
    st.s = (st.s ^ hi) | 0;
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  /** Next raw 32-bit output, as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * TWO_POW_26 + lo) / TWO_POW_53;
  }

  /** Uniform in the open interval (0, 1): safe to take a logarithm of. */
  uniformOpen(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * TWO_POW_26 + lo + 0.5) / TWO_POW_53;
  }

  /** Uniform integer in [0, n), n ≤ 2^32 (modulo with rejection of the top remainder: no modulo bias). */
  int(n: number): number {
    if (n <= 1) return 0;
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal by Marsaglia's polar method (no trigonometry; pairs cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareNormal;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * m;
    this.hasSpare = true;
    return u * m;
  }

  /** Exponential with the given rate (mean 1/rate). rate ≤ 0 returns +Infinity: the event never happens. */
  exponential(rate = 1): number {
    if (!(rate > 0)) return Infinity;
    return -Math.log(this.uniformOpen()) / rate;
  }

  /** Poisson count with the given mean: Knuth's product method below 12, PTRS (Hörmann 1993) above. */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < 12) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.uniform();
      while (p > limit) {
        k++;
        p *= this.uniform();
      }
      return k;
    }
    return this.poissonPtrs(mean);
  }

  /** 1 + geometric count with the given mean (≥ 1): heavy-ish tailed order sizes in lots. */
  sizeWithMean(mean: number): number {
    if (!(mean > 1)) return 1;
    const p = 1 / mean; // success probability of a geometric on {1, 2, ...}
    return 1 + Math.floor(Math.log(this.uniformOpen()) / Math.log(1 - p));
  }

  private poissonPtrs(mean: number): number {
    const slam = Math.sqrt(mean);
    const logLam = Math.log(mean);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniformOpen();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logLam - logFactorial(k)) return k;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** ln(k!) exactly summed below 32, Stirling series above (error < 1e-12 there). */
function logFactorial(k: number): number {
  if (k < 32) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x * x);
}
