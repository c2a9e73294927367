// One side of a price-level book, in two tiers. The top tier holds the best 16..64 levels sorted in a
// contiguous vector, best at the back: depth-N reads (features) walk its last N entries. Deeper levels
// live in a PriceIndex (price-indexed pages), which also records each top level's index: any update
// finds its level in O(1) without searching, and a feed that touches the whole depth (Binance diffs)
// never shifts long arrays. Levels beyond the index's window (far or extreme prices) fall back to a
// search of the top tier or a sorted overflow vector. Shared by the L2 and L3 books, read by features.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
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
  void add(int64_t price, int64_t dqty, int64_t dcount) { join(price, dqty, dcount, kNoAux); }

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
  uint32_t aux_at(int64_t price) const {
    uint32_t aux = kNoAux;
    const Ref r = const_cast<Ladder*>(this)->locate(price);
    if (r.kind != Ref::kNone) const_cast<Ladder*>(this)->with_fields(r, [&](int64_t&, int32_t&, uint32_t& a) { aux = a; });
    return aux;
  }
  /** Replaces the aux of the level at price; false when there is no level there. */
  bool set_aux(int64_t price, uint32_t aux) {
    const Ref r = locate(price);
    if (r.kind == Ref::kNone) return false;
    with_fields(r, [&](int64_t&, int32_t&, uint32_t& a) { a = aux; });
    snapshot_valid_ = false;
    return true;
  }
  /** Quantity resting at exactly price (0 when no level). */
  int64_t qty_at(int64_t price) const {
    int64_t qty = 0;
    const Ref r = const_cast<Ladder*>(this)->locate(price);
    if (r.kind != Ref::kNone) const_cast<Ladder*>(this)->with_fields(r, [&](int64_t& q, int32_t&, uint32_t&) { qty = q; });
    return qty;
  }

  /** Quantity ahead of an order joining at price: every better level plus the level at price. */
  int64_t qty_ahead(int64_t price) const {
    int64_t total = 0;
    for (size_t i = top_.size(); i-- > 0;) {
      if (better(price, top_[i].price)) return total;
      total += top_[i].qty;
    }
    visit_deep([&](int64_t p, const LevelSlot& s) {
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
      erase_top(top_.size() - 1);
      n++;
    }
    return n;
  }

  void clear() {
    index_.release_all();
    top_.clear();
    overflow_.clear();
    deep_count_ = 0;
    top_outside_ = 0;
    snapshot_valid_ = false;
  }

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
  CMM_NOINLINE int64_t set_outside(int64_t price, int64_t qty, int32_t c) {
    const Ref r = locate_outside(price);
    if (r.kind == Ref::kNone) {
      if (qty > 0) create(price, qty, c, kNoAux);
      return 0;
    }
    if (r.kind != Ref::kTop) snapshot_valid_ = false;
    int64_t prev = 0;
    with_fields(r, [&](int64_t& q, int32_t& n, uint32_t&) {
      prev = q;
      q = qty;
      n = c;
    });
    if (qty <= 0) remove(r);
    return prev;
  }
  CMM_NOINLINE uint32_t join_outside(int64_t price, int64_t dqty, int32_t dc, uint32_t new_aux) {
    const Ref r = locate_outside(price);
    if (r.kind == Ref::kNone) {
      if (dqty <= 0) return kNoAux;
      create(price, dqty, dc > 0 ? dc : 0, new_aux);
      return new_aux;
    }
    if (r.kind != Ref::kTop) snapshot_valid_ = false;
    uint32_t aux = kNoAux;
    bool gone = false;
    with_fields(r, [&](int64_t& q, int32_t& n, uint32_t& a) {
      aux = a;
      q = wrapping_add(q, dqty);
      n += dc;
      gone = q <= 0;
    });
    if (gone) remove(r);
    return aux;
  }
  void vacate_deep(Page* pg, uint64_t off) {
    index_.vacate(pg, off);
    deep_count_--;
  }

  // ---- locating ----
  Ref locate(int64_t price) {
    uint64_t off;
    if (!index_.in_window(price, &off)) return locate_outside(price);
    Page* pg = index_.page(off);
    if (pg) {
      const size_t s = PriceIndex::slot_of(off);
      if (pg->top[s] != kNotTop) return Ref{Ref::kTop, pg->top[s], nullptr, 0};
      if (pg->slots[s].qty > 0) return Ref{Ref::kPage, 0, pg, off};
    }
    return Ref{Ref::kNone, 0, nullptr, 0};
  }
  Ref locate_outside(int64_t price) {
    if (top_outside_ > 0) {
      const size_t i = find(price);
      if (i < top_.size() && top_[i].price == price) return Ref{Ref::kTop, i, nullptr, 0};
    }
    if (!overflow_.empty()) {
      const size_t i = overflow_lower_bound(price);
      if (i < overflow_.size() && overflow_[i].price == price) return Ref{Ref::kOverflow, i, nullptr, 0};
    }
    return Ref{Ref::kNone, 0, nullptr, 0};
  }
  // f(qty&, count&, aux&) on the located level; a caller that changes a deep level drops the snapshot.
  template <class F>
  void with_fields(const Ref& r, F&& f) {
    if (r.kind == Ref::kTop) {
      Level& l = top_[r.index];
      f(l.qty, l.count, l.aux);
      return;
    }
    LevelSlot& s = r.kind == Ref::kPage ? r.page->slots[PriceIndex::slot_of(r.off)] : overflow_[r.index].slot;
    f(s.qty, s.count, s.aux);
  }
  void remove(const Ref& r) {
    if (r.kind == Ref::kTop) return erase_top(r.index);
    snapshot_valid_ = false;
    deep_count_--;
    if (r.kind == Ref::kPage) index_.vacate(r.page, r.off);
    else overflow_.erase(overflow_.begin() + static_cast<ptrdiff_t>(r.index));
  }

  // ---- creating and removing levels ----
  // A new level (price absent): deep when deep levels exist and it is worse than the whole top tier.
  CMM_NOINLINE void create(int64_t price, int64_t qty, int32_t count, uint32_t aux) {
    uint64_t off;
    bool in = index_.in_window(price, &off);
    if (!in && index_.grow_toward(price)) {
      absorb();
      in = index_.in_window(price, &off);
    }
    if (deep_count_ > 0 && better(top_.front().price, price)) {
      if (in) {
        Page* pg = index_.page_or_new(off);
        pg->slots[PriceIndex::slot_of(off)] = LevelSlot{qty, count, aux};
        index_.occupy(pg, off);
      } else {
        overflow_insert(DeepEntry{price, LevelSlot{qty, count, aux}});
      }
      deep_count_++;
      snapshot_valid_ = false;
    } else {
      insert_top(top_position(price, in), Level{price, qty, count, aux}, in, off);
    }
    if (!in) maybe_rebase();
  }

  // Index in top_ for a new level at price: top_[0, pos) are worse, top_[pos, n) better.
  size_t top_position(int64_t price, bool in_window) const {
    const size_t n = top_.size();
    if (n == 0 || better(price, top_.back().price)) return n;
    if (in_window && top_outside_ == 0) {
      // The nearest better level in the index is a top level (the new one goes to the top tier).
      int64_t q;
      uint64_t qoff;
      if (index_.next_occupied(is_bid_, price, kPositionScanTicks, &q) && index_.in_window(q, &qoff)) {
        const uint8_t t = index_.page(qoff)->top[PriceIndex::slot_of(qoff)];
        if (t != kNotTop) return t;
      }
    }
    return find(price);
  }

  void insert_top(size_t pos, const Level& l, bool in_window, uint64_t off) {
    if (top_.capacity() == 0) top_.reserve(kTopMax + 2);
    const size_t n = top_.size();
    top_.push_back(l);
    if (pos < n) {
      Level* a = top_.data();
      std::memmove(static_cast<void*>(a + pos + 1), a + pos, (n - pos) * sizeof(Level));
      a[pos] = l;
      for (size_t i = pos + 1; i <= n; i++) index_.set_top(a[i].price, static_cast<uint8_t>(i));
    }
    if (in_window) {
      Page* pg = index_.page_or_new(off);
      pg->top[PriceIndex::slot_of(off)] = static_cast<uint8_t>(pos);
      index_.occupy(pg, off);
    } else {
      top_outside_++;
    }
    if (top_.size() > kTopMax) spill();
  }

  CMM_NOINLINE void erase_top(size_t t) {
    Level* a = top_.data();
    const size_t n = top_.size();
    uint64_t off;
    if (index_.in_window(a[t].price, &off)) index_.vacate(index_.page(off), off);
    else top_outside_--;
    std::memmove(static_cast<void*>(a + t), a + t + 1, (n - 1 - t) * sizeof(Level));
    top_.pop_back();
    for (size_t i = t; i + 1 < n; i++) index_.set_top(a[i].price, static_cast<uint8_t>(i));
    if (top_.size() < kTopMin && deep_count_ > 0) refill();
  }

  // Moves the worst levels of the top tier down to the deep tier, keeping kTopRefill on top.
  CMM_NOINLINE void spill() {
    const size_t k = top_.size() - kTopRefill;
    Level* a = top_.data();
    for (size_t j = 0; j < k; j++) {
      const Level& l = a[j];
      uint64_t off;
      if (index_.in_window(l.price, &off)) {
        Page* pg = index_.page(off);
        pg->top[PriceIndex::slot_of(off)] = kNotTop;
        pg->slots[PriceIndex::slot_of(off)] = LevelSlot{l.qty, l.count, l.aux};
      } else {
        top_outside_--;
        overflow_insert(DeepEntry{l.price, LevelSlot{l.qty, l.count, l.aux}});
      }
    }
    deep_count_ += k;
    std::memmove(static_cast<void*>(a), a + k, kTopRefill * sizeof(Level));
    top_.resize(kTopRefill);
    reindex_top(0);
    snapshot_valid_ = false;
  }

  // Brings the best deep levels up (each worse than the whole top tier) until kTopRefill are on top.
  CMM_NOINLINE void refill() {
    Level up[kTopRefill];
    size_t r = 0;
    const size_t n = top_.size();
    int64_t bound = n ? top_.front().price : (is_bid_ ? INT64_MAX : INT64_MIN);
    while (n + r < kTopRefill && deep_count_ > 0) {
      int64_t wp = 0;
      const bool in_index = index_.next_occupied(!is_bid_, bound, UINT64_MAX, &wp);  // toward worse prices
      const size_t oi = overflow_beyond(bound);
      const bool from_overflow = oi < overflow_.size() && (!in_index || better(overflow_[oi].price, wp));
      if (from_overflow) {
        const DeepEntry& o = overflow_[oi];
        up[r++] = Level{o.price, o.slot.qty, o.slot.count, o.slot.aux};
        overflow_.erase(overflow_.begin() + static_cast<ptrdiff_t>(oi));
      } else if (in_index) {
        uint64_t off;
        index_.in_window(wp, &off);
        LevelSlot& s = index_.page(off)->slots[PriceIndex::slot_of(off)];
        up[r++] = Level{wp, s.qty, s.count, s.aux};
        s.qty = 0;  // stays occupied: a top level now (indexed below)
      } else {
        break;
      }
      deep_count_--;
      bound = up[r - 1].price;
    }
    top_.resize(n + r);
    Level* a = top_.data();
    std::memmove(static_cast<void*>(a + r), a, n * sizeof(Level));
    for (size_t i = 0; i < r; i++) {
      a[i] = up[r - 1 - i];  // up[] is best first; the top tier is worst first
      uint64_t off;
      if (!index_.in_window(a[i].price, &off)) top_outside_++;
    }
    reindex_top(0);
    snapshot_valid_ = false;
  }

  void reindex_top(size_t from) {
    for (size_t i = from; i < top_.size(); i++) index_.set_top(top_[i].price, static_cast<uint8_t>(i));
  }

  // After the window grew: register the top levels and move the overflow levels it now covers.
  void absorb() {
    if (top_outside_ > 0) {
      for (size_t i = 0; i < top_.size(); i++) {
        uint64_t off;
        if (!index_.in_window(top_[i].price, &off)) continue;
        Page* pg = index_.page(off);
        if (pg && pg->top[PriceIndex::slot_of(off)] == i) continue;
        pg = index_.page_or_new(off);
        pg->top[PriceIndex::slot_of(off)] = static_cast<uint8_t>(i);
        index_.occupy(pg, off);
        top_outside_--;
      }
    }
    if (!overflow_.empty()) {
      size_t keep = 0;
      for (const DeepEntry& o : overflow_) {
        uint64_t off;
        if (index_.in_window(o.price, &off)) {
          Page* pg = index_.page_or_new(off);
          pg->slots[PriceIndex::slot_of(off)] = o.slot;
          index_.occupy(pg, off);
        } else {
          overflow_[keep++] = o;
        }
      }
      overflow_.resize(keep);
    }
  }

  // The best price left the window (it was opened elsewhere, or the market moved beyond its reach):
  // open a new one around it and re-register every level.
  void maybe_rebase() {
    if (top_.empty()) return;
    const int64_t best = top_.back().price;
    uint64_t off;
    if (index_.in_window(best, &off) || !PriceIndex::indexable(best)) return;
    std::vector<DeepEntry> deep;
    deep.reserve(deep_count_);
    visit_deep([&](int64_t p, const LevelSlot& s) {
      deep.push_back(DeepEntry{p, s});
      return true;
    });  // best first: nearest the new window first
    overflow_.clear();
    index_.reset(best);
    top_outside_ = 0;
    for (size_t i = top_.size(); i-- > 0;) {
      const int64_t p = top_[i].price;
      if (index_.in_window(p, &off) || (index_.grow_toward(p) && index_.in_window(p, &off))) {
        Page* pg = index_.page_or_new(off);
        pg->top[PriceIndex::slot_of(off)] = static_cast<uint8_t>(i);
        index_.occupy(pg, off);
      } else {
        top_outside_++;
      }
    }
    for (const DeepEntry& d : deep) {
      if (index_.in_window(d.price, &off) || (index_.grow_toward(d.price) && index_.in_window(d.price, &off))) {
        Page* pg = index_.page_or_new(off);
        pg->slots[PriceIndex::slot_of(off)] = d.slot;
        index_.occupy(pg, off);
      } else {
        overflow_insert(d);
      }
    }
    snapshot_valid_ = false;
  }

  // ---- overflow (deep levels outside the window; rare) ----
  size_t overflow_lower_bound(int64_t price) const {
    return static_cast<size_t>(std::lower_bound(overflow_.begin(), overflow_.end(), price,
                                                [](const DeepEntry& o, int64_t p) { return o.price < p; }) -
                               overflow_.begin());
  }
  void overflow_insert(const DeepEntry& d) {
    overflow_.insert(overflow_.begin() + static_cast<ptrdiff_t>(overflow_lower_bound(d.price)), d);
  }
  // Index of the best overflow level strictly worse than bound, or overflow_.size().
  size_t overflow_beyond(int64_t bound) const {
    if (overflow_.empty()) return 0;
    if (is_bid_) {  // highest price below bound
      const size_t i = overflow_lower_bound(bound);
      return i == 0 ? overflow_.size() : i - 1;
    }
    const size_t i = overflow_lower_bound(bound);  // lowest price above bound
    return i < overflow_.size() && overflow_[i].price == bound ? i + 1 : i;
  }

  // Deep levels best first (index pages merged with the overflow on either side of the window).
  template <class F>
  void visit_deep(F&& f) const {
    if (deep_count_ == 0) return;
    const size_t no = overflow_.size();
    const size_t split = index_.has_window() ? overflow_lower_bound(index_.lo()) : no;  // [split, no) above
    auto page_levels = [&](int64_t p, const Page& pg, size_t s) {
      return pg.slots[s].qty > 0 ? f(p, pg.slots[s]) : true;
    };
    if (is_bid_) {
      for (size_t i = no; i-- > split;)
        if (!f(overflow_[i].price, overflow_[i].slot)) return;
      if (!index_.visit(true, page_levels)) return;
      for (size_t i = split; i-- > 0;)
        if (!f(overflow_[i].price, overflow_[i].slot)) return;
    } else {
      for (size_t i = 0; i < split; i++)
        if (!f(overflow_[i].price, overflow_[i].slot)) return;
      if (!index_.visit(false, page_levels)) return;
      for (size_t i = split; i < no; i++)
        if (!f(overflow_[i].price, overflow_[i].slot)) return;
    }
  }

  const Level& deep_at(size_t i) const {
    if (!snapshot_valid_) {
      snapshot_.clear();
      visit_deep([&](int64_t p, const LevelSlot& s) {
        snapshot_.push_back(Level{p, s.qty, s.count, s.aux});
        return true;
      });
      snapshot_valid_ = true;
    }
    return snapshot_[i];
  }

  // Index of the level at price in top_, or where it would be inserted (binary search; used off the
  // index: prices outside its window). Vector order: worst .. best (ascending bids, descending asks).
  size_t find(int64_t price) const { return is_bid_ ? find_index<true>(price) : find_index<false>(price); }
  template <bool kBid>
  size_t find_index(int64_t price) const {
    const Level* base = top_.data();
    size_t len = top_.size();
    if (len == 0) return 0;
    const Level* first = base;
    while (len > 1) {
      const size_t half = len / 2;
      const int64_t p = base[half - 1].price;
      base += (kBid ? p < price : p > price) ? half : 0;
      len -= half;
    }
    const bool worse = kBid ? base->price < price : base->price > price;
    return static_cast<size_t>(base - first) + (worse ? 1 : 0);
  }

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
