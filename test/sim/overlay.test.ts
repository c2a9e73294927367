// Injectors on an existing stream (the replay overlay): shifted prices, consistent books, batching-independent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_SIZE, EventBatch, EventFlag, EventKind, Side, readEvent } from '../../src/core/event';
import type { InstrumentInfo } from '../../src/core/instrument';
import { EngineError } from '../../src/errors';
import { DEFAULT_INSTRUMENT, generateMarket } from '../../src/sim/generator';
import { InjectorOverlay, overlayInjectors } from '../../src/sim/overlay';
import { checkL2Stream, olsSlope } from './sim-fixtures';

function concat(parts: Iterable<Uint8Array>): Uint8Array {
  const list = [...parts];
  const out = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of list) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function chunks(bytes: Uint8Array, events: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += events * EVENT_SIZE) out.push(bytes.subarray(o, Math.min(bytes.length, o + events * EVENT_SIZE)));
  return out;
}

const source = generateMarket({ seconds: 600, regime: 'medium', seed: 4 });
const instruments: InstrumentInfo[] = [DEFAULT_INSTRUMENT];

test('a flash crash overlay shifts a replayed book down by the depth, then up by the recovered fraction', () => {
  const crash = { kind: 'flash-crash' as const, atSeconds: 200, depthPct: 5, dropSeconds: 30, recoveryFraction: 0.4, recoverySeconds: 120 };
  const out = concat(overlayInjectors(chunks(source.bytes, 5000), instruments, [crash]));
  const chk = checkL2Stream(out, { allowZeroPrevSeq: true });
  assert.deepEqual(chk.problems, []);
  assert.equal(chk.crossed, 0);
  assert.equal(chk.emptySide, 0);
  const src = source.summary.midPerSecond;
  const m = chk.midPerSecond;
  for (let s = 0; s <= 200; s++) assert.equal(m[s], src[s], `second ${s} is untouched`);
  const ref = src[200];
  // Offsets are whole ticks of the path −5 % × ref at the end of the fall, −3 % after recovery.
  assert.ok(Math.abs(m[230] - (src[230] - 0.05 * ref)) <= 1, `${m[230]} vs ${src[230] - 0.05 * ref}`);
  assert.ok(Math.abs(m[400] - (src[400] - 0.03 * ref)) <= 1, `${m[400]} vs ${src[400] - 0.03 * ref}`);
  // Bids are thinned while falling; synthetic sell prints appear.
  let prints = 0;
  for (let i = 0; i < out.length / EVENT_SIZE; i++) {
    const e = readEvent(out, i);
    const t = Number(e.tsExchange - source.summary.startNs) / 1e9;
    if (e.kind === EventKind.Trade && e.side === Side.Ask && e.prevSeq === 0n && t >= 200 && t < 230) prints++;
  }
  assert.ok(prints > 400, `prints ${prints}`); // one per tick of the ≈ 500-tick fall
  // Batching does not change the output.
  const whole = concat(overlayInjectors([source.bytes], instruments, [crash]));
  assert.deepEqual(whole, out);
});

test('a reversal overlay turns a bull stream into a falling one after t', () => {
  const bull = generateMarket({ seconds: 1200, regime: 'low', seed: 2, trend: 'bull', trendPctPerHour: 6 });
  const out = concat(overlayInjectors([bull.bytes], instruments, [{ kind: 'reversal', atSeconds: 600 }]));
  const chk = checkL2Stream(out, { allowZeroPrevSeq: true });
  assert.deepEqual(chk.problems, []);
  assert.equal(chk.crossed, 0);
  const before = olsSlope(chk.midPerSecond.slice(0, 600));
  const after = olsSlope(chk.midPerSecond.slice(600, 1200));
  // Source drift 0.167 tick/s; the overlay subtracts twice the drift it measured before t (SE ≈ 0.018).
  assert.ok(before > 0.083, `before ${before}`);
  assert.ok(after < -0.083, `after ${after}`);
});

