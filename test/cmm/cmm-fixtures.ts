// Test helpers for the CMM dataset and probe: a seeded L2 stream whose true book and trades are known per event
// (so targets can be recomputed from first principles), and a synthetic teacher with planted layers.
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import type { InstrumentInfo } from '../../src/core/instrument';
import type { Teacher, TeacherInputSpec, TeacherOutput } from '../../src/cmm/teacher/teacher';
import { rng } from '../market/synthetic';

export { rng };

export function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export const instrument = (id = 0, symbol = `S${id}`): InstrumentInfo => ({ id, symbol, venue: 'test', tickSize: 0.01, lotSize: 1, bookType: 'L2' });

export interface StreamOptions {
  messages: number;
  seed?: number;
  instrument?: number;
  /** Mid step scale (ticks) of book message m. */
  vol?: (m: number) => number;
  /** Trade size multiplier of message m. */
  tradeScale?: (m: number) => number;
  startTs?: bigint;
  /** Nanoseconds between messages (each message has its own timestamp). */
  dtNs?: bigint;
  /** Skip one sequence number at the first book message from this one on (stale until the snapshot at `resnapAt`). */
  gapAt?: number;
  resnapAt?: number;
}

/** Ground truth after each event of the instrument (index = event position − 1). */
export interface StreamTruth {
  ts: bigint[];
  consistent: boolean[];
  valid: boolean[];
  mid: number[];
  spread: number[];
  tradeQty: number[];
  /** Event position (1-based) of the last event of message m (the snapshot is message −1, not listed). */
  messageEnd: number[];
  /** The message that carried the gap. */
  gapMessage?: number;
}

/**
 * A one-level-a-side L2 feed: snapshot, then book messages (bid and ask move together by a random step,
 * spread 1-3 ticks) and trades (seq 0). Message types come from their own RNG, so streams with the same seed
 * and different `vol` / `tradeScale` have the same event structure.
 */
export function syntheticStream(o: StreamOptions, batch = new EventBatch(4096)): { batch: EventBatch; truth: StreamTruth } {
  const shape = rng(o.seed ?? 1), size = rng((o.seed ?? 1) + 1000);
  const inst = o.instrument ?? 0;
  const dt = o.dtNs ?? 100_000_000n;
  let ts = o.startTs ?? 1_700_000_000_000_000_000n;
  let seq = 1n, bid = 10_000, ask = 10_002, bq = 10, aq = 10;
  const truth: StreamTruth = { ts: [], consistent: [], valid: [], mid: [], spread: [], tradeQty: [], messageEnd: [] };
  let stale = false;
  const push = (kind: EventKind, side: Side, px: number, qty: number, s: bigint, prev: bigint, flags: number, trade = 0) => {
    batch.push(ts, ts, inst, kind, side, BigInt(px), BigInt(qty), 0n, s, prev, flags);
    const eom = (flags & EventFlag.EndOfMessage) !== 0;
    truth.ts.push(ts);
    truth.consistent.push(eom);
    truth.valid.push(eom && !stale);
    truth.mid.push((bid + ask) / 2);
    truth.spread.push(ask - bid);
    truth.tradeQty.push(trade);
  };
  const snapshot = () => {
    push(EventKind.SnapshotBegin, Side.None, 0, 0, seq, 0n, EventFlag.Snapshot);
    push(EventKind.Modify, Side.Bid, bid, bq, seq, 0n, EventFlag.Snapshot);
    push(EventKind.Modify, Side.Ask, ask, aq, seq, 0n, EventFlag.Snapshot);
    stale = false;
    push(EventKind.SnapshotEnd, Side.None, 0, 0, seq, 0n, EventFlag.Snapshot | EventFlag.EndOfMessage);
  };
  snapshot();
  for (let m = 0; m < o.messages; m++) {
    ts += dt;
    const u = shape(), step = normal(size), q1 = size(), q2 = size();
    if (m === o.resnapAt) {
      seq += 1n;
      snapshot();
    } else if (u < 0.3) {
      const qty = Math.max(1, Math.round((1 + 20 * q1) * (o.tradeScale?.(m) ?? 1)));
      push(EventKind.Trade, q2 < 0.5 ? Side.Bid : Side.Ask, q2 < 0.5 ? ask : bid, qty, 0n, 0n, EventFlag.EndOfMessage, qty);
    } else {
      const gap = o.gapAt !== undefined && m >= o.gapAt && truth.gapMessage === undefined;
      const prev = gap ? seq + 1n : seq; // a gap: the venue's predecessor (seq + 1) never arrived
      seq += gap ? 2n : 1n;
      if (gap) {
        stale = true;
        truth.gapMessage = m;
      }
      const d = Math.round(step * (o.vol?.(m) ?? 1));
      const spread = 1 + Math.floor(q1 * 3);
      const nb = bid + d, na = nb + spread;
      const oldBid = bid, oldAsk = ask;
      bq = 1 + Math.floor(q2 * 40);
      aq = 1 + Math.floor(shape() * 40);
      // Within the message the book is half-updated: only the last event is consistent. Both old levels are
      // always deleted first, so the event structure does not depend on the step sizes.
      bid = NaN;
      push(EventKind.DeleteLevel, Side.Bid, oldBid, 0, seq, prev, 0);
      ask = NaN;
      push(EventKind.DeleteLevel, Side.Ask, oldAsk, 0, seq, prev, 0);
      bid = nb;
      push(EventKind.Modify, Side.Bid, nb, bq, seq, prev, 0);
      ask = na;
      push(EventKind.Modify, Side.Ask, na, aq, seq, prev, EventFlag.EndOfMessage);
    }
    truth.messageEnd.push(truth.ts.length);
  }
  return { batch, truth };
}

