// Shared helpers for the event log tests: deterministic events and a scratch directory.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { EventLogWriter, LogHeaderInput } from '../../src/log/event-log';

export const INSTRUMENTS: InstrumentInfo[] = [
  { id: 0, symbol: 'BTCUSDT', venue: 'binance-usdm', tickSize: 0.1, lotSize: 0.001, bookType: 'L2' },
  { id: 1, symbol: 'AAPL', venue: 'nasdaq', tickSize: 0.01, lotSize: 1, bookType: 'L3' },
];

export const HEADER: LogHeaderInput = { source: 'test', instruments: INSTRUMENTS, meta: { note: 'unit test', n: 1 } };

/** Events `first`..`first+n-1`: event i has seq i, ts 1e9+i*1e6 ns and fields derived from i. */
export function makeEvents(n: number, first = 0): Uint8Array {
  const b = new EventBatch(Math.max(1, n));
  for (let i = first; i < first + n; i++) {
    const ts = 1_000_000_000n + BigInt(i) * 1_000_000n;
    b.push(ts, ts + 7n, i % 2, i % 3 === 0 ? EventKind.Modify : EventKind.Add, i % 2 ? Side.Bid : Side.Ask,
      BigInt(1000 + (i % 17)), BigInt(1 + (i % 5)), BigInt(i), BigInt(i), BigInt(i - 1), EventFlag.EndOfMessage);
  }
  return b.bytes().slice();
}

export function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cmm-${name}-`));
}

/** Writes `total` events in appends of `appendSize` with the given batch size; returns the file path. */
export function writeLog(file: string, total: number, batchSize: number, appendSize = total): string {
  const w = EventLogWriter.create(file, HEADER, { batchSize });
  for (let at = 0; at < total; at += appendSize) w.append(makeEvents(Math.min(appendSize, total - at), at));
  w.close();
  return file;
}
