// The L3 book's resting orders: an open-addressing table keyed by order id with each order's whole record
// inline (32-byte slots: one cache line holds two), linear probing, sparse (see the load limits), power-of-two
// size that starts empty and doubles. Records never point at each other (queue order comes from arrival
// numbers), so a deletion's backward shift or a growth moves slots without fixing anything up.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "book/inline.h"

namespace cmm {

class OrderTable {
 public:
  // Load limits. Every extra probe step (a collision) costs a mispredicted branch and a dependent load,
  // in lookups and in a deletion's backward shift, so a small table stays sparse: at most an eighth full
  // up to kSparseSlots (1 MiB), a quarter beyond (memory wins for big books). Measured on the MSFT day
  // (1,325 orders at most; MarketEngine 'top' from Node, 4096-event batches, interleaved A/B in one
  // process): a quarter full was 9 % slower at p50 per batch; a sixteenth full (1 MiB) 3-5 % faster at
  // p50 but 13-18 % slower over a pass with a fresh engine (the table's growth: not its fresh pages, as
  // neither MAP_POPULATE nor recycling freed blocks helped; a table sized 1 MiB up front was not slower).
  // Reading the home slot and the next one and selecting among them without a branch was 13 % slower:
  // the slot's address then waits for both loads instead of being predicted.
  static constexpr size_t kSparseLoadInverse = 8;
  static constexpr size_t kSparseSlots = size_t{1} << 15;
  static constexpr size_t kDenseLoadInverse = 4;

  struct Order {
    uint64_t id;            // 0 = empty slot (order id 0 is never stored: it names untracked liquidity)
    int64_t qty;            // > 0
    int64_t price;          // ticks: the order's level
    uint64_t arrival_side;  // arrival << 8 | side: see tag()

    /** arrival: when the order joined its level (the book's counter): FIFO order within the level. */
    static uint64_t tag(uint64_t arrival, uint8_t side) { return arrival << 8 | side; }
    uint8_t side() const { return static_cast<uint8_t>(arrival_side); }
    uint64_t arrival() const { return arrival_side >> 8; }
  };
  static_assert(sizeof(Order) == 32, "two orders per cache line");

  size_t size() const { return count_; }

  /**
   * Starts loading id's home slot (batch loops call it a few events ahead). No test for an empty table:
   * a prefetch never faults, so the address is computed as an integer.
   */
  void prefetch(uint64_t id) const {
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(slots_.data()) + home(id) * sizeof(Order)));
  }

  /** The order with this id, or nullptr (always for id 0). The pointer lasts until the next insert or erase. */
  CMM_ALWAYS_INLINE Order* find(uint64_t id) {
    if (id == 0 || count_ == 0) return nullptr;
    Order* o = probe(slots_.data(), id);
    return o->id == id ? o : nullptr;
  }
  const Order* find(uint64_t id) const { return const_cast<OrderTable*>(this)->find(id); }

  /** The order with id (id != 0); when absent (*existed false), a new slot holding only the id (may grow). */
  CMM_ALWAYS_INLINE Order* find_or_insert(uint64_t id, bool* existed) {
    if (__builtin_expect(count_ >= max_count_, 0)) grow();
    Order* o = probe(slots_.data(), id, existed);
    if (!*existed) {
      o->id = id;
      count_++;
    }
    return o;
  }

  /** Removes order o; later orders of its probe run shift back (other orders' pointers change). */
  CMM_ALWAYS_INLINE void erase(Order* o) {
    count_--;
    const Order* next = o + 1 != slots_.data() + slots_.size() ? o + 1 : slots_.data();
    if (__builtin_expect(next->id == 0, 1)) {  // o ends its probe run: nothing to shift
      o->id = 0;
      return;
    }
    close_gap(static_cast<size_t>(o - slots_.data()));
  }

  /** Calls f(const Order&) for every order, in slot order. */
  template <class F>
  void for_each(F&& f) const {
    if (count_ == 0) return;
    for (const Order& o : slots_)
      if (o.id != 0) f(o);
  }

  /** Erases every order for which pred(const Order&) holds; returns how many went. O(table size). */
  template <class Pred>
  size_t erase_if(Pred&& pred) {
    size_t n = 0;
    // An erase moves later orders of slot i's probe run back: into slot i or after it, or, where the run
    // wraps past the table's end, between slots already checked (no matches left there). So slot i is
    // checked again after each erase.
    for (size_t i = 0; i < slots_.size() && count_ != 0;) {
      if (slots_[i].id != 0 && pred(slots_[i])) {
        erase(&slots_[i]);
        n++;
      } else {
        i++;
      }
    }
    return n;
  }

  void clear() {
    if (count_ == 0) return;
    std::memset(static_cast<void*>(slots_.data()), 0, slots_.size() * sizeof(Order));
    count_ = 0;
  }

 private:
  // The slot holding id or the empty slot ending its probe run (s: slots_.data(), loaded once by the caller).
  CMM_ALWAYS_INLINE Order* probe(Order* s, uint64_t id) const {
    bool found;
    return probe(s, id, &found);
  }
  // The same, saying which of the two it found (the exits tell it: no second compare).
  CMM_ALWAYS_INLINE Order* probe(Order* s, uint64_t id, bool* found) const {
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      const uint64_t k = s[i].id;
      if (k == id) {
        *found = true;
        return &s[i];
      }
      if (k == 0) {
        *found = false;
        return &s[i];
      }
    }
  }

  // Slot hole is being emptied: later orders of its probe run move back so every run stays unbroken.
  CMM_NOINLINE void close_gap(size_t hole) {
    Order* const s = slots_.data();
    for (size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      const uint64_t k = s[j].id;
      if (k == 0) break;
      const size_t h = home(k);
      // j stays unless its home lies cyclically outside (hole, j].
      const bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (stays) continue;
      s[hole] = s[j];
      hole = j;
    }
    s[hole].id = 0;
  }

  size_t home(uint64_t id) const { return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> shift_); }

  CMM_NOINLINE void grow() {
    const size_t capacity = slots_.empty() ? 256 : slots_.size() * 2;  // 8 KiB on the first order
    std::vector<Order> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    max_count_ = capacity / (capacity <= kSparseSlots ? kSparseLoadInverse : kDenseLoadInverse);
    int bits = 0;
    while ((size_t{1} << bits) < capacity) bits++;
    shift_ = 64 - bits;
    for (const Order& o : old) {
      if (o.id == 0) continue;
      size_t j = home(o.id);
      while (slots_[j].id != 0) j = (j + 1) & mask_;
      slots_[j] = o;
    }
  }

  std::vector<Order> slots_;
  size_t mask_ = 0;
  int shift_ = 63;  // an empty table's: home() is 0 or 1 (only prefetch() computes it, nothing reads the slot)
  size_t count_ = 0;
  size_t max_count_ = 0;  // orders the table holds before it grows
};

}  // namespace cmm
