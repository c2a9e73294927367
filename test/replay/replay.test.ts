// Replay: summary from the real market engine, onBatch slices, pacing via an injected clock, the CLI.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EVENT_SIZE } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { MarketEngine, NUM_FEATURES } from '../../src/market/market-engine';
import { EventLogWriter } from '../../src/log/event-log';
import { interleave, l2Messages, toBatch } from '../market/synthetic';
import { Replay, ReplayClock, ReplayEngine, parseReplaySpeed, replayFile, unitsToReal } from '../../src/replay/replay';
import { tinyMarket, writeTinyMarket } from './replay-fixtures';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-replay-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const tiny = path.join(dir, 'tiny.cmmlog');
writeTinyMarket(tiny, 3);

/** A clock that only moves when the replay sleeps. */
function fakeClock(): ReplayClock & { t: number; sleeps: number[] } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return c;
}

test('summary: counts, gaps, unknown orders, top of book in real prices, stoppedAt', async () => {
  const s = await replayFile(tiny);
  assert.equal(s.events, 9);
  assert.equal(s.batches, 3);
  assert.equal(s.speed, 'max');
  assert.equal(s.source, 'replay-test');
  assert.deepEqual([s.gaps, s.crossed, s.unknownOrders], [1, 0, 1]);
  assert.deepEqual(s.symbols.map((x) => [x.symbol, x.events, x.gaps, x.unknownOrders, x.stale]), [
    ['BTCUSDT', 6, 1, 0, true],
    ['AAPL', 3, 0, 1, false],
  ]);
  assert.deepEqual(s.symbols[0].lastTopOfBook, { bid: 618209.9, bidQty: 2, ask: 618210, askQty: 0.25 });
  assert.deepEqual(s.symbols[1].lastTopOfBook, { bid: 50, bidQty: 100, ask: 50.05, askQty: 40 });
  assert.equal(s.stoppedAt.reason, 'eof');
  assert.equal(s.stoppedAt.offset, fs.statSync(tiny).size);
});

test('onBatch sees every event once, in order, with a feature row per event', async () => {
  const seen: Uint8Array[] = [];
  let rows = 0;
  const s = await new Replay(tiny, {
    onBatch: (events, count, features) => {
      assert.equal(events.length, count * EVENT_SIZE);
      assert.equal(features!.length, count * NUM_FEATURES);
      seen.push(events.slice());
      rows += features!.length / NUM_FEATURES;
    },
  }).run();
  assert.equal(rows, 9);
  assert.deepEqual(Buffer.concat(seen), Buffer.from(tinyMarket().bytes()));
  assert.equal(s.events, 9);
});

async function pacedSlices(speed: string): Promise<{ slices: [number, number][]; sleeps: number[] }> {
  const clock = fakeClock();
  const slices: [number, number][] = [];
  await new Replay(tiny, { speed, clock, onBatch: (_e, count) => slices.push([clock.now(), count]) }).run();
  return { slices, sleeps: clock.sleeps };
}

test('1x pacing: each event applied at its exchange time, batches split at pacing points', async () => {
  // Timestamps 0,0,0 | 0,1,1 | 1,3,3.5 s in batches of three.
  const { slices, sleeps } = await pacedSlices('1x');
  assert.deepEqual(slices, [[0, 3], [0, 1], [1000, 2], [1000, 1], [3000, 1], [3500, 1]]);
  assert.deepEqual(sleeps, [1000, 2000, 500]);
});

test('10x pacing divides every wait by ten; max never sleeps', async () => {
  const ten = await pacedSlices('10x');
  assert.deepEqual(ten.slices, [[0, 3], [0, 1], [100, 2], [100, 1], [300, 1], [350, 1]]);
  assert.deepEqual(ten.sleeps, [100, 200, 50]);
  const max = await pacedSlices('max');
  assert.deepEqual(max.sleeps, []);
  assert.deepEqual(max.slices, [[0, 3], [0, 3], [0, 3]]);
});

test('a plugged-in engine receives the same slices; progress reaches the end of the file', async () => {
  const applied: number[] = [];
  const engine: ReplayEngine = {
    apply: (_e, count) => (applied.push(count), count),
    stats: () => ({ gaps: 0, crossedEpisodes: 0, unknownOrders: 0 }),
    instrumentStats: () => ({ events: 0, gaps: 0, crossedEpisodes: 0, unknownOrders: 0, stale: false }),
    topOfBook: () => ({ bidPrice: NaN, bidQty: 0, askPrice: NaN, askQty: 0 }),
  };
  const progress: number[] = [];
  const s = await replayFile(tiny, { engine: () => engine, speed: '1x', clock: fakeClock(), onProgress: (p) => progress.push(p.bytes / p.totalBytes) });
  assert.deepEqual(applied, [3, 1, 2, 1, 1, 1]);
  assert.equal(progress[progress.length - 1], 1);
  assert.deepEqual(s.symbols[0].lastTopOfBook, { bid: null, bidQty: 0, ask: null, askQty: 0 });
});

