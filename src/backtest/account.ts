// Cash and inventory of one simulated trader, in tick·lot units so that trade cash is integer-valued and
// exact (|cash| < 2^53); fees are kept apart (fractional). Money = tick·lots × tickSize × lotSize.
import { Side } from '../core/event';

export class Account {
  /** Signed inventory in lots. */
  position = 0;
  /** Trade cash in tick·lots: −Σ sign·price·qty over fills. Integer-valued. */
  cashTL = 0;
  /** Fees paid in tick·lots (rebates negative), summed in fill order. */
  feesTL = 0;
  fills = 0;
  makerFills = 0;
  takerFills = 0;
  /** Traded lots, both sides. */
  volume = 0;

  applyFill(side: Side, price: number, qty: number, feeTL: number, maker: boolean): void {
    if (side === Side.Bid) {
      this.position += qty;
      this.cashTL -= price * qty;
    } else {
      this.position -= qty;
      this.cashTL += price * qty;
    }
    this.feesTL += feeTL;
    this.fills++;
    if (maker) this.makerFills++;
    else this.takerFills++;
    this.volume += qty;
  }

  /** Marked-to-mid value in tick·lots (mid in ticks; may be a half tick). */
  equityTL(mid: number): number {
    return this.cashTL + this.position * mid - this.feesTL;
  }

  reset(): void {
    this.position = 0;
    this.cashTL = 0;
    this.feesTL = 0;
    this.fills = 0;
    this.makerFills = 0;
    this.takerFills = 0;
    this.volume = 0;
  }
}

/** Fee of one fill in tick·lots: notional (price·qty ticks·lots) × bps / 10 000. */
export function feeTL(price: number, qty: number, bps: number): number {
  return (price * qty * bps) / 10000;
}
