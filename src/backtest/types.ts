// Shared vocabulary of the backtester: order actions a strategy sends, execution reports it gets back.
// Prices are integer ticks, quantities integer lots; times are ns since the tape's origin (doubles, exact).
import { Side } from '../core/event';

/** What an order does when it reaches the book. */
export enum TimeInForce {
  /** Rests until cancelled; the marketable part takes liquidity first. */
  Gtc = 0,
  /** Takes what it can at once; the remainder is cancelled. A market order is an IOC with a protection price. */
  Ioc = 1,
  /** Rests only: rejected (not repriced) when it would take liquidity on arrival. */
  PostOnly = 2,
}

export enum ActionKind {
  New = 0,
  Cancel = 1,
  /** New price and/or qty of a working order: a new price or a larger qty loses queue priority. */
  Modify = 2,
}

/** One order action on its way to the exchange. One shape for every kind (monomorphic hot path). */
export class OrderAction {
  constructor(
    public kind: ActionKind,
    public clientId: number,
    public side: Side,
    public price: number,
    public qty: number,
    public tif: TimeInForce,
    /** Strategy-side time of the decision (ns). */
    public decidedNs: number,
    /** Exchange-side arrival time (ns): decidedNs + order-entry latency. */
    public arrivalNs: number,
    /** True for a market order (price is then its protection limit). */
    public isMarket = false,
  ) {}
}

export enum ReportKind {
  Accepted = 0,
  Rejected = 1,
  Fill = 2,
  /** Cancelled: by request, IOC remainder, or at the end of an episode. */
  Cancelled = 3,
  Modified = 4,
}

export enum Liquidity {
  None = 0,
  Maker = 1,
  Taker = 2,
}

/** Why the exchange refused an action (rejections are counted per reason). */
export type RejectReason = 'post-only-would-cross' | 'unknown-order' | 'no-liquidity' | 'bad-order' | 'modify-would-cross';

/** One execution report, produced by the exchange and delivered to the strategy after response latency. */
export class ExecReport {
  constructor(
    public kind: ReportKind,
    public clientId: number,
    public side: Side,
    /** Fill price (Fill), or the order's price. */
    public price: number,
    /** Filled qty (Fill), or the order's qty. */
    public qty: number,
    /** Qty still working after this report. */
    public leaves: number,
    public liquidity: Liquidity,
    /** Fee of this fill in tick·lot units (negative = rebate). */
    public feeTL: number,
    /** Exchange time of the event (ns). */
    public exchangeNs: number,
    /** When the strategy learns of it (ns). */
    public notifyNs: number,
    public reason: RejectReason | 'requested' | 'ioc-remainder' | 'episode-end' | '' = '',
  ) {}
}

/** Maker/taker fees in basis points of notional; negative = rebate. */
export interface FeeSchedule {
  makerBps: number;
  takerBps: number;
}

/** +1 for a buy (bid), -1 for a sell (ask). */
export function sideSign(side: Side): number {
  return side === Side.Bid ? 1 : -1;
}