test('a reversal of a stream that went nowhere still turns it: the drift is floored at 2 % of the price an hour', () => {
  const flat = generateMarket({ seconds: 1200, regime: 'low', seed: 5 });
  const src = checkL2Stream(flat.bytes).midPerSecond;
  const out = checkL2Stream(concat(overlayInjectors([flat.bytes], instruments, [{ kind: 'reversal', atSeconds: 600 }])), { allowZeroPrevSeq: true }).midPerSecond;
  const min = (0.02 * src[600]) / 3600; // ticks per second
  const own = Math.abs(src[600] - src[0]) / 600;
  assert.ok(own < min, `the source drifted ${own} ticks/s, more than the floor ${min}: pick a flatter seed`);
  for (let s = 0; s < 600; s++) assert.equal(out[s], src[s], `second ${s} is untouched`);
  // After t the overlay adds -2 d (t - 600) with |d| = the floor: about 2 × 0.02 × price × 599 / 3600 at the end.
  const shift = out[1199] - src[1199];
  assert.ok(Math.abs(Math.abs(shift) - 2 * min * 599) <= 2, `shift ${shift} vs ±${2 * min * 599}`);
  // With the floor off, the reversal of this flat stream moves the price by much less.
  const plain = checkL2Stream(concat(overlayInjectors([flat.bytes], instruments, [{ kind: 'reversal', atSeconds: 600 }], { minReversalDriftPerHour: 0 })), { allowZeroPrevSeq: true }).midPerSecond;
  assert.ok(Math.abs(plain[1199] - src[1199]) < Math.abs(shift) / 2, `without the floor: ${plain[1199] - src[1199]}`);
});

test('L3 streams are re-keyed with Adds; other instruments pass through untouched', () => {
  const l3: InstrumentInfo = { id: 0, symbol: 'AAPL', venue: 'nasdaq', tickSize: 0.01, lotSize: 1, bookType: 'L3' };
  const other: InstrumentInfo = { id: 1, symbol: 'MSFT', venue: 'nasdaq', tickSize: 0.01, lotSize: 1, bookType: 'L3' };
  const b = new EventBatch();
  const s = 1_000_000_000n;
  b.push(s, s, 0, EventKind.Add, Side.Bid, 1000n, 5n, 1n, 1n, 0n, EventFlag.EndOfMessage);
  b.push(s, s, 0, EventKind.Add, Side.Ask, 1002n, 7n, 2n, 2n, 1n, EventFlag.EndOfMessage);
  b.push(s, s, 1, EventKind.Add, Side.Ask, 5000n, 1n, 9n, 1n, 0n, EventFlag.EndOfMessage);
  const t = s + 10_000_000_000n; // 10 s later: 2 ticks/s × 5 s past the reversal at 5 s → −10 ticks
  b.push(t, t, 0, EventKind.Add, Side.Bid, 1001n, 3n, 3n, 3n, 2n, EventFlag.EndOfMessage);
  b.push(t, t, 1, EventKind.Add, Side.Bid, 4990n, 1n, 10n, 2n, 1n, EventFlag.EndOfMessage);
  const overlay = new InjectorOverlay([l3, other], [{ kind: 'reversal', atSeconds: 5 }], { instrumentIds: [0], reversalDriftTicksPerSecond: 1 });
  const out = overlay.transform(b.bytes());
  const events = Array.from({ length: out.length / EVENT_SIZE }, (_, i) => readEvent(out, i));
  const kinds = events.map((e) => `${e.instrument}:${EventKind[e.kind]}`);
  assert.deepEqual(kinds, ['0:Add', '0:Add', '1:Add', '0:SnapshotBegin', '0:Add', '0:Add', '0:SnapshotEnd', '0:Add', '1:Add']);
  assert.deepEqual(events.slice(4, 6).map((e) => [e.orderId, e.price, e.flags]), [[1n, 990n, EventFlag.Snapshot], [2n, 992n, EventFlag.Snapshot]]);
  assert.equal(events[6].seq, 2n);
  assert.equal(events[6].flags & EventFlag.EndOfMessage, EventFlag.EndOfMessage);
  assert.equal(events[7].price, 991n);
  assert.equal(events[8].price, 4990n);
});

