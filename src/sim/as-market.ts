// The stylised market of Avellaneda & Stoikov (2008), "High-frequency trading in a limit order book": Brownian
// mid, Poisson fills with intensity A·exp(−k·δ), and their inventory vs symmetric strategies (Tables 1–3).
import { expected } from '../errors';
import { Rng } from './rng';

export interface AsMarketParams {
  /** Initial mid price. Paper: 100. */
  s0: number;
  /** Horizon. Paper: 1. */
  T: number;
  /** Mid volatility (absolute, per √time). Paper: 2. */
  sigma: number;
  /** Number of time steps; dt = T / steps. Paper: dt = 0.005 → 200 steps. */
  steps: number;
  /** Fill intensity scale. Paper: 140. */
  A: number;
  /** Fill intensity decay in the quote distance. Paper: 1.5. */
  k: number;
  /** Risk aversion. Paper: 0.1 (Table 1), 0.01 (Table 2), 0.5 (Table 3). */
  gamma: number;
  /** Initial inventory. Paper: 0. */
  q0: number;
  /** Simulated paths. Paper: 1000. */
  paths: number;
  seed: number;
  /**
   * Mid steps: 'binomial' moves ±σ√dt with probability ½ each (the paper's discretisation), 'gaussian' draws
   * σ√dt·N(0,1).
   */
  priceSteps: 'binomial' | 'gaussian';
  /**
   * Spread of the symmetric strategy. 'same': the inventory strategy's total spread γσ²(T−t) + (2/γ)ln(1+γ/k),
   * centred on the mid (the paper's wording). 'constant': only (2/γ)ln(1+γ/k), which is what the paper's tables
   * show in their "average spread" column and what reproduces its symmetric row for γ = 0.5.
   */
  symmetricSpread: 'same' | 'constant';
}

export const AS_PAPER_DEFAULTS: AsMarketParams = {
  s0: 100,
  T: 1,
  sigma: 2,
  steps: 200,
  A: 140,
  k: 1.5,
  gamma: 0.1,
  q0: 0,
  paths: 1000,
  seed: 1,
  priceSteps: 'binomial',
  symmetricSpread: 'same',
};

export type AsStrategy = 'inventory' | 'symmetric';

/** Mean and standard deviation (sample, n−1) over paths of one strategy's outcomes. */
export interface AsStrategyStats {
  strategy: AsStrategy;
  gamma: number;
  /** Time-average of the quoted spread (ask − bid), averaged over paths. */
  meanSpread: number;
  /** Terminal P&L: cash + q_T·S_T (starting from zero cash). */
  meanProfit: number;
  stdProfit: number;
  meanFinalQ: number;
  stdFinalQ: number;
  /** Fills per path (bid + ask), averaged. */
  meanFills: number;
}

export interface AsResult {
  params: AsMarketParams;
  inventory: AsStrategyStats;
  symmetric: AsStrategyStats;
}

/** The paper's reported figures (Avellaneda & Stoikov 2008, Tables 1–3; 1000 simulations each). */
export const AS_PAPER_TABLES: ReadonlyArray<{ gamma: number; strategy: AsStrategy; spread: number; profit: number; stdProfit: number; finalQ: number; stdFinalQ: number }> = [
  { gamma: 0.1, strategy: 'inventory', spread: 1.29, profit: 62.94, stdProfit: 5.89, finalQ: 0.1, stdFinalQ: 2.8 },
  { gamma: 0.1, strategy: 'symmetric', spread: 1.29, profit: 67.21, stdProfit: 13.43, finalQ: -0.018, stdFinalQ: 8.66 },
  { gamma: 0.01, strategy: 'inventory', spread: 1.33, profit: 66.78, stdProfit: 8.76, finalQ: -0.02, stdFinalQ: 4.7 },
  { gamma: 0.01, strategy: 'symmetric', spread: 1.33, profit: 67.36, stdProfit: 13.4, finalQ: -0.31, stdFinalQ: 8.65 },
  { gamma: 0.5, strategy: 'inventory', spread: 1.15, profit: 33.92, stdProfit: 4.72, finalQ: -0.02, stdFinalQ: 1.88 },
  { gamma: 0.5, strategy: 'symmetric', spread: 1.15, profit: 66.2, stdProfit: 14.53, finalQ: 0.25, stdFinalQ: 9.06 },
];

function validate(p: AsMarketParams): void {
  const positive: Array<keyof AsMarketParams> = ['T', 'sigma', 'A', 'k', 'gamma'];
  for (const key of positive) {
    const v = p[key] as number;
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw expected('a positive finite number', `AS ${key}`, v);
  }
  if (!Number.isFinite(p.s0)) throw expected('a finite number', 'AS s0', p.s0);
  if (!Number.isInteger(p.q0)) throw expected('an integer', 'AS q0', p.q0);
  if (!Number.isInteger(p.steps) || p.steps < 1) throw expected('a positive integer', 'AS steps', p.steps);
  if (!Number.isInteger(p.paths) || p.paths < 2) throw expected('an integer ≥ 2', 'AS paths', p.paths);
  if (p.priceSteps !== 'binomial' && p.priceSteps !== 'gaussian') throw expected("'binomial' or 'gaussian'", 'AS priceSteps', p.priceSteps);
  if (p.symmetricSpread !== 'same' && p.symmetricSpread !== 'constant') throw expected("'same' or 'constant'", 'AS symmetricSpread', p.symmetricSpread);
}

