// Helpers for the importer tests: fixture paths, the shared real-data folder, events as objects, and a
// plain L2/L3 model of the book built from the event stream (test-only reference).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventFlag, EventKind, EventRecord, readEvent, Side } from '../../src/core/event';
import type { EventBatch } from '../../src/core/event';

export const REPO = path.resolve(__dirname, '..', '..', '..'); // dist/test/import -> repo root
export const FIXTURES = path.join(REPO, 'test', 'fixtures');
/** ../shared/data next to the repository (CMM_SHARED_DATA overrides, e.g. to check the skips). */
export const SHARED_DATA = process.env.CMM_SHARED_DATA ?? path.resolve(REPO, '..', 'shared', 'data');

export function fixture(venue: string, name: string): string {
  return path.join(FIXTURES, venue, name);
}

/** A file under ../shared/data, or undefined when that folder (or file) is absent. */
export function sharedData(rel: string): string | undefined {
  const p = path.join(SHARED_DATA, rel);
  return fs.existsSync(p) ? p : undefined;
}

export const NO_SHARED_DATA = `../shared/data is absent (${SHARED_DATA}): full-file test skipped`;

export function eventsOf(batch: EventBatch): EventRecord[] {
  const bytes = batch.bytes();
  const out: EventRecord[] = [];
  for (let i = 0; i < batch.length; i++) out.push(readEvent(bytes, i));
  return out;
}

/** The native MarketEngine when the addon is built with it, else undefined (tests skip). */
export function marketEngineOrSkip(): typeof import('../../src/market/market-engine').MarketEngine | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { native } = require('../../src/native') as typeof import('../../src/native');
    if (typeof (native() as { MarketEngine?: unknown }).MarketEngine !== 'function') return undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../src/market/market-engine') as typeof import('../../src/market/market-engine')).MarketEngine;
  } catch {
    return undefined;
  }
}

/** Market-by-price reference book: level maps per instrument, absolute quantities (L2 semantics). */
export class L2Model {
  readonly books = new Map<number, [Map<bigint, bigint>, Map<bigint, bigint>]>();

  private book(i: number): [Map<bigint, bigint>, Map<bigint, bigint>] {
    let b = this.books.get(i);
    if (!b) this.books.set(i, (b = [new Map(), new Map()]));
    return b;
  }

  apply(e: EventRecord): void {
    const b = this.book(e.instrument);
    if (e.kind === EventKind.SnapshotBegin || e.kind === EventKind.Clear) {
      b[0].clear();
      b[1].clear();
    } else if (e.kind === EventKind.Modify) {
      const side = b[e.side === Side.Bid ? 0 : 1];
      if (e.qty > 0n) side.set(e.price, e.qty);
      else side.delete(e.price);
    }
  }

  best(i: number): { bid?: bigint; ask?: bigint } {
    const b = this.book(i);
    let bid: bigint | undefined;
    let ask: bigint | undefined;
    for (const p of b[0].keys()) if (bid === undefined || p > bid) bid = p;
    for (const p of b[1].keys()) if (ask === undefined || p < ask) ask = p;
    return { bid, ask };
  }
}

export const isEnd = (e: EventRecord): boolean => (e.flags & EventFlag.EndOfMessage) !== 0;