test('offsets stay on the price grid inferred from the stream (gcd of prices), or the one given', () => {
  const b = new EventBatch();
  const s = 1_000_000_000n;
  b.push(s, s, 0, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, 1n, 0n, 0);
  b.push(s, s, 0, EventKind.Modify, Side.Bid, 100_000n, 5n, 0n, 1n, 0n, EventFlag.Snapshot);
  b.push(s, s, 0, EventKind.Modify, Side.Ask, 100_100n, 5n, 0n, 1n, 0n, EventFlag.Snapshot);
  b.push(s, s, 0, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, 1n, 0n, EventFlag.EndOfMessage);
  for (let k = 1; k <= 20; k++) {
    const t = s + BigInt(k) * 100_000_000n; // every 0.1 s for 2 s
    b.push(t, t, 0, EventKind.Modify, Side.Bid, 100_000n, BigInt(5 + k), 0n, BigInt(1 + k), BigInt(k), EventFlag.EndOfMessage);
  }
  const crash = { kind: 'flash-crash' as const, atSeconds: 0.5, depthPct: 0.77, dropSeconds: 1 };
  const prices = (out: Uint8Array): bigint[] => Array.from({ length: out.length / EVENT_SIZE }, (_, i) => readEvent(out, i)).filter((e) => e.kind === EventKind.Modify && e.side === Side.Bid).map((e) => e.price);
  const inferred = prices(new InjectorOverlay(instruments, [crash]).transform(b.bytes()));
  assert.ok(inferred.every((p) => p % 100n === 0n), inferred.join(' '));
  assert.equal(inferred[inferred.length - 1], 99_200n); // −0.77 % of the 100,050 mid = −770, on the 100-tick grid
  const fine = prices(new InjectorOverlay(instruments, [crash], { priceStepTicks: 1 }).transform(b.bytes()));
  assert.ok(fine.some((p) => p % 100n !== 0n), fine.join(" "));
});

/**
 * A deep L2 book like Binance USD-M BTCUSDT: price 60,000.0 on a 0.1 grid (600,000 ticks), `levels` levels a side
 * one tick apart, then one message every `everyMs` ms that updates the best bid's quantity, for `seconds` s.
 */
function deepBook(levels: number, seconds: number, everyMs: number): Uint8Array {
  const b = new EventBatch();
  const s = 1_000_000_000n;
  b.push(s, s, 0, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, 1n, 0n, 0);
  for (let k = 0; k < levels; k++) {
    b.push(s, s, 0, EventKind.Modify, Side.Bid, 599_999n - BigInt(k), 5n, 0n, 1n, 0n, EventFlag.Snapshot);
    b.push(s, s, 0, EventKind.Modify, Side.Ask, 600_001n + BigInt(k), 5n, 0n, 1n, 0n, EventFlag.Snapshot);
  }
  b.push(s, s, 0, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, 1n, 0n, EventFlag.EndOfMessage);
  for (let k = 1; k <= (seconds * 1000) / everyMs; k++) {
    const t = s + BigInt(k * everyMs) * 1_000_000n;
    b.push(t, t, 0, EventKind.Modify, Side.Bid, 599_999n, BigInt(5 + (k % 7)), 0n, BigInt(1 + k), BigInt(k), EventFlag.EndOfMessage);
  }
  return b.bytes();
}

function countKind(bytes: Uint8Array, kind: EventKind): number {
  let n = 0;
  for (let i = 0; i < bytes.length / EVENT_SIZE; i++) if (bytes[i * EVENT_SIZE + 60] === kind) n++;
  return n;
}

test('a crash on a deep book adds a bounded number of events: at most 454 re-keys of a 3 % crash, whatever the tick', () => {
  // 3 % crash of a 600,000-tick price: 18,000 ticks down in 3 s and 9,000 back in 20 s, one message every 10 ms.
  const crash = { kind: 'flash-crash' as const, atSeconds: 5, depthPct: 3, dropSeconds: 3, recoveryFraction: 0.5, recoverySeconds: 20 };
  const levels = 1000;
  const src = deepBook(levels, 30, 10);
  const out = concat(overlayInjectors(chunks(src, 4096), [{ ...DEFAULT_INSTRUMENT, tickSize: 0.1 }], [crash]));
  const rekeys = countKind(out, EventKind.SnapshotBegin) - 1;
  const added = (out.length - src.length) / EVENT_SIZE;
  // The documented bound: R ≤ min(300 · 1.5 / 1 bp, 23 s / 50 ms) + 4 = 454, each re-key 2 · levels + 3 events.
  assert.ok(rekeys <= 454, `re-keys ${rekeys}`);
  assert.ok(added <= 454 * (2 * levels + 3), `added ${added}`);
  // Here: at most 3 s / 50 ms = 60 during the fall (+2 for the thinning), 9,000 / 60 = 150 steps of 1 bp back.
  assert.ok(rekeys >= 150 && rekeys <= 215, `re-keys ${rekeys}`);
  const chk = checkL2Stream(out, { allowZeroPrevSeq: true });
  assert.deepEqual(chk.problems, []);
  assert.equal(chk.crossed, 0);
  // The mid still follows the path: 1 s into the recovery −3 % × (1 − 0.5 / 20), within a step plus 50 ms of
  // recovery (22 ticks); after it −1.5 %, within a step.
  const m = chk.midPerSecond;
  assert.equal(m[4], 600_000);
  assert.ok(Math.abs(m[9] - (1 - 0.03 * (1 - 0.5 / 20)) * 600_000) <= 90, `1 s into the recovery ${m[9]}`);
  assert.ok(Math.abs(m[29] - 0.985 * 600_000) <= 60, `after the recovery ${m[29]}`);
  // Unbounded (one re-key per tick of offset, at every message), the same crash re-keys at every message.
  const small = deepBook(20, 30, 10);
  const plain = concat(overlayInjectors([small], [DEFAULT_INSTRUMENT], [crash], { minOffsetStepBps: 0, minRekeyIntervalMs: 0 }));
  assert.ok(countKind(plain, EventKind.SnapshotBegin) - 1 > 2000, `unbounded re-keys ${countKind(plain, EventKind.SnapshotBegin) - 1}`);
});

