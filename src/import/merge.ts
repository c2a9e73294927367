// Merging event streams: a stable k-way merge by receive time that never splits a venue message, and
// instrument id remapping for batches that were numbered on their own (e.g. one LOBSTER file each).
import { EventBatch, EventFlag, EVENT_SIZE } from '../core/event';

/**
 * Stable k-way merge of batches that are each sorted by tsLocal, whole messages at a time (a message
 * runs up to its EndOfMessage event). Ties go to the earlier batch. One batch is returned as is.
 */
export function mergeByLocalTime(batches: readonly EventBatch[]): EventBatch {
  const live = batches.filter((b) => b.length > 0);
  if (live.length === 0) return new EventBatch(1);
  if (live.length === 1) return live[0];
  const total = live.reduce((n, b) => n + b.length, 0);
  const out = new EventBatch(total);
  out.length = total; // filled below through the bytes() view
  const dst = out.bytes();
  const src = live.map((b) => b.bytes());
  const i64 = src.map((u8) => new BigInt64Array(u8.buffer, u8.byteOffset, u8.byteLength / 8));
  const u16 = src.map((u8) => new Uint16Array(u8.buffer, u8.byteOffset, u8.byteLength / 2));
  const pos = live.map(() => 0);
  let w = 0;
  for (;;) {
    let best = -1;
    let bestTs = 0n;
    for (let k = 0; k < live.length; k++) {
      if (pos[k] >= live[k].length) continue;
      const ts = i64[k][pos[k] * 8 + 1];
      if (best === -1 || ts < bestTs) {
        best = k;
        bestTs = ts;
      }
    }
    if (best === -1) break;
    // Take the whole message.
    let e = pos[best];
    const n = live[best].length;
    while (e < n && (u16[best][e * 32 + 31] & EventFlag.EndOfMessage) === 0) e++;
    e = Math.min(e + 1, n);
    dst.set(src[best].subarray(pos[best] * EVENT_SIZE, e * EVENT_SIZE), w * EVENT_SIZE);
    w += e - pos[best];
    pos[best] = e;
  }
  return out;
}

/** Rewrites the instrument field of every event through `map` (old id -> new id), in place. */
export function remapInstruments(bytes: Uint8Array, map: ReadonlyMap<number, number>): void {
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  for (let w = 14; w < u32.length; w += 16) {
    const to = map.get(u32[w]);
    if (to !== undefined) u32[w] = to;
  }
}

