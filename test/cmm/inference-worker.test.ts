// The resident student worker's guarantees: an answer is only ever delivered for the latest request (sequence
// check, also under overwrites and a slow worker); a terminated, throwing or hung worker makes the runner stale,
// is replaced in the background, and the replacement answers correctly again; late answers are counted, reported
// as stale and never delivered; too many in a row replace the worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudentBank } from '../../src/moe/student-bank';
import { Rng } from '../../src/sim/rng';
import { ResidentWorkerRunner, STUDENT_INPUTS, StudentRunnerConfig, createStudentRunner } from '../../src/cmm/inference';
import { SEED, bankSpec, maxAbsDiff, nativeRow, randomInputs, sleep, until } from './inference-fixtures';

const TOL = 1e-5;
const spec = bankSpec(SEED % 997);
const bank = new StudentBank(spec);

async function worker(extra: Partial<StudentRunnerConfig> = {}): Promise<ResidentWorkerRunner> {
  const r = await createStudentRunner({ backend: 'worker', model: { spec }, deadlineMicros: 500_000, hangMicros: 5_000_000, spinMicros: 1, ...extra });
  assert.ok(r instanceof ResidentWorkerRunner);
  return r;
}

function events(r: ResidentWorkerRunner): string[] {
  const log: string[] = [];
  r.on('stale', (why) => log.push(`stale:${why}`));
  r.on('fresh', () => log.push('fresh'));
  r.on('late', (seq) => log.push(`late:${seq}`));
  r.on('replaced', (why) => log.push(`replaced:${why}`));
  r.on('ready', (g) => log.push(`ready:${g}`));
  r.on('workerError', (e) => log.push(`workerError:${e.message}`));
  return log;
}

/** The runner answers again, in time and right for its x (a few tries: a loaded machine may make one late). */
async function answersCorrectly(r: ResidentWorkerRunner, rng: Rng): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const x = randomInputs(rng, 1);
    const p = await r.predictAsync(x);
    if (p === null) {
      await sleep(10);
      continue;
    }
    assert.equal(p.seq, r.lastSubmitted);
    assert.ok(maxAbsDiff(p.row, nativeRow(bank, x)) <= TOL);
    assert.equal(r.stale, false);
    return;
  }
  assert.fail(`no answer in time after recovery: ${JSON.stringify(r.health())}`);
}

test(`never a stale answer: every delivered prediction is for the latest x, also while x is overwritten (seed ${SEED})`, async () => {
  const rng = new Rng(SEED);
  for (const delayMicros of [0, 300]) {
    const r = await worker({ spinMicros: delayMicros === 0 ? 20 : 1 });
    r.testHooks.setDelayMicros(delayMicros);
    const sent = new Map<number, Float32Array>();
    let delivered = 0, lastDelivered = 0;
    const check = (p: { seq: number; row: Float32Array } | null): void => {
      if (p === null) return;
      delivered++;
      lastDelivered = p.seq;
      assert.equal(p.seq, r.lastSubmitted, 'an answer is only delivered for the latest request');
      const x = sent.get(p.seq);
      assert.ok(x, `seq ${p.seq} was sent`);
      assert.ok(maxAbsDiff(p.row, nativeRow(bank, x)) <= TOL, `answer ${p.seq} matches its own x`);
    };
    for (let i = 0; i < 1500; i++) {
      const x = randomInputs(rng, 1);
      const p = r.predict(x);
      sent.set(r.lastSubmitted, x);
      check(p);
      if (i % 5 === 0) check(r.poll());
      if (i % 50 === 0) await new Promise((res) => setImmediate(res));
    }
    // The last request is answered: already by predict()/poll() above, or eventually through poll().
    for (let i = 0; i < 5000 && lastDelivered !== r.lastSubmitted; i++) {
      await sleep(1);
      check(r.poll());
    }
    assert.equal(lastDelivered, r.lastSubmitted, 'the latest request is answered');
    assert.ok(delivered > 0);
    assert.equal(r.counters.late, 0);
    if (delayMicros > 0) assert.ok(r.counters.superseded > 0, 'requests were overwritten before their answers');
    await r.close();
  }
});

