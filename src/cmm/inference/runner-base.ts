// What every StudentRunner shares: counters, the stale/fresh state machine and its events, the reused
// Prediction object and the task -> MoE output mapping, and option validation.
import { EventEmitter } from 'events';
import { expected } from '../../errors';
import type { StudentBankSpec } from '../../moe/student-bank';
import { studentBankLayout } from '../../moe/student-bank';
import type { Prediction, RunnerBackend, RunnerCounters, RunnerEvents, RunnerHealth, StudentRunnerConfig } from './types';

export const DEFAULT_TASKS = ['mid', 'spread', 'volume'] as const;

export function newCounters(): RunnerCounters {
  return { requests: 0, answered: 0, late: 0, superseded: 0, notReady: 0, replaced: 0, stale: 0, workerDeaths: 0 };
}

/** Index of mid/spread/volume among the MoE outputs. */
export function taskIndices(tasks: readonly string[] | undefined, spec: StudentBankSpec): { mid: number; spread: number; volume: number } {
  const names = tasks ?? DEFAULT_TASKS;
  if (!Array.isArray(names) || names.some((t) => typeof t !== 'string')) throw expected('an array of task names', 'tasks', names);
  const K = spec.moe?.tasks ?? 0;
  if (names.length !== K) throw expected(`${K} task names (the bank's MoE tasks)`, 'tasks', names.join(','));
  const idx = (t: string): number => {
    const i = names.indexOf(t);
    if (i < 0) throw expected(`a task list containing "${t}"`, 'tasks', names.join(','));
    return i;
  };
  return { mid: idx('mid'), spread: idx('spread'), volume: idx('volume') };
}

export function positive(v: unknown, what: string, dflt: number, allowInfinity = false): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw expected(allowInfinity ? 'a positive number or Infinity' : 'a positive finite number', what, v);
  }
  return v;
}

export function positiveInt(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) <= 0) throw expected('a positive integer', what, v);
  return v as number;
}

export abstract class RunnerBase extends EventEmitter {
  abstract readonly backend: RunnerBackend;
  readonly inputs: number;
  readonly outSize: number;
  protected readonly yOffset: number;
  protected readonly task: { mid: number; spread: number; volume: number };
  protected readonly prediction: Prediction;
  protected readonly count: RunnerCounters = newCounters();
  private staleReason = '';

  constructor(protected readonly spec: StudentBankSpec, config: Pick<StudentRunnerConfig, 'tasks'>, initiallyStale: string) {
    super();
    const layout = studentBankLayout(spec);
    this.inputs = spec.inputs;
    this.outSize = layout.outSize;
    this.yOffset = layout.yOffset;
    this.task = taskIndices(config.tasks, spec);
    this.prediction = { seq: 0, mid: NaN, spread: NaN, volume: NaN, status: 0, row: new Float32Array(layout.outSize) };
    this.staleReason = initiallyStale;
  }

  get stale(): boolean {
    return this.staleReason !== '';
  }

  get counters(): Readonly<RunnerCounters> {
    return this.count;
  }

  health(): RunnerHealth {
    return { stale: this.stale, reason: this.staleReason, counters: { ...this.count } };
  }

  protected setStale(reason: string): void {
    if (this.staleReason !== '') {
      this.staleReason = reason;
      return;
    }
    this.staleReason = reason;
    this.count.stale++;
    this.emit('stale', reason);
  }

  protected setFresh(): void {
    if (this.staleReason === '') return;
    this.staleReason = '';
    this.emit('fresh');
  }

  /** Fills mid/spread/volume of the reused prediction from its row. */
  protected finish(seq: number, status: number): Prediction {
    const p = this.prediction;
    p.seq = seq;
    p.status = status;
    p.mid = p.row[this.yOffset + this.task.mid];
    p.spread = p.row[this.yOffset + this.task.spread];
    p.volume = p.row[this.yOffset + this.task.volume];
    return p;
  }

  protected checkX(x: Float32Array): void {
    if (!(x instanceof Float32Array) || x.length < this.inputs) throw expected(`a Float32Array of >= ${this.inputs} inputs`, 'x', x?.length);
  }

  protected checkBatch(X: Float32Array, B: number, out?: Float32Array): Float32Array {
    if (!Number.isInteger(B) || B < 0) throw expected('a non-negative integer', 'B', B);
    if (!(X instanceof Float32Array) || X.length < B * this.inputs) throw expected(`a Float32Array of >= ${B * this.inputs} (B x inputs)`, 'X', X?.length);
    if (out === undefined) return new Float32Array(B * this.outSize);
    if (!(out instanceof Float32Array) || out.length < B * this.outSize) throw expected(`a Float32Array of >= ${B * this.outSize} (B x outSize)`, 'out', out?.length);
    return out;
  }

  override on<E extends keyof RunnerEvents>(event: E, listener: RunnerEvents[E]): this {
    return super.on(event, listener as (...a: unknown[]) => void);
  }
  override off<E extends keyof RunnerEvents>(event: E, listener: RunnerEvents[E]): this {
    return super.off(event, listener as (...a: unknown[]) => void);
  }
  override once<E extends keyof RunnerEvents>(event: E, listener: RunnerEvents[E]): this {
    return super.once(event, listener as (...a: unknown[]) => void);
  }
}
