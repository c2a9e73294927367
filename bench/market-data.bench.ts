// Market-data benchmark (issue 2): native books + features against a plain TypeScript book and
// nodejs-order-book, replay throughput from event-log files, and peak memory of a short vs a long log.
// The parent prepares the streams once in a temp dir, runs every case in its own child process, prints
// a table and writes bench/results/market-data.json (flat metrics checked by bench/run.ts against
// bench/budgets.json). Usage: node dist/bench/market-data.bench.js [--quick] [--keep]
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { importBinance } from '../src/import/binance';
import { fileSource } from '../src/import/lines';
import { parseLobsterMessages } from '../src/import/lobster';
import { EventLogWriter } from '../src/log/event-log';
import { Manifest, Metrics, StreamFiles, engineCase, memoryCase, replayCase } from './market-data-cases';
import { machine, round } from './market-data-stats';

const ROOT = path.resolve(__dirname, '..', '..'); // dist/bench -> repository root
const DATA = path.resolve(ROOT, '..', 'shared', 'data');
const MSFT = path.join(DATA, 'lobster', 'MSFT_2012-06-21_34200000_37800000_message_50.csv');
const BINANCE = path.join(DATA, 'binance', 'usdm_btcusdt_20240808.gz');
const RESULTS = path.join(ROOT, 'bench', 'results', 'market-data.json');
const LONG_REPEAT = 20;
const TIMER = 'manual timers (process.cpuUsage + hrtime) around each batch / pass, warm-up passes first, subject and baseline passes interleaved in one process; Benchmark.js not used (its cycles repeat a stateless call, a replay is stateful)';

interface CaseSpec {
  name: string;
  what: string;
  run: (m: Manifest) => Promise<Metrics> | Metrics;
}

function cases(quick: boolean): CaseSpec[] {
  const k = quick ? 0.25 : 1;
  const n = (x: number): number => Math.max(1, Math.round(x * k));
  return [
    { name: 'engine.msft', what: 'MarketEngine vs TS book, MSFT L3, batches of 4096', run: (m) => engineCase(m.msft, n(20), n(4)) },
    { name: 'engine.binance', what: 'MarketEngine vs TS book, Binance BTCUSDT futures L2', run: (m) => engineCase(m.binance, n(8), n(2)) },
    { name: 'replay.msft', what: 'replay of the MSFT log vs TS reference and nodejs-order-book', run: (m) => replayCase(m.msft, n(20), n(4), quick ? 1 : 2) },
    { name: 'replay.binance', what: 'replay of the Binance log vs TS reference', run: (m) => replayCase(m.binance, n(10), n(2), 0) },
    { name: 'replay.long', what: `replay of the MSFT log x${LONG_REPEAT}`, run: (m) => replayCase({ name: 'long', ...m.long }, n(5), 0, 0) },
    { name: 'memory.short', what: 'peak memory, MSFT log', run: (m) => memoryCase(m.msft.log, m.msft.count) },
    { name: 'memory.long', what: `peak memory, MSFT log x${LONG_REPEAT}`, run: (m) => memoryCase(m.long.log, m.long.count) },
  ];
}

// ---- data preparation (parent) ----

function writeStream(dir: string, name: string, book: 'l2' | 'l3', bytes: Uint8Array, instruments: StreamFiles['instruments'], source: string): StreamFiles {
  const events = path.join(dir, `${name}.${book}.events`); // the suffix tells bench/native its book type
  fs.writeFileSync(events, bytes);
  const log = path.join(dir, `${name}.cmmlog`);
  const w = EventLogWriter.create(log, { source, instruments });
  w.append(bytes);
  w.close();
  return { name, events, log, count: bytes.length / 64, instruments };
}

async function prepare(dir: string): Promise<Manifest> {
  const lob = parseLobsterMessages(MSFT);
  const msftBytes = lob.batch.bytes();
  const msft = writeStream(dir, 'msft', 'l3', msftBytes, [lob.instrument], 'lobster MSFT 2012-06-21');
  const bin = await importBinance([fileSource(BINANCE)]);
  const binance = writeStream(dir, 'binance', 'l2', bin.batch.bytes(), bin.instruments, 'binance usdm BTCUSDT 2024-08-08');
  const longLog = path.join(dir, 'long.cmmlog');
  const w = EventLogWriter.create(longLog, { source: `lobster MSFT x${LONG_REPEAT}`, instruments: [lob.instrument] });
  for (let i = 0; i < LONG_REPEAT; i++) w.append(msftBytes);
  w.close();
  return { msft, binance, long: { log: longLog, count: msft.count * LONG_REPEAT, repeat: LONG_REPEAT } };
}

