// Per-instrument books + features + sequence-gap / stale / crossed-book detection, driven by one call
// per batch of events. No Node dependency; the JS face is native/napi/market.cc -> src/market/market-engine.ts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "book/l2_book.h"
#include "book/l3_book.h"
#include "core/event.h"
#include "features/feature_run.h"
#include "features/features.h"

namespace cmm {

enum class BookType : uint8_t { kL2 = 0, kL3 = 1 };

/** One detected sequence gap. event_index counts every event passed to apply() since construction. */
struct SequenceGap {
  uint32_t instrument;
  uint64_t expected;  // the last seq seen for the instrument
  uint64_t got;       // the message's prev_seq
  uint64_t event_index;
};

struct MarketCounts {
  uint64_t events = 0;               // engine: every event passed to apply(); instrument: events applied to it
  uint64_t gaps = 0;                 // sequence gaps detected
  uint64_t crossed_episodes = 0;     // runs of consecutive consistent events found crossed
  uint64_t pruned_levels = 0;        // levels removed to uncross
  uint64_t unknown_orders = 0;       // L3 events naming an order the book never saw (kUnknownOrder)
  uint64_t invalid_events = 0;       // events the book rejected (kInvalidArg)
  uint64_t stale_events = 0;         // events applied while the book was stale
  uint64_t unknown_instruments = 0;  // events whose instrument index is out of range (skipped)
};

class MarketEngine {
 public:
  /**
   * book_types[i] is instrument i's book (kL2 / kL3); the count is fixed for the engine's life.
   * feature_set: every feature (kAll) or only the top-of-book ones (kTop; the other columns are NaN).
   */
  MarketEngine(const std::vector<BookType>& book_types, const FeatureConfig& cfg = FeatureConfig(),
               size_t max_gap_records = 1024, FeatureSet feature_set = FeatureSet::kAll);

  /**
   * Applies n events in order. For each: sequence check at the first event of a message (seq
   * changed): prev_seq != 0, last seq != 0 and prev_seq != last seq -> gap counted, recorded, book
   * stale until the next SnapshotEnd (Clear also marks it stale); the event goes to the book; at
   * EndOfMessage a crossed book is counted and its stale side (best level changed least recently)
   * pruned; then the features update. features_out (n * row_width(feature_set()) doubles, or nullptr)
   * gets each event's feature row (kTop: the compact kNumTopFeatures columns); an unknown instrument's
   * row is all NaN; the rows written so far are read back (the history of the best levels, for a
   * crossed book's stale side), so features_out must not overlap ev. Returns the events applied (n minus
   * unknown instruments). Consecutive events of one instrument run through one inner loop with that
   * instrument's state in registers; without features_out only the state is kept per event (the
   * row-only columns are computed when features() is read).
   */
  size_t apply(const Event* ev, size_t n, double* features_out);

  size_t instrument_count() const { return instruments_.size(); }
  BookType book_type(uint32_t i) const { return instruments_[i].type; }
  FeatureSet feature_set() const { return feature_set_; }
  /** Doubles per row of apply()'s features_out. */
  int row_width() const { return cmm::row_width(feature_set_); }
  /**
   * Latest feature vector of instrument i (kNumFeatures doubles, valid until the next apply());
   * caller checks i < instrument_count(). Computed here from the state and book when stale.
   */
  const double* features(uint32_t i);
  /** Instrument i's ladder for side s (kSideBid -> bids, otherwise asks). */
  const Ladder& ladder(uint32_t i, Side s) const;
  bool is_stale(uint32_t i) const { return instruments_[i].stale; }
  /** Engine-wide counts: the per-instrument counts summed, plus events and unknown instruments. */
  MarketCounts counts() const;
  const MarketCounts& instrument_counts(uint32_t i) const { return instruments_[i].counts; }
  /** The first max_gap_records gaps (counts().gaps has them all). */
  const std::vector<SequenceGap>& gaps() const { return gaps_; }

 private:
  struct Instrument {
    BookType type;
    std::unique_ptr<L2Book> l2;
    std::unique_ptr<L3Book> l3;
    FeatureState features;
    uint64_t last_seq = 0;
    bool stale = false;
    bool crossed = false;  // the last consistent check found the book crossed (episode in progress)
    // features.values() lag the state (true from the start: the feature set decides the NaN columns);
    // features(i) refreshes them.
    bool values_stale = true;
    bool top_changes_often = false;  // the last long run changed the top at over 1/4 of its (first 64, with rows) events
    // Best level per side and the event index when it last changed: the side that changed least
    // recently is the stale one when the book crosses.
    TopOfBook top = TopOfBook::empty();
    uint64_t bid_changed_at = 0, ask_changed_at = 0;
    MarketCounts counts;
    Instrument(BookType t, const FeatureConfig& cfg);
  };

  // The events from ev[0] while the instrument stays the same (at most n): returns how many it took.
  // kEager (kTop rows only): the row recomputed at every event, for instruments whose top changes often.
  template <class Book, FeatureSet kSet, bool kRows, bool kEager>
  size_t run(Instrument& in, Book& book, const Event* ev, size_t n, uint64_t index, double* rows);
  size_t run_dispatch(Instrument& in, const Event* ev, size_t n, uint64_t index, double* rows);
  void record_gap(uint32_t instrument, uint64_t expected, uint64_t got, uint64_t index);

  std::vector<Instrument> instruments_;
  std::vector<SequenceGap> gaps_;
  size_t max_gap_records_;
  FeatureSet feature_set_;
  uint64_t events_ = 0;               // every event passed to apply()
  uint64_t unknown_instruments_ = 0;
};

}  // namespace cmm
