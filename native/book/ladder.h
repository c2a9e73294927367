// One side of a price-level book in two tiers. The top tier holds the best 16..64 levels sorted in a
// contiguous vector, best at the back: depth-N reads (features) walk its last N entries and updates near
// the top move few bytes. Deeper levels live in LevelPages (price-indexed pages): O(1) by price, so a
// feed that touches the whole depth (Binance diffs) never shifts long arrays. Shared by the L2 and L3
// books and read by the feature kernels.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "book/level_pages.h"
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
  static constexpr uint32_t kNoAux = LevelPages::kNoAux;
  // Top tier bounds. While deep levels exist the top tier holds at least kTopMin (>= 10: the features
  // read the best 10 levels as one array); it spills down to kTopRefill when it passes kTopMax.
  static constexpr size_t kTopMin = 16;
  static constexpr size_t kTopRefill = 32;
  static constexpr size_t kTopMax = 64;

  explicit Ladder(bool is_bid) : is_bid_(is_bid) {}

  bool is_bid() const { return is_bid_; }
  size_t size() const { return top_.size() + deep_.size(); }
  bool empty() const { return top_.empty(); }  // the deep tier is empty whenever the top one is
  /**
   * Level i from the top: 0 is the best. Caller checks i < size(). Levels 0 .. min(size(), 10) - 1 are
   * one array (level i at &at(0) - i). A deep level (i >= the top tier) comes from a snapshot of the
   * deep tier rebuilt on the first such read after a change: the reference stays valid until the next
   * update.
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

  /** Sets the level's absolute quantity; qty <= 0 removes it. Returns the previous quantity. */
  int64_t set(int64_t price, int64_t qty, int64_t count = 0) {
    if (in_deep(price)) {
      snapshot_valid_ = false;
      return deep_.set(price, qty, static_cast<int32_t>(count), kNoAux, top_.front().price);
    }
    const size_t i = find(price);
    if (i < top_.size() && top_[i].price == price) {
      Level& l = top_[i];
      const int64_t prev = l.qty;
      if (qty <= 0) erase_top(i);
      else { l.qty = qty; l.count = static_cast<int32_t>(count); }
      return prev;
    }
    if (qty > 0) insert_top(i, Level{price, qty, static_cast<int32_t>(count), kNoAux});
    return 0;
  }

  /** Adds dqty (and dcount orders) at price; the level goes when its quantity reaches 0 or less. */
  void add(int64_t price, int64_t dqty, int64_t dcount) { join(price, dqty, dcount, kNoAux); }

  /**
   * add() that also hands out the level's aux: an existing level keeps (and returns) its own; a level
   * created here (dqty > 0) takes new_aux and returns it; kNoAux when there is no level and none was made.
   */
  uint32_t join(int64_t price, int64_t dqty, int64_t dcount, uint32_t new_aux) {
    if (in_deep(price)) {
      snapshot_valid_ = false;
      return deep_.add(price, dqty, static_cast<int32_t>(dcount), new_aux, top_.front().price);
    }
    const size_t i = find(price);
    if (i < top_.size() && top_[i].price == price) {
      Level& l = top_[i];
      const uint32_t aux = l.aux;
      l.qty = wrapping_add(l.qty, dqty);
      l.count += static_cast<int32_t>(dcount);
      if (l.qty <= 0) erase_top(i);
      return aux;
    }
    if (dqty <= 0) return kNoAux;
    insert_top(i, Level{price, dqty, dcount > 0 ? static_cast<int32_t>(dcount) : 0, new_aux});
    return new_aux;
  }

  /** The aux of the level at price, or kNoAux when there is no level there. */
  uint32_t aux_at(int64_t price) const {
    if (in_deep(price)) {
      const LevelSlot* s = deep_.get(price);
      return s ? s->aux : kNoAux;
    }
    const size_t i = find(price);
    return (i < top_.size() && top_[i].price == price) ? top_[i].aux : kNoAux;
  }

  /** Replaces the aux of the level at price; false when there is no level there. */
  bool set_aux(int64_t price, uint32_t aux) {
    if (in_deep(price)) {
      LevelSlot* s = deep_.get(price);
      if (s) s->aux = aux;
      snapshot_valid_ = false;
      return s != nullptr;
    }
    const size_t i = find(price);
    if (i < top_.size() && top_[i].price == price) {
      top_[i].aux = aux;
      return true;
    }
    return false;
  }

  /** Quantity resting at exactly price (0 when no level). */
  int64_t qty_at(int64_t price) const {
    if (in_deep(price)) {
      const LevelSlot* s = deep_.get(price);
      return s ? s->qty : 0;
    }
    const size_t i = find(price);
    return (i < top_.size() && top_[i].price == price) ? top_[i].qty : 0;
  }

  /** Quantity ahead of an order joining at price: every better level plus the level at price. */
  int64_t qty_ahead(int64_t price) const {
    int64_t total = 0;
    for (size_t i = top_.size(); i-- > 0;) {
      const Level& l = top_[i];
      if (better(price, l.price)) return total;
      total += l.qty;
    }
    deep_.visit(is_bid_, [&](int64_t p, const LevelSlot& s) {
      if (better(price, p)) return false;
      total += s.qty;
      return true;
    });
    return total;
  }

  /** Removes every level at or better than price; returns how many went (crossed-book pruning). */
  size_t prune_through(int64_t price) {
    size_t n = 0;
    while (!top_.empty() && !better(price, top_.back().price)) {
      top_.pop_back();
      n++;
      if (top_.size() < kTopMin && !deep_.empty()) refill();
    }
    return n;
  }

  void clear() {
    top_.clear();
    if (!deep_.empty()) deep_.clear();
    snapshot_valid_ = false;
  }

 private:
  // A price worse than the whole top tier belongs to the deep tier once that tier has levels.
  bool in_deep(int64_t price) const { return !deep_.empty() && better(top_.front().price, price); }

  void insert_top(size_t i, const Level& l) {
    if (top_.capacity() == 0) top_.reserve(kTopMax + 1);
    top_.insert(top_.begin() + static_cast<ptrdiff_t>(i), l);
    if (top_.size() > kTopMax) spill();
  }
  void erase_top(size_t i) {
    top_.erase(top_.begin() + static_cast<ptrdiff_t>(i));
    if (top_.size() < kTopMin && !deep_.empty()) refill();
  }

  // Moves the worst levels of the top tier down to the deep tier (best of them first, so a fresh page
  // directory is placed next to the top of book), keeping kTopRefill.
  void spill() {
    const size_t k = top_.size() - kTopRefill;
    const int64_t anchor = top_[k].price;  // the worst level that stays
    for (size_t j = k; j-- > 0;) {
      const Level& l = top_[j];
      deep_.set(l.price, l.qty, l.count, l.aux, anchor);
    }
    top_.erase(top_.begin(), top_.begin() + static_cast<ptrdiff_t>(k));
    snapshot_valid_ = false;
  }

  // Brings the best deep levels up (each worse than the whole top tier) until kTopRefill are on top.
  void refill() {
    Level up[kTopRefill];
    size_t m = 0;
    int64_t bound = top_.empty() ? (is_bid_ ? INT64_MAX : INT64_MIN) : top_.front().price;
    while (top_.size() + m < kTopRefill) {
      int64_t p;
      LevelSlot s;
      if (!deep_.best_beyond(is_bid_, bound, &p, &s)) break;
      up[m++] = Level{p, s.qty, s.count, s.aux};
      deep_.set(p, 0, 0, kNoAux, p);
      bound = p;
    }
    // up[] is best first; the top tier is stored worst first.
    std::reverse(up, up + m);
    top_.insert(top_.begin(), up, up + m);
    snapshot_valid_ = false;
  }

  // Index of the level at price in top_, or where it would be inserted. Vector order: worst .. best,
  // i.e. ascending for bids and descending for asks. Nearly all updates land in the top few levels:
  // count (without branching) how many of the top kLinear levels are better than price; only when
  // all of them are, binary-search the rest (branchless too: a branchy search mispredicts).
  size_t find(int64_t price) const { return is_bid_ ? find_index<true>(price) : find_index<false>(price); }

  template <bool kBid>
  size_t find_index(int64_t price) const {
    const size_t n = top_.size();
    constexpr size_t kLinear = 8;
    const size_t top = n < kLinear ? n : kLinear;
    const Level* back = top_.data() + n;
    size_t better_count = 0;
    for (size_t k = 1; k <= top; k++) {
      const int64_t p = back[-static_cast<ptrdiff_t>(k)].price;
      better_count += kBid ? (p > price) : (p < price);
    }
    size_t i = n - better_count;  // top_[i..n) are better than price
    if (better_count == top && i > 0) i = lower_bound_worse<kBid>(i, price);
    return (i > 0 && top_[i - 1].price == price) ? i - 1 : i;
  }

  // Index of the first of top_[0, len) that is not worse than price (len when all are).
  template <bool kBid>
  size_t lower_bound_worse(size_t len, int64_t price) const {
    const Level* base = top_.data();
    const Level* first = base;
    while (len > 1) {
      const size_t half = len / 2;
      const int64_t p = base[half - 1].price;
      base += (kBid ? p < price : p > price) ? half : 0;  // compiles to a conditional move
      len -= half;
    }
    const bool worse = kBid ? base->price < price : base->price > price;
    return static_cast<size_t>(base - first) + (worse ? 1 : 0);
  }

  const Level& deep_at(size_t i) const {
    if (!snapshot_valid_) {
      snapshot_.clear();
      deep_.visit(is_bid_, [&](int64_t p, const LevelSlot& s) {
        snapshot_.push_back(Level{p, s.qty, s.count, s.aux});
        return true;
      });
      snapshot_valid_ = true;
    }
    return snapshot_[i];
  }

  bool is_bid_;
  std::vector<Level> top_;  // the best levels, worst first
  LevelPages deep_;         // every other level (all worse than top_.front())
  mutable std::vector<Level> snapshot_;  // deep levels best first, for at(i) beyond the top tier
  mutable bool snapshot_valid_ = false;
};

}  // namespace cmm
