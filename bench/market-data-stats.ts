// Timing helpers for bench/market-data*.ts: percentiles, the machine line, per-batch and per-pass timers
// (wall clock and process CPU time side by side; warm-up passes are not counted).
import * as os from 'os';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  /** 1-minute load average when the case ran: other work on a 2-core machine skews figures. */
  loadAverage: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    loadAverage: Number(os.loadavg()[0].toFixed(2)),
  };
}

export interface Dist {
  p50: number;
  p99: number;
  min: number;
  mean: number;
  samples: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function dist(values: readonly number[], meanOverride?: number): Dist {
  const s = [...values].sort((a, b) => a - b);
  const mean = meanOverride ?? s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), min: s[0] ?? NaN, mean, samples: s.length };
}

export const nowNs = (): bigint => process.hrtime.bigint();

/** Process CPU time (user + system) in ns: unlike the wall clock it does not count time spent
 *  preempted, which on a shared 2-core machine can dominate a pass of a few milliseconds. */
export const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** Wall-clock and CPU-time distributions of the same samples. */
export interface Timing {
  wall: Dist;
  cpu: Dist;
}

class Samples {
  readonly wall: number[] = [];
  readonly cpu: number[] = [];
  wallTotal = 0;
  cpuTotal = 0;
  events = 0;
  add(wallNs: number, cpu: number, n: number): void {
    this.wall.push(wallNs / n);
    this.cpu.push(cpu / n);
    this.wallTotal += wallNs;
    this.cpuTotal += cpu;
    this.events += n;
  }
  result(): Timing {
    const n = Math.max(1, this.events);
    return { wall: dist(this.wall, this.wallTotal / n), cpu: dist(this.cpu, this.cpuTotal / n) };
  }
}

/**
 * Per-batch ns/event over several passes of a stream. pass() runs one pass, giving runPass a
 * `timed(n, fn)` wrapper for each batch of n events; unmeasured passes warm caches and the JIT.
 * Subjects compared in one case run their passes interleaved, so load changes hit both alike.
 */
export class BatchTimer {
  private readonly samples = new Samples();

  pass(measured: boolean, runPass: (timed: (n: number, fn: () => void) => void) => void): void {
    runPass((n, fn) => {
      const c0 = cpuNs();
      const t0 = nowNs();
      fn();
      const wall = Number(nowNs() - t0);
      const cpu = cpuNs() - c0;
      if (measured && n > 0) this.samples.add(wall, cpu, n);
    });
  }

  /** p50 / p99 / min over batches; mean = total time / total events. */
  result(): Timing {
    return this.samples.result();
  }
}

/** Per-pass ns/event (async passes allowed); the same interleaving contract as BatchTimer. */
export class PassTimer {
  private readonly samples = new Samples();
  constructor(private readonly events: number) {}

  async pass(measured: boolean, run: () => unknown): Promise<void> {
    const c0 = cpuNs();
    const t0 = nowNs();
    await run();
    const wall = Number(nowNs() - t0);
    const cpu = cpuNs() - c0;
    if (measured) this.samples.add(wall, cpu, this.events);
  }

  result(): Timing {
    return this.samples.result();
  }
}

export const round = (x: number, digits = 2): number => Number.isFinite(x) ? Number(x.toFixed(digits)) : x;

/** A bench file runs as the parent (no argument) or, with `--case NAME`, as one case's child process. */
export function runBench(child: (name: string) => Promise<void>, parent: () => void): void {
  const at = process.argv.indexOf('--case');
  if (at < 0) return parent();
  child(process.argv[at + 1]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
