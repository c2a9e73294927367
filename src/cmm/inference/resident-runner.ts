// Backend 'worker': the students live in one resident worker thread that serves the live path through a
// SharedArrayBuffer slot (resident-slot.ts): the main thread writes x, bumps the request tag, and spins a bounded
// time for the answer; otherwise predict() returns null and poll() picks the answer up later. An answer is used
// only when it carries the latest request's tag and was written within the deadline. A dead worker (exit/throw),
// a hung one (no answer for hangMicros) or a chronically late one is replaced in the background, and the runner
// reports stale until a fresh answer comes in time again.
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { EngineError } from '../../errors';
import type { StudentBankSpec } from '../../moe/student-bank';
import { RunnerBase, positive, positiveInt } from './runner-base';
import {
  ASYNC_WAIT, FAULT_HANG, FAULT_THROW, HOOK_DELAY, HOOK_FAULT, REQ, RESP, ResidentWorkerData, SHUTDOWN, SLEEPING, STATE, STATE_READY, STATUS,
  SlotViews, TAG_MASK, nowMicros, slotBytes, slotViews, tagOf,
} from './resident-slot';
import type { Prediction, StudentEngineKind, StudentModelSource, StudentRunner, StudentRunnerConfig } from './types';

const WORKER_FILE = path.join(__dirname, 'resident-worker-main.js');

