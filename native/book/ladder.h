// One side of a price-level book. The best 10..16 levels live, sorted, in a fixed mirror array inside
// the Ladder: depth-N reads (features) walk its first N entries down from the best. Every other (deep)
// level lives in a PriceIndex slot, direct-indexed by price (a sorted overflow vector holds the rare
// levels outside its window); a mirrored level's slot only records that it exists. An update first
// compares its price with the mirror's worst level (the one data-dependent branch): a mirrored level is
// found through a position hint and changed in place; a deep one (most of a whole-depth feed such as
// Binance diffs) is written in its slot without branching on whether it was created, changed or
// removed, and never moves anything. Shared by the L2 and L3 books, read by features.
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
  // The mirror holds the best top_count_ levels, kTopMin..kTopCap whenever the side has that many
  // (kTopMin >= 10: the features read the best 10 levels as one array). Past kTopCap it drops its worst
  // levels down to kTopRefill; below kTopMin it brings deeper ones up to kTopRefill. kTopCap is a power
  // of two: the mirror is searched by a fixed-length branch-free binary search.
  static constexpr size_t kTopMin = 10;
  static constexpr size_t kTopRefill = 13;
  static constexpr size_t kTopCap = 16;

  /** meta: levels carry counts and aux handles from the start (an L3 book's; see meta_). */
  explicit Ladder(bool is_bid, bool meta = false);

  bool is_bid() const { return flip_ == 0; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /**
   * Level i from the top: 0 is the best. Caller checks i < size(). Levels 0 .. min(size(), 10) - 1 are
   * one array (level i at &at(0) - i). A level below the mirror comes from a snapshot of the deeper
   * levels, rebuilt on the first such read after a change: the reference lasts until the next update.
   */
  const Level& at(size_t i) const { return i < top_count_ ? top_[kTopCap - 1 - i] : deep_at(i - top_count_); }
  /** Best price, or kNoPrice when the side is empty. */
  int64_t best_price() const { return top_count_ ? top_[kTopCap - 1].price : kNoPrice; }
  /**
   * Best price, or on an empty side the worst price there is (INT64_MIN for bids, INT64_MAX for asks):
   * comparisons across the book need no emptiness test (a bid is crossed only by a real ask). No branch.
   */
  int64_t best_price_or_worst() const { return top_[kTopCap - 1].price; }
  /** Quantity at the best price, or 0 when the side is empty (the empty mirror's entries hold qty 0). */
  int64_t best_qty() const { return top_[kTopCap - 1].qty; }
  /** True when price a is better (more aggressive) than price b on this side. */
  bool better(int64_t a, int64_t b) const { return key(a) > key(b); }

  /** Sets the level's absolute quantity (and order count); qty <= 0 removes it. Returns the previous qty. */
  CMM_ALWAYS_INLINE int64_t set(int64_t price, int64_t qty, int64_t count = 0) {
    return update(price, SetOp{qty, static_cast<int32_t>(count)});
  }

  /** Adds dqty (and dcount orders) at price; the level goes when its quantity reaches 0 or less. */
  CMM_ALWAYS_INLINE void add(int64_t price, int64_t dqty, int64_t dcount) { join(price, dqty, dcount, kNoAux); }
  /** add() on a ladder constructed with meta (an L3 book's): the per-event path tests nothing for it. */
  CMM_ALWAYS_INLINE void add_counted(int64_t price, int64_t dqty, int64_t dcount) {
    update<JoinOp, true>(price, JoinOp{dqty, static_cast<int32_t>(dcount), kNoAux});
  }

  /**
   * add() that also hands out the level's aux: an existing level keeps (and returns) its own; a level
   * created here (dqty > 0) takes new_aux and returns it; kNoAux when there is no level and none was made.
   */
  CMM_ALWAYS_INLINE uint32_t join(int64_t price, int64_t dqty, int64_t dcount, uint32_t new_aux) {
    return update(price, JoinOp{dqty, static_cast<int32_t>(dcount), new_aux});
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
  struct OutsideEntry {  // a level outside the index window (overflow_)
    int64_t price;
    LevelSlot slot;
  };

  // The update of one level (qty 0 when there is none), written without branches on what it does: the
  // new qty (0 removes) and, while meta_ is set, count and aux. Returns what the public call returns.
  struct SetOp {
    using Result = int64_t;
    int64_t qty;
    int32_t count;
    bool needs_meta() const { return count != 0; }
    CMM_ALWAYS_INLINE int64_t operator()(int64_t& q, int32_t& c, uint32_t& aux, bool meta) const {
      const int64_t prev = q;
      if (meta) {
        aux |= static_cast<uint32_t>(prev > 0) - 1u;  // a new level's aux is kNoAux (an OR: no branch)
        c = count;
      }
      q = qty > 0 ? qty : 0;
      return prev;
    }
    // The same on a level known to exist (qty > 0: a mirrored one): nothing depends on whether it was.
    CMM_ALWAYS_INLINE int64_t existing(int64_t& q, int32_t& c, uint32_t&, bool meta) const {
      const int64_t prev = q;
      if (meta) c = count;
      q = qty > 0 ? qty : 0;
      return prev;
    }
  };
  struct JoinOp {
    using Result = uint32_t;
    int64_t dqty;
    int32_t dcount;
    uint32_t new_aux;
    bool needs_meta() const { return dcount != 0 || new_aux != kNoAux; }
    CMM_ALWAYS_INLINE uint32_t operator()(int64_t& q, int32_t& c, uint32_t& aux, bool meta) const {
      const bool was = q > 0;
      const int64_t nq = was ? wrapping_add(q, dqty) : dqty;
      uint32_t a = kNoAux;  // without meta every aux is kNoAux, new_aux included (needs_meta())
      if (meta) {
        a = was ? aux : new_aux;
        // int32 counts wrap (garbage input): computed in uint32.
        c = was ? static_cast<int32_t>(static_cast<uint32_t>(c) + static_cast<uint32_t>(dcount)) : (dcount > 0 ? dcount : 0);
        aux = a;
      }
      q = nq > 0 ? nq : 0;
      return was || nq > 0 ? a : kNoAux;
    }
    CMM_ALWAYS_INLINE uint32_t existing(int64_t& q, int32_t& c, uint32_t& aux, bool meta) const {
      const int64_t nq = wrapping_add(q, dqty);
      if (meta) c = static_cast<int32_t>(static_cast<uint32_t>(c) + static_cast<uint32_t>(dcount));
      q = nq > 0 ? nq : 0;
      return meta ? aux : kNoAux;
    }
  };

  // Order key: larger is better on this side (bids: the price; asks: ~price, which reverses the order
  // without overflow).
  int64_t key(int64_t price) const { return price ^ flip_; }
  // What the mirror holds below its levels: the worst key, no quantity.
  Level unused_entry() const { return Level{INT64_MIN ^ flip_, 0, 0, kNoAux}; }
  Level level(int64_t price, const LevelSlot& s) const {
    return meta_ ? Level{price, s.qty, s.meta.count, s.meta.aux} : Level{price, s.qty, 0, kNoAux};
  }

  // The per-event path. A price at or better than the mirror's worst level belongs to the mirror: an
  // existing level is updated there (its storage is not touched), a new one goes to add_top(). Any
  // other price is a deep level: with its page present, the quantity is updated in place and the
  // occupancy bit and size follow without branches.
  // kMeta: the ladder was constructed with meta (nothing to test).
  template <class Op, bool kMeta = false>
  CMM_ALWAYS_INLINE typename Op::Result update(int64_t price, const Op& op) {
    if constexpr (!kMeta) {
      if (__builtin_expect(!meta_, 0) && op.needs_meta()) enable_meta();
    }
    const bool meta = kMeta || meta_;
    if (key(price) >= top_floor_) {
      const size_t i = top_find(price);
      if (i == kTopCap) return add_top(price, op);
      Level& l = top_[i];
      const auto result = op.existing(l.qty, l.count, l.aux, meta);  // a mirrored level has qty > 0
      if (l.qty <= 0) erase_top(i);
      return result;
    }
    uint64_t off;
    Page* pg;
    if (__builtin_expect(index_.in_window(price, &off) && (pg = index_.page(off)) != nullptr, 1)) {
      const size_t s = PriceIndex::slot_of(off);
      int64_t& q = pg->qty[s];
      const int64_t prev = q;
      const auto result = op(q, pg->meta[s].count, pg->meta[s].aux, meta);
      const bool now = q > 0;
      PriceIndex::mark(pg, s, now);
      size_ += static_cast<size_t>(now) - static_cast<size_t>(prev > 0);
      snapshot_valid_ = false;
      return result;
    }
    return update_deep_slow(price, op);
  }

  // Index in top_ of the mirrored level at price (the hint when it holds, else a search), or kTopCap.
  CMM_ALWAYS_INLINE size_t top_find(int64_t price) const {
    const size_t first = kTopCap - top_count_;
    const size_t g = top_hint_[price & (kHints - 1)];
    if (g >= kTopCap) __builtin_unreachable();  // a hint is an index into top_ (spares the caller a compare)
    if (__builtin_expect(top_[g].price == price && g >= first, 1)) return g;
    const size_t j = count_not_better(key(price));
    return j > first && top_[j - 1].price == price ? j - 1 : kTopCap;
  }
  // Writes mirror entry i, keeping its hint.
  void put_top(size_t i, const Level& l) {
    top_[i] = l;
    top_hint_[l.price & (kHints - 1)] = static_cast<uint8_t>(i);
  }

  // The slow paths take the op by value (16 bytes: two registers), so the inline path never puts it in memory.
  // A deep level without a page, or outside the window (overflow_; the window grows toward it when it can).
  template <class Op>
  CMM_NOINLINE typename Op::Result update_deep_slow(int64_t price, Op op);
  // A new level at or better than the mirror's worst one (nothing when op leaves it empty).
  template <class Op>
  CMM_NOINLINE typename Op::Result add_top(int64_t price, Op op);
  // Removes mirror entry i's level from the side.
  CMM_NOINLINE void erase_top(size_t i);

  // Moves n mirror entries starting at index from one index down or up (hints follow).
  void move_top(size_t from, size_t n, bool down);
  // Number of top_ entries with key <= k (unused ones included): entries [j, kTopCap) are better than
  // k, and a mirrored level with key k sits at j - 1.
  size_t count_not_better(int64_t k) const;
  void spill();
  void refill();
  void set_floor();

  // A level's storage: the page slot or overflow entry that records it (its data too while deep).
  // store() creates it (growing the window when it can) or overwrites it; unstore() removes it.
  // Returns whether the price is outside the window.
  bool store(int64_t price, const LevelSlot& s);
  void unstore(int64_t price);
  // The deep level at price (its storage), or nullptr: *qty and *meta point into it.
  bool find_deep(int64_t price, int64_t** qty, LevelMeta** meta) const;
  // Sets meta_: from now on every level's count and aux are kept (they were 0 and kNoAux until now).
  CMM_NOINLINE void enable_meta();
  // Index of the first overflow entry with price >= price.
  size_t overflow_lower_bound(int64_t price) const;
  // Moves the overflow levels a grown window now covers into it.
  void absorb();
  // The best price left the window: re-centre it there and re-store every level.
  void maybe_rebase();

  // Calls f(const Level&) for each level strictly worse than bound, best first, while f returns true.
  template <class F>
  void visit_worse(int64_t bound, F&& f) const;
  const Level& deep_at(size_t i) const;

  int64_t flip_;                  // 0 for bids, -1 for asks (see key())
  // Levels carry counts or aux handles (an L3 book): set by the first update that gives one. Until
  // then every level has count 0 and aux kNoAux, and the pages' meta is neither written nor read.
  bool meta_ = false;
  size_t size_ = 0;               // levels on this side
  size_t top_count_ = 0;          // levels in the mirror
  // key() of the mirror's worst level while it holds kTopMin or more levels, else INT64_MIN (every
  // price belongs to the mirror). Levels with key >= top_floor_ are exactly the mirrored ones.
  int64_t top_floor_ = INT64_MIN;
  // The mirror: level i at top_[kTopCap - 1 - i] for i < top_count_ (best at the back); the unused
  // entries below it hold the worst key and qty 0 (the binary search needs no bound; best_qty() of an
  // empty side reads 0).
  Level top_[kTopCap];
  // Where a mirrored level probably is: top_hint_[price % kHints] is the index of the last level written
  // there with that price (exact unless two mirrored prices share it; top_find() checks).
  static constexpr size_t kHints = 64;
  uint8_t top_hint_[kHints] = {};
  // Storage of every level: its data while deep, its existence only while mirrored (spill() writes
  // the data back). index_ covers the window, overflow_ the levels outside it (ascending price).
  PriceIndex index_;
  std::vector<OutsideEntry> overflow_;
  mutable std::vector<Level> snapshot_;  // levels below the mirror, best first, for at(i)
  mutable bool snapshot_valid_ = false;
};

}  // namespace cmm