test('a torn log replays its whole batches and reports where it stopped', async () => {
  const torn = path.join(dir, 'torn.cmmlog');
  const bytes = fs.readFileSync(tiny);
  fs.writeFileSync(torn, new Uint8Array(bytes.subarray(0, bytes.length - 10)));
  const s = await replayFile(torn);
  assert.equal(s.events, 6);
  assert.equal(s.stoppedAt.reason, 'truncated');
});

test('full speed without onBatch applies whole read chunks natively: same summary, features and stop as batch by batch', async () => {
  const file = path.join(dir, 'synthetic.cmmlog');
  const msgs = interleave(l2Messages({ instrument: 0, seed: 3, messages: 1200 }), l2Messages({ instrument: 1, seed: 4, messages: 1200, startSeq: 5n }));
  msgs.splice(900, 1); // a gap
  const batch = toBatch(msgs);
  const instruments = [0, 1].map((id) => ({ id, symbol: `S${id}`, venue: 'synthetic', tickSize: 0.01, lotSize: 1, bookType: 'L2' as const }));
  const w = EventLogWriter.create(file, { source: 'synthetic', instruments }, { batchSize: 97 });
  w.append(batch.bytes());
  w.close();
  const torn = path.join(dir, 'synthetic-torn.cmmlog');
  fs.writeFileSync(torn, new Uint8Array(fs.readFileSync(file).subarray(0, fs.statSync(file).size - 1000)));
  for (const f of [file, torn]) {
    let fusedCalls = 0;
    const engines: MarketEngine[] = [];
    const make = (spy: boolean) => (list: InstrumentInfo[]): ReplayEngine => {
      const e = new MarketEngine(list);
      engines.push(e);
      if (spy) {
        const applyFrames = e.applyFrames.bind(e);
        e.applyFrames = (chunk, next, out) => (fusedCalls++, applyFrames(chunk, next, out));
      }
      return e;
    };
    // 4 KiB chunks: frames (6 KiB each) straddle reads, so partial frames are carried over.
    const fused = await new Replay(f, { chunkBytes: 4096, engine: make(true) }).run();
    const batched = await new Replay(f, { chunkBytes: 4096, engine: make(false), onBatch: () => undefined, features: false }).run();
    assert.ok(fusedCalls > 10, `fused path used (${fusedCalls} calls)`);
    const strip = (x: typeof fused): object => ({ ...x, seconds: 0, eventsPerSec: 0 });
    assert.deepEqual(strip(fused), strip(batched));
    for (const i of [0, 1]) assert.deepEqual([...engines[0].features(i)], [...engines[1].features(i)]);
    assert.equal(fused.stoppedAt.reason, f === file ? 'eof' : 'truncated');
    if (f === file) assert.equal(fused.events, batch.length);
  }
});

test('speed parsing and real-price rounding', () => {
  assert.equal(parseReplaySpeed('max'), Infinity);
  assert.equal(parseReplaySpeed('1x'), 1);
  assert.equal(parseReplaySpeed('2.5x'), 2.5);
  assert.equal(parseReplaySpeed(20), 20);
  for (const bad of ['fast', '0x', '-1x', 'x', '1', 0]) assert.throws(() => parseReplaySpeed(bad), /expected 'max' or a positive multiple/);
  assert.equal(unitsToReal(6182099, 0.01), 61820.99);
  assert.equal(unitsToReal(3, 0.1), 0.3);
  assert.equal(unitsToReal(7, 0.25), 1.75);
  assert.equal(unitsToReal(12, 1), 12);
});

const cmm = path.join(__dirname, '..', '..', 'src', 'cli', 'cmm.js');
function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cmm, 'replay', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('cmm replay --json: the last stdout line is the summary; no progress bar off a terminal', () => {
  const r = cli(tiny, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]);
  assert.equal(summary.events, 9);
  assert.equal(summary.gaps, 1);
  assert.equal(summary.stoppedAt.reason, 'eof');
  assert.equal(summary.symbols[0].lastTopOfBook.bid, 618209.9);
});

test('cmm replay: human summary, corrupt log exits 1 with the offset, bad arguments are explained', () => {
  const human = cli(tiny);
  assert.equal(human.status, 0);
  assert.match(human.stdout, /9 events in 3 batches/);
  assert.match(human.stdout, /BTCUSDT L2 .*bid 2 @ 618209\.9 .*ask 0\.25 @ 618210/);

  const bad = path.join(dir, 'bad.cmmlog');
  const bytes = new Uint8Array(fs.readFileSync(tiny));
  bytes[bytes.length - 1] ^= 1; // last event byte of the last batch
  fs.writeFileSync(bad, bytes);
  const r = cli(bad, '--json');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad-checksum in batch 2/);
  assert.equal(JSON.parse(r.stdout.trimEnd().split('\n').pop()!).events, 6);

  const missing = cli(path.join(dir, 'missing.cmmlog'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /E_FILE_NOT_FOUND/);
  const speed = cli(tiny, '--speed', 'fast');
  assert.equal(speed.status, 1);
  assert.match(speed.stderr, /expected 'max' or a positive multiple like '1x', '10x' for speed, got "fast"/);
});
