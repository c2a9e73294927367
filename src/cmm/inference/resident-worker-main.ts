// Entry of the resident student worker (compiled to dist/src/cmm/inference/resident-worker-main.js; started by
// resident-runner.ts). Loads the students once, then serves requests from its SharedArrayBuffer slot forever:
// no message passing on the hot path (protocol in resident-slot.ts).
import { parentPort, workerData } from 'worker_threads';
import { createStudentEngine } from './engine';
import {
  ASYNC_WAIT, FAULT_HANG, FAULT_THROW, HOOK_DELAY, HOOK_FAULT, REQ, RESP, ResidentWorkerData, SHUTDOWN, SLEEPING, STATE, STATE_READY, STATUS,
  nowMicros, slotViews,
} from './resident-slot';

const data = workerData as ResidentWorkerData;
const { ctl, time, x: xShared, out: outShared } = slotViews(data.sab, data.inputs, data.outSize);
const engine = createStudentEngine(data.engine, data.model);
if (engine.inputs !== data.inputs || engine.outSize !== data.outSize) {
  throw new Error(`resident worker: model shape ${engine.inputs} -> ${engine.outSize} differs from the slot's ${data.inputs} -> ${data.outSize}`);
}
const x = new Float32Array(data.inputs);
const out = new Float32Array(data.outSize);
const spinForever = data.workerSpinMicros < 0;

/** The next request's tag (even, != last), or -1 at shutdown. Spins, then sleeps on REQ. */
function nextRequest(last: number): number {
  let spinFrom = nowMicros();
  for (let i = 0; ; i++) {
    if (Atomics.load(ctl, SHUTDOWN) !== 0) return -1;
    const v = Atomics.load(ctl, REQ);
    if (v !== last) {
      if ((v & 1) === 0) return v;
      continue; // the main thread is writing x: a few ns
    }
    if (spinForever || (i & 63) !== 0 || nowMicros() - spinFrom < data.workerSpinMicros) continue;
    Atomics.store(ctl, SLEEPING, 1);
    // Announce first, then wait on REQ == last: a request stored before the announcement makes wait return at once.
    Atomics.wait(ctl, REQ, last, 1000);
    Atomics.store(ctl, SLEEPING, 0);
    spinFrom = nowMicros();
  }
}

function busyWait(micros: number): void {
  const until = nowMicros() + micros;
  while (nowMicros() < until) { /* test hook: a slow worker */ }
}

function serve(): void {
  let last = 0;
  for (;;) {
    const tag = nextRequest(last);
    if (tag < 0) return;
    for (let i = 0; i < data.inputs; i++) x[i] = xShared[i];
    if (Atomics.load(ctl, REQ) !== tag) continue; // a newer request overwrote x while copying: take that one
    last = tag;
    const fault = Atomics.load(ctl, HOOK_FAULT);
    if (fault !== 0) {
      Atomics.store(ctl, HOOK_FAULT, 0);
      if (fault === FAULT_THROW) throw new Error('resident worker: test hook fault (throw)');
      if (fault === FAULT_HANG) for (;;) { /* test hook: a hung worker; terminate() ends it */ }
    }
    const delay = Atomics.load(ctl, HOOK_DELAY);
    if (delay > 0) busyWait(delay);
    const status = engine.run(x, out);
    outShared.set(out);
    Atomics.store(ctl, STATUS, status);
    time[0] = nowMicros();
    Atomics.store(ctl, RESP, tag);
    if (Atomics.load(ctl, ASYNC_WAIT) !== 0) Atomics.notify(ctl, RESP);
  }
}

// Warm up (JIT, caches, the kernels' first-call costs) so that the first live answers are not late.
for (let i = 0; i < 200; i++) {
  for (let j = 0; j < data.inputs; j++) x[j] = Math.sin(i + j);
  engine.run(x, out);
}
// Retired while loading (SHUTDOWN already set): leave without serving.
if (Atomics.load(ctl, SHUTDOWN) === 0) {
  Atomics.store(ctl, STATE, STATE_READY);
  parentPort?.postMessage({ type: 'ready' });
  serve();
}
engine.dispose();
