// Generator throughput: events/s and per-batch p50/p99, one process per case, against a baseline that only
// appends the same number of events to an EventBatch (the floor any generator pays).
// Run: node dist/bench/generator.bench.js [case] (no case: every case, each in its own process).
import { spawnSync } from 'child_process';
import * as os from 'os';
import { EventBatch, EventFlag, EventKind, Side } from '../src/core/event';
import { GeneratorOptions, MarketGenerator } from '../src/sim/generator';

const SECONDS = Number(process.env.GEN_BENCH_SECONDS ?? 1800);

const CASES: Record<string, Omit<GeneratorOptions, 'seconds' | 'seed'>> = {
  low: { regime: 'low' },
  medium: { regime: 'medium' },
  high: { regime: 'high' },
  switching: { regime: 'switching', trend: 'bull', injectors: [{ kind: 'flash-crash', atSeconds: 600, depthPct: 5 }] },
  'medium-poisson': { regime: 'medium', flow: { hawkes: null } },
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Appends `n` constant events in batches of 8192: the cost of writing events at all. */
function baseline(n: number): number {
  const b = new EventBatch(8192);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (b.length === 8192) b.clear();
    b.push(BigInt(i), BigInt(i), 0, EventKind.Modify, Side.Bid, BigInt(10_000 + (i & 15)), 5n, 0n, BigInt(i), BigInt(i - 1), EventFlag.EndOfMessage);
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

function runCase(name: string): void {
  const opts = { ...CASES[name], seconds: SECONDS, seed: 1 };
  new MarketGenerator({ ...opts, seconds: 60, injectors: [] }).next(); // warm the JIT
  const gen = new MarketGenerator(opts);
  const perBatch: number[] = [];
  let events = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    const t0 = process.hrtime.bigint();
    const b = gen.next();
    if (!b) break;
    const us = Number(process.hrtime.bigint() - t0) / 1e3;
    perBatch.push(us / (b.length / 64)); // µs per event within this batch
    events += b.length / 64;
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  perBatch.sort((a, b) => a - b);
  const rate = events / wall;
  const base = baseline(events);
  console.log(JSON.stringify({
    case: name,
    simulatedSeconds: SECONDS,
    events,
    wallSeconds: +wall.toFixed(3),
    eventsPerSec: Math.round(rate),
    nsPerEventP50: +(quantile(perBatch, 0.5) * 1e3).toFixed(0),
    nsPerEventP99: +(quantile(perBatch, 0.99) * 1e3).toFixed(0),
    batches: perBatch.length,
    baselineAppendEventsPerSec: Math.round(base),
    generatorCostVsAppend: +(base / rate).toFixed(2),
    realisedVolByRegime: gen.summary().realisedVolByRegime,
  }));
}

function main(): void {
  const which = process.argv[2];
  if (which) {
    if (!CASES[which]) throw new Error(`unknown case ${which}; cases: ${Object.keys(CASES).join(', ')}`);
    runCase(which);
    return;
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`# generator bench — ${cpu}, ${os.cpus().length} cores, node ${process.version}, ${SECONDS} simulated s per case, batch 8192 events`);
  for (const name of Object.keys(CASES)) {
    const r = spawnSync(process.execPath, [__filename, name], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(r.stderr);
      process.exitCode = 1;
      continue;
    }
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.log(`${name.padEnd(15)} ${String(row.events).padStart(9)} events  ${(row.eventsPerSec / 1e6).toFixed(2)} M events/s  ` +
      `p50 ${row.nsPerEventP50} ns/event  p99 ${row.nsPerEventP99} ns/event (per batch)  ` +
      `append-only baseline ${(row.baselineAppendEventsPerSec / 1e6).toFixed(2)} M/s (generator ${row.generatorCostVsAppend}x)`);
  }
}

main();
