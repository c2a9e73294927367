// Pins the one event record together: C++ struct offsets, TS offsets, and the FlatBuffers struct bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as flatbuffers from 'flatbuffers';
import { EVENT_SIZE, EventBatch, EventKind, EventOffset, Side, readEvent } from '../../src/core/event';
import { Event as FbEvent } from '../../src/log/fb/cmm/log/event';
import { native, crc32c } from '../../src/native';

test('C++ Event struct has the TS offsets', () => {
  const layout = native().eventLayout();
  assert.equal(layout.size, EVENT_SIZE);
  for (const [field, off] of Object.entries(EventOffset)) assert.equal(layout[field], off, field);
});

test('FlatBuffers Event struct writes each field at the TS offset', () => {
  const b = new flatbuffers.Builder(128);
  const off = FbEvent.createEvent(b, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8, 9, 10, 11);
  // The builder fills its buffer back to front; the struct starts `off` bytes before the end.
  const bytes = b.dataBuffer().bytes();
  const start = bytes.length - off;
  const ev = readEvent(bytes.subarray(start, start + EVENT_SIZE), 0);
  assert.deepEqual(
    [ev.tsExchange, ev.tsLocal, ev.price, ev.qty, ev.orderId, ev.seq, ev.prevSeq],
    [1n, 2n, 3n, 4n, 5n, 6n, 7n],
  );
  assert.deepEqual([ev.instrument, ev.kind, ev.side, ev.flags], [8, 9, 10, 11]);
  assert.equal(FbEvent.sizeOf(), EVENT_SIZE);
});

test('EventBatch round-trips every field, grows, and marks the last event', () => {
  const batch = new EventBatch(1);
  batch.push(10n, 11n, 3, EventKind.Add, Side.Ask, -5n, 7n, 99n, 123n, 122n, 0);
  batch.push(20n, 21n, 4, EventKind.Trade, Side.Bid, 6n, 1n);
  batch.markLast(1);
  assert.equal(batch.length, 2);
  const a = readEvent(batch.bytes(), 0);
  assert.deepEqual(a, {
    tsExchange: 10n, tsLocal: 11n, price: -5n, qty: 7n, orderId: 99n, seq: 123n, prevSeq: 122n,
    instrument: 3, kind: EventKind.Add, side: Side.Ask, flags: 0,
  });
  const b = readEvent(batch.bytes(), 1);
  assert.equal(b.flags, 1);
  assert.equal(b.kind, EventKind.Trade);
});

test('crc32c matches the published check value', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  const long = new Uint8Array(1000).map((_, i) => (i * 7) & 255);
  assert.equal(crc32c(long.subarray(500), crc32c(long.subarray(0, 500))), crc32c(long));
});

// Bitwise CRC32C (reflected 0x82F63B78): the definition, against the native three-stream merge.
function crc32cBitwise(bytes: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test('crc32c equals the bitwise definition at every length around its block sizes (3 x 256, 3 x 8192 bytes)', () => {
  let x = 12345;
  const data = new Uint8Array(3 * 8192 * 2 + 3 * 256 * 3 + 100).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  const lengths = [0, 1, 7, 8, 9, 767, 768, 769, 1535, 1536, 1543, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 8, 3 * 8192 + 771, 6 * 8192 + 2 * 768 + 15, data.length];
  for (const n of lengths) {
    for (const offset of [0, 3]) {
      const view = data.subarray(offset, Math.min(data.length, offset + n));
      assert.equal(crc32c(view, 0x1234567), crc32cBitwise(view, 0x1234567), `length ${view.length} at offset ${offset}`);
    }
  }
});
