// Direct-indexed level storage for one Ladder side: a window of prices cut into 128-tick pages, each
// page an occupancy bitmap, the quantity at every tick and, apart, every level's count and aux (only an
// L3 book uses them: an L2 update touches one 8-byte quantity). A page is allocated on the first level
// in it and kept (empty or not) until the window is cleared or re-centred, so an update is one directory
// read and one quantity read-modify-write, with no branch on whether the level exists. The window (at
// most kMaxPages, 1,048,576 ticks) grows toward new prices; ordered scans walk the bitmaps.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "book/inline.h"

namespace cmm {

/** a + b with two's-complement wrap-around: garbage quantities cannot overflow into undefined behaviour. */
inline int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

/** A level's order count and owner's handle (see Level in ladder.h); meaningless where there is no level. */
struct LevelMeta {
  int32_t count;
  uint32_t aux;
};

/** One price level's data. qty > 0 for a level; 0 where there is none. */
struct LevelSlot {
  int64_t qty;
  LevelMeta meta;
};

class PriceIndex {
 public:
  static constexpr int kPageBits = 7;
  static constexpr uint64_t kPageTicks = uint64_t{1} << kPageBits;
  static constexpr size_t kMaxPages = 8192;
  // Prices whose magnitude reaches 2^60 never get a page (window arithmetic stays far from overflow).
  static constexpr int64_t kLimit = int64_t{1} << 60;

  struct Page {
    uint64_t bits[kPageTicks / 64];  // occupancy: bit set <=> qty[tick] > 0
    int64_t qty[kPageTicks];         // 0 where there is no level
    LevelMeta meta[kPageTicks];
  };

  static size_t slot_of(uint64_t off) { return static_cast<size_t>(off & (kPageTicks - 1)); }
  static bool indexable(int64_t price) { return price > -kLimit && price < kLimit; }

  /** off = price - lo (unsigned, so a price below the window wraps far beyond the span). */
  CMM_ALWAYS_INLINE bool in_window(int64_t price, uint64_t* off) const {
    *off = static_cast<uint64_t>(price) - static_cast<uint64_t>(lo_);
    return *off < span_;
  }
  /** The page holding off (in the window), or nullptr when none was allocated: no level there. */
  CMM_ALWAYS_INLINE Page* page(uint64_t off) const { return dir_[off >> kPageBits].get(); }
  int64_t price_at(uint64_t off) const { return lo_ + static_cast<int64_t>(off); }
  bool has_window() const { return span_ != 0; }
  int64_t lo() const { return lo_; }

  /** The page holding an in-window price with a level (qty > 0) and its tick there, or nullptr. */
  Page* find(int64_t price, size_t* tick) const {
    uint64_t off;
    const bool in = in_window(price, &off);
    *tick = slot_of(off);
    Page* pg = in ? page(off) : nullptr;
    return pg && pg->qty[*tick] > 0 ? pg : nullptr;
  }

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
      }
    }
    return slot.get();
  }

  /** Sets or clears the occupancy bit of slot s without a branch. */
  static CMM_ALWAYS_INLINE void mark(Page* pg, size_t s, bool occupied) {
    uint64_t& w = pg->bits[s >> 6];
    const uint64_t bit = uint64_t{1} << (s & 63);
    w = (w & ~bit) | (occupied ? bit : 0);
  }

  /** Stores a level (qty > 0) at an in-window price, allocating its page if needed. */
  void put(uint64_t off, const LevelSlot& s) {
    Page* pg = page_or_new(off);
    pg->qty[slot_of(off)] = s.qty;
    pg->meta[slot_of(off)] = s.meta;
    mark(pg, slot_of(off), true);
  }

  /**
   * Nearest occupied price strictly beyond from, toward higher prices (up) or lower ones, within the
   * window (from itself may lie outside it). False when there is none.
   */
  bool next_occupied(bool up, int64_t from, int64_t* price) const {
    if (span_ == 0) return false;
    const int64_t hi = lo_ + static_cast<int64_t>(span_ - 1);
    if (up ? from >= hi : from <= lo_) return false;
    uint64_t off = up ? (from < lo_ ? 0 : static_cast<uint64_t>(from - lo_) + 1)
                      : (from > hi ? span_ - 1 : static_cast<uint64_t>(from - lo_) - 1);
    for (;;) {
      const Page* pg = page(off);
      const size_t s = slot_of(off);
      const uint64_t base = off & ~(kPageTicks - 1);
      if (pg) {
        if (up) {
          for (size_t w = s >> 6; w < kPageTicks / 64; w++) {
            uint64_t bits = pg->bits[w];
            if (w == (s >> 6)) bits &= ~uint64_t{0} << (s & 63);
            if (bits) {
              *price = price_at(base + (w << 6) + static_cast<uint64_t>(__builtin_ctzll(bits)));
              return true;
            }
          }
        } else {
          for (size_t w = (s >> 6) + 1; w-- > 0;) {
            uint64_t bits = pg->bits[w];
            if (w == (s >> 6) && (s & 63) != 63) bits &= (uint64_t{2} << (s & 63)) - 1;
            if (bits) {
              *price = price_at(base + (w << 6) + static_cast<uint64_t>(63 - __builtin_clzll(bits)));
              return true;
            }
          }
        }
      }
      if (up) {
        off = base + kPageTicks;
        if (off >= span_) return false;
      } else {
        if (base == 0) return false;
        off = base - 1;
      }
    }
  }

  /** Calls f(price, Page&, tick) for every level in the window, in any order. */
  template <class F>
  void visit(F&& f) const {
    for (size_t pi = 0; pi < dir_.size(); pi++) {
      Page* pg = dir_[pi].get();
      if (!pg) continue;
      for (size_t w = 0; w < kPageTicks / 64; w++) {
        for (uint64_t bits = pg->bits[w]; bits; bits &= bits - 1) {
          const size_t s = (w << 6) + static_cast<size_t>(__builtin_ctzll(bits));
          f(lo_ + static_cast<int64_t>((pi << kPageBits) + s), *pg, s);
        }
      }
    }
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

  /** Drops every page (the caller re-stores its levels) and opens a small window around centre. */
  void reset(int64_t centre) {
    release_all();
    dir_.clear();
    dir_.resize(kInitialPages);
    span_ = kInitialPages << kPageBits;
    lo_ = page_floor(centre) - static_cast<int64_t>((kInitialPages / 2) << kPageBits);
  }

  /** Frees every page (zeroed) back to the free list, keeping the window. */
  void release_all() {
    for (auto& pg : dir_) {
      if (!pg) continue;
      std::memset(static_cast<void*>(pg.get()), 0, sizeof(Page));
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
