// One side of a price-level book, in two tiers. The top tier holds the best 16..64 levels sorted in a
// contiguous vector, best at the back: depth-N reads (features) walk its last N entries. Deeper levels
// live in a PriceIndex (price-indexed pages), which also records each top level's index: any update
// finds its level in O(1) without searching, and a feed that touches the whole depth (Binance diffs)
// never shifts long arrays. Levels beyond the index's window (far or extreme prices) fall back to a
// search of the top tier or a sorted overflow vector. Shared by the L2 and L3 books, read by features.
// The per-event fast path is inline here; everything else is in ladder.cc.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "book/inline.h"
#include "book/price_index.h"
#include "core/event.h"

namespace cmm {

struct Level {
  int64_t price;  // ticks
  int64_t qty;    // lots, > 0
  int32_t count;  // resting orders at this level (L3); 0 on L2 books
  uint32_t aux;   // the owner's handle for the level (L3: its FIFO queue); kNoAux when unused
};

class Ladder {
 public:
  static constexpr uint32_t kNoAux = 0xffffffffu;
  // Top tier bounds: while deep levels exist the top tier holds at least kTopMin (>= 10: the features
  // read the best 10 levels as one array); past kTopMax it spills down to kTopRefill.
  static constexpr size_t kTopMin = 16;
  static constexpr size_t kTopRefill = 32;
  static constexpr size_t kTopMax = 64;

  explicit Ladder(bool is_bid) : is_bid_(is_bid) {}

  bool is_bid() const { return is_bid_; }
  size_t size() const { return top_.size() + deep_count_; }
  bool empty() const { return top_.empty(); }  // the deep tier is empty whenever the top one is
  /**
   * Level i from the top: 0 is the best. Caller checks i < size(). Levels 0 .. min(size(), 10) - 1 are
   * one array (level i at &at(0) - i). A deep level (i >= the top tier) comes from a snapshot of the
   * deep tier, rebuilt on the first such read after a change: the reference lasts until the next update.
   */
  const Level& at(size_t i) const {
    const size_t n = top_.size();
    return i < n ? top_[n - 1 - i] : deep_at(i - n);
  }
  /** Best price, or kNoPrice when the side is empty. */
  int64_t best_price() const { return top_.empty() ? kNoPrice : top_.back().price; }
  /** Quantity at the best price, or 0 when the side is empty. */
  int64_t best_qty() const { return top_.empty() ? 0 : top_.back().qty; }
  /** True when price a is better (more aggressive) than price b on this side. */
  bool better(int64_t a, int64_t b) const { return is_bid_ ? a > b : a < b; }

  /** Sets the level's absolute quantity (and order count); qty <= 0 removes it. Returns the previous qty. */
  CMM_ALWAYS_INLINE int64_t set(int64_t price, int64_t qty, int64_t count = 0) {
    const int32_t c = static_cast<int32_t>(count);
    uint64_t off;
    if (index_.in_window(price, &off)) {
      if (Page* pg = index_.page(off)) {
        const size_t s = PriceIndex::slot_of(off);
        const uint8_t t = pg->top[s];
        if (t != kNotTop) {
          Level& l = top_[t];
          const int64_t prev = l.qty;
          if (qty > 0) { l.qty = qty; l.count = c; }
          else erase_top(t);
          return prev;
        }
        LevelSlot& d = pg->slots[s];
        if (d.qty > 0) {
          snapshot_valid_ = false;
          const int64_t prev = d.qty;
          if (qty > 0) { d.qty = qty; d.count = c; }
          else vacate_deep(pg, off);
          return prev;
        }
      }
      if (qty > 0) create(price, qty, c, kNoAux);
      return 0;
    }
    return set_outside(price, qty, c);
  }

  /** Adds dqty (and dcount orders) at price; the level goes when its quantity reaches 0 or less. */
  CMM_ALWAYS_INLINE void add(int64_t price, int64_t dqty, int64_t dcount) { join(price, dqty, dcount, kNoAux); }

  /**
   * add() that also hands out the level's aux: an existing level keeps (and returns) its own; a level
   * created here (dqty > 0) takes new_aux and returns it; kNoAux when there is no level and none was made.
   */
  CMM_ALWAYS_INLINE uint32_t join(int64_t price, int64_t dqty, int64_t dcount, uint32_t new_aux) {
    const int32_t dc = static_cast<int32_t>(dcount);
    uint64_t off;
    if (index_.in_window(price, &off)) {
      if (Page* pg = index_.page(off)) {
        const size_t s = PriceIndex::slot_of(off);
        const uint8_t t = pg->top[s];
        if (t != kNotTop) {
          Level& l = top_[t];
          const uint32_t aux = l.aux;
          l.qty = wrapping_add(l.qty, dqty);
          l.count += dc;
          if (l.qty <= 0) erase_top(t);
          return aux;
        }
        LevelSlot& d = pg->slots[s];
        if (d.qty > 0) {
          snapshot_valid_ = false;
          const uint32_t aux = d.aux;
          d.qty = wrapping_add(d.qty, dqty);
          d.count += dc;
          if (d.qty <= 0) vacate_deep(pg, off);
          return aux;
        }
      }
      if (dqty <= 0) return kNoAux;
      create(price, dqty, dc > 0 ? dc : 0, new_aux);
      return new_aux;
    }
    return join_outside(price, dqty, dc, new_aux);
  }

