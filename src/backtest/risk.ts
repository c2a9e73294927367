// Pre-trade risk overlay between every strategy and the exchange: the gateway routes each order through
// check(); nothing reaches the exchange around it. Refusals are counted per reason for the report.
// Cancels are never refused (they only reduce risk); orders that only reduce the position skip the
// position, size and rate limits (a flatten must always be possible).
import { expected } from '../errors';

export interface RiskLimits {
  /** Largest |position| in lots, counting working orders on the side that would grow it. */
  maxPosition: number;
  /** Largest single order, lots. */
  maxOrderQty: number;
  /** New orders and modifies in any 1-second window. */
  maxOrdersPerSecond: number;
  /** Loss (quote currency, marked to mid, after fees) that flattens and stops the strategy for the session
   *  (an episode is one session). Infinity disables it. Checked at every metrics step. */
  maxLoss: number;
  /** Fat-finger band: a limit price further than this from the mid (bps of mid, at least 5 ticks) is refused. */
  fatFingerBps: number;
}

export type RiskReason =
  | 'bad-price'
  | 'bad-qty'
  | 'max-order-qty'
  | 'max-position'
  | 'order-rate'
  | 'fat-finger'
  | 'no-reference-price'
  | 'loss-limit';

export const RISK_REASONS: readonly RiskReason[] = [
  'bad-price', 'bad-qty', 'max-order-qty', 'max-position', 'order-rate', 'fat-finger', 'no-reference-price', 'loss-limit',
];

export const MIN_BAND_TICKS = 5;

export function validateRiskLimits(l: RiskLimits): void {
  if (l === null || typeof l !== 'object') throw expected('a RiskLimits object', 'risk limits', l);
  const pos = (v: number, what: string, inf = false): void => {
    if (typeof v !== 'number' || !(v > 0) || (!inf && !Number.isFinite(v))) throw expected('a positive number', what, v);
  };
  pos(l.maxPosition, 'risk.maxPosition');
  pos(l.maxOrderQty, 'risk.maxOrderQty');
  pos(l.maxOrdersPerSecond, 'risk.maxOrdersPerSecond', true);
  pos(l.maxLoss, 'risk.maxLoss', true);
  pos(l.fatFingerBps, 'risk.fatFingerBps');
}

export class RiskOverlay {
  readonly limits: RiskLimits;
  refusals: Record<RiskReason, number> = RiskOverlay.zero();
  private readonly ring: Float64Array;
  private ringHead = 0;
  private ringCount = 0;

  constructor(limits: RiskLimits) {
    validateRiskLimits(limits);
    this.limits = { ...limits };
    const cap = Number.isFinite(limits.maxOrdersPerSecond) ? Math.max(1, Math.floor(limits.maxOrdersPerSecond)) : 0;
    this.ring = new Float64Array(cap);
  }

  static zero(): Record<RiskReason, number> {
    return Object.fromEntries(RISK_REASONS.map((r) => [r, 0])) as Record<RiskReason, number>;
  }

  /**
   * Checks one new order or modify. `exposureAfter`: the position plus every working order on this
   * order's side (this one at its new size) — the worst case if all fill. `reducing`: the order can only
   * shrink |position|. `mid` in ticks (NaN when there is no book). Returns the refusal reason or null,
   * and counts refusals.
   */
  check(price: number, qty: number, isMarket: boolean, nowNs: number, exposureAfter: number, reducing: boolean, mid: number): RiskReason | null {
    const r = this.reason(price, qty, isMarket, nowNs, exposureAfter, reducing, mid);
    if (r !== null) this.refusals[r]++;
    else if (!reducing && this.ring.length > 0) {
      this.ring[this.ringHead] = nowNs;
      this.ringHead = (this.ringHead + 1) % this.ring.length;
      if (this.ringCount < this.ring.length) this.ringCount++;
    }
    return r;
  }

  private reason(price: number, qty: number, isMarket: boolean, nowNs: number, exposureAfter: number, reducing: boolean, mid: number): RiskReason | null {
    if (!Number.isFinite(qty) || qty <= 0 || !Number.isInteger(qty)) return 'bad-qty';
    if (isMarket && !(mid === mid)) return 'no-reference-price'; // no book to put a protection price on
    if (!Number.isFinite(price) || price <= 0 || !Number.isInteger(price)) return 'bad-price';
    if (!(mid === mid)) return 'no-reference-price';
    if (!isMarket && Math.abs(price - mid) > this.bandTicks(mid)) return 'fat-finger';
    if (reducing) return null;
    if (qty > this.limits.maxOrderQty) return 'max-order-qty';
    if (Math.abs(exposureAfter) > this.limits.maxPosition) return 'max-position';
    if (this.ring.length > 0 && this.ringCount === this.ring.length && nowNs - this.ring[this.ringHead] < 1e9) return 'order-rate';
    return null;
  }

  /** Half-width of the fat-finger band around mid, in ticks. */
  bandTicks(mid: number): number {
    return Math.max((Math.abs(mid) * this.limits.fatFingerBps) / 10000, MIN_BAND_TICKS);
  }

  /** True when the session loss reached the limit; counts the breach. */
  lossBreached(pnlMoney: number): boolean {
    if (-pnlMoney >= this.limits.maxLoss) {
      this.refusals['loss-limit']++;
      return true;
    }
    return false;
  }

  reset(): void {
    this.refusals = RiskOverlay.zero();
    this.ringHead = 0;
    this.ringCount = 0;
  }
}
