// Open-addressing hash map uint64 -> V for the L3 book: linear probing, backward-shift deletion
// (no tombstones), power-of-two capacity kept under half full. Allocates only when it grows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cmm {

template <class V>
class FlatMap {
 public:
  explicit FlatMap(size_t capacity_pow2 = 1024) { rehash(capacity_pow2 < 8 ? 8 : capacity_pow2); }

  size_t size() const { return count_; }

  V* find(uint64_t key) {
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.val;
    }
  }
  const V* find(uint64_t key) const { return const_cast<FlatMap*>(this)->find(key); }

  /** Inserts key (which must be absent) and returns its value slot. */
  V* insert(uint64_t key, const V& val) {
    if ((count_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    size_t i = slot_of(key);
    while (slots_[i].used) i = (i + 1) & mask_;
    slots_[i].used = true;
    slots_[i].key = key;
    slots_[i].val = val;
    count_++;
    return &slots_[i].val;
  }

  /** Removes key if present; later entries of its probe run shift back so lookups stay exact. */
  void erase(uint64_t key) {
    size_t i = slot_of(key);
    for (;; i = (i + 1) & mask_) {
      if (!slots_[i].used) return;
      if (slots_[i].key == key) break;
    }
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (!slots_[j].used) break;
      size_t home = slot_of(slots_[j].key);
      // Move j back into the hole at i unless its home lies cyclically in (i, j].
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].used = false;
    count_--;
  }

  void clear() {
    if (count_ == 0) return;
    for (Slot& s : slots_) s.used = false;
    count_ = 0;
  }

  /** Calls f(key, V&) for every entry (order unspecified). f must not insert or erase. */
  template <class F>
  void for_each(F&& f) {
    for (Slot& s : slots_)
      if (s.used) f(s.key, s.val);
  }

 private:
  struct Slot {
    uint64_t key;
    V val;
    bool used;
  };

  size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }

  void rehash(size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{0, V{}, false});
    mask_ = capacity - 1;
    int bits = 0;
    while ((size_t{1} << bits) < capacity) bits++;
    shift_ = 64 - bits;
    count_ = 0;
    for (const Slot& s : old)
      if (s.used) insert(s.key, s.val);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t count_ = 0;
};

}  // namespace cmm
