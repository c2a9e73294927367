// MarketEngine: the per-event loop (sequence check, book, crossed check and pruning, features), run over
// each stretch of consecutive events of one instrument with that instrument's state in locals.
#include "market/market_engine.h"

#include <cstring>
#include <limits>
#include <type_traits>

namespace cmm {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kEventPrefetch = 16;  // events (1 KiB) ahead
constexpr size_t kSlotPrefetch = 8;    // events ahead

// L2 books only: true when event e left the best 10 levels of both sides as they were (a level event
// strictly worse than the 10th level of its side, or a kind that changes no level), so every column
// derived from the book equals the previous event's. An L2 level event changes exactly the level at
// (side, price) (l2_book.h); a rejected one changes nothing.
CMM_ALWAYS_INLINE bool leaves_best_ten(const Event& e, const Ladder& bids, const Ladder& asks) {
  switch (static_cast<EventKind>(e.kind)) {
    case EventKind::Modify:
    case EventKind::Cancel:
    case EventKind::Add:
    case EventKind::DeleteLevel:
      if (e.side == kSideBid) return bids.size() >= 10 && bids.at(9).price > e.price;
      if (e.side == kSideAsk) return asks.size() >= 10 && asks.at(9).price < e.price;
      return true;  // no side: rejected, nothing changed
    case EventKind::SnapshotBegin:
    case EventKind::Clear:
      return false;
    default:
      return true;
  }
}
// When one side's best level last changed, as an event index. Kept per event as a shift register of
// change flags (bit i: the event i before the current one changed it), folded into a stamp every 64
// events: a shift and an OR an event instead of a conditional move on the index, which cost 2-3 ns an
// event on MSFT L3 (the change flags come last in the event's dependency chain). Exact as long as
// fold() runs at least every 64 events.
struct ChangeHistory {
  uint64_t bits;   // the last 64 events' flags, the current event in bit 0
  uint64_t stamp;  // the latest change at or before the last fold
  CMM_ALWAYS_INLINE void push(bool changed) { bits = bits << 1 | static_cast<uint64_t>(changed); }
  /** Index of the latest change at or before event `at` (the event of bit 0). */
  uint64_t last(uint64_t at) const { return bits != 0 ? at - static_cast<uint64_t>(__builtin_ctzll(bits)) : stamp; }
  void fold(uint64_t at) { stamp = last(at); }
};

// With rows written, the rows are the history: each holds its event's top of book (bid/ask price and
// quantity columns, after any pruning), so which side changed least recently is found by reading them
// back, from the newest, only when a crossed book needs it and once at the end of a run. Comparing the
// tops at every event and shifting the results into a ChangeHistory cost 1.5-1.9 ns an event on MSFT
// L3 (C++ harness, 4096-event batches). The columns are doubles, compared as bit patterns: exact for
// prices and quantities below 2^53 (the TS reference engine compares the same doubles).
struct RowTop {
  uint64_t bp, ap, bq, aq;  // bit patterns of bid price (NaN when empty), ask price, bid qty, ask qty
  static RowTop of(const TopOfBook& t) {
    return {bits(t.bid()), bits(t.ask()), bits(static_cast<double>(t.bid_qty)), bits(static_cast<double>(t.ask_qty))};
  }
  static RowTop at(const double* c) { return {bits(c[0]), bits(c[1]), bits(c[2]), bits(c[3])}; }  // c: the bid price column
  bool bid_differs(const RowTop& o) const { return ((bp ^ o.bp) | (bq ^ o.bq)) != 0; }
  bool ask_differs(const RowTop& o) const { return ((ap ^ o.ap) | (aq ^ o.aq)) != 0; }
  static uint64_t bits(double x) {
    uint64_t u;
    std::memcpy(&u, &x, sizeof u);
    return u;
  }
};

struct RowHistory {
  const double* cols;  // the first row's bid price column
  size_t width;        // doubles per row
  size_t base;         // first event (run index) not folded into the stamps
  RowTop base_top;     // the top in force before event `base`
  uint64_t bid_at, ask_at;  // latest change of each side before `base` (event index)

