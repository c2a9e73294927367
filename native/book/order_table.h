// The L3 book's resting orders: an open-addressing table keyed by order id with the order record inline
// (32-byte slots: one cache line holds two), linear probing, at most a quarter full, power-of-two size that
// starts empty and doubles. Orders link to their FIFO neighbours by slot index; when a deletion's
// backward shift or a growth moves a slot, the table re-points the neighbours and the caller re-points
// its queue ends.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "book/inline.h"

namespace cmm {

class OrderTable {
 public:
  static constexpr uint32_t kNil = 0xffffffffu;
  // At most a quarter full: short probe runs, and a deletion's backward shift (which re-points the moved
  // orders' neighbours) rarely moves anything. Measured on the MSFT day: 1/2 full costs 30% more time.
  static constexpr size_t kLoadInverse = 4;

  struct Order {
    uint64_t id;     // 0 = empty slot (order id 0 is never stored: it names untracked liquidity)
    int64_t qty;     // > 0
    uint32_t prev;   // FIFO neighbours at the same level (slot indices; kNil at the ends)
    uint32_t next;
    uint32_t queue;  // the level's queue (owner's index)
    uint32_t spare;
  };
  static_assert(sizeof(Order) == 32, "two orders per cache line");

  size_t size() const { return count_; }
  Order& operator[](uint32_t i) { return slots_[i]; }
  const Order& operator[](uint32_t i) const { return slots_[i]; }

  /** Starts loading id's home slot (batch loops call it a few events ahead). */
  void prefetch(uint64_t id) const {
    if (count_ != 0) __builtin_prefetch(&slots_[home(id)]);
  }

  /** Slot of id, or kNil. */
  CMM_ALWAYS_INLINE uint32_t find(uint64_t id) const {
    if (id == 0 || count_ == 0) return kNil;
    bool found;
    const size_t i = probe(id, &found);
    return found ? static_cast<uint32_t>(i) : kNil;
  }

  /**
   * Slot of id (id != 0), inserted (qty 0, unlinked) when absent; *existed tells which. May grow the
   * table first: remap_ends(const std::vector<uint32_t>& new_index_of_old) must then re-point the
   * owner's queue ends (links between orders are re-pointed here).
   */
  template <class RemapEnds>
  CMM_ALWAYS_INLINE uint32_t find_or_insert(uint64_t id, bool* existed, RemapEnds&& remap_ends) {
    if ((count_ + 1) * kLoadInverse > slots_.size()) grow(remap_ends);
    const size_t i = probe(id, existed);
    if (*existed) return static_cast<uint32_t>(i);
    slots_[i] = Order{id, 0, kNil, kNil, kNil, 0};
    count_++;
    *existed = false;
    return static_cast<uint32_t>(i);
  }

  /**
   * Removes the (already unlinked) order at slot i. Later orders of its probe run shift back; for each
   * moved order the table re-points its neighbours, and fix_end(const Order&, uint32_t new_slot) is
   * called when it is at an end of its queue (prev or next is kNil) so the owner re-points head / tail.
   */
  template <class FixEnd>
  CMM_ALWAYS_INLINE void erase(uint32_t i, FixEnd&& fix_end) {
    size_t hole = i;
    for (size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      const uint64_t k = slots_[j].id;
      if (k == 0) break;
      const size_t h = home(k);
      // j stays unless its home lies cyclically outside (hole, j].
      const bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      const uint32_t at = static_cast<uint32_t>(hole);
      Order& o = slots_[hole];
      if (o.prev != kNil) slots_[o.prev].next = at;
      if (o.next != kNil) slots_[o.next].prev = at;
      if (o.prev == kNil || o.next == kNil) fix_end(o, at);
      hole = j;
    }
    slots_[hole].id = 0;
    count_--;
  }

  void clear() {
    if (count_ == 0) return;
    std::memset(static_cast<void*>(slots_.data()), 0, slots_.size() * sizeof(Order));
    count_ = 0;
  }

 private:
  // The slot holding id (*found) or the empty slot ending its probe run.
  CMM_ALWAYS_INLINE size_t probe(uint64_t id, bool* found) const {
    const Order* s = slots_.data();
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      const uint64_t k = s[i].id;
      if (k == id || k == 0) {
        *found = k == id;
        return i;
      }
    }
  }

  size_t home(uint64_t id) const { return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> shift_); }

  template <class RemapEnds>
  CMM_NOINLINE void grow(RemapEnds& remap_ends) {
    const size_t capacity = slots_.empty() ? 256 : slots_.size() * 2;  // 8 KiB on the first order
    std::vector<Order> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    int bits = 0;
    while ((size_t{1} << bits) < capacity) bits++;
    shift_ = 64 - bits;
    std::vector<uint32_t> remap(old.size(), kNil);
    for (size_t i = 0; i < old.size(); i++) {
      if (old[i].id == 0) continue;
      size_t j = home(old[i].id);
      while (slots_[j].id != 0) j = (j + 1) & mask_;
      slots_[j] = old[i];
      remap[i] = static_cast<uint32_t>(j);
    }
    for (Order& o : slots_) {
      if (o.id == 0) continue;
      if (o.prev != kNil) o.prev = remap[o.prev];
      if (o.next != kNil) o.next = remap[o.next];
    }
    remap_ends(remap);
  }

  std::vector<Order> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t count_ = 0;
};

}  // namespace cmm