/** Events of `batch` as a single-input list for buildDatasetFromInputs. */
export function inputOf(name: string, batch: EventBatch, instruments: InstrumentInfo[] = [instrument()]) {
  return { name, instruments, batches: [batch.bytes().slice()] };
}

/**
 * A teacher with fixed random tanh feature layers over the standardised window, where layer plant[k] also
 * linearly encodes planted[k](window) (mixed by a random rotation into all d coordinates).
 */
export class PlantedTeacher implements Teacher {
  readonly name = 'planted-synthetic';
  readonly hiddenSize: number;
  private readonly W: Float64Array[];
  private readonly mix: Float64Array[];

  constructor(
    readonly inputSpec: TeacherInputSpec,
    readonly layers: number,
    private readonly plant: number[],
    private readonly planted: ((w: Float32Array) => number)[],
    private readonly norm: { mean: number[]; std: number[] },
    d = 16,
    seed = 5,
  ) {
    this.hiddenSize = d;
    const r = rng(seed);
    const p = inputSpec.T * inputSpec.F;
    this.W = Array.from({ length: layers }, () => Float64Array.from({ length: d * p }, () => normal(r) / Math.sqrt(p)));
    this.mix = Array.from({ length: layers }, () => Float64Array.from({ length: d * d }, () => normal(r) / Math.sqrt(d)));
  }

  async run(windows: Float32Array, B: number): Promise<TeacherOutput> {
    const { T, F } = this.inputSpec, p = T * F, d = this.hiddenSize;
    const hidden = Array.from({ length: this.layers }, () => new Float32Array(B * d));
    const z = new Float64Array(p), u = new Float64Array(d);
    for (let b = 0; b < B; b++) {
      const w = windows.subarray(b * p, (b + 1) * p);
      for (let j = 0; j < p; j++) z[j] = (w[j] - this.norm.mean[j % F]) / this.norm.std[j % F];
      for (let l = 0; l < this.layers; l++) {
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < p; j++) s += this.W[l][i * p + j] * z[j];
          u[i] = Math.tanh(s);
        }
        const k = this.plant.indexOf(l);
        if (k >= 0) u[0] = this.planted[k](w); // the planted value, then mixed into every coordinate
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += this.mix[l][i * d + j] * u[j];
          hidden[l][b * d + i] = s;
        }
      }
    }
    return { hidden, heads: new Float32Array(B * 3).fill(NaN) };
  }
}

/** Interleaves batches by event timestamp (stable: earlier batch first on ties). */
export function mergeByTs(...batches: EventBatch[]): EventBatch {
  const rows: { ts: bigint; b: number; i: number }[] = [];
  batches.forEach((batch, b) => {
    const dv = new DataView(batch.bytes().buffer, batch.bytes().byteOffset);
    for (let i = 0; i < batch.length; i++) rows.push({ ts: dv.getBigInt64(i * 64, true), b, i });
  });
  rows.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : x.b - y.b || x.i - y.i));
  const out = new EventBatch(rows.length);
  const bytes = new Uint8Array(rows.length * 64);
  rows.forEach((r, k) => bytes.set(batches[r.b].bytes().subarray(r.i * 64, (r.i + 1) * 64), k * 64));
  // Re-push through the public API: copy the raw rows into the batch's buffer.
  for (let k = 0; k < rows.length; k++) out.push(0n, 0n, 0, 0, 0, 0n, 0n);
  out.bytes().set(bytes);
  return out;
}