  RowTop row(size_t i) const { return RowTop::at(cols + i * width); }
  /** Folds events base .. last (rows written) into the stamps, newest first; index: the run's first event. */
  CMM_NOINLINE void fold(size_t last, uint64_t index) {
    if (last + 1 <= base) return;
    bool bid_found = false, ask_found = false;
    RowTop cur = row(last);
    const RowTop newest = cur;
    for (size_t i = last + 1; i-- > base && !(bid_found && ask_found);) {
      const RowTop prev = i == base ? base_top : row(i - 1);
      if (!bid_found && cur.bid_differs(prev)) {
        bid_at = index + i;
        bid_found = true;
      }
      if (!ask_found && cur.ask_differs(prev)) {
        ask_at = index + i;
        ask_found = true;
      }
      cur = prev;
    }
    base_top = newest;
    base = last + 1;
  }
  /** Events among the first m (rows written, none pruned) that changed the top. */
  CMM_NOINLINE size_t changes(size_t m, const RowTop& before) const {
    size_t c = 0;
    RowTop prev = before;
    for (size_t i = 0; i < m; i++) {
      const RowTop cur = row(i);
      c += static_cast<size_t>(cur.bid_differs(prev) | cur.ask_differs(prev));
      prev = cur;
    }
    return c;
  }
};

}  // namespace

MarketEngine::Instrument::Instrument(BookType t, const FeatureConfig& cfg) : type(t), features(cfg) {
  if (t == BookType::kL3) l3 = std::make_unique<L3Book>();
  else l2 = std::make_unique<L2Book>();
}

MarketEngine::MarketEngine(const std::vector<BookType>& book_types, const FeatureConfig& cfg,
                           size_t max_gap_records, FeatureSet feature_set)
    : max_gap_records_(max_gap_records), feature_set_(feature_set) {
  instruments_.reserve(book_types.size());
  for (BookType t : book_types) instruments_.emplace_back(t, cfg);
  gaps_.reserve(max_gap_records < 64 ? max_gap_records : 64);
}

const Ladder& MarketEngine::ladder(uint32_t i, Side s) const {
  const Instrument& in = instruments_[i];
  return in.type == BookType::kL3 ? in.l3->side(s) : in.l2->side(s);
}

const double* MarketEngine::features(uint32_t i) {
  Instrument& in = instruments_[i];
  if (in.values_stale) {
    in.features.refresh(ladder(i, kSideBid), ladder(i, kSideAsk), feature_set_);
    in.values_stale = false;
  }
  return in.features.values();
}

void MarketEngine::record_gap(uint32_t instrument, uint64_t expected, uint64_t got, uint64_t index) {
  if (gaps_.size() < max_gap_records_) gaps_.push_back({instrument, expected, got, index});
}

