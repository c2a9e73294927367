// The deep part of a Ladder (levels beyond its top tier): price-indexed pages of 128 ticks, allocated on
// demand under a directory that spans at most kMaxPages pages, plus a sorted overflow vector for prices
// outside that span. Update by price is O(1); ordered scans walk per-page occupancy bitmaps.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace cmm {

/** a + b with two's-complement wrap-around: garbage quantities cannot overflow into undefined behaviour. */
inline int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

/** One deep level. qty > 0 for a live level; a page slot with qty 0 is no level. */
struct LevelSlot {
  int64_t qty;
  int32_t count;
  uint32_t aux;
};

class LevelPages {
 public:
  static constexpr uint32_t kNoAux = 0xffffffffu;
  static constexpr int kPageBits = 7;
  static constexpr uint64_t kPageTicks = uint64_t{1} << kPageBits;
  static constexpr size_t kMaxPages = 8192;  // directory span: 1,048,576 ticks (64 KiB of pointers)

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  /** The level at price, or nullptr. */
  const LevelSlot* get(int64_t price) const {
    uint64_t off;
    if (in_window(price, &off)) {
      const Page* pg = dir_[off >> kPageBits].get();
      if (!pg) return nullptr;
      const LevelSlot* s = &pg->slots[off & (kPageTicks - 1)];
      return s->qty > 0 ? s : nullptr;
    }
    return overflow_get(price);
  }

  LevelSlot* get(int64_t price) { return const_cast<LevelSlot*>(static_cast<const LevelPages*>(this)->get(price)); }

  /**
   * Adds dqty / dcount to the level at price; creates it (count max(dcount, 0), aux new_aux) when absent
   * and dqty > 0; removes it when its qty drops to 0 or below. Returns the level's aux (new_aux when
   * created), or kNoAux when there was no level and none was created. anchor: a price the window should
   * cover (the Ladder's top-tier boundary); used only when price falls outside the directory.
   */
  uint32_t add(int64_t price, int64_t dqty, int32_t dcount, uint32_t new_aux, int64_t anchor) {
    uint64_t off;
    if (in_window(price, &off) || (dqty > 0 && place(price, anchor, &off))) {
      Page* pg = dir_[off >> kPageBits].get();
      if (!pg) {
        if (dqty <= 0) return kNoAux;
        pg = new_page(off >> kPageBits);
      }
      LevelSlot& s = pg->slots[off & (kPageTicks - 1)];
      if (s.qty > 0) {
        const uint32_t aux = s.aux;
        s.qty = wrapping_add(s.qty, dqty);
        s.count += dcount;
        if (s.qty <= 0) unmark(pg, off);
        return aux;
      }
      if (dqty <= 0) return kNoAux;
      s = LevelSlot{dqty, dcount > 0 ? dcount : 0, new_aux};
      mark(pg, off);
      return new_aux;
    }
    return overflow_add(price, dqty, dcount, new_aux);
  }

  /** Sets the level's qty and count (qty <= 0 removes; a new level gets aux). Returns the previous qty. */
  int64_t set(int64_t price, int64_t qty, int32_t count, uint32_t aux, int64_t anchor) {
    uint64_t off;
    if (in_window(price, &off) || (qty > 0 && place(price, anchor, &off))) {
      Page* pg = dir_[off >> kPageBits].get();
      if (!pg) {
        if (qty <= 0) return 0;
        pg = new_page(off >> kPageBits);
      }
      LevelSlot& s = pg->slots[off & (kPageTicks - 1)];
      const int64_t prev = s.qty;
      if (prev > 0) {
        if (qty > 0) {
          s.qty = qty;
          s.count = count;
        } else {
          unmark(pg, off);
        }
        return prev;
      }
      if (qty > 0) {
        s = LevelSlot{qty, count, aux};
        mark(pg, off);
      }
      return 0;
    }
    return overflow_set(price, qty, count, aux);
  }

  /**
   * Best level strictly worse than bound (bid side: the highest price below bound; ask side: the lowest
   * above). Every deep level of a Ladder is worse than its top tier, so bound = the top tier's worst
   * price finds the deep best. False when there is none.
   */
  bool best_beyond(bool bid, int64_t bound, int64_t* price, LevelSlot* out) const {
    bool found = false;
    int64_t p = 0;
    const LevelSlot* s = nullptr;
    if (count_ - overflow_.size() > 0 && window_scan(bid, bound, &p)) {
      found = true;
      s = get(p);
    }
    if (!overflow_.empty()) {
      const OverflowEntry* o = overflow_beyond(bid, bound);
      if (o && (!found || (bid ? o->price > p : o->price < p))) {
        found = true;
        p = o->price;
        s = &o->slot;
      }
    }
    if (found) {
      *price = p;
      *out = *s;
    }
    return found;
  }

