// The engine's single event record as seen from TypeScript: 64-byte rows in a Uint8Array, read and
// written through typed-array views. Same layout as native/core/event.h and schema/event_log.fbs.

export const EVENT_SIZE = 64;

/** Byte offsets of each field inside one 64-byte event. */
export const EventOffset = {
  tsExchange: 0,
  tsLocal: 8,
  price: 16,
  qty: 24,
  orderId: 32,
  seq: 40,
  prevSeq: 48,
  instrument: 56,
  kind: 60,
  side: 61,
  flags: 62,
} as const;

export enum EventKind {
  None = 0,
  Add = 1,
  Modify = 2,
  Cancel = 3,
  DeleteLevel = 4,
  Trade = 5,
  SnapshotBegin = 6,
  SnapshotEnd = 7,
  Clear = 8,
  Bbo = 9,
  Status = 10,
}

export enum Side {
  None = 0,
  Bid = 1,
  Ask = 2,
}

export const EventFlag = {
  EndOfMessage: 1 << 0,
  Snapshot: 1 << 1,
  ExecResting: 1 << 2,
  Hidden: 1 << 3,
  TsClamped: 1 << 4,
} as const;

/** One event as a plain object: for tests, importers and tools, never for the hot path. */
export interface EventRecord {
  tsExchange: bigint;
  tsLocal: bigint;
  price: bigint;
  qty: bigint;
  orderId: bigint;
  seq: bigint;
  prevSeq: bigint;
  instrument: number;
  kind: EventKind;
  side: Side;
  flags: number;
}

/**
 * A growable batch of events in the native layout. Importers and generators append here, then hand
 * `bytes()` to the log writer or the native engine in one call.
 */
export class EventBatch {
  private buf: ArrayBuffer;
  private i64!: BigInt64Array;
  private u32!: Uint32Array;
  private u8!: Uint8Array;
  private u16!: Uint16Array;
  length = 0;

  constructor(capacity = 4096) {
    this.buf = new ArrayBuffer(Math.max(1, capacity) * EVENT_SIZE);
    this.views();
  }

  private views(): void {
    this.i64 = new BigInt64Array(this.buf);
    this.u32 = new Uint32Array(this.buf);
    this.u16 = new Uint16Array(this.buf);
    this.u8 = new Uint8Array(this.buf);
  }

  get capacity(): number {
    return this.buf.byteLength / EVENT_SIZE;
  }

  private grow(): void {
    const next = new ArrayBuffer(this.buf.byteLength * 2);
    new Uint8Array(next).set(this.u8);
    this.buf = next;
    this.views();
  }

  /** Appends one event; numbers are converted to int64 (prices in ticks, quantities in lots). */
  push(
    tsExchange: bigint,
    tsLocal: bigint,
    instrument: number,
    kind: EventKind,
    side: Side,
    price: bigint,
    qty: bigint,
    orderId = 0n,
    seq = 0n,
    prevSeq = 0n,
    flags = 0,
  ): void {
    if (this.length === this.capacity) this.grow();
    const w = this.length * 8; // 8 int64 words per event
    this.i64[w] = tsExchange;
    this.i64[w + 1] = tsLocal;
    this.i64[w + 2] = price;
    this.i64[w + 3] = qty;
    this.i64[w + 4] = orderId;
    this.i64[w + 5] = seq;
    this.i64[w + 6] = prevSeq;
    this.u32[this.length * 16 + 14] = instrument >>> 0;
    this.u8[this.length * EVENT_SIZE + 60] = kind;
    this.u8[this.length * EVENT_SIZE + 61] = side;
    this.u16[this.length * 32 + 31] = flags;
    this.length++;
  }

  /** Sets flag bits on the most recent event (e.g. EndOfMessage once a venue message is done). */
  markLast(flag: number): void {
    if (this.length === 0) return;
    const k = (this.length - 1) * 32 + 31;
    this.u16[k] = this.u16[k] | flag;
  }

  /** The events written so far, as a view (no copy). Valid until the next push or clear. */
  bytes(): Uint8Array {
    return new Uint8Array(this.buf, 0, this.length * EVENT_SIZE);
  }

  clear(): void {
    this.length = 0;
  }
}

/** Reads event `i` of a 64-byte-row buffer into a plain object (tests and tools only). */
export function readEvent(bytes: Uint8Array, i: number): EventRecord {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + i * EVENT_SIZE, EVENT_SIZE);
  return {
    tsExchange: dv.getBigInt64(0, true),
    tsLocal: dv.getBigInt64(8, true),
    price: dv.getBigInt64(16, true),
    qty: dv.getBigInt64(24, true),
    orderId: dv.getBigUint64(32, true),
    seq: dv.getBigUint64(40, true),
    prevSeq: dv.getBigUint64(48, true),
    instrument: dv.getUint32(56, true),
    kind: dv.getUint8(60),
    side: dv.getUint8(61),
    flags: dv.getUint16(62, true),
  };
}