type WaitAsync = (a: Int32Array, i: number, v: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

interface Generation {
  id: number;
  worker: Worker;
  slot: SlotViews;
  ready: boolean;
  dead: boolean;
  exited: Promise<void>;
  startTimer?: NodeJS.Timeout;
}

/**
 * A retired worker gets this long to leave on its own (SHUTDOWN flag: it finishes its current request, or its
 * model load, and returns) before worker.terminate(). Terminating a thread while it is inside a native call of
 * onnxruntime-node can abort the whole process (an uncaught Napi::Error), so termination is the last resort:
 * only for a worker hung in JavaScript or truly stuck.
 */
const RETIRE_GRACE_MS = 2000;

/** Asks a worker to leave (SHUTDOWN), terminates it if it is still there after the grace period. */
function retire(g: Generation): Promise<void> {
  g.worker.ref(); // awaiting its exit must keep the event loop alive (at most the grace period)
  Atomics.store(g.slot.ctl, SHUTDOWN, 1);
  Atomics.notify(g.slot.ctl, REQ);
  const timer = setTimeout(() => void g.worker.terminate().catch(() => undefined), RETIRE_GRACE_MS);
  timer.unref();
  return g.exited.then(() => clearTimeout(timer));
}

export class ResidentWorkerRunner extends RunnerBase implements StudentRunner {
  readonly backend = 'worker' as const;
  readonly engine: StudentEngineKind;
  readonly deadlineMicros: number;
  readonly spinMicros: number;
  readonly hangMicros: number;
  private readonly workerSpinMicros: number;
  private readonly maxConsecutiveLate: number;
  private readonly startTimeoutMs: number;
  private readonly maxStartFailures: number;
  private readonly model: StudentModelSource;

  private gen: Generation | null = null;
  private generations = 0;
  private seq = 0;
  // The latest request: 0 = none pending (answered, late-and-dropped, or lost with its worker).
  private pendingSeq = 0;
  private pendingTag = 0;
  private pendingAt = 0;
  private pendingLate = false;
  private consecutiveLate = 0;
  private startFailures = 0;
  private closed = false;
  private failure: Error | null = null;
  private readonly watchdog: NodeJS.Timeout;
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(spec: StudentBankSpec, model: StudentModelSource, config: StudentRunnerConfig) {
    super(spec, config, 'starting');
    this.model = model;
    this.engine = config.engine ?? 'native';
    if (this.engine !== 'native' && this.engine !== 'ort') throw new EngineError('E_INVALID_ARG', `expected 'native' or 'ort' for engine, got ${String(this.engine)}`);
    this.deadlineMicros = positive(config.deadlineMicros, 'deadlineMicros', 200);
    this.spinMicros = positive(config.spinMicros, 'spinMicros', 50);
    this.workerSpinMicros = positive(config.workerSpinMicros, 'workerSpinMicros', 2000, true);
    this.hangMicros = positive(config.hangMicros, 'hangMicros', 20_000);
    if (this.hangMicros < this.deadlineMicros) throw new EngineError('E_INVALID_ARG', `expected hangMicros >= deadlineMicros (${this.deadlineMicros}), got ${this.hangMicros}`);
    this.maxConsecutiveLate = positiveInt(config.maxConsecutiveLate, 'maxConsecutiveLate', 10);
    this.startTimeoutMs = positive(config.startTimeoutMs, 'startTimeoutMs', 30_000);
    this.maxStartFailures = positiveInt(config.maxStartFailures, 'maxStartFailures', 3);
    const watchdogMs = positive(config.watchdogMs, 'watchdogMs', 2);
    if (!fs.existsSync(WORKER_FILE)) throw new EngineError('E_CONFIG', `resident worker script missing: ${WORKER_FILE} (run tsc; workers run compiled JS)`);
    this.watchdog = setInterval(() => this.check(nowMicros(), false), watchdogMs);
    this.watchdog.unref();
    this.spawn();
  }

  /** Sequence number of the latest request submitted to a worker (0: none yet). */
  get lastSubmitted(): number {
    return this.seq;
  }

  // ---- live path ----------------------------------------------------------------------------------------------

  predict(x: Float32Array): Prediction | null {
    this.checkX(x);
    this.count.requests++;
    const g = this.submit(x);
    if (g === null) {
      this.count.notReady++;
      return null;
    }
    const { ctl } = g.slot;
    const tag = this.pendingTag;
    const until = this.pendingAt + this.spinMicros;
    for (let i = 0; ; i++) {
      if (Atomics.load(ctl, RESP) === tag) return this.take(g);
      if ((i & 15) === 15 && nowMicros() > until) break;
    }
    this.count.notReady++;
    return null;
  }

  poll(): Prediction | null {
    return this.check(nowMicros(), true);
  }

  async predictAsync(x: Float32Array): Promise<Prediction | null> {
    this.checkX(x);
    this.count.requests++;
    const g = this.submit(x);
    if (g === null) {
      this.count.notReady++;
      return null;
    }
    const mine = this.pendingSeq;
    const { ctl } = g.slot;
    for (;;) {
      if (this.pendingSeq !== mine || this.gen !== g) return null; // superseded, or the worker was replaced
      const cur = Atomics.load(ctl, RESP);
      if (cur === this.pendingTag) break;
      const left = this.pendingAt + this.deadlineMicros - nowMicros();
      if (left <= 0) break;
      if (!waitAsync) {
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      Atomics.store(ctl, ASYNC_WAIT, 1);
      const r = waitAsync(ctl, RESP, cur, left / 1000);
      if (r.async) {
        // A pending Atomics.waitAsync does not keep the event loop alive: a referenced timer does.
        const keepAlive = setTimeout(() => undefined, Math.ceil(left / 1000) + 1);
        await r.value;
        clearTimeout(keepAlive);
      }
      Atomics.store(ctl, ASYNC_WAIT, 0);
    }
    if (this.pendingSeq !== mine) return null;
    return this.check(nowMicros(), true);
  }

  async predictBatch(): Promise<Float32Array> {
    throw new EngineError('E_CONFIG', "the resident worker serves the live path one decision at a time: use backend 'pool' (or 'native') for predictBatch");
  }

  /** Writes x into the slot of a ready worker and publishes the request; null when no worker is ready. */
  private submit(x: Float32Array): Generation | null {
    const g = this.gen;
    if (g !== null && !g.ready && !g.dead && Atomics.load(g.slot.ctl, STATE) === STATE_READY) this.markReady(g);
    if (this.closed || g === null || g.dead || !g.ready) {
      this.setStale(this.failure ? `workers fail to start: ${this.failure.message}` : 'no student worker ready');
      return null;
    }
    if (this.pendingSeq !== 0) {
      // Decide the previous request first: late if its deadline passed, superseded otherwise.
      const now = nowMicros();
      this.check(now, false);
      if (this.pendingSeq !== 0) {
        if (!this.pendingLate) this.count.superseded++;
        this.pendingSeq = 0;
      }
      if (this.gen !== g) return this.submit(x); // check() replaced the worker
    }
    const { ctl, x: xs } = g.slot;
    let seq = ++this.seq;
    if ((seq & TAG_MASK) === 0) seq = ++this.seq; // tag 0 means "no answer yet"
    const tag = tagOf(seq);
    this.pendingSeq = seq;
    this.pendingTag = tag;
    this.pendingLate = false;
    this.pendingAt = nowMicros(); // before publishing: the deadline covers the whole handoff
    Atomics.store(ctl, REQ, tag - 1);
    for (let i = 0; i < this.inputs; i++) xs[i] = x[i];
    Atomics.store(ctl, REQ, tag);
    if (Atomics.load(ctl, SLEEPING) !== 0) Atomics.notify(ctl, REQ);
    return g;
  }

  /** The answer to the pending request is in the slot: deliver it if it was written within the deadline. */
  private take(g: Generation): Prediction | null {
    const { ctl, time, out } = g.slot;
    const waited = time[0] - this.pendingAt;
    const seq = this.pendingSeq;
    this.pendingSeq = 0;
    if (this.pendingLate || waited > this.deadlineMicros) {
      if (!this.pendingLate) this.markLate(seq, waited);
      return null;
    }
    this.prediction.row.set(out);
    const p = this.finish(seq, Atomics.load(ctl, STATUS));
    this.count.answered++;
    this.consecutiveLate = 0;
    this.setFresh();
    return p;
  }

  private markLate(seq: number, waited: number): void {
    this.count.late++;
    this.consecutiveLate++;
    this.emit('late', seq, waited);
    this.setStale(`late answer (${Math.round(waited)} µs > ${this.deadlineMicros} µs deadline)`);
    if (this.consecutiveLate >= this.maxConsecutiveLate) this.replace(`${this.consecutiveLate} late answers in a row`);
  }

  /** Health check of the pending request; with `consume`, also delivers its answer. */
  private check(now: number, consume: boolean): Prediction | null {
    const g = this.gen;
    if (this.pendingSeq === 0 || g === null) return null;
    const answered = Atomics.load(g.slot.ctl, RESP) === this.pendingTag;
    if (answered) {
      if (consume || g.slot.time[0] - this.pendingAt > this.deadlineMicros) return this.take(g);
      return null;
    }
    const waited = now - this.pendingAt;
    if (waited > this.deadlineMicros && !this.pendingLate) {
      this.pendingLate = true;
      this.markLate(this.pendingSeq, waited);
    }
    if (this.gen === g && waited > this.hangMicros) this.replace(`no answer for ${Math.round(waited)} µs (hung worker)`);
    return null;
  }

  // ---- worker lifecycle ---------------------------------------------------------------------------------------

  private spawn(): void {
    const sab = new SharedArrayBuffer(slotBytes(this.inputs, this.outSize));
    const slot = slotViews(sab, this.inputs, this.outSize);
    const workerData: ResidentWorkerData = {
      sab, inputs: this.inputs, outSize: this.outSize, engine: this.engine, model: this.model,
      workerSpinMicros: Number.isFinite(this.workerSpinMicros) ? this.workerSpinMicros : -1,
    };
    const worker = new Worker(WORKER_FILE, { workerData });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const g: Generation = { id: ++this.generations, worker, slot, ready: false, dead: false, exited };
    this.gen = g;
    // Referenced while starting (so awaiting ready() keeps the process alive), unreferenced once serving.
    worker.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') this.markReady(g);
    });
    worker.on('error', (err) => this.died(g, err));
    worker.on('exit', (code) => this.died(g, new Error(`student worker exited with code ${code}`)));
    g.startTimer = setTimeout(() => {
      if (!g.ready && !g.dead) this.died(g, new Error(`student worker not ready within ${this.startTimeoutMs} ms`));
    }, this.startTimeoutMs);
    g.startTimer.unref();
  }

  private markReady(g: Generation): void {
    if (g.ready || g.dead || this.gen !== g) return;
    g.ready = true;
    g.worker.unref();
    if (g.startTimer) clearTimeout(g.startTimer);
    this.startFailures = 0;
    this.consecutiveLate = 0;
    this.setFresh();
    this.emit('ready', g.id);
    for (const w of this.readyWaiters.splice(0)) w.resolve();
  }

  private died(g: Generation, err: Error): void {
    if (g.dead) return;
    g.dead = true;
    if (g.startTimer) clearTimeout(g.startTimer);
    if (this.closed) return;
    this.count.workerDeaths++;
    this.emit('workerError', err);
    void retire(g); // an erroring worker exits by itself; a late one (start timeout) is asked to
    if (this.gen !== g) return; // already replaced
    if (!g.ready && ++this.startFailures >= this.maxStartFailures) {
      this.failure = err;
      this.gen = null;
      this.pendingSeq = 0;
      this.setStale(`workers fail to start: ${err.message}`);
      for (const w of this.readyWaiters.splice(0)) w.reject(new EngineError('E_MODEL', `student worker failed ${this.startFailures} times before ready: ${err.message}`));
      return;
    }
    this.replace(`worker died: ${err.message}`);
  }

  /** Retires the current worker (in the background, see retire) and starts a new one; stale meanwhile. */
  private replace(reason: string): void {
    if (this.closed) return;
    const old = this.gen;
    this.count.replaced++;
    this.pendingSeq = 0;
    this.consecutiveLate = 0;
    this.setStale(`replacing the student worker: ${reason}`);
    this.emit('replaced', reason);
    if (old) {
      old.dead = true;
      if (old.startTimer) clearTimeout(old.startTimer);
      void retire(old);
    }
    this.spawn();
  }

  async ready(): Promise<void> {
    if (this.failure) throw new EngineError('E_MODEL', `student worker failed before ready: ${this.failure.message}`);
    if (this.closed) throw new EngineError('E_CONFIG', 'runner closed');
    const g = this.gen;
    if (g && !g.ready && Atomics.load(g.slot.ctl, STATE) === STATE_READY) this.markReady(g);
    if (g?.ready) return;
    await new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    for (const w of this.readyWaiters.splice(0)) w.reject(new EngineError('E_CONFIG', 'runner closed'));
    const g = this.gen;
    this.gen = null;
    if (g) {
      if (g.startTimer) clearTimeout(g.startTimer);
      g.dead = true;
      await retire(g);
    }
  }

  /** Test hooks (tests only): act on the current worker generation. */
  readonly testHooks = {
    /** Busy-wait this many µs before each answer (0 clears). */
    setDelayMicros: (micros: number): void => {
      if (this.gen) Atomics.store(this.gen.slot.ctl, HOOK_DELAY, Math.max(0, Math.round(micros)));
    },
    /** The worker throws at its next request (it dies). */
    throwOnNextRequest: (): void => {
      if (this.gen) Atomics.store(this.gen.slot.ctl, HOOK_FAULT, FAULT_THROW);
    },
    /** The worker loops forever at its next request (hung). */
    hangOnNextRequest: (): void => {
      if (this.gen) Atomics.store(this.gen.slot.ctl, HOOK_FAULT, FAULT_HANG);
    },
    /** worker.terminate() of the current worker (engine 'native' only: see RETIRE_GRACE_MS). */
    terminate: async (): Promise<void> => {
      if (this.gen) await this.gen.worker.terminate();
    },
    generation: (): number => this.gen?.id ?? 0,
  };
}
