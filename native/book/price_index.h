// Price-indexed pages for one Ladder side: a directory of 128-tick pages (allocated on demand, at most
// kMaxPages, i.e. a window of 1,048,576 ticks that grows toward new prices and can be re-centred). Per
// tick: an occupancy bit, the level's index in the Ladder's top tier (or kNotTop) and, for a deep level,
// its data. Lookups by price are O(1); ordered scans walk the occupancy bitmaps.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace cmm {

/** a + b with two's-complement wrap-around: garbage quantities cannot overflow into undefined behaviour. */
inline int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

/** A deep level's data. qty > 0 for a deep level; 0 in every other slot (no level, or a top-tier level). */
struct LevelSlot {
  int64_t qty;
  int32_t count;
  uint32_t aux;
};

class PriceIndex {
 public:
  static constexpr int kPageBits = 7;
  static constexpr uint64_t kPageTicks = uint64_t{1} << kPageBits;
  static constexpr size_t kMaxPages = 8192;
  static constexpr uint8_t kNotTop = 0xff;
  // Prices whose magnitude reaches 2^60 never get a page (window arithmetic stays far from overflow).
  static constexpr int64_t kLimit = int64_t{1} << 60;

  struct Page {
    uint64_t bits[kPageTicks / 64];  // occupancy: a level (top or deep) at this tick
    uint32_t count;                  // occupied ticks
    uint8_t top[kPageTicks];         // top-tier index, kNotTop for a deep level or none
    LevelSlot slots[kPageTicks];     // deep levels' data
  };

  static size_t slot_of(uint64_t off) { return static_cast<size_t>(off & (kPageTicks - 1)); }
  static bool indexable(int64_t price) { return price > -kLimit && price < kLimit; }

  /** off = price - lo (unsigned, so a price below the window wraps far beyond the span). */
  bool in_window(int64_t price, uint64_t* off) const {
    *off = static_cast<uint64_t>(price) - static_cast<uint64_t>(lo_);
    return *off < span_;
  }
  Page* page(uint64_t off) const { return dir_[off >> kPageBits].get(); }
  int64_t price_at(uint64_t off) const { return lo_ + static_cast<int64_t>(off); }
  bool has_window() const { return span_ != 0; }
  int64_t lo() const { return lo_; }

  /** The page holding off, allocated (empty) when absent. */
  Page* page_or_new(uint64_t off) {
    std::unique_ptr<Page>& slot = dir_[off >> kPageBits];
    if (!slot) {
      if (!free_.empty()) {
        slot = std::move(free_.back());
        free_.pop_back();
      } else {
        slot = std::make_unique<Page>();
        std::memset(static_cast<void*>(slot.get()), 0, sizeof(Page));
        std::memset(slot->top, kNotTop, sizeof(slot->top));
      }
    }
    return slot.get();
  }

  void occupy(Page* pg, uint64_t off) {
    const size_t s = slot_of(off);
    pg->bits[s >> 6] |= uint64_t{1} << (s & 63);
    pg->count++;
  }
  /** Clears the tick (bit, top index, deep data); a page left empty goes back to the free list. */
  void vacate(Page* pg, uint64_t off) {
    const size_t s = slot_of(off);
    pg->bits[s >> 6] &= ~(uint64_t{1} << (s & 63));
    pg->top[s] = kNotTop;
    pg->slots[s].qty = 0;
    if (--pg->count == 0) free_.push_back(std::move(dir_[off >> kPageBits]));
  }
  void set_top(int64_t price, uint8_t t) {
    uint64_t off;
    if (in_window(price, &off)) page(off)->top[slot_of(off)] = t;
  }

