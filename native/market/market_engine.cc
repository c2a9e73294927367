// MarketEngine: the per-event loop (sequence check, book, crossed check and pruning, features).
#include "market/market_engine.h"

#include <limits>

namespace cmm {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

MarketEngine::Instrument::Instrument(BookType t, const FeatureConfig& cfg) : type(t), features(cfg) {
  if (t == BookType::kL3) l3 = std::make_unique<L3Book>();
  else l2 = std::make_unique<L2Book>();
}

MarketEngine::MarketEngine(const std::vector<BookType>& book_types, const FeatureConfig& cfg,
                           size_t max_gap_records)
    : max_gap_records_(max_gap_records) {
  instruments_.reserve(book_types.size());
  for (BookType t : book_types) instruments_.emplace_back(t, cfg);
  gaps_.reserve(max_gap_records < 64 ? max_gap_records : 64);
}

const Ladder& MarketEngine::ladder(uint32_t i, Side s) const {
  const Instrument& in = instruments_[i];
  return in.type == BookType::kL3 ? in.l3->side(s) : in.l2->side(s);
}

template <class Book>
void MarketEngine::step(Instrument& in, Book& book, const Event& e, uint64_t index, double* row) {
  // Sequence: all events of one message share seq/prev_seq, so check when seq changes.
  if (e.seq != 0 && e.seq != in.last_seq) {
    if (e.prev_seq != 0 && in.last_seq != 0 && e.prev_seq != in.last_seq) {
      in.counts.gaps++;
      if (gaps_.size() < max_gap_records_) gaps_.push_back({e.instrument, in.last_seq, e.prev_seq, index});
      in.stale = true;
    }
    in.last_seq = e.seq;
  }

  const Status st = book.apply(e);
  if (st != kOk) {  // rare: counted per instrument, summed by counts()
    in.counts.unknown_orders += st == kUnknownOrder;
    in.counts.invalid_events += st == kInvalidArg;
  }

  const uint8_t kind = e.kind;
  if (kind == static_cast<uint8_t>(EventKind::SnapshotEnd)) in.stale = false;
  else if (kind == static_cast<uint8_t>(EventKind::Clear)) in.stale = true;
  if (in.stale) in.counts.stale_events++;
  in.counts.events++;

  // Which side's best level changed at this event (an execution moves the resting side, so both).
  const Ladder& bids = book.bids();
  const Ladder& asks = book.asks();
  {
    const int64_t bp = bids.best_price(), bq = bids.best_qty(), ap = asks.best_price(), aq = asks.best_qty();
    if (bp != in.top_px[kSideBid] || bq != in.top_qty[kSideBid]) in.top_changed_at[kSideBid] = index;
    if (ap != in.top_px[kSideAsk] || aq != in.top_qty[kSideAsk]) in.top_changed_at[kSideAsk] = index;
    in.top_px[kSideBid] = bp;
    in.top_qty[kSideBid] = bq;
    in.top_px[kSideAsk] = ap;
    in.top_qty[kSideAsk] = aq;
  }

  const bool consistent = (e.flags & kFlagEndOfMessage) != 0;
  if (consistent) {
    if (book.crossed()) {
      if (!in.crossed) in.counts.crossed_episodes++;
      in.crossed = true;
      const Side stale_side = in.top_changed_at[kSideBid] <= in.top_changed_at[kSideAsk] ? kSideBid : kSideAsk;
      in.counts.pruned_levels += book.prune_crossed(stale_side);
      // The stale side's new best was not updated now: refresh the cache, keep its change time.
      const Ladder& l = book.side(stale_side);
      in.top_px[stale_side] = l.best_price();
      in.top_qty[stale_side] = l.best_qty();
    } else {
      in.crossed = false;
    }
  }

  in.features.update(e, bids, asks, consistent);
  if (row) in.features.write(row);
}

size_t MarketEngine::apply(const Event* ev, size_t n, double* features_out) {
  const size_t count = instruments_.size();
  const uint64_t base = events_;
  size_t applied = 0;
  for (size_t i = 0; i < n; i++) {
    const Event& e = ev[i];
    double* row = features_out ? features_out + i * kNumFeatures : nullptr;
    if (e.instrument >= count) {
      unknown_instruments_++;
      if (row) for (int f = 0; f < kNumFeatures; f++) row[f] = kNaN;
      continue;
    }
    Instrument& in = instruments_[e.instrument];
    if (in.type == BookType::kL3) step(in, *in.l3, e, base + i, row);
    else step(in, *in.l2, e, base + i, row);
    applied++;
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
