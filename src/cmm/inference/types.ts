// The StudentRunner interface: one face for every way of running the 9 students + Hajek-MoE (in-process native,
// in-process onnxruntime-node, a resident worker over SharedArrayBuffer, a piscina pool), plus its options.
import type { StudentBankSpec } from '../../moe/student-bank';

export type RunnerBackend = 'native' | 'ort' | 'worker' | 'pool';
/** The kernel that evaluates the students: the native fused bank or onnxruntime-node on the fused graph. */
export type StudentEngineKind = 'native' | 'ort';

/** Where the students come from: a spec in memory (e.g. randomStudentBank) or a student-bank ONNX file. */
export type StudentModelSource = { spec: StudentBankSpec } | { onnxPath: string };

/**
 * One answer. Runners reuse one Prediction object: it is valid until the next predict/poll/predictAsync call
 * on the same runner; copy what must be kept. mid/spread/volume are the MoE outputs (ticks, ticks, log1p lots);
 * NaN when every expert of the task was NaN (status has MoeStatus.NoValidExpert): the quote rule then pulls.
 */
export interface Prediction {
  /** Sequence number of the request (1, 2, ...) this answers: never an older request's answer. */
  seq: number;
  mid: number;
  spread: number;
  volume: number;
  /** MoeStatus bits of the run. */
  status: number;
  /** The whole output row (studentBankLayout): students [0, S*O), y per task at yOffset, weights at wOffset. */
  row: Float32Array;
}

export interface RunnerCounters {
  /** Requests submitted (predict / predictAsync). */
  requests: number;
  /** Requests answered in time and returned. */
  answered: number;
  /** Requests not answered within the deadline (counted once each, also when the answer comes later). */
  late: number;
  /** Requests overwritten by a newer one before their answer or deadline (not an error). */
  superseded: number;
  /** predict() calls that returned null because no answer was there within the spin budget or no worker was ready. */
  notReady: number;
  /** Workers replaced (died, hung, or too many consecutive late answers). */
  replaced: number;
  /** Transitions into the stale state. */
  stale: number;
  /** Workers that exited or threw. */
  workerDeaths: number;
}

export interface RunnerHealth {
  /**
   * True while predictions must not be quoted on: no worker ready (starting or being replaced), the latest
   * request late, a dead or hung worker. Cleared when a worker becomes ready and by every answer in time.
   */
  stale: boolean;
  /** Why it is stale (empty when not). */
  reason: string;
  counters: Readonly<RunnerCounters>;
}

/** Events (StudentRunner is an EventEmitter): */
export interface RunnerEvents {
  /** Entered the stale state: pull quotes. */
  stale: (reason: string) => void;
  /** Left the stale state: an answer came in time again. */
  fresh: () => void;
  /** A request missed its deadline. */
  late: (seq: number, waitedMicros: number) => void;
  /** A worker is being replaced (a new one is starting in the background). */
  replaced: (reason: string) => void;
  /** A worker (first or replacement) has loaded the students and waits for requests. */
  ready: (generation: number) => void;
  /** A worker threw or exited (not an EventEmitter 'error': no listener needed). */
  workerError: (err: Error) => void;
}

export interface StudentRunner {
  readonly backend: RunnerBackend;
  /** F: floats per input x. */
  readonly inputs: number;
  /** Floats per output row (studentBankLayout of the model). */
  readonly outSize: number;
  readonly stale: boolean;
  readonly counters: Readonly<RunnerCounters>;
  health(): RunnerHealth;

  /**
   * Submits x and returns its prediction when it is there now: always for 'native' and 'ort'; for 'worker' when
   * the answer arrives within the bounded spin (spinMicros); otherwise null ("not ready": call poll() later, or
   * quote nothing). null also while stale. Never blocks longer than the spin budget.
   */
  predict(x: Float32Array): Prediction | null;
  /** The answer to the latest submitted x, if it arrived in time since; null otherwise. Also runs the health checks. */
  poll(): Prediction | null;
  /** Submits x and resolves with its prediction, or null when it missed the deadline or the runner is stale. */
  predictAsync(x: Float32Array): Promise<Prediction | null>;
  /**
   * Batch scoring: X is B x inputs, resolves with B x outSize (into `out` when given). 'native' and 'ort' run
   * in-process, 'pool' spreads chunks over its threads; 'worker' rejects (its slot is for the live path).
   */
  predictBatch(X: Float32Array, B: number, out?: Float32Array): Promise<Float32Array>;
  /** Resolves once the runner can answer (the worker/pool has loaded the model). */
  ready(): Promise<void>;
  close(): Promise<void>;

  on<E extends keyof RunnerEvents>(event: E, listener: RunnerEvents[E]): this;
  off<E extends keyof RunnerEvents>(event: E, listener: RunnerEvents[E]): this;
  once<E extends keyof RunnerEvents>(event: E, listener: RunnerEvents[E]): this;
}

export interface StudentRunnerConfig {
  backend: RunnerBackend;
  model: StudentModelSource;
  /** Kernel inside the worker / pool threads (default 'native'). 'native' and 'ort' backends imply it. */
  engine?: StudentEngineKind;
  /** Task names of the MoE outputs, in order (default ['mid', 'spread', 'volume']). */
  tasks?: readonly string[];
  /** Worker / pool: an answer later than this after its request is late (default 200 µs). */
  deadlineMicros?: number;
  /** Worker: predict() spins at most this long for the answer before returning null (default 50 µs). */
  spinMicros?: number;
  /** Worker: after an answer the worker spins this long for the next request before sleeping (default 2000 µs; Infinity: always spin). */
  workerSpinMicros?: number;
  /** Worker: a request unanswered this long means a hung worker: replace it (default 20 000 µs). */
  hangMicros?: number;
  /** Worker: replace after this many late answers in a row (default 10; a hung or dead worker is replaced at once). */
  maxConsecutiveLate?: number;
  /** Worker: the background health check period (default 2 ms); poll() checks at every call too. */
  watchdogMs?: number;
  /** Worker / pool: a thread must load the model within this (default 30 000 ms). */
  startTimeoutMs?: number;
  /** Worker: give up (reject ready(), emit workerError) after this many workers in a row die before ready (default 3). */
  maxStartFailures?: number;
  /** Pool: threads (default: available parallelism - 1, at least 1). */
  threads?: number;
  /** Pool: rows per task in predictBatch (default: B split evenly over the threads, at least 64 per task). */
  chunkRows?: number;
}
