// A tiny two-instrument market for replay tests: an L2 book with one sequence gap, an L3 book with one
// cancel of an order it never saw. Timestamps 0, 0, 1 s, 1 s, 3 s ... so pacing has known due times.
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { EventLogWriter } from '../../src/log/event-log';

export const REPLAY_INSTRUMENTS: InstrumentInfo[] = [
  { id: 0, symbol: 'BTCUSDT', venue: 'binance.usdm', tickSize: 0.1, lotSize: 0.001, bookType: 'L2' },
  { id: 1, symbol: 'AAPL', venue: 'nasdaq', tickSize: 0.01, lotSize: 1, bookType: 'L3' },
];

const S = 1_000_000_000n; // one second in ns
const EOM = EventFlag.EndOfMessage;

export function tinyMarket(): EventBatch {
  const b = new EventBatch();
  // L2 snapshot at t=0: bid 618209.9 (6182099 ticks) x 1.5 (1500 lots), ask 6182100 x 0.25.
  b.push(0n, 0n, 0, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, 100n, 0n, EventFlag.Snapshot);
  b.push(0n, 0n, 0, EventKind.Modify, Side.Bid, 6182099n, 1500n, 0n, 100n, 0n, EventFlag.Snapshot);
  b.push(0n, 0n, 0, EventKind.Modify, Side.Ask, 6182100n, 250n, 0n, 100n, 0n, EventFlag.Snapshot);
  b.push(0n, 0n, 0, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, 100n, 0n, EventFlag.Snapshot | EOM);
  // t=1 s: delta 101 (prev 100): new best bid.
  b.push(1n * S, 1n * S, 0, EventKind.Modify, Side.Bid, 6182100n - 1n, 2000n, 0n, 101n, 100n, EOM);
  // t=1 s: L3 add bid 100 @ 50.00 (5000 ticks), ask 40 @ 50.05.
  b.push(1n * S, 1n * S, 1, EventKind.Add, Side.Bid, 5000n, 100n, 7n, 0n, 0n, EOM);
  b.push(1n * S, 1n * S, 1, EventKind.Add, Side.Ask, 5005n, 40n, 8n, 0n, 0n, EOM);
  // t=3 s: delta 105 with prev 104: a gap (last seq 101).
  b.push(3n * S, 3n * S, 0, EventKind.Modify, Side.Ask, 6182101n, 100n, 0n, 105n, 104n, EOM);
  // t=3.5 s: L3 cancel of order 99, never seen.
  b.push(3n * S + S / 2n, 3n * S + S / 2n, 1, EventKind.Cancel, Side.Bid, 5000n, 10n, 99n, 0n, 0n, EOM);
  return b;
}

export function writeTinyMarket(file: string, batchSize = 3): void {
  const w = EventLogWriter.create(file, { source: 'replay-test', instruments: REPLAY_INSTRUMENTS }, { batchSize });
  w.append(tinyMarket().bytes());
  w.close();
}
