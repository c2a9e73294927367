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

test('bad overlay options give clear errors', () => {
  assert.throws(() => new InjectorOverlay(instruments, [], { crashBidKeep: 0 }), (e: unknown) => e instanceof EngineError && /expected a fraction in \(0, 1\] for crashBidKeep, got 0/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, [], { priceStepTicks: 0.5 }), (e: unknown) => e instanceof EngineError && /expected a positive integer for priceStepTicks, got 0.5/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, [{ kind: 'flash-crash', atSeconds: -1, depthPct: 5 }]), (e: unknown) => e instanceof EngineError && /flash-crash at/.test(e.message));
  assert.throws(() => new InjectorOverlay(instruments, []).transform(new Uint8Array(10)), (e: unknown) => e instanceof EngineError && /64-byte events/.test(e.message));
});