test('worker.terminate(): stale and no answers meanwhile, replaced in the background, then answers again', async () => {
  const rng = new Rng(SEED + 1);
  const r = await worker();
  const log = events(r);
  await answersCorrectly(r, rng);
  let duringReplacement: unknown = 'not called';
  r.once('replaced', () => {
    duringReplacement = r.predict(randomInputs(rng, 1));
  });
  await r.testHooks.terminate();
  await until(() => r.counters.replaced === 1, 10_000, 'replacement');
  assert.equal(duringReplacement, null, 'no prediction while the replacement starts');
  assert.ok(r.stale || log.includes('fresh'), 'stale until the replacement is ready');
  await until(() => !r.stale, 30_000, 'replacement ready');
  await answersCorrectly(r, rng);
  assert.equal(r.counters.workerDeaths, 1);
  assert.equal(r.testHooks.generation(), 2);
  const iStale = log.findIndex((e) => e.startsWith('stale:replacing'));
  assert.ok(iStale >= 0 && log.indexOf('ready:2') > iStale, `events in order: ${log.join(' | ')}`);
  await r.close();
});

test('a worker that throws: reported (workerError), stale, replaced, answers again', async () => {
  const rng = new Rng(SEED + 2);
  const r = await worker({ deadlineMicros: 200_000 });
  const log = events(r);
  r.testHooks.throwOnNextRequest();
  const p = await r.predictAsync(randomInputs(rng, 1));
  assert.equal(p, null, 'no answer from a dying worker');
  await until(() => r.counters.replaced === 1, 10_000, 'replacement');
  assert.ok(log.some((e) => e.startsWith('workerError:') && e.includes('test hook')), log.join(' | '));
  await until(() => !r.stale, 30_000, 'replacement ready');
  await answersCorrectly(r, rng);
  await r.close();
});

test('a hung worker: late, stale, replaced after hangMicros by the watchdog, answers again', async () => {
  const rng = new Rng(SEED + 3);
  const r = await worker({ deadlineMicros: 20_000, hangMicros: 150_000 });
  const log = events(r);
  r.testHooks.hangOnNextRequest();
  assert.equal(await r.predictAsync(randomInputs(rng, 1)), null);
  assert.equal(r.counters.late, 1);
  assert.ok(r.stale);
  // Nobody polls: the watchdog alone must notice the hang.
  await until(() => r.counters.replaced === 1, 10_000, 'replacement of the hung worker');
  assert.ok(log.some((e) => e.startsWith('replaced:') && e.includes('hung')), log.join(' | '));
  await until(() => !r.stale, 30_000, 'replacement ready');
  await answersCorrectly(r, rng);
  await r.close();
});

test('a slow worker: late counted, stale reported, late answers never delivered; repeated lateness replaces it', async () => {
  const rng = new Rng(SEED + 4);
  const r = await worker({ deadlineMicros: 60_000, maxConsecutiveLate: 2 });
  const log = events(r);
  await answersCorrectly(r, rng);
  const late0 = r.counters.late; // 0 unless the machine is very loaded
  r.testHooks.setDelayMicros(200_000);
  assert.equal(await r.predictAsync(randomInputs(rng, 1)), null, 'late: no prediction');
  assert.equal(r.counters.late, late0 + 1);
  assert.ok(r.stale);
  assert.ok(log.some((e) => e.startsWith('stale:late answer')), log.join(' | '));
  // The late answer arrives later but is never handed out.
  await sleep(250);
  assert.equal(r.poll(), null);
  assert.equal(r.counters.replaced, 0);
  // A second late answer in a row replaces the worker; the replacement has no delay hook.
  assert.equal(await r.predictAsync(randomInputs(rng, 1)), null);
  assert.equal(r.counters.late, late0 + 2);
  assert.equal(r.counters.replaced, 1);
  await until(() => !r.stale, 30_000, 'replacement ready');
  await answersCorrectly(r, rng);
  await r.close();
});

test('closed runner: predict returns null and reports stale', async () => {
  const r = await worker();
  await r.close();
  assert.equal(r.predict(new Float32Array(STUDENT_INPUTS)), null);
  assert.ok(r.stale);
  await assert.rejects(r.ready());
});