test('the offset step is at least 1 bp of the price, on the grid; re-keys are at least 50 ms of stream time apart', () => {
  const src = deepBook(5, 30, 10);
  const reversal = [{ kind: 'reversal' as const, atSeconds: 5 }];
  // A fixed drift of 600 ticks/s reversed: −1,200 ticks/s, i.e. 20 steps of 60 ticks (1 bp) a second.
  const out = concat(overlayInjectors([src], instruments, reversal, { reversalDriftTicksPerSecond: 600 }));
  const shifted = Array.from({ length: out.length / EVENT_SIZE }, (_, i) => readEvent(out, i)).filter((e) => e.kind === EventKind.SnapshotBegin).slice(1);
  assert.ok(shifted.length >= 24 * 20 - 1 && shifted.length <= 25 * 20 + 1, `re-keys ${shifted.length}`);
  for (let i = 1; i < shifted.length; i++) assert.ok(shifted[i].tsExchange - shifted[i - 1].tsExchange >= 50_000_000n, `re-keys ${i - 1} and ${i}`);
  const bids = (bytes: Uint8Array): bigint[] => Array.from({ length: bytes.length / EVENT_SIZE }, (_, i) => readEvent(bytes, i)).filter((e) => e.kind === EventKind.Modify && e.side === Side.Bid && (e.flags & EventFlag.Snapshot) === 0).map((e) => 599_999n - e.price);
  assert.ok(bids(out).every((d) => d % 60n === 0n), 'offsets are whole 60-tick (1 bp) steps');
  // 10 bp on a grid of 100: steps of 600 ticks; 0 bp: one grid step.
  const coarse = bids(concat(overlayInjectors([src], instruments, reversal, { reversalDriftTicksPerSecond: 600, minOffsetStepBps: 10, priceStepTicks: 100 })));
  assert.ok(coarse.length > 0 && coarse.every((d) => d % 600n === 0n), coarse.slice(0, 5).join(' '));
  const fine = bids(concat(overlayInjectors([src], instruments, reversal, { reversalDriftTicksPerSecond: 600, minOffsetStepBps: 0, minRekeyIntervalMs: 0 })));
  assert.ok(fine.some((d) => d % 60n !== 0n), 'without the bounds the offset moves tick by tick');
});

test('bad overlay options give clear errors', () => {
  assert.throws(() => new InjectorOverlay(instruments, [], { crashBidKeep: 0 }), (e: unknown) => e instanceof EngineError && /expected a fraction in \(0, 1\] for crashBidKeep, got 0/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, [], { minOffsetStepBps: -1 }), (e: unknown) => e instanceof EngineError && /expected a number of basis points in \[0, 1000\] for minOffsetStepBps, got -1/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, [], { minRekeyIntervalMs: NaN }), (e: unknown) => e instanceof EngineError && /expected a non-negative number of milliseconds for minRekeyIntervalMs, got NaN/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, [], { priceStepTicks: 0.5 }), (e: unknown) => e instanceof EngineError && /expected a positive integer for priceStepTicks, got 0.5/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, [{ kind: 'flash-crash', atSeconds: -1, depthPct: 5 }]), (e: unknown) => e instanceof EngineError && /flash-crash at/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, []).transform(new Uint8Array(10)), (e: unknown) => e instanceof EngineError && /64-byte events/.test(e.message));
});