  /**
   * Nearest occupied price strictly beyond from, toward higher prices (up) or lower ones, looking at
   * most max_ticks ticks away and never past the window. False when none was found.
   */
  bool next_occupied(bool up, int64_t from, uint64_t max_ticks, int64_t* price) const {
    if (span_ == 0) return false;
    uint64_t off;
    uint64_t left = max_ticks;
    if (up) {
      if (from >= lo_ + static_cast<int64_t>(span_ - 1)) return false;
      const uint64_t gap = static_cast<uint64_t>(lo_) - static_cast<uint64_t>(from);  // when from < lo_
      off = from < lo_ ? 0 : static_cast<uint64_t>(from) - static_cast<uint64_t>(lo_) + 1;
      if (from < lo_) left -= std::min<uint64_t>(left, gap - 1);
      while (off < span_) {
        const Page* pg = page(off);
        const size_t s = slot_of(off);
        if (pg) {
          for (size_t w = s >> 6; w < kPageTicks / 64; w++) {
            uint64_t bits = pg->bits[w];
            if (w == (s >> 6)) bits &= ~uint64_t{0} << (s & 63);
            if (bits) {
              const uint64_t at = (off & ~(kPageTicks - 1)) + (w << 6) + static_cast<uint64_t>(__builtin_ctzll(bits));
              if (at - off >= left) return false;
              *price = price_at(at);
              return true;
            }
          }
        }
        const uint64_t step = kPageTicks - s;
        if (step >= left) return false;
        left -= step;
        off += step;
      }
      return false;
    }
    if (from <= lo_) return false;
    const int64_t hi = lo_ + static_cast<int64_t>(span_ - 1);
    const uint64_t gap = static_cast<uint64_t>(from) - static_cast<uint64_t>(hi);  // when from > hi
    off = from > hi ? span_ - 1 : static_cast<uint64_t>(from) - static_cast<uint64_t>(lo_) - 1;
    if (from > hi) left -= std::min<uint64_t>(left, gap - 1);
    for (;;) {
      const Page* pg = page(off);
      const size_t s = slot_of(off);
      if (pg) {
        for (size_t w = (s >> 6) + 1; w-- > 0;) {
          uint64_t bits = pg->bits[w];
          if (w == (s >> 6) && (s & 63) != 63) bits &= (uint64_t{2} << (s & 63)) - 1;
          if (bits) {
            const uint64_t at = (off & ~(kPageTicks - 1)) + (w << 6) + static_cast<uint64_t>(63 - __builtin_clzll(bits));
            if (off - at >= left) return false;
            *price = price_at(at);
            return true;
          }
        }
      }
      const uint64_t step = s + 1;
      if (step >= left || off < step) return false;
      left -= step;
      off -= step;
    }
  }

  /** Calls f(price, const Page&, slot) for every occupied tick, ascending or descending; stops when f returns false. */
  template <class F>
  bool visit(bool descending, F&& f) const {
    const size_t n = dir_.size();
    for (size_t k = 0; k < n; k++) {
      const size_t pi = descending ? n - 1 - k : k;
      const Page* pg = dir_[pi].get();
      if (!pg) continue;
      for (size_t j = 0; j < kPageTicks / 64; j++) {
        const size_t w = descending ? kPageTicks / 64 - 1 - j : j;
        for (uint64_t bits = pg->bits[w]; bits;) {
          const int b = descending ? 63 - __builtin_clzll(bits) : __builtin_ctzll(bits);
          bits &= ~(uint64_t{1} << b);
          const size_t s = (w << 6) + static_cast<size_t>(b);
          if (!f(lo_ + static_cast<int64_t>((pi << kPageBits) + s), *pg, s)) return false;
        }
      }
    }
    return true;
  }

  /**
   * Extends the window (by at least half its size, within kMaxPages) so it covers price; creates it
   * around price when there is none. False when the price is not indexable or beyond the limit.
   */
  bool grow_toward(int64_t price) {
    if (!indexable(price)) return false;
    if (span_ == 0) {
      reset(price);
      return true;
    }
    const size_t n = dir_.size();
    if (price < lo_) {
      const uint64_t need = static_cast<uint64_t>(lo_ - page_floor(price)) >> kPageBits;
      if (need + n > kMaxPages) return false;
      const size_t extra = std::min<size_t>(std::max<size_t>(need, n / 2), kMaxPages - n);
      std::vector<std::unique_ptr<Page>> grown(n + extra);
      for (size_t i = 0; i < n; i++) grown[extra + i] = std::move(dir_[i]);
      dir_.swap(grown);
      lo_ -= static_cast<int64_t>(extra << kPageBits);
    } else {
      const uint64_t need = (static_cast<uint64_t>(page_floor(price) - lo_) >> kPageBits) + 1 - n;
      if (need + n > kMaxPages) return false;
      dir_.resize(n + std::min<size_t>(std::max<size_t>(need, n / 2), kMaxPages - n));
    }
    span_ = dir_.size() << kPageBits;
    return true;
  }

  /** Drops every page (the caller re-registers its levels) and opens a small window around centre. */
  void reset(int64_t centre) {
    release_all();
    dir_.clear();
    dir_.resize(kInitialPages);
    span_ = kInitialPages << kPageBits;
    lo_ = page_floor(centre) - static_cast<int64_t>((kInitialPages / 2) << kPageBits);
  }

  /** Frees every page back to the free list, keeping the window. */
  void release_all() {
    for (auto& pg : dir_) {
      if (!pg) continue;
      std::memset(pg->bits, 0, sizeof(pg->bits));
      std::memset(pg->top, kNotTop, sizeof(pg->top));
      for (LevelSlot& s : pg->slots) s.qty = 0;
      pg->count = 0;
      free_.push_back(std::move(pg));
    }
  }

 private:
  static constexpr size_t kInitialPages = 8;
  static int64_t page_floor(int64_t p) { return p & ~static_cast<int64_t>(kPageTicks - 1); }

  std::vector<std::unique_ptr<Page>> dir_;  // page i covers [lo_ + i * kPageTicks, + kPageTicks)
  std::vector<std::unique_ptr<Page>> free_;
  int64_t lo_ = 0;
  uint64_t span_ = 0;
};

}  // namespace cmm
