// Crash safety and corruption: torn tails, flipped bytes, out-of-order batches, a writer killed by SIGKILL.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EVENT_SIZE } from '../../src/core/event';
import { EngineError } from '../../src/errors';
import { EventLogReader, LogBatch, StopInfo } from '../../src/log/event-log';
import { makeEvents, tmpDir, writeLog } from './log-fixtures';

const dir = tmpDir('crash');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function readCopy(bytes: Uint8Array, name: string): { batches: LogBatch[]; stop: StopInfo } {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const r = EventLogReader.open(file, { chunkBytes: 4096 });
  const batches = [...r.batches()].map((b) => ({ ...b, events: b.events.slice() }));
  r.close();
  return { batches, stop: r.stoppedAt! };
}

// Five batches of 7 events (496-byte frames): small enough to cut and flip every byte.
const source = writeLog(path.join(dir, 'source.cmmlog'), 35, 7);
const original = new Uint8Array(fs.readFileSync(source));
const reader = EventLogReader.open(source);
const frames = [...reader.batches()].map((b) => ({ offset: b.offset, events: b.events.slice() }));
reader.close();
const frameEnd = (k: number): number => (k + 1 < frames.length ? frames[k + 1].offset : original.length);

test('truncated at every byte of the last batch: whole batches before it, then truncated at its offset', () => {
  const last = frames[frames.length - 1].offset;
  for (let cut = last; cut < original.length; cut++) {
    const { batches, stop } = readCopy(original.subarray(0, cut), 'cut.cmmlog');
    assert.equal(batches.length, frames.length - 1, `cut at ${cut}`);
    batches.forEach((b, i) => assert.deepEqual(b.events, frames[i].events));
    assert.equal(stop.offset, last);
    assert.equal(stop.reason, cut === last ? 'eof' : 'truncated', `cut at ${cut}`);
    if (cut > last) assert.match(stop.message, new RegExp(`cut\\.cmmlog: byte ${last}: file ends inside batch 4`));
  }
});

test('truncated inside a middle batch and inside the header', () => {
  const { batches, stop } = readCopy(original.subarray(0, frames[2].offset + 100), 'mid.cmmlog');
  assert.equal(batches.length, 2);
  assert.deepEqual({ reason: stop.reason, offset: stop.offset }, { reason: 'truncated', offset: frames[2].offset });
  for (const cut of [1, 3, 4, 11, frames[0].offset - 1]) {
    fs.writeFileSync(path.join(dir, 'hdr.cmmlog'), original.subarray(0, cut));
    assert.throws(() => EventLogReader.open(path.join(dir, 'hdr.cmmlog')), (e: EngineError) => e.code === 'E_TRUNCATED' && /byte 0/.test(e.message));
  }
});

test('one flipped bit in the events of batch 2: bad-checksum at its offset, batches 0-1 still read', () => {
  for (const at of [0, 1, 63, 64 * 3 + 17, 7 * 64 - 1]) {
    const bytes = original.slice();
    bytes[frames[2].offset + 48 + at] ^= 0x10;
    const { batches, stop } = readCopy(bytes, 'flip.cmmlog');
    assert.equal(batches.length, 2);
    assert.equal(stop.reason, 'bad-checksum');
    assert.equal(stop.offset, frames[2].offset);
    assert.match(stop.message, new RegExp(`flip\\.cmmlog: byte ${frames[2].offset}: bad-checksum in batch 2`));
  }
});