/**
 * Simulates both strategies on the same price paths and the same fill draws (common random numbers, so the
 * comparison between strategies is not blurred by independent noise).
 *
 * Per step, at time t = i·dt with mid s and inventory q:
 *   inventory: r = s − q·γσ²(T−t), spread = γσ²(T−t) + (2/γ)ln(1+γ/k), bid = r − spread/2, ask = r + spread/2
 *   symmetric: bid/ask = s ∓ spread/2
 *   the bid fills with probability min(1, A·exp(−k·δᵇ)·dt), δᵇ = s − bid (ask likewise, one draw per side shared
 *   by both strategies), one unit per fill; then s moves by one price step.
 * Profit = cash + q_T·S_T.
 */
export function simulateAsMarket(options: Partial<AsMarketParams> = {}): AsResult {
  const p: AsMarketParams = { ...AS_PAPER_DEFAULTS, ...options };
  validate(p);
  const rng = new Rng(p.seed);
  const dt = p.T / p.steps;
  const sqrtDt = Math.sqrt(dt);
  const { gamma, sigma, k, A } = p;
  const baseSpread = (2 / gamma) * Math.log(1 + gamma / k);
  const sig2 = sigma * sigma;
  const fillProb = (delta: number): number => Math.min(1, A * Math.exp(-k * delta) * dt);

  const acc = {
    inventory: { profit: new Float64Array(p.paths), q: new Float64Array(p.paths), spread: 0, fills: 0 },
    symmetric: { profit: new Float64Array(p.paths), q: new Float64Array(p.paths), spread: 0, fills: 0 },
  };
  for (let path = 0; path < p.paths; path++) {
    let s = p.s0;
    let qi = p.q0;
    let xi = 0;
    let qs = p.q0;
    let xs = 0;
    for (let i = 0; i < p.steps; i++) {
      const tau = p.T - i * dt;
      const invSpread = gamma * sig2 * tau + baseSpread;
      const symSpread = p.symmetricSpread === 'same' ? invSpread : baseSpread;
      const r = s - qi * gamma * sig2 * tau;
      const bidI = r - invSpread / 2;
      const askI = r + invSpread / 2;
      const bidS = s - symSpread / 2;
      const askS = s + symSpread / 2;
      acc.inventory.spread += invSpread;
      acc.symmetric.spread += symSpread;
      const ub = rng.uniform();
      const ua = rng.uniform();
      if (ub < fillProb(s - bidI)) { qi++; xi -= bidI; acc.inventory.fills++; }
      if (ua < fillProb(askI - s)) { qi--; xi += askI; acc.inventory.fills++; }
      if (ub < fillProb(s - bidS)) { qs++; xs -= bidS; acc.symmetric.fills++; }
      if (ua < fillProb(askS - s)) { qs--; xs += askS; acc.symmetric.fills++; }
      s += p.priceSteps === 'binomial' ? (rng.uniform() < 0.5 ? sigma * sqrtDt : -sigma * sqrtDt) : sigma * sqrtDt * rng.normal();
    }
    acc.inventory.profit[path] = xi + qi * s;
    acc.inventory.q[path] = qi;
    acc.symmetric.profit[path] = xs + qs * s;
    acc.symmetric.q[path] = qs;
  }
  const stats = (strategy: AsStrategy): AsStrategyStats => {
    const a = acc[strategy];
    return {
      strategy,
      gamma,
      meanSpread: a.spread / (p.paths * p.steps),
      meanProfit: mean(a.profit),
      stdProfit: std(a.profit),
      meanFinalQ: mean(a.q),
      stdFinalQ: std(a.q),
      meanFills: a.fills / p.paths,
    };
  };
  return { params: p, inventory: stats('inventory'), symmetric: stats('symmetric') };
}

/** Runs the paper's three experiments (γ = 0.1, 0.01, 0.5 by default) with the same other parameters. */
export function asPaperComparison(options: Partial<AsMarketParams> = {}, gammas: number[] = [0.1, 0.01, 0.5]): AsResult[] {
  return gammas.map((gamma) => simulateAsMarket({ ...options, gamma }));
}

/** A plain-text table of our results beside the paper's, one row per (γ, strategy). */
export function formatAsTable(results: AsResult[]): string {
  const head = ['gamma', 'strategy', 'spread', 'profit', 'std(profit)', 'final q', 'std(q)', 'paper profit', 'paper std', 'paper std(q)'];
  const rows: string[][] = [head];
  for (const res of results) {
    for (const st of [res.inventory, res.symmetric]) {
      const paper = AS_PAPER_TABLES.find((r) => r.gamma === st.gamma && r.strategy === st.strategy);
      rows.push([
        String(st.gamma), st.strategy, st.meanSpread.toFixed(2), st.meanProfit.toFixed(2), st.stdProfit.toFixed(2),
        st.meanFinalQ.toFixed(2), st.stdFinalQ.toFixed(2),
        paper ? paper.profit.toFixed(2) : '-', paper ? paper.stdProfit.toFixed(2) : '-', paper ? paper.stdFinalQ.toFixed(2) : '-',
      ]);
    }
  }
  const widths = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c])).join('  ')).join('\n');
}

function mean(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

function std(a: Float64Array): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) * (a[i] - m);
  return Math.sqrt(s / (a.length - 1));
}
