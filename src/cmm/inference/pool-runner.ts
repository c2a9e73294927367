// Backend 'pool': a piscina pool of threads that each hold the students, for batch work (dataset scoring,
// experiments). predictBatch spreads chunks over the threads. Single decisions work too (predictAsync; predict()
// submits and returns null, poll() picks the answer up) but cost a message round trip (50-80 µs): the live
// path belongs to 'native' or 'worker'.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Piscina } from 'piscina';
import { EngineError } from '../../errors';
import type { StudentBankSpec } from '../../moe/student-bank';
import { RunnerBase, positive, positiveInt } from './runner-base';
import type { PoolResult, PoolTask } from './pool-worker';
import { nowMicros } from './resident-slot';
import type { Prediction, StudentEngineKind, StudentModelSource, StudentRunner, StudentRunnerConfig } from './types';

const POOL_FILE = path.join(__dirname, 'pool-worker.js');

export class PoolRunner extends RunnerBase implements StudentRunner {
  readonly backend = 'pool' as const;
  readonly engine: StudentEngineKind;
  readonly threads: number;
  readonly deadlineMicros: number;
  private readonly chunkRows: number | undefined;
  private readonly pool: Piscina;
  private seq = 0;
  private pendingSeq = 0;
  /** The answer of the latest request when it came back in time and nobody took it yet. */
  private arrived: { seq: number; out: Float32Array; status: number } | null = null;
  private warm: Promise<void>;
  private closed = false;

  constructor(spec: StudentBankSpec, model: StudentModelSource, config: StudentRunnerConfig) {
    super(spec, config, 'starting');
    this.engine = config.engine ?? 'native';
    if (this.engine !== 'native' && this.engine !== 'ort') throw new EngineError('E_INVALID_ARG', `expected 'native' or 'ort' for engine, got ${String(this.engine)}`);
    this.threads = positiveInt(config.threads, 'threads', Math.max(1, os.availableParallelism() - 1));
    // A pool round trip is 50-80 µs on an idle machine: its default deadline is looser than the worker's.
    this.deadlineMicros = positive(config.deadlineMicros, 'deadlineMicros', 2000);
    this.chunkRows = config.chunkRows === undefined ? undefined : positiveInt(config.chunkRows, 'chunkRows', 64);
    const startTimeoutMs = positive(config.startTimeoutMs, 'startTimeoutMs', 30_000);
    if (!fs.existsSync(POOL_FILE)) throw new EngineError('E_CONFIG', `pool worker script missing: ${POOL_FILE} (run tsc; workers run compiled JS)`);
    this.pool = new Piscina({
      filename: POOL_FILE, minThreads: this.threads, maxThreads: this.threads, idleTimeout: Infinity,
      workerData: { engine: this.engine, model },
    });
    this.pool.on('error', (err: Error) => {
      this.count.workerDeaths++;
      this.emit('workerError', err);
    });
    // Load the model on every thread before reporting ready (B = 0 tasks; piscina spreads concurrent tasks).
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError('E_TIMEOUT', `student pool not ready within ${startTimeoutMs} ms`)), startTimeoutMs);
    });
    const warmUp = Promise.all(Array.from({ length: this.threads }, () => this.pool.run({ X: new Float32Array(0), B: 0 } satisfies PoolTask)));
    this.warm = Promise.race([warmUp, timeout]).then(() => {
      clearTimeout(timer);
      this.emit('ready', 1);
      this.setFresh();
    }, (err: Error) => {
      clearTimeout(timer);
      this.setStale(`pool failed to start: ${err.message}`);
      throw err;
    });
    this.warm.catch(() => undefined);
  }

  private async runTask(X: Float32Array, B: number): Promise<PoolResult> {
    return (await this.pool.run({ X, B } satisfies PoolTask, { transferList: [X.buffer as ArrayBuffer] })) as PoolResult;
  }

  /** Submits x (the answer comes back later through poll()); always null: a pool never answers synchronously. */
  predict(x: Float32Array): Prediction | null {
    this.checkX(x);
    void this.request(x);
    this.count.notReady++;
    return null;
  }

  poll(): Prediction | null {
    const a = this.arrived;
    if (a === null || a.seq !== this.pendingSeq) return null;
    this.arrived = null;
    this.pendingSeq = 0;
    this.prediction.row.set(a.out);
    this.count.answered++;
    return this.finish(a.seq, a.status);
  }

  async predictAsync(x: Float32Array): Promise<Prediction | null> {
    this.checkX(x);
    const seq = await this.request(x);
    return seq !== 0 && this.pendingSeq === seq ? this.poll() : null;
  }

  /** Runs x on the pool; on a timely answer to the latest request leaves it for poll() and resolves its seq, else 0. */
  private async request(x: Float32Array): Promise<number> {
    this.count.requests++;
    if (this.closed) return 0;
    if (this.pendingSeq !== 0) this.count.superseded++;
    const seq = ++this.seq;
    this.pendingSeq = seq;
    this.arrived = null;
    const t0 = nowMicros();
    let r: PoolResult;
    try {
      r = await this.runTask(x.slice(0, this.inputs), 1);
    } catch (err) {
      this.count.workerDeaths++;
      this.emit('workerError', err as Error);
      this.setStale(`pool task failed: ${(err as Error).message}`);
      if (this.pendingSeq === seq) this.pendingSeq = 0;
      return 0;
    }
    const waited = nowMicros() - t0;
    if (this.pendingSeq !== seq) return 0; // a newer request superseded this one
    if (waited > this.deadlineMicros) {
      this.pendingSeq = 0;
      this.count.late++;
      this.emit('late', seq, waited);
      this.setStale(`late answer (${Math.round(waited)} µs > ${this.deadlineMicros} µs deadline)`);
      return 0;
    }
    this.setFresh();
    this.arrived = { seq, out: r.out, status: r.status };
    return seq;
  }

  async predictBatch(X: Float32Array, B: number, out?: Float32Array): Promise<Float32Array> {
    const o = this.checkBatch(X, B, out);
    if (B === 0) return o;
    const F = this.inputs;
    const rows = this.chunkRows ?? Math.max(64, Math.ceil(B / this.threads));
    const jobs: Promise<void>[] = [];
    for (let s = 0; s < B; s += rows) {
      const n = Math.min(rows, B - s);
      jobs.push(this.runTask(X.slice(s * F, (s + n) * F), n).then((r) => o.set(r.out, s * this.outSize)));
    }
    await Promise.all(jobs);
    return o;
  }

  async ready(): Promise<void> {
    await this.warm;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}