// ---- supplementary: the C++ harness (no JS): book + top-of-book features, and MarketEngine 'top' ----

function nativeCpp(m: Manifest, dir: string): Metrics | string {
  const bin = path.join(dir, 'book_features_bench');
  const src = ['bench/native/book_features_bench.cc', ...['book', 'features', 'market'].flatMap((d) => fs.readdirSync(path.join(ROOT, 'native', d)).filter((f) => f.endsWith('.cc')).map((f) => `native/${d}/${f}`))];
  // The addon's flags (CMakeLists.txt): -O3 -fstrict-aliasing, no -march, no -ffast-math.
  const cc = spawnSync('g++', ['-O3', '-fstrict-aliasing', '-std=gnu++17', '-Inative', '-o', bin, ...src], { cwd: ROOT, encoding: 'utf8' });
  if (cc.status !== 0) return `g++ failed: ${(cc.stderr || cc.error?.message || '').split('\n')[0]}`;
  const metrics: Metrics = {};
  for (const [name, file, reps] of [['msft', m.msft.events, '20'], ['binance', m.binance.events, '8']]) {
    const r = spawnSync(bin, [file, reps, 'book'], { encoding: 'utf8' });
    if (r.status !== 0) return `book_features_bench failed on ${name}`;
    for (const line of r.stdout.split('\n')) {
      const x = /^L[23] (book only|book \+ top-of-book features|MarketEngine top-of-book, rows written)\s+mean\s+([\d.]+) ns\/event\s+p50\s+([\d.]+)\s+p99\s+([\d.]+)/.exec(line);
      if (!x) continue;
      const key = x[1] === 'book only' ? 'bookOnly' : x[1].startsWith('book') ? 'bookTop' : 'engineTop';
      metrics[`${key}.${name}.p50_ns`] = Number(x[3]);
      metrics[`${key}.${name}.p99_ns`] = Number(x[4]);
      metrics[`${key}.${name}.mean_ns`] = Number(x[2]);
    }
  }
  return metrics;
}

// ---- report ----

function fmt(x: number | string | undefined, digits = 1): string {
  if (x === undefined) return '-';
  if (typeof x === 'string') return x;
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  return x.toFixed(digits);
}