  /** The aux of the level at price, or kNoAux when there is no level there. */
  uint32_t aux_at(int64_t price) const;
  /** Replaces the aux of the level at price; false when there is no level there. */
  bool set_aux(int64_t price, uint32_t aux);
  /** Quantity resting at exactly price (0 when no level). */
  int64_t qty_at(int64_t price) const;

  /** Quantity ahead of an order joining at price: every better level plus the level at price. */
  int64_t qty_ahead(int64_t price) const;

  /** Removes every level at or better than price; returns how many went (crossed-book pruning). */
  size_t prune_through(int64_t price);

  void clear();

 private:
  using Page = PriceIndex::Page;
  static constexpr uint8_t kNotTop = PriceIndex::kNotTop;
  static constexpr uint64_t kPositionScanTicks = 512;  // longer gaps: binary search the top tier instead

  struct DeepEntry {  // a deep level outside the index window (overflow_, sorted by price)
    int64_t price;
    LevelSlot slot;
  };
  struct Ref {  // where a level lives
    enum Kind : uint8_t { kNone, kTop, kPage, kOverflow } kind;
    size_t index;  // kTop: top_ index; kOverflow: overflow_ index
    Page* page;    // kPage
    uint64_t off;  // kPage
  };

  // ---- slow paths: prices outside the index window ----
  CMM_NOINLINE int64_t set_outside(int64_t price, int64_t qty, int32_t c);
  CMM_NOINLINE uint32_t join_outside(int64_t price, int64_t dqty, int32_t dc, uint32_t new_aux);
  void vacate_deep(Page* pg, uint64_t off) {
    index_.vacate(pg, off);
    deep_count_--;
  }

  // ---- locating ----
  Ref locate(int64_t price);
  Ref locate_outside(int64_t price);
  // f(qty&, count&, aux&) on the located level; a caller that changes a deep level drops the snapshot.
  template <class F>
  void with_fields(const Ref& r, F&& f);
  void remove(const Ref& r);

  // ---- creating and removing levels ----
  // A new level (price absent): deep when deep levels exist and it is worse than the whole top tier.
  CMM_NOINLINE void create(int64_t price, int64_t qty, int32_t count, uint32_t aux);

  // Index in top_ for a new level at price: top_[0, pos) are worse, top_[pos, n) better.
  size_t top_position(int64_t price, bool in_window) const;

  void insert_top(size_t pos, const Level& l, bool in_window, uint64_t off);

  CMM_NOINLINE void erase_top(size_t t);

  // Moves the worst levels of the top tier down to the deep tier, keeping kTopRefill on top.
  CMM_NOINLINE void spill();

  // Brings the best deep levels up (each worse than the whole top tier) until kTopRefill are on top.
  CMM_NOINLINE void refill();

  void reindex_top(size_t from);

  // After the window grew: register the top levels and move the overflow levels it now covers.
  void absorb();

  // The best price left the window (it was opened elsewhere, or the market moved beyond its reach):
  // open a new one around it and re-register every level.
  void maybe_rebase();

  // ---- overflow (deep levels outside the window; rare) ----
  size_t overflow_lower_bound(int64_t price) const;
  void overflow_insert(const DeepEntry& d);
  // Index of the best overflow level strictly worse than bound, or overflow_.size().
  size_t overflow_beyond(int64_t bound) const;

  // Deep levels best first (index pages merged with the overflow on either side of the window).
  template <class F>
  void visit_deep(F&& f) const;

  const Level& deep_at(size_t i) const;

  // Index of the level at price in top_, or where it would be inserted (binary search; used off the
  // index: prices outside its window). Vector order: worst .. best (ascending bids, descending asks).
  size_t find(int64_t price) const;
  template <bool kBid>
  size_t find_index(int64_t price) const;

  bool is_bid_;
  std::vector<Level> top_;          // the best levels, worst first
  PriceIndex index_;                // every level in its window: top index or deep data
  std::vector<DeepEntry> overflow_; // deep levels outside the window, ascending price
  size_t deep_count_ = 0;           // deep levels (index + overflow)
  size_t top_outside_ = 0;          // top levels outside the window (found by search)
  mutable std::vector<Level> snapshot_;  // deep levels best first, for at(i) beyond the top tier
  mutable bool snapshot_valid_ = false;
};

}  // namespace cmm