  /** Calls f(price, const LevelSlot&) best first (descending prices for bids); stops when f returns false. */
  template <class F>
  void visit(bool bid, F&& f) const {
    if (bid) visit_dir<true>(f);
    else visit_dir<false>(f);
  }

  void clear() {
    for (auto& pg : dir_) {
      if (!pg) continue;
      for (size_t i = 0; i < kPageTicks; i++) pg->slots[i].qty = 0;
      for (uint64_t& w : pg->bits) w = 0;
      pg->count = 0;
      free_.push_back(std::move(pg));
    }
    overflow_.clear();
    count_ = 0;
  }

 private:
  static constexpr size_t kWords = kPageTicks / 64;
  static constexpr size_t kInitialPages = 8;
  // Prices whose magnitude reaches 2^60 never get a page (the window arithmetic stays far from overflow).
  static constexpr int64_t kWindowLimit = int64_t{1} << 60;

  struct Page {
    uint64_t bits[kWords] = {};  // occupancy, bit i = slot i has a level
    uint32_t count = 0;          // levels in this page
    LevelSlot slots[kPageTicks] = {};
  };
  struct OverflowEntry {
    int64_t price;
    LevelSlot slot;
  };

  // off = price - lo_ (unsigned, so a price below lo_ wraps far beyond the span).
  bool in_window(int64_t price, uint64_t* off) const {
    *off = static_cast<uint64_t>(price) - static_cast<uint64_t>(lo_);
    return *off < span_;
  }

  Page* new_page(size_t index) {
    std::unique_ptr<Page> pg;
    if (!free_.empty()) {
      pg = std::move(free_.back());
      free_.pop_back();
    } else {
      pg = std::make_unique<Page>();
    }
    dir_[index] = std::move(pg);
    return dir_[index].get();
  }

  void mark(Page* pg, uint64_t off) {
    const uint64_t slot = off & (kPageTicks - 1);
    pg->bits[slot >> 6] |= uint64_t{1} << (slot & 63);
    pg->count++;
    count_++;
  }
  void unmark(Page* pg, uint64_t off) {
    const uint64_t slot = off & (kPageTicks - 1);
    pg->slots[slot].qty = 0;
    pg->bits[slot >> 6] &= ~(uint64_t{1} << (slot & 63));
    pg->count--;
    count_--;
    release_if_empty(pg, off);
  }
  // A page with no level goes back to the free list (all its qty slots are 0 already).
  void release_if_empty(Page* pg, uint64_t off) {
    if (pg->count == 0) free_.push_back(std::move(dir_[off >> kPageBits]));
  }

  // Makes the directory cover price when the span limit allows: created around it, grown toward it, or
  // moved to the anchor when the anchor itself lies outside (the book moved away from the window).
  bool place(int64_t price, int64_t anchor, uint64_t* off) {
    if (price <= -kWindowLimit || price >= kWindowLimit) return false;
    uint64_t anchor_off;
    if (count_ == overflow_.size() || (!in_window(anchor, &anchor_off) && anchor > -kWindowLimit && anchor < kWindowLimit)) {
      rebase(count_ == overflow_.size() ? price : anchor);
      if (in_window(price, off)) return true;
    }
    if (!grow_toward(price)) return false;
    return in_window(price, off);
  }

  static int64_t page_floor(int64_t p) { return p & ~static_cast<int64_t>(kPageTicks - 1); }

  // Extends the directory (by at least half its size, within kMaxPages) so it covers price.
  bool grow_toward(int64_t price) {
    const size_t n = dir_.size();
    if (price < lo_) {
      const uint64_t need = static_cast<uint64_t>(lo_ - page_floor(price)) >> kPageBits;
      if (need + n > kMaxPages) return false;
      const size_t extra = std::min<size_t>(std::max<size_t>(need, n / 2), kMaxPages - n);
      dir_.insert(dir_.begin(), extra, nullptr);
      lo_ -= static_cast<int64_t>(extra << kPageBits);
    } else {
      const uint64_t need = (static_cast<uint64_t>(page_floor(price) - lo_) >> kPageBits) + 1 - n;
      if (need + n > kMaxPages) return false;
      const size_t extra = std::min<size_t>(std::max<size_t>(need, n / 2), kMaxPages - n);
      dir_.resize(n + extra);
    }
    span_ = dir_.size() << kPageBits;
    absorb_overflow();
    return true;
  }