test('every single-byte flip in a batch frame: never wrong data, and detected at that frame unless harmless', () => {
  const k = 2;
  const undetected: number[] = [];
  for (let i = frames[k].offset; i < frameEnd(k); i++) {
    const bytes = original.slice();
    bytes[i] ^= 0xff;
    const { batches, stop } = readCopy(bytes, 'sweep.cmmlog');
    // Whatever was read is exactly what was written: corruption never yields altered events.
    batches.forEach((b, j) => assert.deepEqual(b.events, frames[j].events, `flip at ${i}, batch ${j}`));
    if (batches.length === frames.length) {
      assert.equal(stop.reason, 'eof');
      undetected.push(i - frames[k].offset);
    } else {
      assert.equal(batches.length, k, `flip at ${i}`);
      assert.equal(stop.offset, frames[k].offset, `flip at ${i}`);
      assert.notEqual(stop.reason, 'eof');
    }
  }
  // Only bytes no reader depends on may go unnoticed: the vtable's padding (22-23).
  assert.deepEqual(undetected, [22, 23]);
});

test('batches out of order or repeated: bad-sequence at the first wrong one', () => {
  const a = frames[1].offset, b = frames[2].offset, c = frames[3].offset;
  const swapped = new Uint8Array([...original.subarray(0, a), ...original.subarray(b, c), ...original.subarray(a, b), ...original.subarray(c)]);
  const s = readCopy(swapped, 'swap.cmmlog');
  assert.equal(s.batches.length, 1);
  assert.deepEqual({ reason: s.stop.reason, offset: s.stop.offset }, { reason: 'bad-sequence', offset: a });
  assert.match(s.stop.message, /expected batch_index 1, found 2/);
  const repeated = new Uint8Array([...original.subarray(0, b), ...original.subarray(a, b), ...original.subarray(b)]);
  const d = readCopy(repeated, 'repeat.cmmlog');
  assert.equal(d.batches.length, 2);
  assert.deepEqual({ reason: d.stop.reason, offset: d.stop.offset }, { reason: 'bad-sequence', offset: b });
});

test('garbage after the last batch: bad-format at its offset, all batches read', () => {
  const bytes = new Uint8Array([...original, ...new TextEncoder().encode('this is not a frame, just text appended')]);
  const { batches, stop } = readCopy(bytes, 'tail.cmmlog');
  assert.equal(batches.length, frames.length);
  assert.deepEqual({ reason: stop.reason, offset: stop.offset }, { reason: 'bad-format', offset: original.length });
  const r = EventLogReader.open(path.join(dir, 'tail.cmmlog'));
  for (const _ of r.batches());
  assert.throws(() => r.assertComplete(), (e: EngineError) => e.code === 'E_BAD_FORMAT' && e.where?.offset === original.length);
  r.close();
});

test('a writer killed with SIGKILL mid-stream leaves a file that reads back to its last whole batch', async () => {
  const file = path.join(dir, 'killed.cmmlog');
  const logModule = path.join(__dirname, '..', '..', 'src', 'log', 'event-log.js');
  const fixtures = path.join(__dirname, 'log-fixtures.js');
  const batchSize = 20_000;
  const child = spawn(process.execPath, ['-e', `
    const { EventLogWriter } = require(${JSON.stringify(logModule)});
    const { HEADER, makeEvents } = require(${JSON.stringify(fixtures)});
    const w = EventLogWriter.create(${JSON.stringify(file)}, HEADER, { batchSize: ${batchSize} });
    for (let i = 0; ; i += ${batchSize}) w.append(makeEvents(${batchSize}, i));
  `], { stdio: 'ignore' });
  // Kill once a few batches are on disk; the loop never ends on its own.
  while (!fs.existsSync(file) || fs.statSync(file).size < 8 * batchSize * EVENT_SIZE) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const size = fs.statSync(file).size;
  const r = EventLogReader.open(file);
  let n = 0;
  for (const b of r.batches()) {
    assert.equal(b.count, batchSize);
    assert.deepEqual(b.events, makeEvents(batchSize, n * batchSize), `batch ${n}`);
    n++;
  }
  const stop = r.stoppedAt!;
  r.close();
  assert.ok(n >= 8, `${n} batches`);
  assert.ok(stop.reason === 'eof' || stop.reason === 'truncated', stop.message);
  assert.equal(stop.offset, stop.reason === 'eof' ? size : r.dataOffset + n * (48 + batchSize * EVENT_SIZE));
});