template <class Book, FeatureSet kSet, bool kRows, bool kEager>
size_t MarketEngine::run(Instrument& in, Book& book, const Event* ev, size_t n, uint64_t index, double* rows) {
  constexpr bool kL2 = std::is_same<Book, L2Book>::value;
  constexpr bool kAll = kSet == FeatureSet::kAll;
  static_assert(!kEager || (!kAll && kRows), "eager top rows: kTop with rows only");
  const uint32_t id = ev[0].instrument;
  const Ladder& bids = book.bids();
  const Ladder& asks = book.asks();
  // The instrument's state in locals: row stores cannot alias them, so they stay in registers.
  FeatureAccumulators features = in.features.accumulators();
  uint64_t last_seq = in.last_seq;
  bool stale = in.stale;
  bool crossed = in.crossed;
  TopOfBook top = in.top;
  TopRow top_row(top);  // kTop: the row of the current top of book, recomputed when the top changes
  TopOfBook pending = top;  // kTop rows, top changing often: the top of the event whose row is not written yet
  // Best-level change history: the rows themselves when they are written (RowHistory), else a bit
  // history pushed every event (ChangeHistory).
  constexpr int kTopCol = kAll ? kBidPrice : 4;  // the bid price column of a row
  static_assert(top_feature(4) == kBidPrice && kAskQty == kBidPrice + 3, "bid price, ask price, bid qty, ask qty");
  RowHistory row_history{kRows ? rows + kTopCol : nullptr, static_cast<size_t>(kAll ? kNumFeatures : kNumTopFeatures), 0, RowTop::of(top),
                         in.bid_changed_at, in.ask_changed_at};
  ChangeHistory bid_history{0, in.bid_changed_at}, ask_history{0, in.ask_changed_at};
  // Events applied while stale: counted when `stale` changes (rare), not every event.
  uint64_t stale_events = 0;
  size_t stale_since = 0;  // while stale: the first event of the run counted stale
  // kTop rows: written at every event without a test (kEager: the top changes often, a mispredicted
  // branch per change would cost more than it saves) or recomputed only when the top moved. The choice is
  // a template parameter so each loop keeps only its own state in registers.
  EagerTopRow eager_row(top);  // kEager: the row writer (caches the price columns)
  double scratch_row[kNumTopFeatures];
  double* pending_row = scratch_row;  // kEager: where `pending` goes (the scratch row before the first event)
  size_t top_changes = 0;  // !kRows: events that changed the top, counted at each fold
  size_t k = 0;
  for (; k < n && ev[k].instrument == id; k++) {
    const Event& e = ev[k];
    if constexpr (!kRows) {
      if ((k & 63) == 0 && k != 0) {  // ChangeHistory's fold; the top changes of the 64 events it covers
        bid_history.fold(index + k - 1);
        ask_history.fold(index + k - 1);
        top_changes += static_cast<size_t>(__builtin_popcountll(bid_history.bits | ask_history.bits));
      }
    }
    if constexpr (!kAll && kRows) {
      // kTop, top changing often: the previous event's row, one event behind, computed while this event's
      // book update is in flight, so its division does not wait at the end of the update's dependency
      // chain (0.6-0.7 ns an event on MSFT). Rows before k are all written from here on (RowHistory).
      if constexpr (kEager) eager_row.store(pending, pending_row);
    }
    // The event stream's line kEventPrefetch events on: measured 1-2 ns an event on the Binance file
    // (the hardware prefetcher alone leaves the loop waiting on the next event's load). L3: the order
    // slot of the event kSlotPrefetch on (its event line is in cache by then): 1-4 ns an event on MSFT
    // from Node. An L2 level slot prefetched the same way gained nothing.
    // A prefetch never faults: past the end of the events it is only wasted, so the address is computed
    // (as an integer) without a bounds test.
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(ev) + (k + kEventPrefetch) * sizeof(Event)));
    if constexpr (!kL2) {
      if (k + kSlotPrefetch < n) book.prefetch(ev[k + kSlotPrefetch]);
    }
    // Sequence: all events of one message share seq/prev_seq, so check when seq changes.
    const uint64_t seq = e.seq;
    if (seq != last_seq && seq != 0) {
      const uint64_t prev_seq = e.prev_seq;
      // A feed without venue sequence numbers (prev_seq 0: LOBSTER) leaves at the first compare, one
      // with them at the second (prev_seq == last seq).
      if (prev_seq != 0) {
        if (CMM_UNLIKELY(prev_seq != last_seq && last_seq != 0)) {
          in.counts.gaps++;
          record_gap(id, last_seq, prev_seq, index + k);
          if (!stale) stale_since = k;
          stale = true;
        }
      }
      last_seq = seq;
    }

    const Status st = book.apply(e);
    const uint8_t kind = e.kind;
    // Rare: a rejected event or unknown order, SnapshotEnd (clears stale), Clear (sets it).
    static_assert(static_cast<uint8_t>(EventKind::Clear) == static_cast<uint8_t>(EventKind::SnapshotEnd) + 1, "");
    if (CMM_UNLIKELY(st != kOk || static_cast<uint8_t>(kind - static_cast<uint8_t>(EventKind::SnapshotEnd)) < 2)) {
      in.counts.unknown_orders += st == kUnknownOrder;  // counted per instrument, summed by counts()
      in.counts.invalid_events += st == kInvalidArg;
      if (kind == static_cast<uint8_t>(EventKind::SnapshotEnd)) {
        if (stale) stale_events += k - stale_since;  // this event is not counted
        stale = false;
      } else if (kind == static_cast<uint8_t>(EventKind::Clear)) {
        if (!stale) stale_since = k;
        stale = true;
      }
    }

    const TopOfBook now = TopOfBook::of(bids, asks);
    // Which side's best level changed at this event (an execution moves the resting side, so both).
    // Branch-free: on an L3 feed the top changes at most events, in no predictable pattern.
    bool top_changed = false;  // kTop rows recomputed on change (and kAll L2 row reuse): did it move
    if constexpr (!kRows) {
      const bool bid_changed = (now.bid_px != top.bid_px) | (now.bid_qty != top.bid_qty);
      const bool ask_changed = (now.ask_px != top.ask_px) | (now.ask_qty != top.ask_qty);
      bid_history.push(bid_changed);
      ask_history.push(ask_changed);
    } else if constexpr (!kAll) {
      if (!kEager) top_changed = (now.bid_px != top.bid_px) | (now.bid_qty != top.bid_qty) |
                                            (now.ask_px != top.ask_px) | (now.ask_qty != top.ask_qty);
    }
    top = now;

    const bool consistent = (e.flags & kFlagEndOfMessage) != 0;
    bool pruned = false;
    if (consistent) {
      // An empty side's price is the worst there is (TopOfBook::of), so one compare finds a book that
      // may be crossed; the quantities then rule out garbage prices at those extremes.
      if (CMM_UNLIKELY(top.bid_px >= top.ask_px) && top.bid_qty != 0 && top.ask_qty != 0) {  // crossed
        if (!crossed) in.counts.crossed_episodes++;
        crossed = true;
        Side stale_side;
        if constexpr (kRows) {
          // Rows before k are written; this event's top is `now`.
          if (k > 0) row_history.fold(k - 1, index);
          const RowTop cur = RowTop::of(now);
          const uint64_t at = index + k;
          const uint64_t bid_last = cur.bid_differs(row_history.base_top) ? at : row_history.bid_at;
          const uint64_t ask_last = cur.ask_differs(row_history.base_top) ? at : row_history.ask_at;
          stale_side = bid_last <= ask_last ? kSideBid : kSideAsk;
          row_history.bid_at = bid_last;
          row_history.ask_at = ask_last;
        } else {
          stale_side = bid_history.last(index + k) <= ask_history.last(index + k) ? kSideBid : kSideAsk;
        }
        in.counts.pruned_levels += book.prune_crossed(stale_side);
        // The stale side's new best was not updated now: refresh the cache, keep its change time.
        top = TopOfBook::of(bids, asks);
        if constexpr (kRows) {
          row_history.base = k + 1;  // event k is folded, the row it gets is the top after pruning
          row_history.base_top = RowTop::of(top);
        }
        pruned = top_changed = true;
      } else {
        crossed = false;
      }
    }

    if constexpr (kAll) {
      FeatureKernel::step(features, e, top, consistent);
      if constexpr (kRows) {
        double* row = rows + k * kNumFeatures;
        if (kL2 && k > 0 && !pruned && leaves_best_ten(e, bids, asks)) {
          // Same best ten levels as the previous event: copy its book-derived columns.
          const double* prev = row - kNumFeatures;
          for (int f = kMid; f <= kImbalance10; f++) row[f] = prev[f];
          for (int f = kBidPrice; f <= kAskQty; f++) row[f] = prev[f];
        } else {
          FeatureKernel::write_book(top, bids, asks, row);
        }
        FeatureKernel::write_flow(features, row);
      }
    } else if constexpr (kRows) {
      // Recompute only when the top moved, unless it moves so often that the test would cost more
      // than it saves (a mispredicted branch per change): then every event, without a branch (above).
      if constexpr (kEager) {
        pending = top;
        pending_row = rows + k * kNumTopFeatures;
      } else {
        if (top_changed) top_row.set(top);
        top_row.store(rows + k * kNumTopFeatures);
      }
    }
  }
  if (stale) stale_events += k - stale_since;
  if constexpr (!kAll && kRows) {
    if (kEager && k > 0) eager_row.store(pending, pending_row);  // the last row
  }
  if constexpr (kAll) in.features.accumulators() = features;
  in.last_seq = last_seq;
  in.stale = stale;
  in.crossed = crossed;
  in.top = top;
  if (k > 0) {
    if constexpr (kRows) {
      // Whether the top changes often, from the run's first 64 events (unless one was pruned).
      if (k >= 64 && row_history.base == 0) in.top_changes_often = row_history.changes(64, row_history.base_top) * 4 > 64;
      row_history.fold(k - 1, index);
      in.bid_changed_at = row_history.bid_at;
      in.ask_changed_at = row_history.ask_at;
    } else {
      // Events since the last fold (which covered those before the last multiple of 64 below k): 1..64.
      const size_t tail = k - ((k - 1) & ~size_t{63});
      const uint64_t mask = tail == 64 ? ~uint64_t{0} : (uint64_t{1} << tail) - 1;
      top_changes += static_cast<size_t>(__builtin_popcountll((bid_history.bits | ask_history.bits) & mask));
      in.bid_changed_at = bid_history.last(index + k - 1);
      in.ask_changed_at = ask_history.last(index + k - 1);
      if (k >= 64) in.top_changes_often = top_changes * 4 > k;  // over a quarter of the events
    }
  }
  in.counts.events += k;
  in.counts.stale_events += stale_events;
  in.values_stale = true;
  return k;
}