  // Moves overflow levels that the grown directory now covers into their pages.
  void absorb_overflow() {
    if (overflow_.empty()) return;
    std::vector<OverflowEntry> keep;
    for (const OverflowEntry& o : overflow_) {
      uint64_t off;
      if (!in_window(o.price, &off)) {
        keep.push_back(o);
        continue;
      }
      Page* pg = dir_[off >> kPageBits].get();
      if (!pg) pg = new_page(off >> kPageBits);
      pg->slots[off & (kPageTicks - 1)] = o.slot;
      count_--;  // mark() counts it again
      mark(pg, off);
    }
    overflow_.swap(keep);
  }

  // A fresh directory of kInitialPages pages around centre; existing levels are re-placed, nearest first.
  void rebase(int64_t centre) {
    std::vector<OverflowEntry> all;
    all.reserve(count_);
    visit_dir<false>([&](int64_t p, const LevelSlot& s) {
      all.push_back(OverflowEntry{p, s});
      return true;
    });
    clear();
    dir_.clear();
    dir_.resize(kInitialPages);
    span_ = kInitialPages << kPageBits;
    lo_ = page_floor(centre) - static_cast<int64_t>((kInitialPages / 2) << kPageBits);
    auto dist = [centre](int64_t p) { return p > centre ? static_cast<uint64_t>(p) - static_cast<uint64_t>(centre)
                                                        : static_cast<uint64_t>(centre) - static_cast<uint64_t>(p); };
    std::sort(all.begin(), all.end(), [&](const OverflowEntry& a, const OverflowEntry& b) { return dist(a.price) < dist(b.price); });
    for (const OverflowEntry& o : all) {
      uint64_t off;
      if (in_window(o.price, &off) || (o.price > -kWindowLimit && o.price < kWindowLimit && grow_toward(o.price) && in_window(o.price, &off))) {
        Page* pg = dir_[off >> kPageBits].get();
        if (!pg) pg = new_page(off >> kPageBits);
        pg->slots[off & (kPageTicks - 1)] = o.slot;
        mark(pg, off);
      } else {
        overflow_insert(o);
      }
    }
  }

  // Highest (bid) / lowest (ask) occupied window price strictly beyond bound.
  bool window_scan(bool bid, int64_t bound, int64_t* price) const {
    if (span_ == 0) return false;
    const int64_t hi = lo_ + static_cast<int64_t>(span_ - 1);
    if (bid) {
      if (bound <= lo_) return false;
      const uint64_t start = static_cast<uint64_t>(std::min(bound - 1, hi) - lo_);
      for (int64_t pi = static_cast<int64_t>(start >> kPageBits); pi >= 0; pi--) {
        const Page* pg = dir_[static_cast<size_t>(pi)].get();
        if (!pg) continue;
        const uint64_t first = static_cast<uint64_t>(pi) == (start >> kPageBits) ? (start & (kPageTicks - 1)) : kPageTicks - 1;
        for (int64_t w = static_cast<int64_t>(first >> 6); w >= 0; w--) {
          uint64_t bits = pg->bits[w];
          if (w == static_cast<int64_t>(first >> 6) && (first & 63) != 63) bits &= (uint64_t{2} << (first & 63)) - 1;
          if (bits) {
            *price = lo_ + static_cast<int64_t>((static_cast<uint64_t>(pi) << kPageBits) + (static_cast<uint64_t>(w) << 6) + (63 - __builtin_clzll(bits)));
            return true;
          }
        }
      }
      return false;
    }
    if (bound >= hi) return false;
    const uint64_t start = static_cast<uint64_t>(std::max(bound + 1, lo_) - lo_);
    const size_t pages = dir_.size();
    for (size_t pi = start >> kPageBits; pi < pages; pi++) {
      const Page* pg = dir_[pi].get();
      if (!pg) continue;
      const uint64_t first = pi == (start >> kPageBits) ? (start & (kPageTicks - 1)) : 0;
      for (size_t w = first >> 6; w < kWords; w++) {
        uint64_t bits = pg->bits[w];
        if (w == (first >> 6)) bits &= ~uint64_t{0} << (first & 63);
        if (bits) {
          *price = lo_ + static_cast<int64_t>((pi << kPageBits) + (w << 6) + __builtin_ctzll(bits));
          return true;
        }
      }
    }
    return false;
  }

