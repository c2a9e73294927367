// Backtest throughput with Avellaneda–Stoikov quoting on every event, single thread, one process per case:
//   stream: event log read + native MarketEngine.apply (feature rows) + replay book + exchange + strategy
//   memory: the same replay over a tape already in memory (features precomputed): the TypeScript share
//   baseline (same process): read + native apply only, the floor any replay pays.
// events/s = events / process CPU time of a pass (the convention of market-data.bench: time preempted by
// other jobs on a shared machine is not counted; V8's GC and compiler threads are, so on an idle machine it
// is no higher than the wall-clock rate), wall-clock figures beside it (suffix _wall). Median and best over REPS passes after WARMUP passes, subjects interleaved.
// Per-batch p50/p99: wall µs per batch of the stream case over every measured pass (batches as written in
// the log, 4096 events). Episodes: consecutive 5-minute windows (AS needs a horizon), as in cmm backtest.
// Writes bench/results/backtest.json (flat metrics checked by bench/run.ts against bench/budgets.json).
// Run: node dist/bench/backtest.bench.js [case] (no case: every case, each in its own process).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InstrumentInfo } from '../src/core/instrument';
import { replay } from '../src/backtest/backtest';
import { ReplayBook } from '../src/backtest/replay-book';
import { SimConfig, Simulation } from '../src/backtest/simulation';
import { Tape, TapeBuilder, tapeBatches } from '../src/backtest/tape';
import { AvellanedaStoikovStrategy } from '../src/strategies/avellaneda-stoikov';
import { calibrateMarket } from '../src/strategies/as-calibration';
import { EventLogReader, EventLogWriter } from '../src/log/event-log';
import { importBinance } from '../src/import/binance';
import { fileSource } from '../src/import/lines';
import { parseLobsterMessages } from '../src/import/lobster';
import { generateMarket } from '../src/sim/generator';
import { cpuNs, dist, machine, nowNs, percentile, round } from './market-data-stats';

const ROOT = path.resolve(__dirname, '..', '..'); // dist/bench -> repository root
const DATA = path.resolve(ROOT, '..', 'shared', 'data');
const RESULTS = path.join(ROOT, 'bench', 'results', 'backtest.json');
const WARMUP = 2;
const REPS = 9;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-bt-bench-'));

const CASES: Record<string, () => Promise<{ file: string; queue: SimConfig['queue']['model']; step: number }>> = {
  'binance-btcusdt': async () => {
    const r = await importBinance([fileSource(path.join(DATA, 'binance', 'usdm_btcusdt_20240808.gz'))]);
    return { file: write('binance', r.instruments, r.batch.bytes()), queue: 'prob-power', step: 1 };
  },
  'lobster-msft': async () => {
    const m = parseLobsterMessages(path.join(DATA, 'lobster', 'MSFT_2012-06-21_34200000_37800000_message_50.csv'));
    return { file: write('msft', [m.instrument], m.batch.bytes()), queue: 'fifo', step: 100 };
  },
  'generated-1h': async () => {
    const g = generateMarket({ seconds: 3600, regime: 'medium', seed: 1 });
    return { file: write('generated', [g.summary.instrument], g.bytes), queue: 'prob-power', step: 1 };
  },
};

function write(name: string, instruments: InstrumentInfo[], bytes: Uint8Array): string {
  const file = path.join(TMP, `${name}.cmm`);
  const w = EventLogWriter.create(file, { source: name, instruments });
  w.append(bytes);
  w.close();
  return file;
}

function simConfig(instrument: InstrumentInfo, queue: SimConfig['queue']['model'], step: number): SimConfig {
  return {
    instrument, orderQty: 1, priceStep: step, fees: { makerBps: 0, takerBps: 2 }, queue: { model: queue },
    latency: { feed: { dist: 'constant', ns: 0 }, entry: { dist: 'constant', ns: 1e6 }, response: { dist: 'constant', ns: 1e6 } },
    risk: { maxPosition: 50, maxOrderQty: 50, maxOrdersPerSecond: Infinity, maxLoss: Infinity, fatFingerBps: 500 },
    stepNs: 1e9, warmupNs: 0, seed: 1,
  };
}

type Metrics = Record<string, number>;

/** One timed pass: events over process CPU time and over wall time. */
interface Pass {
  cpu: number;
  wall: number;
}
function timed(run: () => number): Pass {
  const c0 = cpuNs();
  const t0 = nowNs();
  const events = run();
  const wallNs = Number(nowNs() - t0);
  return { cpu: events / ((cpuNs() - c0) / 1e9), wall: events / (wallNs / 1e9) };
}
/** Median and best events/s of passes, CPU-time based, and the same on the wall clock. */
function rates(passes: Pass[]): { median: number; best: number; medianWall: number; bestWall: number } {
  const c = dist(passes.map((p) => p.cpu));
  const w = dist(passes.map((p) => p.wall));
  return { median: c.p50, best: Math.max(...passes.map((p) => p.cpu)), medianWall: w.p50, bestWall: Math.max(...passes.map((p) => p.wall)) };
}

