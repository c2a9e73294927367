// Scenario pieces shared by the synthetic generator and the replay overlay: volatility regimes (and their
// Markov-switching path), drift segments, and the injected events (flash crash, trend reversal).
import { expected } from '../errors';
import { Rng } from './rng';

export type VolRegime = 'low' | 'medium' | 'high';
export type RegimeMode = VolRegime | 'switching';
export type Trend = 'bull' | 'bear' | 'sideways';

export const VOL_REGIMES: readonly VolRegime[] = ['low', 'medium', 'high'];

/**
 * What a regime changes. Volatility comes from the latent fundamental price (σ, in ticks per √second, the
 * flow mean-reverts to it), backed by busier flow (all arrival rates × activity) and larger market orders, as
 * in real markets where volatile periods are also active ones. σ steps ×2.5 between regimes so the realised
 * volatility of the mid stays clearly ordered even after microstructure noise (bid-ask bounce) is added.
 */
export interface RegimeParams {
  sigmaTicks: number;
  activity: number;
  marketSize: number;
}

export const REGIME_PARAMS: Record<VolRegime, RegimeParams> = {
  low: { sigmaTicks: 0.4, activity: 0.7, marketSize: 0.8 },
  medium: { sigmaTicks: 1.0, activity: 1.0, marketSize: 1.0 },
  high: { sigmaTicks: 2.5, activity: 1.6, marketSize: 1.5 },
};

/** Mean holding time of each regime in `switching` mode (exponential durations, then a jump to one of the other two). */
export const SWITCHING_MEAN_SECONDS: Record<VolRegime, number> = { low: 600, medium: 480, high: 240 };

/** Drift of the latent price in `bull` / `bear` segments, percent of the initial price per hour. */
export const DEFAULT_TREND_PCT_PER_HOUR = 2;

export interface RegimeSegment {
  startSeconds: number;
  endSeconds: number;
  regime: VolRegime;
}

/** Ground-truth regime path over [0, seconds). `switching` draws a Markov chain from `rng`. */
export function regimePath(mode: RegimeMode, seconds: number, rng: Rng): RegimeSegment[] {
  if (mode !== 'switching') return [{ startSeconds: 0, endSeconds: seconds, regime: mode }];
  const out: RegimeSegment[] = [];
  let regime = VOL_REGIMES[rng.int(3)];
  let t = 0;
  while (t < seconds) {
    const end = Math.min(seconds, t + rng.exponential(1 / SWITCHING_MEAN_SECONDS[regime]));
    out.push({ startSeconds: t, endSeconds: end, regime });
    t = end;
    const others = VOL_REGIMES.filter((r) => r !== regime);
    regime = others[rng.int(2)];
  }
  return out;
}

/** The regime in force at time t (seconds); the last segment's regime at or after the end. */
export function regimeAt(segments: readonly RegimeSegment[], t: number): VolRegime {
  for (const s of segments) if (t < s.endSeconds) return s.regime;
  return segments[segments.length - 1].regime;
}

/**
 * Flash crash: from `atSeconds` the price falls by `depthPct` % of the price at that moment, linearly over
 * `dropSeconds`; then it recovers `recoveryFraction` of the fall, linearly over `recoverySeconds`, and stays.
 * In the generator the fall is produced by the flow (a burst of aggressive sells, bids withdrawn); the
 * overlay imposes the same path on a replay.
 */
export interface FlashCrash {
  kind: 'flash-crash';
  atSeconds: number;
  depthPct: number;
  dropSeconds?: number;
  recoveryFraction?: number;
  recoverySeconds?: number;
}

/** Trend reversal: the drift changes sign at `atSeconds`. */
export interface Reversal {
  kind: 'reversal';
  atSeconds: number;
}

export type Injector = FlashCrash | Reversal;

export const FLASH_CRASH_DEFAULTS = { dropSeconds: 30, recoveryFraction: 0.5, recoverySeconds: 300 } as const;

export type CrashPhase = 'drop' | 'recovery';

/** A labelled window of an injected event, for tests and experiments. */
export interface InjectorWindow {
  kind: Injector['kind'];
  phase: CrashPhase | 'flip';
  startSeconds: number;
  endSeconds: number;
}

export function validateInjectors(injectors: readonly Injector[], seconds: number): void {
  for (const inj of injectors) {
    if (!(Number.isFinite(inj.atSeconds) && inj.atSeconds >= 0)) throw expected('a time ≥ 0 s', `${inj.kind} at`, inj.atSeconds);
    if (Number.isFinite(seconds) && inj.atSeconds >= seconds) throw expected(`a time before the end (${seconds} s)`, `${inj.kind} at`, `${inj.atSeconds} s`);
    if (inj.kind === 'flash-crash') {
      if (!(inj.depthPct > 0 && inj.depthPct <= 50)) throw expected('a depth in (0, 50] %', 'flash-crash depth', inj.depthPct);
      const c = crashParams(inj);
      if (!(c.dropSeconds > 0)) throw expected('a positive duration', 'flash-crash drop seconds', c.dropSeconds);
      if (!(c.recoverySeconds > 0)) throw expected('a positive duration', 'flash-crash recovery seconds', c.recoverySeconds);
      if (!(c.recoveryFraction >= 0 && c.recoveryFraction <= 1)) throw expected('a fraction in [0, 1]', 'flash-crash recovery', c.recoveryFraction);
    } else if (inj.kind !== 'reversal') {
      throw expected("'flash-crash' or 'reversal'", 'injector kind', (inj as { kind: unknown }).kind);
    }
  }
}

