// Generator throughput: events/s and per-batch p50/p99, one process per case, against a baseline that only
// appends the same number of events to an EventBatch (the floor any generator pays). events/s = events /
// process CPU time of the pass (the convention of market-data.bench: preemption by other jobs is not
// counted), wall clock beside it; median of REPS passes. realtime = simulated seconds per wall second. Per
// batch (8192 events): wall ns/event p50/p99 over every pass. No budget: issue 3 asks for the figure only.
// Writes bench/results/generator.json (flat metrics, read by bench/run.ts).
// Run: node dist/bench/generator.bench.js [case] (no case: every case, each in its own process).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EventBatch, EventFlag, EventKind, Side } from '../src/core/event';
import { GeneratorOptions, MarketGenerator } from '../src/sim/generator';
import { cpuNs, dist, machine, nowNs, round } from './market-data-stats';

const ROOT = path.resolve(__dirname, '..', '..'); // dist/bench -> repository root
const RESULTS = path.join(ROOT, 'bench', 'results', 'generator.json');

const SECONDS = Number(process.env.GEN_BENCH_SECONDS ?? 1800);

const CASES: Record<string, Omit<GeneratorOptions, 'seconds' | 'seed'>> = {
  low: { regime: 'low' },
  medium: { regime: 'medium' },
  high: { regime: 'high' },
  switching: { regime: 'switching', trend: 'bull', injectors: [{ kind: 'flash-crash', atSeconds: 600, depthPct: 5 }] },
  'medium-poisson': { regime: 'medium', flow: { hawkes: null } },
};

const REPS = 3;

/** Appends `n` constant events in batches of 8192: the cost of writing events at all. */
function baseline(n: number): void {
  const b = new EventBatch(8192);
  for (let i = 0; i < n; i++) {
    if (b.length === 8192) b.clear();
    b.push(BigInt(i), BigInt(i), 0, EventKind.Modify, Side.Bid, BigInt(10_000 + (i & 15)), 5n, 0n, BigInt(i), BigInt(i - 1), EventFlag.EndOfMessage);
  }
}

/** CPU and wall seconds of fn(). */
function timed(fn: () => void): { cpu: number; wall: number } {
  const c0 = cpuNs();
  const t0 = nowNs();
  fn();
  return { wall: Number(nowNs() - t0) / 1e9, cpu: (cpuNs() - c0) / 1e9 };
}

/** REPS passes of the whole generated market (fresh generator, same seed), each followed by a baseline pass. */
function runCase(name: string): void {
  const opts = { ...CASES[name], seconds: SECONDS, seed: 1 };
  new MarketGenerator({ ...opts, seconds: 60, injectors: [] }).next(); // warm the JIT
  const perBatch: number[] = []; // ns per event within each batch (wall), every pass
  const gens: { cpu: number; wall: number }[] = [];
  const bases: { cpu: number; wall: number }[] = [];
  let events = 0;
  let gen = new MarketGenerator(opts);
  for (let rep = 0; rep < REPS; rep++) {
    gen = new MarketGenerator(opts);
    events = 0;
    gens.push(timed(() => {
      for (;;) {
        const t0 = nowNs();
        const b = gen.next();
        if (!b) break;
        const n = b.length / 64;
        perBatch.push(Number(nowNs() - t0) / n);
        events += n;
      }
    }));
    bases.push(timed(() => baseline(events)));
  }
  const cpu = dist(gens.map((g) => g.cpu)).p50;
  const wall = dist(gens.map((g) => g.wall)).p50;
  const baseCpu = dist(bases.map((g) => g.cpu)).p50;
  const d = dist(perBatch);
  console.log(JSON.stringify({
    case: name,
    simulatedSeconds: SECONDS,
    events,
    passes: REPS,
    wallSeconds: round(wall, 3),
    cpuSeconds: round(cpu, 3),
    eventsPerSecCpu: Math.round(events / cpu),
    eventsPerSec: Math.round(events / wall),
    nsPerEventP50: Math.round(d.p50),
    nsPerEventP99: Math.round(d.p99),
    batchesPerPass: perBatch.length / REPS,
    baselineAppendEventsPerSec: Math.round(events / baseCpu),
    generatorCostVsAppend: round(cpu / baseCpu, 2),
    realisedVolByRegime: gen.summary().realisedVolByRegime,
    loadAverage: machine().loadAverage,
  }));
}

interface Row {
  events: number;
  eventsPerSec: number;
  eventsPerSecCpu: number;
  wallSeconds: number;
  nsPerEventP50: number;
  nsPerEventP99: number;
  baselineAppendEventsPerSec: number;
  generatorCostVsAppend: number;
}

function main(): void {
  const which = process.argv[2];
  if (which) {
    if (!CASES[which]) throw new Error(`unknown case ${which}; cases: ${Object.keys(CASES).join(', ')}`);
    runCase(which);
    return;
  }
  const mc = machine();
  console.log(`# generator bench — ${mc.cpu}, ${mc.cores} cores, node ${mc.node}, load average ${mc.loadAverage}, ${SECONDS} simulated s per case, batch 8192 events; M events/s over process CPU time (wall clock in brackets), median of ${REPS} passes`);
  const cases: Record<string, Row> = {};
  const metrics: Record<string, number> = {};
  const errors: Record<string, string> = {};
  for (const name of Object.keys(CASES)) {
    const r = spawnSync(process.execPath, [__filename, name], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(r.stderr);
      errors[name] = `exit ${r.status ?? r.signal}`;
      continue;
    }
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!) as Row;
    cases[name] = row;
    metrics[`${name}.events_per_s`] = row.eventsPerSecCpu;
    metrics[`${name}.events_per_s_wall`] = row.eventsPerSec;
    metrics[`${name}.p50_ns`] = row.nsPerEventP50;
    metrics[`${name}.p99_ns`] = row.nsPerEventP99;
    metrics[`${name}.realtime`] = round(SECONDS / row.wallSeconds, 1);
    metrics[`${name}.cost_vs_append`] = row.generatorCostVsAppend;
    console.log(`${name.padEnd(15)} ${String(row.events).padStart(9)} events  ${(row.eventsPerSecCpu / 1e6).toFixed(2)} M events/s (${(row.eventsPerSec / 1e6).toFixed(2)})  ` +
      `p50 ${row.nsPerEventP50} ns/event  p99 ${row.nsPerEventP99} ns/event (per batch)  ` +
      `append-only baseline ${(row.baselineAppendEventsPerSec / 1e6).toFixed(2)} M/s (generator ${row.generatorCostVsAppend}x)  ${(SECONDS / row.wallSeconds).toFixed(0)}x real time`);
  }
  const rows = Object.values(cases);
  if (rows.length > 0) {
    metrics['events_per_s_min'] = Math.min(...rows.map((r) => r.eventsPerSecCpu));
    metrics['events_per_s_min_wall'] = Math.min(...rows.map((r) => r.eventsPerSec));
    metrics['realtime_min'] = Math.min(...Object.keys(cases).map((n) => metrics[`${n}.realtime`]));
    console.log(`slowest: ${(metrics['events_per_s_min'] / 1e6).toFixed(2)} M events/s (wall ${(metrics['events_per_s_min_wall'] / 1e6).toFixed(2)} M); lowest real-time factor ${metrics['realtime_min']}x`);
  }
  const out = { bench: 'generator', date: new Date().toISOString(), machine: machine(), simulatedSeconds: SECONDS, batchEvents: 8192, passes: REPS, metrics, cases, errors };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
  console.log(`results: ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
  if (Object.keys(errors).length > 0) process.exitCode = 1;
}

main();