async function runCase(name: string): Promise<Metrics> {
  const { file, queue, step } = await CASES[name]();
  const instrument = EventLogReader.open(file).header.instruments[0];
  const tape = Tape.fromLog(file);
  // AS as cmm backtest would run it: σ, k, A from the first half; γ for a skew of one price step per clip at half an episode.
  const cal = calibrateMarket(tape, tape.firstNs, (tape.firstNs + tape.lastNs) / 2);
  const asParams = { gamma: step / (cal.sigma * cal.sigma * 150), sigma: cal.sigma, k: cal.k, A: cal.A };
  const asStrategy = (): AvellanedaStoikovStrategy => new AvellanedaStoikovStrategy(asParams);
  const EPISODE = 300e9;
  const windows = Array.from({ length: Math.ceil((tape.lastNs + 1 - tape.firstNs) / EPISODE) }, (_, i) => ({
    index: i, startNs: tape.firstNs + i * EPISODE, endNs: tape.firstNs + (i + 1) * EPISODE,
  }));

  // Baseline: read + native apply (+ the zero-copy tape view) only.
  const baseline = (): number => {
    let n = 0;
    for (const b of tapeBatches(file)) n += b.count;
    return n;
  };
  // Stream: the full pipeline, per batch timed (wall µs appended to perBatchUs). Returns the events.
  let fills = 0;
  const stream = (perBatchUs: number[]): number => {
    const reader = EventLogReader.open(file);
    const builder = new TapeBuilder(reader.header.instruments, instrument);
    const book = new ReplayBook(instrument.bookType);
    const sim = new Simulation(asStrategy(), book, simConfig(instrument, queue, step));
    let events = 0;
    let w = 0;
    sim.beginEpisode(0, windows[0].startNs, windows[0].endNs);
    for (const lb of reader.batches()) {
      const t0 = nowNs();
      const b = builder.process(lb.events, lb.count, false);
      book.setBatch(b.events);
      sim.onBatch({ features: b.features, stride: 15, t: b.t, stale: b.stale, count: b.count });
      for (let r = 0; r < b.count; r++) {
        const t = b.t[r];
        if (t >= windows[w].endNs) {
          sim.endEpisode();
          w++;
          sim.beginEpisode(w, windows[w].startNs, windows[w].endNs);
        }
        sim.beforeEvent(t);
        book.apply(r);
        sim.afterEvent(r, t, book.flags);
      }
      events += b.count;
      perBatchUs.push(Number(nowNs() - t0) / 1e3);
    }
    sim.endEpisode();
    reader.close();
    fills = sim.episodes.reduce((s, e) => s + e.fills, 0);
    return events;
  };
  const memory = (): number => {
    const book = new ReplayBook(instrument.bookType);
    const sim = new Simulation(asStrategy(), book, simConfig(instrument, queue, step));
    return replay(tape.batches, book, [sim], windows).events;
  };
  // Warm-up passes of each, then REPS passes of each, interleaved (load changes hit all three alike).
  for (let i = 0; i < WARMUP; i++) {
    baseline();
    stream([]);
    memory();
  }
  const base: Pass[] = [];
  const str: Pass[] = [];
  const mem: Pass[] = [];
  const perBatchUs: number[] = [];
  for (let i = 0; i < REPS; i++) {
    base.push(timed(baseline));
    str.push(timed(() => stream(perBatchUs)));
    mem.push(timed(memory));
  }
  const sr = rates(str);
  const mr = rates(mem);
  const br = rates(base);
  const batches = [...perBatchUs].sort((a, b) => a - b);
  const fmt = (r: number): string => `${(r / 1e6).toFixed(2)} M events/s`;
  console.log(`${name}: ${tape.count} events (${instrument.venue}:${instrument.symbol} ${instrument.bookType}, queue ${queue}), AS quoting on every event (γ ${asParams.gamma.toExponential(2)}, σ ${asParams.sigma.toFixed(1)}, k ${asParams.k.toFixed(3)}); load average ${machine().loadAverage}`);
  console.log(`  stream (read + native apply + replay + AS): median ${fmt(sr.median)}, best ${fmt(sr.best)} (wall: median ${fmt(sr.medianWall)}, best ${fmt(sr.bestWall)}); per batch p50 ${percentile(batches, 0.5).toFixed(0)} µs, p99 ${percentile(batches, 0.99).toFixed(0)} µs (wall, ${batches.length} batches); fills ${fills}`);
  console.log(`  memory (replay + AS over a tape in memory): median ${fmt(mr.median)}, best ${fmt(mr.best)} (wall: median ${fmt(mr.medianWall)})`);
  console.log(`  baseline (read + native apply only): median ${fmt(br.median)}, best ${fmt(br.best)} (wall: median ${fmt(br.medianWall)}); stream/baseline ${(sr.median / br.median).toFixed(2)}`);
  return {
    events: tape.count,
    fills,
    'stream.events_per_s_median': Math.round(sr.median),
    'stream.events_per_s_best': Math.round(sr.best),
    'stream.events_per_s_median_wall': Math.round(sr.medianWall),
    'stream.events_per_s_best_wall': Math.round(sr.bestWall),
    'stream.batch_p50_us': round(percentile(batches, 0.5), 1),
    'stream.batch_p99_us': round(percentile(batches, 0.99), 1),
    'stream.batches_per_pass': batches.length / REPS,
    'stream.ratio_vs_baseline': round(sr.median / br.median, 3),
    'memory.events_per_s_median': Math.round(mr.median),
    'memory.events_per_s_best': Math.round(mr.best),
    'memory.events_per_s_median_wall': Math.round(mr.medianWall),
    'baseline.events_per_s_median': Math.round(br.median),
    'baseline.events_per_s_best': Math.round(br.best),
    'baseline.events_per_s_median_wall': Math.round(br.medianWall),
    loadAverage: machine().loadAverage,
  };
}

