// Queue-position models for a virtual resting order: how much visible quantity is still ahead of it
// (`front`) as the level trades and shrinks. Follows the models of hftbacktest (nkaz001):
//  - risk-averse: front only drops by trades printed at our price; a shrinking level just caps front.
//  - prob-power / prob-log: a non-trade decrease of the level is split between ahead and behind us with
//    P(behind) = f(back) / (f(back) + f(front)), f(x) = x^n (power) or ln(1+x) (log) (rigtorp.se 2013).
//  - fifo (L3 data only): exact. The order sits behind every order resting at its arrival; front drops by
//    exactly what those orders lose (cancel, execution, reduce); later orders never count.
import { expected } from '../errors';

export type QueueModelName = 'risk-averse' | 'prob-power' | 'prob-log' | 'fifo';
export const QUEUE_MODELS: readonly QueueModelName[] = ['risk-averse', 'prob-power', 'prob-log', 'fifo'];

export enum QueueModelId {
  RiskAverse = 0,
  ProbPower = 1,
  ProbLog = 2,
  Fifo = 3,
}

export interface QueueModelConfig {
  model: QueueModelName;
  /** Exponent n of prob-power (default 2: the "square" model). */
  power?: number;
}

export function queueModelId(cfg: QueueModelConfig): QueueModelId {
  const i = QUEUE_MODELS.indexOf(cfg.model);
  if (i < 0) throw expected(QUEUE_MODELS.map((m) => `'${m}'`).join(', '), 'queue model', cfg.model);
  if (cfg.power !== undefined && !(cfg.power > 0 && Number.isFinite(cfg.power))) throw expected('a positive number', 'queue model power', cfg.power);
  return i as QueueModelId;
}

/** P(a non-trade decrease happened behind us). front+back = 0 → 1 (nothing ahead to lose). */
export function probBehind(model: QueueModelId, power: number, front: number, back: number): number {
  if (front <= 0) return 1;
  if (back <= 0) return 0;
  let fb: number, ff: number;
  if (model === QueueModelId.ProbLog) {
    fb = Math.log1p(back);
    ff = Math.log1p(front);
  } else {
    fb = Math.pow(back, power);
    ff = Math.pow(front, power);
  }
  const p = fb / (fb + ff);
  return p === p ? p : 1; // inf/inf: treat as behind
}

/**
 * New front after the level at our price went prev → next (not counting trades already applied through
 * `tradedSinceDepth`, the L2 double-count guard of hftbacktest). Never below 0 or above next.
 */
export function frontAfterDepthChange(
  model: QueueModelId,
  power: number,
  front: number,
  prev: number,
  next: number,
  tradedSinceDepth: number,
): number {
  if (model === QueueModelId.RiskAverse || model === QueueModelId.Fifo) return Math.max(0, Math.min(front, next));
  const chg = prev - next - tradedSinceDepth;
  if (chg <= 0) return Math.max(0, Math.min(front, next)); // growth joins behind us
  const back = prev - front;
  const p = probBehind(model, power, front, back);
  const est = front - (1 - p) * chg + Math.min(back - p * chg, 0);
  return Math.max(0, Math.min(est, next));
}
