// The SharedArrayBuffer slot between the main thread and the resident student worker: a few Int32 control words,
// the answer's timestamp, the input x and the output row. One slot per worker generation (a replacement gets a
// fresh one, so a hung old worker can never write into the new worker's answers).
//
// Protocol (single producer: the main thread; single consumer: the worker):
// - Requests carry a tag = (seq mod 2^30) << 1 (even, never 0). The main thread stores tag - 1 (odd: "writing")
//   into REQ, writes x, then stores tag (a seqlock: the worker copies x, re-reads REQ and retries if it moved).
// - The worker writes the output row, STATUS and ANSWER_AT (µs, process.hrtime clock, the same on every thread),
//   then stores the request's tag into RESP. The main thread uses an answer only when RESP equals the tag of the
//   latest request it submitted: an answer to an older request is never taken for the current one.
// - The worker spins for a while after each answer, then sets SLEEPING and Atomics.waits on REQ; the main thread
//   notifies REQ only when SLEEPING is set. ASYNC_WAIT tells the worker to notify RESP (predictAsync waits on it).

export const REQ = 0;
export const RESP = 1;
/** 0 loading, 1 ready. */
export const STATE = 2;
export const STATUS = 3;
export const SLEEPING = 4;
export const ASYNC_WAIT = 5;
/** Test hook: busy-wait this many µs before answering each request. */
export const HOOK_DELAY = 6;
/** Test hook: 1 throw at the next request, 2 hang (infinite loop) at the next request. */
export const HOOK_FAULT = 7;
export const SHUTDOWN = 8;
export const CTL_WORDS = 16;

export const STATE_LOADING = 0;
export const STATE_READY = 1;
export const FAULT_THROW = 1;
export const FAULT_HANG = 2;

const TIME_BYTE = CTL_WORDS * 4; // Float64 [answerAtMicros]
const X_BYTE = TIME_BYTE + 8;

export const TAG_MASK = 0x3fffffff;

export function tagOf(seq: number): number {
  return (seq & TAG_MASK) << 1;
}

export interface SlotViews {
  ctl: Int32Array;
  time: Float64Array;
  x: Float32Array;
  out: Float32Array;
}

export function slotBytes(inputs: number, outSize: number): number {
  return X_BYTE + 4 * (inputs + outSize);
}

export function slotViews(sab: SharedArrayBuffer, inputs: number, outSize: number): SlotViews {
  return {
    ctl: new Int32Array(sab, 0, CTL_WORDS),
    time: new Float64Array(sab, TIME_BYTE, 1),
    x: new Float32Array(sab, X_BYTE, inputs),
    out: new Float32Array(sab, X_BYTE + 4 * inputs, outSize),
  };
}

/** Monotonic µs on the clock every thread of the process shares (uv_hrtime). */
export function nowMicros(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

/** What the main thread passes to the worker. */
export interface ResidentWorkerData {
  sab: SharedArrayBuffer;
  inputs: number;
  outSize: number;
  engine: 'native' | 'ort';
  model: import('./types').StudentModelSource;
  /** µs to spin for the next request after an answer before sleeping; -1: always spin. */
  workerSpinMicros: number;
}
