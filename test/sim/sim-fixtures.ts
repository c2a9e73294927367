// Test helpers for the simulators: a plain Map-based L2 book that walks a generated stream and checks the
// event-record contract (snapshot first, seq chain, EndOfMessage, never crossed), and simple statistics.
import { EVENT_SIZE, EventFlag, EventKind, Side } from '../../src/core/event';

export interface StreamCheck {
  events: number;
  messages: number;
  /** Messages after which the book was crossed or a side empty (should be 0). */
  crossed: number;
  emptySide: number;
  /** Problems with the record contract, first few described. */
  problems: string[];
  /** Mid (ticks) at each whole second from the first event: the book after the last message at or before it. */
  midPerSecond: number[];
  /** Traded volume by aggressor side, and per-second market order counts (messages with trades). */
  buyVolume: number;
  sellVolume: number;
  tradeMessagesPerSecond: number[];
}

interface Raw {
  ts: bigint;
  price: number;
  qty: number;
  seq: bigint;
  prevSeq: bigint;
  kind: number;
  side: number;
  flags: number;
}

function read(dv: DataView, i: number): Raw {
  const o = i * EVENT_SIZE;
  return {
    ts: dv.getBigInt64(o, true),
    price: Number(dv.getBigInt64(o + 16, true)),
    qty: Number(dv.getBigInt64(o + 24, true)),
    seq: dv.getBigUint64(o + 40, true),
    prevSeq: dv.getBigUint64(o + 48, true),
    kind: dv.getUint8(o + 60),
    side: dv.getUint8(o + 61),
    flags: dv.getUint16(o + 62, true),
  };
}

/**
 * Applies an L2 stream (Modify = absolute level qty, snapshots clear) and checks it. `allowZeroPrevSeq`
 * accepts prev_seq = 0 (unknown) as the overlay writes on its synthetic messages.
 */
export function checkL2Stream(bytes: Uint8Array, opts: { allowZeroPrevSeq?: boolean } = {}): StreamCheck {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / EVENT_SIZE;
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const out: StreamCheck = { events: n, messages: 0, crossed: 0, emptySide: 0, problems: [], midPerSecond: [], buyVolume: 0, sellVolume: 0, tradeMessagesPerSecond: [] };
  const problem = (s: string): void => {
    if (out.problems.length < 5) out.problems.push(s);
  };
  let lastSeq: bigint | null = null;
  let msgSeq: bigint | null = null;
  let lastTs = -1n;
  let t0 = 0n;
  let nextSecond = 0;
  let inSnapshot = false;
  let msgHasTrade = false;
  for (let i = 0; i < n; i++) {
    const e = read(dv, i);
    if (i === 0) {
      t0 = e.ts;
      if (e.kind !== EventKind.SnapshotBegin) problem('stream does not open with SnapshotBegin');
    }
    if (e.ts < lastTs) problem(`timestamp goes back at event ${i}`);
    lastTs = e.ts;
    if (msgSeq === null) {
      // first event of a message: the seq chain
      if (lastSeq !== null && e.prevSeq !== lastSeq && !(opts.allowZeroPrevSeq && e.prevSeq === 0n)) problem(`prev_seq ${e.prevSeq} != last seq ${lastSeq} at event ${i}`);
      msgSeq = e.seq;
      // sample the mid at whole seconds strictly before this message's time
      while (Number(e.ts - t0) / 1e9 >= nextSecond && i > 0) {
        out.midPerSecond.push(mid(bids, asks));
        nextSecond++;
      }
    } else if (e.seq !== msgSeq) problem(`seq changes inside a message at event ${i}`);
    switch (e.kind) {
      case EventKind.SnapshotBegin:
        bids.clear();
        asks.clear();
        inSnapshot = true;
        break;
      case EventKind.SnapshotEnd:
        inSnapshot = false;
        break;
      case EventKind.Modify: {
        const m = e.side === Side.Bid ? bids : e.side === Side.Ask ? asks : null;
        if (!m) problem(`Modify without a side at event ${i}`);
        else if (e.qty === 0) m.delete(e.price);
        else if (e.qty < 0) problem(`negative qty at event ${i}`);
        else m.set(e.price, e.qty);
        if (inSnapshot && !(e.flags & EventFlag.Snapshot)) problem(`snapshot level without Snapshot flag at event ${i}`);
        break;
      }
      case EventKind.Trade: {
        if (e.qty <= 0) problem(`trade qty ${e.qty} at event ${i}`);
        // a buy aggressor lifts the best ask; a sell hits the best bid (the Modify follows the trade)
        const best = e.side === Side.Bid ? Math.min(...asks.keys()) : e.side === Side.Ask ? Math.max(...bids.keys()) : NaN;
        if (Number.isNaN(best)) problem(`trade without aggressor side at event ${i}`);
        else if (best !== e.price) problem(`trade at ${e.price} but best opposite is ${best} at event ${i}`);
        if (e.side === Side.Bid) out.buyVolume += e.qty;
        else out.sellVolume += e.qty;
        msgHasTrade = true;
        break;
      }
      default:
        problem(`unexpected kind ${e.kind} at event ${i}`);
    }
    if (e.flags & EventFlag.EndOfMessage) {
      out.messages++;
      if (bids.size === 0 || asks.size === 0) out.emptySide++;
      else if (Math.max(...bids.keys()) >= Math.min(...asks.keys())) out.crossed++;
      if (msgHasTrade) {
        const s = Math.floor(Number(e.ts - t0) / 1e9);
        while (out.tradeMessagesPerSecond.length <= s) out.tradeMessagesPerSecond.push(0);
        out.tradeMessagesPerSecond[s]++;
      }
      lastSeq = msgSeq;
      msgSeq = null;
      msgHasTrade = false;
    }
  }
  if (msgSeq !== null) problem('stream ends inside a message (no EndOfMessage)');
  out.midPerSecond.push(mid(bids, asks));
  return out;
}

function mid(bids: Map<number, number>, asks: Map<number, number>): number {
  if (bids.size === 0 || asks.size === 0) return NaN;
  return (Math.max(...bids.keys()) + Math.min(...asks.keys())) / 2;
}

export function std(x: number[]): number {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) * (b - m), 0) / (x.length - 1));
}

/** Std of 1-step log returns of a price series, in basis points. */
export function returnVolBps(prices: number[]): number {
  const r: number[] = [];
  for (let i = 1; i < prices.length; i++) r.push(Math.log(prices[i] / prices[i - 1]) * 1e4);
  return std(r);
}

/** Ordinary least-squares slope of y against its index. */
export function olsSlope(y: number[]): number {
  const n = y.length;
  const mx = (n - 1) / 2;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - mx) * (y[i] - my);
    sxx += (i - mx) * (i - mx);
  }
  return sxy / sxx;
}
