// The strategy contract of the backtester and its lifecycle state machine. A strategy gets each native
// batch's typed arrays (feature rows, times) once, then one decide(row) per event while it is quoting, and
// returns order actions only through the gateway (which runs the risk overlay): no object per event,
// only quote changes allocate. Execution reports reach it after the response latency.
import { Side } from '../core/event';
import { InstrumentInfo } from '../core/instrument';
import { EngineError } from '../errors';
import { ExecReport, TimeInForce } from './types';

export type LifecycleState = 'warmingUp' | 'quoting' | 'paused' | 'flattening' | 'stopped';

/** Allowed moves. stopped is final for the episode; flattening only ends in stopped. */
const ALLOWED: Record<LifecycleState, readonly LifecycleState[]> = {
  warmingUp: ['quoting', 'paused', 'flattening', 'stopped'],
  quoting: ['paused', 'flattening', 'stopped'],
  paused: ['quoting', 'flattening', 'stopped'],
  flattening: ['stopped'],
  stopped: [],
};

export interface Transition {
  atNs: number;
  from: LifecycleState;
  to: LifecycleState;
  reason: string;
}

/** Keeps the first transitions in full (the rest are counted per move) so a flickering book cannot bloat reports. */
const MAX_RECORDED = 200;

export class Lifecycle {
  state: LifecycleState = 'warmingUp';
  readonly transitions: Transition[] = [];
  /** "from->to" → count, over every transition. */
  readonly counts: Record<string, number> = {};

  /** Moves to `next`; throws E_INTERNAL on a move the machine does not allow. */
  to(next: LifecycleState, atNs: number, reason: string): void {
    const from = this.state;
    if (!ALLOWED[from].includes(next)) {
      throw new EngineError('E_INTERNAL', `invalid strategy lifecycle transition ${from} -> ${next} (${reason})`);
    }
    this.state = next;
    const key = `${from}->${next}`;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    if (this.transitions.length < MAX_RECORDED) this.transitions.push({ atNs, from, to: next, reason });
  }

  can(next: LifecycleState): boolean {
    return ALLOWED[this.state].includes(next);
  }
}

/** One native batch as the strategy sees it. Views stay valid until the next onBatch. */
export interface MarketView {
  /** Feature rows: feature f of row r at features[r * stride + f] (see Feature in src/market/market-engine). */
  readonly features: Float64Array;
  readonly stride: number;
  /** Exchange time of each row, ns since the tape's origin. */
  readonly t: Float64Array;
  /** 1 where the book is stale (sequence gap until the next snapshot): the simulator pauses quoting there. */
  readonly stale: Uint8Array;
  readonly count: number;
}

export interface StrategyContext {
  instrument: InstrumentInfo;
  /** Default quote size, lots. */
  orderQty: number;
  /** The venue's price grid in ticks: every price a strategy sends must be a multiple of it (LOBSTER: 100). */
  priceStep: number;
  /** The risk overlay's position limit (lots): quoting beyond it only earns refusals. */
  maxPosition: number;
  episodeStartNs: number;
  episodeEndNs: number;
  /** Index of the episode (0-based) and whether the simulator is training (RL exploration on). */
  episode: number;
  training: boolean;
  seed: number;
}

/** What a strategy may do and know. Everything passes the risk overlay; times are strategy-local ns. */
export interface OrderGateway {
  /** Strategy-local time of the current decision (event time + feed latency). */
  readonly nowNs: number;
  /** Position (lots) as known from delivered fills. */
  readonly position: number;
  /** Known trade cash and fees (tick·lots). */
  readonly cashTL: number;
  readonly feesTL: number;
  readonly fills: number;
  /**
   * Keeps one post-only quote on `side` at price/qty (ticks, lots): sends a new order, a modify, or nothing
   * when it is already there. qty 0 (or NaN price) cancels the quote. Returns false when risk refused it.
   */
  quote(side: Side, price: number, qty: number): boolean;
  /**
   * Changes whenever anything quote() and fits() read may have changed (position, working orders, quote
   * slots) and on every send, refused ones included. A strategy that computes the same quotes as at its
   * last calls, under the same epoch, may skip the calls: they would do nothing. Optional: a gateway that
   * does not count leaves it undefined, and strategies then make the calls every time.
   */
  readonly quoteEpoch?: number;
  /** Cancels both quotes. */
  cancelQuotes(): void;
  /**
   * True when a quote of qty on side keeps the worst-case position (known position plus every working
   * order on that side, this quote at its new size) within the risk limit: the check the overlay makes.
   */
  fits(side: Side, qty: number): boolean;
  /** A limit order outside the quote slots. Returns its client id, or -1 when risk refused it. */
  limit(side: Side, price: number, qty: number, tif: TimeInForce): number;
  /** Market order: an IOC limited at the edge of the fat-finger band. Returns its client id, or -1. */
  market(side: Side, qty: number): number;
  cancel(clientId: number): void;
  /** Price (ticks) and qty of the working quote on a side as last sent; qty 0 when none. */
  quotePrice(side: Side): number;
  quoteQty(side: Side): number;
}

export interface EpisodeEnd {
  episode: number;
  /** Episode PnL in quote currency. */
  pnl: number;
  /** The same in tick·lots (cash + position × final mid − fees). */
  equityTL: number;
  /** Mid (ticks) the episode was marked at. */
  finalMid: number;
  finalPosition: number;
}

export interface Strategy {
  readonly name: string;
  beginEpisode(ctx: StrategyContext): void;
  onBatch(view: MarketView): void;
  /** One event of the current batch while quoting. Read features/time at `row`; act through `gw`. */
  decide(row: number, gw: OrderGateway): void;
  /** An execution report has arrived (fills, acks, rejects, cancels). */
  onReport(report: ExecReport, gw: OrderGateway): void;
  endEpisode(end: EpisodeEnd): void;
}