size_t MarketEngine::run_dispatch(Instrument& in, const Event* ev, size_t n, uint64_t index, double* rows) {
  constexpr FeatureSet kAll = FeatureSet::kAll, kTop = FeatureSet::kTop;
  const bool top = feature_set_ == kTop;
  if (in.type == BookType::kL3) {
    L3Book& b = *in.l3;
    if (top) {
      if (!rows) return run<L3Book, kTop, false, false>(in, b, ev, n, index, rows);
      return in.top_changes_often ? run<L3Book, kTop, true, true>(in, b, ev, n, index, rows)
                                  : run<L3Book, kTop, true, false>(in, b, ev, n, index, rows);
    }
    return rows ? run<L3Book, kAll, true, false>(in, b, ev, n, index, rows) : run<L3Book, kAll, false, false>(in, b, ev, n, index, rows);
  }
  L2Book& b = *in.l2;
  if (top) {
    if (!rows) return run<L2Book, kTop, false, false>(in, b, ev, n, index, rows);
    return in.top_changes_often ? run<L2Book, kTop, true, true>(in, b, ev, n, index, rows)
                                : run<L2Book, kTop, true, false>(in, b, ev, n, index, rows);
  }
  return rows ? run<L2Book, kAll, true, false>(in, b, ev, n, index, rows) : run<L2Book, kAll, false, false>(in, b, ev, n, index, rows);
}

size_t MarketEngine::apply(const Event* ev, size_t n, double* features_out) {
  const size_t count = instruments_.size();
  const uint64_t base = events_;
  const int width = row_width();
  size_t applied = 0;
  for (size_t i = 0; i < n;) {
    double* rows = features_out ? features_out + i * width : nullptr;
    const uint32_t id = ev[i].instrument;
    if (id >= count) {
      unknown_instruments_++;
      if (rows) for (int f = 0; f < width; f++) rows[f] = kNaN;
      i++;
      continue;
    }
    const size_t m = run_dispatch(instruments_[id], ev + i, n - i, base + i, rows);
    applied += m;
    i += m;
  }
  events_ += n;
  return applied;
}

MarketCounts MarketEngine::counts() const {
  MarketCounts c;
  for (const Instrument& in : instruments_) {
    c.gaps += in.counts.gaps;
    c.crossed_episodes += in.counts.crossed_episodes;
    c.pruned_levels += in.counts.pruned_levels;
    c.unknown_orders += in.counts.unknown_orders;
    c.invalid_events += in.counts.invalid_events;
    c.stale_events += in.counts.stale_events;
  }
  c.events = events_;
  c.unknown_instruments = unknown_instruments_;
  return c;
}

}  // namespace cmm