function printTable(results: Record<string, Metrics>, cpp: Metrics | string, flat: Metrics): void {
  const mc = machine();
  console.log(`\nmarket-data: ${mc.cpu}, ${mc.cores} cores, node ${mc.node}, ${mc.platform}, load average ${mc.loadAverage}`);
  console.log(`timer: ${TIMER}`);
  console.log('ns/event: process CPU time (not counting time preempted), wall clock beside it\n');
  const row = (cols: string[]): void => console.log(cols.map((c, i) => (i === 0 ? c.padEnd(60) : c.padStart(10))).join(''));
  const timed = (label: string, r: Metrics, k: string, extra = ''): void =>
    row([label, fmt(r[`${k}.p50_ns`]), fmt(r[`${k}.p99_ns`]), fmt(r[`${k}.mean_ns`]), fmt(r[`${k}.wall_p50_ns`]), fmt(1e3 / Number(r[`${k}.p50_ns`]), 2), extra]);
  row(['per 4096-event batch from JS, events in memory', 'p50', 'p99', 'mean', 'wall p50', 'M ev/s', 'ratio']);
  for (const s of ['msft', 'binance']) {
    const r = results[`engine.${s}`];
    if (!r) continue;
    timed(`${s}: native MarketEngine, features 'top' (book + TOB, rows)`, r, 'native.engine');
    timed(`${s}: native MarketEngine, features 'all' (rows)`, r, 'native.engineAll');
    timed(`${s}: native book only (OrderBook.apply)`, r, 'native.bookOnly');
    for (const [key, label] of [['bookTop', 'native book + top-of-book'], ['engineTop', "native MarketEngine 'top', rows"]]) {
      if (typeof cpp === 'string' || cpp[`${key}.${s}.p50_ns`] === undefined) continue;
      const p50 = Number(cpp[`${key}.${s}.p50_ns`]);
      row([`${s}: ${label} (C++, thread CPU, 512-ev)`, fmt(p50), fmt(cpp[`${key}.${s}.p99_ns`]), fmt(cpp[`${key}.${s}.mean_ns`]), '-', fmt(1e3 / p50, 2), '']);
    }
    timed(`${s}: TS reference book + top-of-book features`, r, 'ts.bookTop');
    timed(`${s}: lean TS book + top-of-book features`, r, 'ts.leanBookTop', `${fmt(r['ratio_engine_vs_lean_ts'], 2)}x`);
    timed(`${s}: TS reference engine (all features)`, r, 'ts.engine', `${fmt(r['ratio_engine_vs_ts'])}x`);
  }
  if (typeof cpp === 'string') console.log(`(C++ harness skipped: ${cpp})`);
  console.log('');
  row(['replay from an event-log file, per pass', 'p50', 'p99', 'mean', 'wall p50', 'M ev/s', 'ratio']);
  for (const s of ['msft', 'binance', 'long']) {
    const r = results[`replay.${s}`];
    if (!r) continue;
    timed(`${s} (${r.events} ev): native replay, books + all features`, r, 'native.replay');
    if (r['ts.engine.p50_ns'] !== undefined) timed(`${s}: TS reference engine (events in memory)`, r, 'ts.engine', `${fmt(r['ratio_vs_ts'])}x`);
    if (r['nodejs_order_book.p50_ns'] !== undefined) {
      timed(`${s}: nodejs-order-book (book only, in memory)`, r, 'nodejs_order_book', `${fmt(r['ratio_vs_nodejs_order_book'])}x`);
    }
  }
  console.log('');
  row(['peak memory of one replay (MiB)', 'file', 'peak RSS', 'peak heap', 'peak ext']);
  for (const s of ['short', 'long']) {
    const r = results[`memory.${s}`];
    if (r) row([`${s} log (${r.events} events)`, fmt(r.file_mib), fmt(r.peak_rss_mib), fmt(r.peak_heap_used_mib), fmt(r.peak_external_mib)]);
  }
  console.log(`peak RSS long / short: ${fmt(flat['memory.rss_growth'], 3)}`);
}

// Flat metrics for bench/budgets.json ("market-data.<metric>").
function flatten(results: Record<string, Metrics>, cpp: Metrics | string): Metrics {
  const f: Metrics = {};
  const num = (c: string, k: string): number | undefined => {
    const v = results[c]?.[k];
    return typeof v === 'number' ? v : undefined;
  };
  const set = (k: string, v: number | undefined): void => {
    if (v !== undefined && Number.isFinite(v)) f[k] = v;
  };
  for (const s of ['msft', 'binance']) {
    set(`engine.${s}.p50_ns`, num(`engine.${s}`, 'native.engine.p50_ns'));
    set(`engine.${s}.p99_ns`, num(`engine.${s}`, 'native.engine.p99_ns'));
    set(`engine.${s}.wall_p50_ns`, num(`engine.${s}`, 'native.engine.wall_p50_ns'));
    set(`engineAll.${s}.p50_ns`, num(`engine.${s}`, 'native.engineAll.p50_ns'));
    set(`engineAll.${s}.p99_ns`, num(`engine.${s}`, 'native.engineAll.p99_ns'));
    set(`bookOnly.${s}.p50_ns`, num(`engine.${s}`, 'native.bookOnly.p50_ns'));
    set(`tsBookTop.${s}.p50_ns`, num(`engine.${s}`, 'ts.bookTop.p50_ns'));
    set(`leanTsBookTop.${s}.p50_ns`, num(`engine.${s}`, 'ts.leanBookTop.p50_ns'));
    set(`engine.${s}.ratio_vs_lean_ts`, num(`engine.${s}`, 'ratio_engine_vs_lean_ts'));
    set(`bookOnly.${s}.ratio_vs_lean_ts`, num(`engine.${s}`, 'ratio_book_vs_lean_ts'));
    set(`engine.${s}.ratio_vs_ts`, num(`engine.${s}`, 'ratio_engine_vs_ts'));
    if (typeof cpp !== 'string') set(`bookTop.cpp.${s}.p50_ns`, cpp[`bookTop.${s}.p50_ns`] as number);
    if (typeof cpp !== 'string') set(`engineTop.cpp.${s}.p50_ns`, cpp[`engineTop.${s}.p50_ns`] as number);
  }
  const rates: number[] = [];
  for (const s of ['msft', 'binance', 'long']) {
    const v = num(`replay.${s}`, 'native.replay.events_per_s');
    set(`replay.${s}.events_per_s`, v);
    set(`replay.${s}.events_per_s_wall`, num(`replay.${s}`, 'native.replay.events_per_s_wall'));
    if (v !== undefined) rates.push(v);
  }
  if (rates.length) f['replay.events_per_s_min'] = Math.min(...rates);
  const tsRatios = ['replay.msft', 'replay.binance'].map((c) => num(c, 'ratio_vs_ts')).filter((x): x is number => x !== undefined);
  if (tsRatios.length) f['replay.ratio_vs_ts_min'] = Math.min(...tsRatios);
  set('replay.ratio_vs_nodejs_order_book', num('replay.msft', 'ratio_vs_nodejs_order_book'));
  const short = num('memory.short', 'peak_rss_mib');
  const long = num('memory.long', 'peak_rss_mib');
  set('memory.short.peak_rss_mib', short);
  set('memory.long.peak_rss_mib', long);
  if (short && long) f['memory.rss_growth'] = round(long / short, 3);
  return f;
}

