// Event log round trip, frame layout (generated FlatBuffers reader agrees), header, errors, empty log.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as flatbuffers from 'flatbuffers';
import { EVENT_SIZE, readEvent } from '../../src/core/event';
import { Event as FbEvent } from '../../src/log/fb/cmm/log/event';
import { EngineError } from '../../src/errors';
import { Batch } from '../../src/log/fb/cmm/log/batch';
import { EventLogReader, EventLogWriter, readAllEvents } from '../../src/log/event-log';
import { crc32c, native } from '../../src/native';
import { HEADER, INSTRUMENTS, makeEvents, tmpDir, writeLog } from './log-fixtures';

const dir = tmpDir('log');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('round trip: identical bytes, header, batch split and 8-aligned zero-copy views', () => {
  const file = path.join(dir, 'round.cmmlog');
  const w = EventLogWriter.create(file, { ...HEADER, createdNs: 123n }, { batchSize: 1000 });
  w.append(makeEvents(2500, 0)); // batches of 1000, 1000, 500
  w.append(makeEvents(1, 2500)); // a batch of 1
  w.append(new Uint8Array(0)); // nothing
  w.close();
  assert.equal(w.batchesWritten, 4);
  assert.equal(w.eventsWritten, 2501);
  assert.equal(w.bytesWritten, fs.statSync(file).size);

  const r = EventLogReader.open(file);
  assert.deepEqual(r.header, { formatVersion: 1, source: 'test', createdNs: 123n, instruments: INSTRUMENTS, meta: HEADER.meta });
  assert.equal(r.dataOffset % 8, 0);
  const counts: number[] = [];
  const expected = makeEvents(2501, 0);
  let at = 0;
  for (const b of r.batches()) {
    assert.equal(b.index, counts.length);
    assert.equal(b.offset % 8, 0);
    assert.equal(b.events.byteOffset % 8, 0);
    assert.equal(b.events.length, b.count * EVENT_SIZE);
    assert.deepEqual(b.events, expected.subarray(at, at + b.events.length));
    new BigInt64Array(b.events.buffer, b.events.byteOffset, b.count * 8); // would throw if misaligned
    at += b.events.length;
    counts.push(b.count);
  }
  assert.deepEqual(counts, [1000, 1000, 500, 1]);
  assert.deepEqual(r.stoppedAt, { offset: fs.statSync(file).size, reason: 'eof', batches: 4, message: r.stoppedAt!.message });
  r.assertComplete();
  r.close();

  const all = readAllEvents(file);
  assert.equal(all.count, 2501);
  assert.equal(all.batches, 4);
  assert.deepEqual(all.events, expected);
});

test('frames read with the generated FlatBuffers code: identifier, batch_index, CRC32C checksum', () => {
  const file = writeLog(path.join(dir, 'fb.cmmlog'), 300, 128);
  const bytes = new Uint8Array(fs.readFileSync(file));
  const r = EventLogReader.open(file);
  const offsets = [...r.batches()].map((b) => b.offset);
  r.close();
  offsets.forEach((off, i) => {
    const bb = new flatbuffers.ByteBuffer(bytes.subarray(off));
    assert.equal(String.fromCharCode(...bytes.subarray(off + 8, off + 12)), 'CMMB');
    const batch = Batch.getSizePrefixedRootAsBatch(bb);
    assert.equal(batch.batchIndex(), BigInt(i));
    assert.equal(batch.eventsLength(), i < 2 ? 128 : 44);
    assert.equal(batch.events(0)!.seq(), BigInt(i * 128));
    const start = off + 48;
    assert.equal(batch.checksum(), crc32c(bytes.subarray(start, start + batch.eventsLength() * EVENT_SIZE)));
  });
  assert.equal(String.fromCharCode(...bytes.subarray(8, 12)), 'CMMH');
});

test('a batch built with the generated FlatBuffers builder (not the writer\'s fixed layout) reads back', () => {
  const file = writeLog(path.join(dir, 'builder.cmmlog'), 5, 5);
  const events = makeEvents(3, 5);
  const b = new flatbuffers.Builder(256);
  Batch.startEventsVector(b, 3);
  for (let i = 2; i >= 0; i--) {
    const e = readEvent(events, i);
    FbEvent.createEvent(b, e.tsExchange, e.tsLocal, e.price, e.qty, e.orderId, e.seq, e.prevSeq, e.instrument, e.kind, e.side, e.flags);
  }
  const vector = b.endVector();
  const root = Batch.createBatch(b, 1n, crc32c(events), vector);
  Batch.finishSizePrefixedBatchBuffer(b, root);
  const frame = b.asUint8Array();
  assert.equal(frame.length % 8, 0);
  fs.appendFileSync(file, frame);
  const all = readAllEvents(file);
  assert.equal(all.stoppedAt.reason, 'eof', all.stoppedAt.message);
  assert.deepEqual(all.events, makeEvents(8, 0));
});

test('one batch per native call window: 10,000 one-event batches (more frames than one scan holds)', () => {
  const file = writeLog(path.join(dir, 'tiny.cmmlog'), 10_000, 1, 2500);
  const all = readAllEvents(file);
  assert.equal(all.batches, 10_000);
  assert.deepEqual(all.events, makeEvents(10_000, 0));
  assert.equal(all.stoppedAt.reason, 'eof');
});

