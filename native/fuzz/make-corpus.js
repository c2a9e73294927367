// Seeds for scripts/fuzz.sh: a small synthetic event log (and cuts of it) for fuzz_frames, event bytes
// for fuzz_book, operation bytes for fuzz_ladder, and real-data logs for the sanitizer replay driver (through the importers when built).
// Usage: node native/fuzz/make-corpus.js <out dir>   (needs dist/: run tsc first)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const dist = (p) => path.join(root, 'dist', 'src', p);
const { EventLogWriter, EventLogReader } = require(dist('log/event-log.js'));
const { EventBatch, EventKind, EventFlag, Side } = require(dist('core/event.js'));

const out = process.argv[2];
if (!out) {
  console.error('usage: make-corpus.js <out dir>');
  process.exit(2);
}
for (const d of ['frames', 'book', 'ladder', 'logs']) fs.mkdirSync(path.join(out, d), { recursive: true });

// Deterministic PRNG (xorshift32): the corpus is the same on every run.
let state = 0x9e3779b9;
const rand = (n) => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state % n;
};

// A synthetic two-instrument market: L2 snapshot + deltas (with one gap), L3 adds/cancels/executions.
const instruments = [
  { id: 0, symbol: 'SYN-L2', venue: 'synthetic', tickSize: 0.5, lotSize: 0.01, bookType: 'L2' },
  { id: 1, symbol: 'SYN-L3', venue: 'synthetic', tickSize: 0.01, lotSize: 1, bookType: 'L3' },
];
const b = new EventBatch();
let ts = 1_700_000_000_000_000_000n;
let seq = 1n;
b.push(ts, ts, 0, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, seq, 0n, EventFlag.Snapshot);
for (let i = 1; i <= 5; i++) {
  b.push(ts, ts, 0, EventKind.Modify, Side.Bid, BigInt(1000 - i), BigInt(10 * i), 0n, seq, 0n, EventFlag.Snapshot);
  b.push(ts, ts, 0, EventKind.Modify, Side.Ask, BigInt(1000 + i), BigInt(10 * i), 0n, seq, 0n, EventFlag.Snapshot);
}
b.push(ts, ts, 0, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, seq, 0n, EventFlag.Snapshot | EventFlag.EndOfMessage);
let orderId = 1n;
const live = [];
for (let i = 0; i < 600; i++) {
  ts += BigInt(1 + rand(5_000_000));
  if (i % 2 === 0) {
    const prev = i === 300 ? seq + 5n : seq; // one sequence gap
    seq = (i === 300 ? seq + 6n : seq + 1n);
    const side = rand(2) ? Side.Bid : Side.Ask;
    const px = side === Side.Bid ? 1000 - 1 - rand(6) : 1000 + 1 + rand(6);
    b.push(ts, ts, 0, EventKind.Modify, side, BigInt(px), BigInt(rand(4) * 10), 0n, seq, prev, EventFlag.EndOfMessage);
  } else if (live.length < 3 || rand(3) === 0) {
    const side = rand(2) ? Side.Bid : Side.Ask;
    const px = side === Side.Bid ? 5000 - rand(10) : 5001 + rand(10);
    live.push(orderId);
    b.push(ts, ts, 1, EventKind.Add, side, BigInt(px), BigInt(1 + rand(100)), orderId++, 0n, 0n, EventFlag.EndOfMessage);
  } else {
    const id = live.splice(rand(live.length), 1)[0];
    const kind = rand(2) ? EventKind.Cancel : EventKind.Trade;
    const flags = EventFlag.EndOfMessage | (kind === EventKind.Trade ? EventFlag.ExecResting : 0);
    b.push(ts, ts, 1, kind, Side.Bid, 5000n, 1000n, id, 0n, 0n, flags);
  }
}
const synthetic = path.join(out, 'logs', 'synthetic.cmmlog');
const w = EventLogWriter.create(synthetic, { source: 'fuzz-corpus', instruments, meta: { generator: 'make-corpus.js' } }, { batchSize: 64 });
w.append(b.bytes());
w.close();

// fuzz_frames seeds: the whole file, the header alone, a torn tail, batches without header, one frame.
const bytes = fs.readFileSync(synthetic);
const reader = EventLogReader.open(synthetic);
const offsets = [...reader.batches()].map((x) => x.offset);
reader.close();
const seeds = {
  'whole.bin': bytes,
  'header-only.bin': bytes.subarray(0, reader.dataOffset),
  'torn.bin': bytes.subarray(0, offsets[2] + 100),
  'batches.bin': bytes.subarray(reader.dataOffset),
  'one-frame.bin': bytes.subarray(offsets[0], offsets[1]),
  'two-small.bin': bytes.subarray(0, offsets[2]),
};
for (const [name, data] of Object.entries(seeds)) fs.writeFileSync(path.join(out, 'frames', name), data);

// fuzz_book seeds: random event bytes of a few lengths (10 bytes per event, first byte book types).
for (const [i, len] of [11, 101, 1001, 4001].entries()) {
  const s = Buffer.alloc(len);
  for (let k = 0; k < len; k++) s[k] = rand(256);
  s[0] = i;
  fs.writeFileSync(path.join(out, 'book', `random-${len}.bin`), s);
}

// fuzz_ladder seeds: random operations (8 bytes each after a first byte: side and the L2-style prefix),
// long enough for the centre to jump several times (every 512 operations).
for (const [i, ops] of [16, 600, 4000, 8000].entries()) {
  const s = Buffer.alloc(1 + 8 * ops);
  for (let k = 0; k < s.length; k++) s[k] = rand(256);
  s[0] = i === 3 ? 0x81 : i; // the last: asks after a 512-operation L2 prefix
  fs.writeFileSync(path.join(out, 'ladder', `random-${ops}.bin`), s);
}

// Real data through the importers, when they are built: logs for the sanitizer replay driver.
async function realLogs() {
  const data = process.env.CMM_DATA ?? path.join(root, '..', 'shared', 'data');
  const jobs = [
    ['bybit.cmmlog', 'import/bybit.js', 'importBybit', path.join(data, 'bybit', 'BYBIT.v5.jsonl')],
    ['binance-spot.cmmlog', 'import/binance.js', 'importBinance', path.join(data, 'binance', 'spot_btcusdt_20240808.gz')],
    ['bitstamp.cmmlog', 'import/bitstamp.js', 'importBitstamp', path.join(data, 'bitstamp', '2015-05-01.log')],
  ];
  for (const [name, mod, fn, input] of jobs) {
    try {
      if (!fs.existsSync(input)) throw new Error(`${input} not found`);
      const importer = require(dist(mod))[fn];
      const { fileSource } = require(dist('import/lines.js'));
      const result = await importer([fileSource(input)]);
      const lw = EventLogWriter.create(path.join(out, 'logs', name), { source: `fuzz-corpus:${fn}`, instruments: result.instruments });
      lw.append(result.batch.bytes());
      lw.close();
      console.log(`real log ${name}: ${lw.eventsWritten} events from ${input}`);
    } catch (err) {
      console.log(`real log ${name}: skipped (${String(err.message ?? err).split('\n')[0]})`);
    }
  }
}
realLogs().then(() => console.log(`corpus in ${out}: synthetic log ${bytes.length} bytes, ${offsets.length} batches`));
