// Shared by the book tests: event builders, a seeded PRNG, MSFT data lookup, and book comparisons.
import * as fs from 'node:fs';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { EventBatch, EventKind, Side } from '../../src/core/event';
import { OrderBook } from '../../src/book/order-book';
import { ReferenceL2Book, ReferenceL3Book } from '../../src/book/reference-book';

export { rng } from '../market/synthetic';

export const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'lobster'); // dist/test/book -> test/fixtures
export const SHARED_LOBSTER = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data', 'lobster');

/** The full MSFT message file when ../shared/data is there, else the first 20,000 rows (fixture). */
export function msftMessages(): string {
  const full = path.join(SHARED_LOBSTER, 'MSFT_2012-06-21_34200000_37800000_message_50.csv');
  return fs.existsSync(full) ? full : path.join(FIXTURES, 'MSFT_2012-06-21_34200000_37800000_message_50.head20000.csv.gz');
}

export interface Ev {
  kind: EventKind;
  side?: Side;
  price?: number;
  qty?: number;
  id?: number;
  flags?: number;
}

export function batchOf(events: Ev[]): EventBatch {
  const b = new EventBatch(Math.max(1, events.length));
  for (const e of events) {
    b.push(0n, 0n, 0, e.kind, e.side ?? Side.None, BigInt(e.price ?? 0), BigInt(e.qty ?? 0), BigInt(e.id ?? 0), 0n, 0n, e.flags ?? 0);
  }
  return b;
}

/** Every level of one side of a native book, best first, as [price, qty] pairs. */
export function nativeLevels(book: OrderBook, side: Side): number[][] {
  const n = side === Side.Bid ? book.stats().bidLevels : book.stats().askLevels;
  const flat = book.depth(side, n);
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

export function referenceLevels(ref: ReferenceL2Book | ReferenceL3Book, side: Side): number[][] {
  return ref.levels(side).map((l) => [l.price, l.qty]);
}

/** Asserts both sides, best prices and crossed() agree. */
export function assertSameBook(book: OrderBook, ref: ReferenceL2Book | ReferenceL3Book, context: string): void {
  for (const side of [Side.Bid, Side.Ask]) {
    assert.deepEqual(nativeLevels(book, side), referenceLevels(ref, side), `${context}: ${side === Side.Bid ? 'bids' : 'asks'}`);
  }
  assert.equal(book.crossed(), ref.crossed(), `${context}: crossed`);
}
