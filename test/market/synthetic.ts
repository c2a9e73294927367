// Test helpers: seeded synthetic L2 event streams (snapshot, then multi-event messages with seq/prev_seq,
// trades, equal timestamps) and a NaN-aware comparison of feature rows.
import assert from 'node:assert/strict';
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';

/**
 * Deterministic PRNG (mulberry32): same seed, same stream, so a failing seed can be replayed. The one copy:
 * test/book/book-fixtures.ts and test/cmm/cmm-fixtures.ts re-export it.
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface L2StreamOptions {
  instrument?: number;
  messages?: number;
  seed?: number;
  startSeq?: bigint;
  startTs?: bigint;
  /** Levels per side in the opening snapshot. */
  depth?: number;
}

/** One venue message: its events are appended together (same seq/prev_seq, EndOfMessage on the last). */
export interface Message {
  seq: bigint;
  events: Parameters<EventBatch['push']>[];
}

/**
 * A realistic L2 feed for one instrument: SnapshotBegin, `depth` levels a side, SnapshotEnd; then
 * messages of 1-4 level updates near the top (deleting levels the centre moved through, so the book
 * never crosses), and trades (seq 0) between them. Returned as messages so tests can drop one.
 */
export function l2Messages(o: L2StreamOptions = {}): Message[] {
  const inst = o.instrument ?? 0;
  const r = rng(o.seed ?? 1);
  let seq = o.startSeq ?? 1000n;
  let ts = o.startTs ?? 1_700_000_000_000_000_000n;
  let centre = 10_000;
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const out: Message[] = [];
  const depth = o.depth ?? 20;

  const snap: Message = { seq, events: [] };
  snap.events.push([ts, ts, inst, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, seq, 0n, EventFlag.Snapshot]);
  for (let k = 0; k < depth; k++) {
    const bq = 1 + Math.floor(r() * 50);
    const aq = 1 + Math.floor(r() * 50);
    bids.set(centre - 1 - k, bq);
    asks.set(centre + 1 + k, aq);
    snap.events.push([ts, ts, inst, EventKind.Modify, Side.Bid, BigInt(centre - 1 - k), BigInt(bq), 0n, seq, 0n, EventFlag.Snapshot]);
    snap.events.push([ts, ts, inst, EventKind.Modify, Side.Ask, BigInt(centre + 1 + k), BigInt(aq), 0n, seq, 0n, EventFlag.Snapshot]);
  }
  snap.events.push([ts, ts, inst, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, seq, 0n, EventFlag.Snapshot | EventFlag.EndOfMessage]);
  out.push(snap);

  for (let m = 0; m < (o.messages ?? 2000); m++) {
    if (r() < 0.6) ts += BigInt(Math.floor(r() * 5_000_000)); // else: same timestamp as the last message
    if (r() < 0.2) {
      const side = r() < 0.5 ? Side.Bid : Side.Ask;
      const px = side === Side.Bid ? Math.min(...asks.keys()) : Math.max(...bids.keys());
      out.push({ seq: 0n, events: [[ts, ts, inst, EventKind.Trade, side, BigInt(px), BigInt(1 + Math.floor(r() * 20)), 0n, 0n, 0n, EventFlag.EndOfMessage]] });
      continue;
    }
    const prev = seq;
    seq += 1n;
    const msg: Message = { seq, events: [] };
    const ev = (side: Side, px: number, qty: number, kind = EventKind.Modify): void => {
      msg.events.push([ts, ts, inst, kind, side, BigInt(px), BigInt(qty), 0n, seq, prev, 0]);
    };
    if (r() < 0.15) {
      centre += r() < 0.5 ? -1 : 1; // move: clear levels the new centre passed through
      for (const p of [...asks.keys()]) if (p <= centre) { asks.delete(p); ev(Side.Ask, p, 0, EventKind.DeleteLevel); }
      for (const p of [...bids.keys()]) if (p >= centre) { bids.delete(p); ev(Side.Bid, p, 0); }
    }
    const n = 1 + Math.floor(r() * 4);
    for (let k = 0; k < n; k++) {
      const side = r() < 0.5 ? Side.Bid : Side.Ask;
      const off = Math.floor(r() * r() * 15);
      const px = side === Side.Bid ? centre - 1 - off : centre + 1 + off;
      const qty = r() < 0.25 ? 0 : 1 + Math.floor(r() * 60);
      (side === Side.Bid ? bids : asks)[qty === 0 ? 'delete' : 'set'](px, qty);
      ev(side, px, qty);
    }
    if (msg.events.length === 0) continue;
    out.push(msg);
  }
  return out;
}

/** Appends messages to a batch, EndOfMessage on each message's last event. */
export function toBatch(messages: readonly Message[], batch = new EventBatch(1024)): EventBatch {
  for (const m of messages) {
    m.events.forEach((args, i) => {
      batch.push(...args);
      if (i === m.events.length - 1) batch.markLast(EventFlag.EndOfMessage);
    });
  }
  return batch;
}

/** Interleaves several streams by timestamp (stable), keeping messages whole. */
export function interleave(...streams: Message[][]): Message[] {
  const all = streams.flatMap((s, k) => s.map((m, i) => ({ m, k, i })));
  all.sort((a, b) => (a.m.events[0][0] < b.m.events[0][0] ? -1 : a.m.events[0][0] > b.m.events[0][0] ? 1 : a.k - b.k || a.i - b.i));
  return all.map((x) => x.m);
}

/** a == b element-wise to 1e-9 relative (absolute 1e-9 near zero); NaN equals NaN. */
export function assertRowsClose(actual: Float64Array, expected: Float64Array, names: readonly string[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const width = names.length;
  let checked = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) assert.fail(`${label}: row ${Math.floor(i / width)} ${names[i % width]}: native ${a}, reference ${b}`);
      continue;
    }
    const tol = 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    if (!(Math.abs(a - b) <= tol)) assert.fail(`${label}: row ${Math.floor(i / width)} ${names[i % width]}: native ${a}, reference ${b}`);
    checked++;
  }
  assert.ok(checked > 0, `${label}: nothing compared`);
}