// ---- parent / child ----

function runChild(spec: CaseSpec, manifestPath: string): Metrics | string {
  const r = spawnSync(process.execPath, [__filename, '--case', spec.name, '--manifest', manifestPath], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) return `exit ${r.status ?? r.signal}`;
  return JSON.parse(line.slice(7)) as Metrics;
}

async function parent(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const keep = argv.includes('--keep');
  for (const f of [MSFT, BINANCE]) {
    if (!fs.existsSync(f)) {
      console.error(`market-data: ${f} not found (the bench needs ../shared/data)`);
      return 2;
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-market-data-'));
  let failed = 0;
  try {
    const t0 = Date.now();
    const manifest = await prepare(dir);
    const manifestPath = path.join(dir, 'manifest.json');
    fs.writeFileSync(manifestPath, JSON.stringify(manifest));
    console.log(`prepared ${manifest.msft.count} MSFT, ${manifest.binance.count} Binance, ${manifest.long.count} long events in ${((Date.now() - t0) / 1000).toFixed(1)} s (${dir})`);
    const results: Record<string, Metrics> = {};
    const errors: Record<string, string> = {};
    for (const spec of cases(quick)) {
      const t = Date.now();
      const r = runChild(spec, manifestPath);
      if (typeof r === 'string') {
        errors[spec.name] = r;
        failed++;
        console.log(`  ${spec.name}: FAILED (${r})`);
      } else {
        results[spec.name] = r;
        console.log(`  ${spec.name}: ${spec.what} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
      }
    }
    const cpp = nativeCpp(manifest, dir);
    const flat = flatten(results, cpp);
    printTable(results, cpp, flat);
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    const out = { bench: 'market-data', date: new Date().toISOString(), machine: machine(), timer: TIMER, quick, metrics: flat, cases: results, cpp, errors };
    fs.writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
    console.log(`\nresults: ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  return failed > 0 ? 1 : 0;
}

async function child(name: string, manifestPath: string): Promise<number> {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  const quick = process.env.CMM_BENCH_QUICK === '1';
  const spec = cases(quick).find((c) => c.name === name);
  if (!spec) throw new Error(`unknown case ${name}`);
  const metrics = await spec.run(manifest);
  process.stdout.write(`RESULT ${JSON.stringify({ ...metrics, loadAverage: machine().loadAverage })}\n`);
  return 0;
}

function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--case');
  if (i >= 0) return child(argv[i + 1], argv[argv.indexOf('--manifest') + 1]);
  if (argv.includes('--quick')) process.env.CMM_BENCH_QUICK = '1'; // children inherit it
  return parent(argv);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