  template <bool kDescending, class F>
  void visit_dir(F& f) const {
    // Overflow prices lie outside the window: those beyond it on the best side come first.
    const int64_t lo = lo_;
    auto split = std::lower_bound(overflow_.begin(), overflow_.end(), lo,
                                  [](const OverflowEntry& o, int64_t p) { return o.price < p; });
    if (kDescending) {
      for (auto it = overflow_.end(); it != split;) {
        --it;
        if (!f(it->price, it->slot)) return;
      }
      for (size_t pi = dir_.size(); pi-- > 0;) {
        const Page* pg = dir_[pi].get();
        if (!pg) continue;
        for (size_t w = kWords; w-- > 0;) {
          for (uint64_t bits = pg->bits[w]; bits;) {
            const int b = 63 - __builtin_clzll(bits);
            bits &= ~(uint64_t{1} << b);
            const size_t slot = (w << 6) + static_cast<size_t>(b);
            if (!f(lo + static_cast<int64_t>((pi << kPageBits) + slot), pg->slots[slot])) return;
          }
        }
      }
      for (auto it = split; it != overflow_.begin();) {
        --it;
        if (!f(it->price, it->slot)) return;
      }
    } else {
      for (auto it = overflow_.begin(); it != split; ++it)
        if (!f(it->price, it->slot)) return;
      for (size_t pi = 0; pi < dir_.size(); pi++) {
        const Page* pg = dir_[pi].get();
        if (!pg) continue;
        for (size_t w = 0; w < kWords; w++) {
          for (uint64_t bits = pg->bits[w]; bits; bits &= bits - 1) {
            const size_t slot = (w << 6) + static_cast<size_t>(__builtin_ctzll(bits));
            if (!f(lo + static_cast<int64_t>((pi << kPageBits) + slot), pg->slots[slot])) return;
          }
        }
      }
      for (auto it = split; it != overflow_.end(); ++it)
        if (!f(it->price, it->slot)) return;
    }
  }

  // ---- overflow: sorted by price, only prices outside the window (rare: far or extreme levels) ----
  std::vector<OverflowEntry>::iterator overflow_find(int64_t price) {
    return std::lower_bound(overflow_.begin(), overflow_.end(), price,
                            [](const OverflowEntry& o, int64_t p) { return o.price < p; });
  }
  const LevelSlot* overflow_get(int64_t price) const {
    if (overflow_.empty()) return nullptr;
    auto it = const_cast<LevelPages*>(this)->overflow_find(price);
    return it != overflow_.end() && it->price == price ? &it->slot : nullptr;
  }
  void overflow_insert(const OverflowEntry& o) {
    overflow_.insert(overflow_find(o.price), o);
    count_++;
  }
  uint32_t overflow_add(int64_t price, int64_t dqty, int32_t dcount, uint32_t new_aux) {
    auto it = overflow_find(price);
    if (it != overflow_.end() && it->price == price) {
      const uint32_t aux = it->slot.aux;
      it->slot.qty = wrapping_add(it->slot.qty, dqty);
      it->slot.count += dcount;
      if (it->slot.qty <= 0) {
        overflow_.erase(it);
        count_--;
      }
      return aux;
    }
    if (dqty <= 0) return kNoAux;
    overflow_.insert(it, OverflowEntry{price, LevelSlot{dqty, dcount > 0 ? dcount : 0, new_aux}});
    count_++;
    return new_aux;
  }
  int64_t overflow_set(int64_t price, int64_t qty, int32_t count, uint32_t aux) {
    auto it = overflow_find(price);
    if (it != overflow_.end() && it->price == price) {
      const int64_t prev = it->slot.qty;
      if (qty > 0) {
        it->slot.qty = qty;
        it->slot.count = count;
      } else {
        overflow_.erase(it);
        count_--;
      }
      return prev;
    }
    if (qty > 0) {
      overflow_.insert(it, OverflowEntry{price, LevelSlot{qty, count, aux}});
      count_++;
    }
    return 0;
  }
  // Best overflow entry strictly beyond bound (bid: highest below; ask: lowest above), or nullptr.
  const OverflowEntry* overflow_beyond(bool bid, int64_t bound) const {
    if (bid) {
      auto it = const_cast<LevelPages*>(this)->overflow_find(bound);  // first >= bound
      return it == overflow_.begin() ? nullptr : &*(it - 1);
    }
    auto it = std::upper_bound(overflow_.begin(), overflow_.end(), bound,
                               [](int64_t p, const OverflowEntry& o) { return p < o.price; });
    return it == overflow_.end() ? nullptr : &*it;
  }

  std::vector<std::unique_ptr<Page>> dir_;  // page i covers prices [lo_ + i*kPageTicks, +kPageTicks)
  std::vector<std::unique_ptr<Page>> free_;
  std::vector<OverflowEntry> overflow_;
  int64_t lo_ = 0;
  uint64_t span_ = 0;  // dir_.size() * kPageTicks
  size_t count_ = 0;   // levels, pages and overflow together
};

}  // namespace cmm
