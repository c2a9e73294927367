// Order-flow parameters of the synthetic market (src/sim/generator.ts): Cont, Stoikov & Talreja (2010) rates,
// the tether to the latent price, Hawkes excitation, and how a flash crash changes the flow while it falls.

/**
 * Order-flow parameters. Rates are per second in CST's units (one "order" = one average-sized order);
 * `rateScale` and each regime's `activity` multiply all of them (a faster clock, same book shape).
 */
export interface FlowParams {
  /** Limit orders at distance i ticks from the opposite best quote: limitRate · i^(−limitDecay), i = 1..levels (CST: 1.92, 0.52). */
  limitRate: number;
  limitDecay: number;
  /** Market orders per side (CST: 0.94), before the tilt towards the fundamental price. */
  marketRate: number;
  /** Cancellation rate per resting average-sized order at distance i = 1..; the last value holds beyond (CST Table 2). */
  cancelRates: number[];
  levels: number;
  rateScale: number;
  /** Mean sizes in lots (1 + geometric). Market sizes are further scaled by the regime. */
  limitSizeMean: number;
  marketSizeMean: number;
  /** Market-order tilt: buy rate × exp(tilt·(F − mid)), sell rate × exp(−tilt·(F − mid)), exponent capped at ±tiltCap. */
  tiltPerTick: number;
  tiltCap: number;
  /** Quotes on the wrong side of F are cancelled faster: × (1 + staleCancelBoost · ticks beyond F). */
  staleCancelBoost: number;
  /** Self-exciting market orders per side, λ(t) = μ(1−α/β) + Σ α e^{−β(t−tᵢ)}; null for plain Poisson. */
  hawkes: { alpha: number; beta: number } | null;
  /** Levels farther than this from their own side's best are removed once a second (bounds the book). */
  pruneTicks: number;
}

export const CST_FLOW: FlowParams = {
  limitRate: 1.92,
  limitDecay: 0.52,
  marketRate: 0.94,
  cancelRates: [0.71, 0.81, 0.68, 0.56, 0.47],
  levels: 10,
  rateScale: 3,
  limitSizeMean: 4,
  marketSizeMean: 4,
  tiltPerTick: 0.8,
  tiltCap: 3,
  staleCancelBoost: 2,
  hawkes: { alpha: 1.0, beta: 2.5 },
  pruneTicks: 100,
};

/** Flow changes while a flash crash is falling (the price path itself comes from scenario.crashOffsetFraction). */
export const CRASH_DROP = { bidLimitMult: 0.6, bidCancelMult: 1.5, buyMult: 0.25, sellSizeMult: 2, tiltCap: 5, burstPerTickPerSecond: 1 };