export function crashParams(c: FlashCrash): Required<FlashCrash> {
  return {
    kind: 'flash-crash',
    atSeconds: c.atSeconds,
    depthPct: c.depthPct,
    dropSeconds: c.dropSeconds ?? FLASH_CRASH_DEFAULTS.dropSeconds,
    recoveryFraction: c.recoveryFraction ?? FLASH_CRASH_DEFAULTS.recoveryFraction,
    recoverySeconds: c.recoverySeconds ?? FLASH_CRASH_DEFAULTS.recoverySeconds,
  };
}

/**
 * The crash path as a fraction of the reference price: 0 before, falling linearly to −depth at the end of the
 * drop, then rising linearly to −depth·(1 − recoveryFraction) over the recovery, then flat.
 */
export function crashOffsetFraction(c: Required<FlashCrash>, t: number): number {
  const depth = c.depthPct / 100;
  const t1 = c.atSeconds + c.dropSeconds;
  if (t <= c.atSeconds) return 0;
  if (t < t1) return (-depth * (t - c.atSeconds)) / c.dropSeconds;
  const r = Math.min(1, (t - t1) / c.recoverySeconds);
  return -depth * (1 - c.recoveryFraction * r);
}

export function crashPhaseAt(c: Required<FlashCrash>, t: number): CrashPhase | null {
  const t1 = c.atSeconds + c.dropSeconds;
  if (t < c.atSeconds) return null;
  if (t < t1) return 'drop';
  if (t < t1 + c.recoverySeconds) return 'recovery';
  return null;
}

export function injectorWindows(injectors: readonly Injector[]): InjectorWindow[] {
  const out: InjectorWindow[] = [];
  for (const inj of injectors) {
    if (inj.kind === 'reversal') out.push({ kind: 'reversal', phase: 'flip', startSeconds: inj.atSeconds, endSeconds: inj.atSeconds });
    else {
      const c = crashParams(inj);
      const t1 = c.atSeconds + c.dropSeconds;
      out.push({ kind: 'flash-crash', phase: 'drop', startSeconds: c.atSeconds, endSeconds: t1 });
      out.push({ kind: 'flash-crash', phase: 'recovery', startSeconds: t1, endSeconds: t1 + c.recoverySeconds });
    }
  }
  return out.sort((a, b) => a.startSeconds - b.startSeconds);
}

/** Sign of the drift at time t: +1 before an odd number of reversals, −1 after, and so on. */
export function driftSignAt(injectors: readonly Injector[], t: number): number {
  let sign = 1;
  for (const inj of injectors) if (inj.kind === 'reversal' && t >= inj.atSeconds) sign = -sign;
  return sign;
}

/** Parses `12m`, `30s`, `1h` or a bare number of seconds into seconds. */
export function parseDuration(text: string, forWhat: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw expected('a time like 30s, 12m or 1h', forWhat, text);
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? v / 1000 : unit === 's' ? v : unit === 'm' ? v * 60 : v * 3600;
}

/**
 * Std of 1-second mid log-returns (basis points) grouped by the regime in force over the whole second.
 * Seconds that straddle a regime switch or fall inside a flash-crash window are left out; null when a regime
 * has fewer than two returns.
 */
export function realisedVolByRegime(mids: Float64Array, regimes: readonly RegimeSegment[], windows: readonly InjectorWindow[] = []): Record<VolRegime, number | null> {
  const acc: Record<VolRegime, number[]> = { low: [], medium: [], high: [] };
  for (let i = 0; i + 1 < mids.length; i++) {
    const r = regimeAt(regimes, i);
    if (regimeAt(regimes, i + 1 - 1e-9) !== r) continue;
    if (windows.some((w) => w.kind === 'flash-crash' && i + 1 > w.startSeconds && i < w.endSeconds)) continue;
    if (mids[i] > 0 && mids[i + 1] > 0) acc[r].push(Math.log(mids[i + 1] / mids[i]) * 1e4);
  }
  const out = { low: null, medium: null, high: null } as Record<VolRegime, number | null>;
  for (const r of VOL_REGIMES) {
    const x = acc[r];
    if (x.length < 2) continue;
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    out[r] = Math.sqrt(x.reduce((a, b) => a + (b - m) * (b - m), 0) / (x.length - 1));
  }
  return out;
}