test('empty log: header only reads zero batches and stops at eof after the header', () => {
  const file = path.join(dir, 'empty.cmmlog');
  EventLogWriter.create(file, { source: 'empty', instruments: [] }).close();
  const r = EventLogReader.open(file);
  assert.deepEqual(r.header.instruments, []);
  assert.deepEqual(r.header.meta, {});
  assert.equal([...r.batches()].length, 0);
  assert.equal(r.stoppedAt!.reason, 'eof');
  assert.equal(r.stoppedAt!.offset, r.dataOffset);
  assert.equal(r.dataOffset, fs.statSync(file).size);
  r.close();
});

function openError(file: string): EngineError {
  try {
    EventLogReader.open(file).close();
  } catch (err) {
    assert.ok(err instanceof EngineError, String(err));
    return err;
  }
  assert.fail(`${file} opened`);
}

test('not a log: missing, empty, garbage, batch-first and wrong-identifier files give clear errors', () => {
  const missing = openError(path.join(dir, 'nope.cmmlog'));
  assert.equal(missing.code, 'E_FILE_NOT_FOUND');

  const empty = path.join(dir, 'zero.cmmlog');
  fs.writeFileSync(empty, '');
  const e0 = openError(empty);
  assert.equal(e0.code, 'E_TRUNCATED');
  assert.match(e0.message, /zero\.cmmlog, byte 0/);

  const garbage = path.join(dir, 'garbage.cmmlog');
  fs.writeFileSync(garbage, 'timestamp,price,qty\n1,2,3\n'.repeat(100));
  const eg = openError(garbage);
  assert.equal(eg.code, 'E_BAD_FORMAT');
  assert.match(eg.message, /not a cmm event log.*garbage\.cmmlog, byte 0/);

  const good = new Uint8Array(fs.readFileSync(writeLog(path.join(dir, 'g.cmmlog'), 10, 10)));
  const wrongId = good.slice();
  wrongId.set([0x58, 0x58, 0x58, 0x58], 8); // "XXXX"
  const wid = path.join(dir, 'wrong-id.cmmlog');
  fs.writeFileSync(wid, wrongId);
  const ew = openError(wid);
  assert.equal(ew.code, 'E_BAD_FORMAT');
  assert.match(ew.message, /identifier/);

  const r = EventLogReader.open(path.join(dir, 'g.cmmlog'));
  const batchOnly = path.join(dir, 'batch-first.cmmlog');
  fs.writeFileSync(batchOnly, good.subarray(r.dataOffset));
  r.close();
  assert.equal(openError(batchOnly).code, 'E_BAD_FORMAT');

  for (let seed = 1; seed <= 50; seed++) {
    const rnd = new Uint8Array(64 + seed * 37);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 2654435761 + seed * 40503) >>> 24;
    const f = path.join(dir, `rnd${seed}.cmmlog`);
    fs.writeFileSync(f, rnd);
    assert.ok(['E_BAD_FORMAT', 'E_TRUNCATED'].includes(openError(f).code));
  }
});

test('writer validates its input', () => {
  const file = path.join(dir, 'bad.cmmlog');
  assert.throws(() => EventLogWriter.create(file, HEADER, { batchSize: 0 }), /expected an integer in 1\.\.\d+ for batchSize, got 0/);
  assert.throws(() => EventLogWriter.create(file, { source: 's', instruments: [{ ...INSTRUMENTS[0], id: 3 }] }), /expected ids 0\.\.0/);
  assert.throws(() => EventLogWriter.create(file, { source: 's', instruments: [{ ...INSTRUMENTS[0], tickSize: 0 }] }), /positive finite number/);
  const w = EventLogWriter.create(file, HEADER);
  assert.throws(() => w.append(new Uint8Array(65)), /expected a multiple of 64 for events.byteLength, got 65/);
  w.close();
  assert.throws(() => w.append(makeEvents(1)), /closed/);
});

test('reader allows one iteration at a time and re-reads from the start', () => {
  const file = writeLog(path.join(dir, 'twice.cmmlog'), 50, 10);
  const r = EventLogReader.open(file);
  const it = r.batches();
  it.next();
  assert.throws(() => r.batches().next(), /already iterating/);
  it.return(undefined as never);
  assert.equal([...r.batches()].length, 5);
  assert.equal([...r.batches()].length, 5);
  r.close();
});

test('native scanBatchFrames honours a one-frame output window', () => {
  const file = writeLog(path.join(dir, 'window.cmmlog'), 30, 10);
  const r = EventLogReader.open(file);
  r.close();
  const bytes = new Uint8Array(fs.readFileSync(file)).slice(r.dataOffset);
  const out = new Float64Array(12);
  assert.equal(native().scanBatchFrames(bytes, 0, out), 1);
  assert.deepEqual([out[0], out[2], out[8], out[9], out[10], out[11]], [0, 48 + 640, 0, 48, 10, 0]);
  assert.equal(native().scanBatchFrames(bytes.subarray(out[2]), 1, out), 1);
  assert.equal(out[11], 1);
});
