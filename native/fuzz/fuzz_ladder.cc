// libFuzzer target for one Ladder side against a std::map reference: every public call, with the best
// ten levels (and, every so often, every level) compared after each operation: price, quantity, order
// count, aux, and the best ten being one contiguous array. Prices come in regimes (a few ticks, hundreds,
// thousands, a wide spread, anywhere, the int64 extremes) around a centre that jumps, so the mirror's
// spills and refills, the index window's growth and re-centring and the overflow vector all run;
// quantities include garbage that wraps. fuzz_book reaches the Ladder only through books over 41 prices.
#include <cstdint>
#include <map>

#include "book/ladder.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct RefLevel {
  int64_t qty;
  int32_t count;
  uint32_t aux;
};

// splitmix64: extra bits for one operation from its 8 input bytes.
uint64_t Mix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Harness {
 public:
  Harness(bool bid, long l2_until) : ladder_(bid), bid_(bid), l2_until_(l2_until) {}

  void step(uint64_t r, long index) {
    uint64_t s = r;
    const int64_t price = pick_price(r, s, index);
    if (index % 512 == 511) centre_ += static_cast<int64_t>(Mix(s) % 3000000) - 1500000;
    const bool l2 = index < l2_until_;
    int op = static_cast<int>((r >> 8) % 100);
    int64_t q = static_cast<int64_t>((r >> 20) % 50) - 5;
    if ((r >> 40) % 53 == 0) q = (r >> 46) & 1 ? INT64_MAX / 2 + 7 : INT64_MIN / 2;  // wraps when summed
    if (l2 && op >= 85 && op < 88) op = 90;  // an L2 book never sets aux
    auto it = ref_.find(price);
    if (op < 45) {  // set
      const int64_t c = l2 ? 0 : static_cast<int64_t>((r >> 32) % 5);
      Check(ladder_.set(price, q, c) == (it == ref_.end() ? 0 : it->second.qty));
      if (q > 0 && it == ref_.end()) ref_[price] = RefLevel{q, static_cast<int32_t>(c), cmm::Ladder::kNoAux};
      else if (q > 0) it->second = RefLevel{q, static_cast<int32_t>(c), it->second.aux};
      else if (it != ref_.end()) ref_.erase(it);
    } else if (op < 85) {  // join: existing levels keep their aux, new ones take new_aux
      const int64_t dc = l2 ? 0 : static_cast<int64_t>((r >> 32) % 5) - 2;
      const uint32_t new_aux = l2 ? cmm::Ladder::kNoAux : static_cast<uint32_t>(r >> 50);
      uint32_t expect = cmm::Ladder::kNoAux;
      if (it != ref_.end()) {
        expect = it->second.aux;
        it->second.qty = cmm::wrapping_add(it->second.qty, q);
        it->second.count = static_cast<int32_t>(static_cast<uint32_t>(it->second.count) + static_cast<uint32_t>(dc));
        if (it->second.qty <= 0) ref_.erase(it);
      } else if (q > 0) {
        ref_[price] = RefLevel{q, static_cast<int32_t>(dc > 0 ? dc : 0), new_aux};
        expect = new_aux;
      }
      Check(ladder_.join(price, q, dc, new_aux) == expect);
    } else if (op < 88) {  // set_aux
      const uint32_t a = static_cast<uint32_t>(r >> 33);
      Check(ladder_.set_aux(price, a) == (it != ref_.end()));
      if (it != ref_.end()) it->second.aux = a;
    } else if (op < 91) {  // point reads
      Check(ladder_.qty_at(price) == (it == ref_.end() ? 0 : it->second.qty));
      Check(ladder_.aux_at(price) == (it == ref_.end() ? cmm::Ladder::kNoAux : it->second.aux));
    } else if (op < 93) {  // qty_ahead: every level at or better than price
      int64_t total = 0;
      for (const auto& [p, v] : ref_)
        if (!better(price, p)) total = cmm::wrapping_add(total, v.qty);
      Check(ladder_.qty_ahead(price) == total);
    } else if (op < 94) {  // prune_through
      size_t n = 0;
      for (auto j = ref_.begin(); j != ref_.end();) {
        if (!better(price, j->first)) j = ref_.erase(j), n++;
        else ++j;
      }
      Check(ladder_.prune_through(price) == n);
    } else if (op == 94 && (r >> 60) == 0) {
      ladder_.clear();
      ref_.clear();
    }
    compare(index % 97 == 0);
  }

 private:
  int64_t pick_price(uint64_t r, uint64_t& s, long index) {
    switch (r % 16) {
      case 0: return static_cast<int64_t>(Mix(s) >> 1) * ((Mix(s) & 1) ? 1 : -1);  // anywhere
      case 1: return (Mix(s) & 1) ? INT64_MAX - static_cast<int64_t>(Mix(s) % 4) : INT64_MIN + static_cast<int64_t>(Mix(s) % 4);
      case 2: return centre_ + static_cast<int64_t>(Mix(s) % 4000000) - 2000000;
      default: {
        static constexpr int64_t kWidths[] = {40, 300, 5000, 60, 100000};
        const int64_t w = kWidths[(index / 128) % 5];
        return centre_ + static_cast<int64_t>(Mix(s) % static_cast<uint64_t>(2 * w)) - w;
      }
    }
  }

  bool better(int64_t a, int64_t b) const { return bid_ ? a > b : a < b; }

  // Size, best level, and the best ten (every level when full) against the reference, best first.
  void compare(bool full) {
    Check(ladder_.size() == ref_.size());
    if (ref_.empty()) {
      Check(ladder_.empty() && ladder_.best_price() == cmm::kNoPrice && ladder_.best_qty() == 0);
      return;
    }
    const size_t n10 = ref_.size() < 10 ? ref_.size() : 10;
    const cmm::Level* best = &ladder_.at(0);
    size_t i = 0;
    auto same = [&](int64_t p, const RefLevel& v) {
      if (!full && i >= n10) return false;
      const cmm::Level& x = ladder_.at(i);
      Check(x.price == p && x.qty == v.qty && x.count == v.count && x.aux == v.aux);
      if (i < n10) Check(&x == best - i);  // the best ten are one array
      i++;
      return true;
    };
    if (bid_) {
      for (auto j = ref_.rbegin(); j != ref_.rend() && same(j->first, j->second);) ++j;
    } else {
      for (auto j = ref_.begin(); j != ref_.end() && same(j->first, j->second);) ++j;
    }
    const auto& top = bid_ ? *ref_.rbegin() : *ref_.begin();
    Check(ladder_.best_price() == top.first && ladder_.best_qty() == top.second.qty);
  }

  cmm::Ladder ladder_;
  std::map<int64_t, RefLevel> ref_;
  bool bid_;
  long l2_until_;  // operations before this one call set/join without counts or aux, as an L2 book does
  int64_t centre_ = 1000000;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Harness h(data[0] & 1, 8L * (data[0] >> 1));  // side; an L2-style prefix of 0..1016 operations
  long index = 0;
  for (size_t at = 1; at + 8 <= size; at += 8, index++) {
    uint64_t r = 0;
    for (int b = 0; b < 8; b++) r |= uint64_t{data[at + b]} << (8 * b);
    h.step(r, index);
  }
  return 0;
}
