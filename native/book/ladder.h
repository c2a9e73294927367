// One side of a price-level book: levels sorted so the best price is at the back of a contiguous
// vector. Updates near the top of book (where nearly all of them land) move few bytes; depth-N reads
// walk the last N entries. Shared by the L2 and L3 books and read by the feature kernels.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/event.h"

namespace cmm {

struct Level {
  int64_t price;  // ticks
  int64_t qty;    // lots, > 0
  int64_t count;  // resting orders at this level (L3); 0 on L2 books
};

class Ladder {
 public:
  explicit Ladder(bool is_bid) : is_bid_(is_bid) { levels_.reserve(256); }

  bool is_bid() const { return is_bid_; }
  size_t size() const { return levels_.size(); }
  bool empty() const { return levels_.empty(); }
  /** Level i from the top: 0 is the best. Caller checks i < size(). */
  const Level& at(size_t i) const { return levels_[levels_.size() - 1 - i]; }
  /** Best price, or kNoPrice when the side is empty. */
  int64_t best_price() const { return levels_.empty() ? kNoPrice : levels_.back().price; }
  /** Quantity at the best price, or 0 when the side is empty. */
  int64_t best_qty() const { return levels_.empty() ? 0 : levels_.back().qty; }
  /** True when price a is better (more aggressive) than price b on this side. */
  bool better(int64_t a, int64_t b) const { return is_bid_ ? a > b : a < b; }

  /** Sets the level's absolute quantity; qty <= 0 removes it. Returns the previous quantity. */
  int64_t set(int64_t price, int64_t qty, int64_t count = 0) {
    auto it = find(price);
    if (it != levels_.end() && it->price == price) {
      int64_t prev = it->qty;
      if (qty <= 0) levels_.erase(it);
      else { it->qty = qty; it->count = count; }
      return prev;
    }
    if (qty > 0) levels_.insert(it, Level{price, qty, count});
    return 0;
  }

  /** Adds dqty (and dcount orders) at price; the level goes when its quantity reaches 0 or less. */
  void add(int64_t price, int64_t dqty, int64_t dcount) {
    auto it = find(price);
    if (it != levels_.end() && it->price == price) {
      it->qty += dqty;
      it->count += dcount;
      if (it->qty <= 0) levels_.erase(it);
      return;
    }
    if (dqty > 0) levels_.insert(it, Level{price, dqty, dcount > 0 ? dcount : 0});
  }

  /** Quantity resting at exactly price (0 when no level). */
  int64_t qty_at(int64_t price) const {
    auto it = const_cast<Ladder*>(this)->find(price);
    return (it != levels_.end() && it->price == price) ? it->qty : 0;
  }

  /** Quantity ahead of an order joining at price: every better level plus the level at price. */
  int64_t qty_ahead(int64_t price) const {
    int64_t total = 0;
    for (size_t i = levels_.size(); i-- > 0;) {
      const Level& l = levels_[i];
      if (better(price, l.price)) break;
      total += l.qty;
    }
    return total;
  }

  /** Removes every level at or better than price; returns how many went (crossed-book pruning). */
  size_t prune_through(int64_t price) {
    size_t n = 0;
    while (!levels_.empty() && !better(price, levels_.back().price)) {
      levels_.pop_back();
      n++;
    }
    return n;
  }

  void clear() { levels_.clear(); }

 private:
  // First position whose price is not "worse-sorted" before price. Vector order: worst .. best,
  // i.e. ascending for bids and descending for asks. Nearly all updates land in the top few levels:
  // count (without branching) how many of the top kLinear levels are better than price; only when
  // all of them are, binary-search the rest (branchless too: a branchy search mispredicts).
  std::vector<Level>::iterator find(int64_t price) {
    return levels_.begin() + (is_bid_ ? find_index<true>(price) : find_index<false>(price));
  }

  template <bool kBid>
  size_t find_index(int64_t price) const {
    const size_t n = levels_.size();
    constexpr size_t kLinear = 8;
    const size_t top = n < kLinear ? n : kLinear;
    const Level* back = levels_.data() + n;
    size_t better_count = 0;
    for (size_t k = 1; k <= top; k++) {
      const int64_t p = back[-static_cast<ptrdiff_t>(k)].price;
      better_count += kBid ? (p > price) : (p < price);
    }
    size_t i = n - better_count;  // levels_[i..n) are better than price
    if (better_count == top && i > 0) i = lower_bound_worse<kBid>(i, price);
    return (i > 0 && levels_[i - 1].price == price) ? i - 1 : i;
  }

  // Index of the first of levels_[0, len) that is not worse than price (len when all are).
  template <bool kBid>
  size_t lower_bound_worse(size_t len, int64_t price) const {
    const Level* base = levels_.data();
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

  bool is_bid_;
  std::vector<Level> levels_;
};

}  // namespace cmm