/** Flat metrics for bench/budgets.json ("backtest.<metric>"): per case "<part>.<case>.<metric>", and the slowest case. */
function flatten(results: Record<string, Metrics>): Metrics {
  const f: Metrics = {};
  for (const [name, m] of Object.entries(results)) {
    for (const [k, v] of Object.entries(m)) {
      const dot = k.indexOf('.');
      if (dot > 0) f[`${k.slice(0, dot)}.${name}${k.slice(dot)}`] = v;
    }
  }
  const all = Object.values(results);
  if (all.length > 0) {
    const min = (k: string): number => Math.min(...all.map((m) => m[k]));
    f['stream.events_per_s_median_min'] = min('stream.events_per_s_median');
    f['stream.events_per_s_median_min_wall'] = min('stream.events_per_s_median_wall');
    f['stream.ratio_vs_baseline_min'] = min('stream.ratio_vs_baseline');
    f['cases'] = all.length;
  }
  return f;
}

async function child(name: string): Promise<void> {
  const metrics = await runCase(name);
  process.stdout.write(`RESULT ${JSON.stringify(metrics)}\n`);
}

function parent(): number {
  const mc = machine();
  console.log(`machine: ${mc.cpu}, ${mc.cores} cores, node ${mc.node}, ${mc.platform}, load average ${mc.loadAverage}`);
  console.log(`events/s: events / process CPU time per pass (wall clock beside it), median and best of ${REPS} passes after ${WARMUP} warm-up passes`);
  const results: Record<string, Metrics> = {};
  const skipped: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (const name of Object.keys(CASES)) {
    if (name !== 'generated-1h' && !fs.existsSync(DATA)) {
      skipped[name] = `${DATA} absent`;
      console.log(`${name}: skipped (${DATA} absent)`);
      continue;
    }
    const r = spawnSync(process.execPath, [__filename, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    const lines = (r.stdout ?? '').split('\n');
    const line = lines.find((l) => l.startsWith('RESULT '));
    process.stdout.write(lines.filter((l) => l.length > 0 && !l.startsWith('RESULT ')).map((l) => `${l}\n`).join(''));
    if (r.status !== 0 || !line) {
      errors[name] = `exit ${r.status ?? r.signal}`;
      console.log(`${name}: failed (${errors[name]})`);
      continue;
    }
    results[name] = JSON.parse(line.slice(7)) as Metrics;
  }
  const metrics = flatten(results);
  const slowest = Object.entries(results).sort((a, b) => a[1]['stream.events_per_s_median'] - b[1]['stream.events_per_s_median'])[0]?.[0];
  if (slowest) console.log(`slowest stream median: ${slowest}, ${(metrics['stream.events_per_s_median_min'] / 1e6).toFixed(2)} M events/s (wall ${(metrics['stream.events_per_s_median_min_wall'] / 1e6).toFixed(2)} M)`);
  const out = { bench: 'backtest', date: new Date().toISOString(), machine: machine(), timer: 'process.cpuUsage + hrtime around each pass; per batch: hrtime', warmup: WARMUP, reps: REPS, slowest, metrics, cases: results, skipped, errors };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
  console.log(`results: ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
  return Object.keys(errors).length > 0 ? 1 : 0;
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (only) {
    if (!CASES[only]) throw new Error(`unknown case ${only}: ${Object.keys(CASES).join(', ')}`);
    if (only !== 'generated-1h' && !fs.existsSync(DATA)) throw new Error(`${only}: ${DATA} absent`);
    await child(only);
    return;
  }
  process.exitCode = parent();
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(TMP, { recursive: true, force: true }));
