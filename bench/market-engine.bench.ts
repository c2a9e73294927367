// MarketEngine from Node: one native apply() per batch (features written) against the baseline, the
// plain TypeScript book with the same features (src/features/reference.ts), in the same process.
// node dist/bench/market-engine.bench.js [lobster message csv] [batch size]
import * as path from 'path';
import { parseLobsterMessages } from '../src/import/lobster';
import { MarketEngine, NUM_FEATURES } from '../src/market/market-engine';
import { ReferenceMarket } from '../src/features/reference';

const file = process.argv[2] ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'lobster', 'MSFT_2012-06-21_34200000_37800000_message_50.csv');
const batchSize = Number(process.argv[3] ?? 4096);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
}

/** ns/event per batch over `reps` full replays (the first is a warm-up and not counted). */
function measure(reps: number, replay: (onBatch: (ns: number, n: number) => void) => void): { p50: number; p99: number; mean: number } {
  const perBatch: number[] = [];
  let totalNs = 0;
  let totalEvents = 0;
  for (let r = 0; r <= reps; r++) {
    replay((ns, n) => {
      if (r === 0) return;
      perBatch.push(ns / n);
      totalNs += ns;
      totalEvents += n;
    });
  }
  perBatch.sort((a, b) => a - b);
  return { p50: percentile(perBatch, 0.5), p99: percentile(perBatch, 0.99), mean: totalNs / totalEvents };
}

function main(): void {
  const { batch, instrument } = parseLobsterMessages(file);
  const bytes = batch.bytes();
  const count = batch.length;
  const out = new Float64Array(batchSize * NUM_FEATURES);
  console.log(`${path.basename(file)}: ${count} events, batches of ${batchSize}`);

  const native = measure(10, (onBatch) => {
    const engine = new MarketEngine([instrument]);
    for (let s = 0; s < count; s += batchSize) {
      const n = Math.min(batchSize, count - s);
      const t0 = process.hrtime.bigint();
      engine.apply(bytes.subarray(s * 64, (s + n) * 64), n, out);
      onBatch(Number(process.hrtime.bigint() - t0), n);
    }
  });
  const reference = measure(2, (onBatch) => {
    const ref = new ReferenceMarket(['L3']);
    for (let s = 0; s < count; s += batchSize) {
      const n = Math.min(batchSize, count - s);
      const t0 = process.hrtime.bigint();
      ref.apply(bytes.subarray(s * 64, (s + n) * 64), n, out);
      onBatch(Number(process.hrtime.bigint() - t0), n);
    }
  });
  const row = (name: string, r: { p50: number; p99: number; mean: number }): void =>
    console.log(`${name.padEnd(46)} p50 ${r.p50.toFixed(1).padStart(8)} ns/event  p99 ${r.p99.toFixed(1).padStart(8)}  mean ${r.mean.toFixed(1).padStart(8)}  (${(1e3 / r.mean).toFixed(2)} M events/s)`);
  row('native MarketEngine.apply (features written)', native);
  row('plain TypeScript book + same features', reference);
  console.log(`speed-up (mean): ${(reference.mean / native.mean).toFixed(1)}x`);
}

main();
