// Streaming: the reader's memory is one reused buffer, whatever the file length (no timing asserted).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { EventLogReader, EventLogWriter } from '../../src/log/event-log';
import { HEADER, makeEvents, tmpDir } from './log-fixtures';

const dir = tmpDir('stream');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a 32 MiB log streams through one 256 KiB buffer: same buffer for every batch, no growth', () => {
  const file = path.join(dir, 'big.cmmlog');
  const w = EventLogWriter.create(file, HEADER, { batchSize: 1000 });
  const block = makeEvents(8000);
  const seq = new BigUint64Array(block.buffer, 0, block.length / 8);
  for (let i = 0; i < 70; i++) {
    for (let e = 0; e < 8000; e++) seq[e * 8 + 5] = BigInt(i * 8000 + e); // seq field: global event number
    w.append(block);
  }
  w.close();
  assert.ok(w.bytesWritten > 32 * 1024 * 1024);

  const r = EventLogReader.open(file, { chunkBytes: 256 * 1024 });
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let buffer: ArrayBufferLike | undefined;
  let events = 0;
  for (const b of r.batches()) {
    buffer ??= b.events.buffer;
    assert.equal(b.events.buffer, buffer, `batch ${b.index} is a view into the same buffer`);
    assert.equal(r.bufferBytes, 256 * 1024);
    const s = new BigUint64Array(b.events.buffer, b.events.byteOffset, b.count * 8);
    assert.equal(s[5], BigInt(events)); // first event of the batch carries the running count
    events += b.count;
    if (b.index % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  }
  r.close();
  assert.equal(events, 70 * 8000);
  assert.equal(r.stoppedAt!.reason, 'eof');
  assert.ok(peak < 8 * 1024 * 1024, `array buffers grew by ${peak} bytes while reading 32 MiB`);
});

test('a batch larger than the buffer grows it once, to that batch, and no further', () => {
  const file = path.join(dir, 'wide.cmmlog');
  const w = EventLogWriter.create(file, HEADER, { batchSize: 200 });
  w.append(makeEvents(1000)); // 200-event frames: 12,848 bytes, over a 4 KiB buffer
  w.close();
  const r = EventLogReader.open(file, { chunkBytes: 4096 });
  const sizes = [...r.batches()].map(() => r.bufferBytes);
  r.close();
  assert.deepEqual(sizes, [12848, 12848, 12848, 12848, 12848]);
  assert.equal(r.stoppedAt!.reason, 'eof');
});
