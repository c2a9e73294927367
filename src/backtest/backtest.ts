// The replay loop: one shared ReplayBook applies each event; every simulation around it handles arriving
// orders before the event and fills/reports/decisions after it. Episodes are time windows: outside them
// only the book moves (its state must be whole when an episode starts).
import { NUM_FEATURES } from '../market/market-engine';
import { ReplayBook } from './replay-book';
import { Simulation } from './simulation';
import { EpisodeWindow } from './split';
import { MarketView } from './strategy';
import { TapeBatch } from './tape';

export interface ReplayStats {
  /** Events the loop saw (the book applied), and those inside episodes. */
  events: number;
  episodeEvents: number;
  batches: number;
}

/**
 * Replays `batches` through `book` (fresh, built for this run) and `sims` (built on that book), running
 * the episodes in `windows` (sorted, non-overlapping). Stops reading after the last window ends.
 */
export function replay(batches: Iterable<TapeBatch>, book: ReplayBook, sims: readonly Simulation[], windows: readonly EpisodeWindow[]): ReplayStats {
  const stats: ReplayStats = { events: 0, episodeEvents: 0, batches: 0 };
  const n = sims.length;
  let w = 0;
  let active = false;
  if (windows.length === 0) return stats;
  outer: for (const b of batches) {
    if (b.count === 0) continue;
    stats.batches++;
    book.setBatch(b.events);
    const view: MarketView = { features: b.features, stride: NUM_FEATURES, t: b.t, stale: b.stale, count: b.count };
    for (let s = 0; s < n; s++) sims[s].onBatch(view);
    const T = b.t;
    const count = b.count;
    let r = 0;
    // Fast path: one simulation inside an episode, no boundary in sight (the common case).
    if (n === 1 && active) {
      const sim = sims[0];
      const end = windows[w].endNs;
      const last = T[count - 1] < end ? count : -1;
      if (last === count) {
        for (; r < count; r++) {
          const t = T[r];
          sim.beforeEvent(t);
          book.apply(r);
          sim.afterEvent(r, t, book.flags);
        }
        stats.events += count;
        stats.episodeEvents += count;
        continue;
      }
    }
    for (; r < count; r++) {
      const t = T[r];
      if (active && t >= windows[w].endNs) {
        for (let s = 0; s < n; s++) sims[s].endEpisode();
        active = false;
        w++;
      }
      if (!active && w < windows.length && t >= windows[w].startNs) {
        // Windows that no event fell into (a hole in the data) still count, as episodes without events.
        while (w < windows.length && t >= windows[w].endNs) {
          for (let s = 0; s < n; s++) sims[s].beginEpisode(windows[w].index, windows[w].startNs, windows[w].endNs);
          for (let s = 0; s < n; s++) sims[s].endEpisode();
          w++;
        }
        if (w < windows.length && t >= windows[w].startNs) {
          for (let s = 0; s < n; s++) sims[s].beginEpisode(windows[w].index, windows[w].startNs, windows[w].endNs);
          active = true;
        }
      }
      if (!active && w >= windows.length) break outer;
      stats.events++;
      if (active) {
        stats.episodeEvents++;
        for (let s = 0; s < n; s++) sims[s].beforeEvent(t);
        book.apply(r);
        const flags = book.flags;
        for (let s = 0; s < n; s++) sims[s].afterEvent(r, t, flags);
      } else book.apply(r);
    }
  }
  if (active) {
    for (let s = 0; s < n; s++) sims[s].endEpisode();
    w++;
  }
  // Windows past the end of the data: empty episodes keep the count honest (split.ts never makes them).
  for (; w < windows.length; w++) {
    for (let s = 0; s < n; s++) sims[s].beginEpisode(windows[w].index, windows[w].startNs, windows[w].endNs);
    for (let s = 0; s < n; s++) sims[s].endEpisode();
  }
  return stats;
}
