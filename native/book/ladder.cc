// Ladder (ladder.h): everything off the per-event fast path. Creating and removing top-tier levels
// (shifting the array and re-indexing the moved levels), spilling to and refilling from the deep tier,
// prices outside the index window (search of the top tier, sorted overflow), re-centring the window,
// and the ordered reads (qty_ahead, deep levels for at()).
#include "book/ladder.h"

#include <algorithm>
#include <cstring>

namespace cmm {

template <class F>
void Ladder::with_fields(const Ref& r, F&& f) {
  if (r.kind == Ref::kTop) {
    Level& l = top_[r.index];
    f(l.qty, l.count, l.aux);
    return;
  }
  LevelSlot& s = r.kind == Ref::kPage ? r.page->slots[PriceIndex::slot_of(r.off)] : overflow_[r.index].slot;
  f(s.qty, s.count, s.aux);
}

template <class F>
void Ladder::visit_deep(F&& f) const {
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

template <bool kBid>
size_t Ladder::find_index(int64_t price) const {
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

uint32_t Ladder::aux_at(int64_t price) const {
  uint32_t aux = kNoAux;
  const Ref r = const_cast<Ladder*>(this)->locate(price);
  if (r.kind != Ref::kNone) const_cast<Ladder*>(this)->with_fields(r, [&](int64_t&, int32_t&, uint32_t& a) { aux = a; });
  return aux;
}

bool Ladder::set_aux(int64_t price, uint32_t aux) {
  const Ref r = locate(price);
  if (r.kind == Ref::kNone) return false;
  with_fields(r, [&](int64_t&, int32_t&, uint32_t& a) { a = aux; });
  snapshot_valid_ = false;
  return true;
}

int64_t Ladder::qty_at(int64_t price) const {
  int64_t qty = 0;
  const Ref r = const_cast<Ladder*>(this)->locate(price);
  if (r.kind != Ref::kNone) const_cast<Ladder*>(this)->with_fields(r, [&](int64_t& q, int32_t&, uint32_t&) { qty = q; });
  return qty;
}

int64_t Ladder::qty_ahead(int64_t price) const {
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

size_t Ladder::prune_through(int64_t price) {
  size_t n = 0;
  while (!top_.empty() && !better(price, top_.back().price)) {
    erase_top(top_.size() - 1);
    n++;
  }
  return n;
}

void Ladder::clear() {
  index_.release_all();
  top_.clear();
  overflow_.clear();
  deep_count_ = 0;
  top_outside_ = 0;
  snapshot_valid_ = false;
}

int64_t Ladder::set_outside(int64_t price, int64_t qty, int32_t c) {
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

uint32_t Ladder::join_outside(int64_t price, int64_t dqty, int32_t dc, uint32_t new_aux) {
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

Ladder::Ref Ladder::locate(int64_t price) {
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

Ladder::Ref Ladder::locate_outside(int64_t price) {
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

void Ladder::remove(const Ref& r) {
  if (r.kind == Ref::kTop) return erase_top(r.index);
  snapshot_valid_ = false;
  deep_count_--;
  if (r.kind == Ref::kPage) index_.vacate(r.page, r.off);
  else overflow_.erase(overflow_.begin() + static_cast<ptrdiff_t>(r.index));
}

void Ladder::create(int64_t price, int64_t qty, int32_t count, uint32_t aux) {
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

size_t Ladder::top_position(int64_t price, bool in_window) const {
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

void Ladder::insert_top(size_t pos, const Level& l, bool in_window, uint64_t off) {
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

void Ladder::erase_top(size_t t) {
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

void Ladder::spill() {
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

void Ladder::refill() {
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

void Ladder::reindex_top(size_t from) {
  for (size_t i = from; i < top_.size(); i++) index_.set_top(top_[i].price, static_cast<uint8_t>(i));
}

void Ladder::absorb() {
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

void Ladder::maybe_rebase() {
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

size_t Ladder::overflow_lower_bound(int64_t price) const {
  return static_cast<size_t>(std::lower_bound(overflow_.begin(), overflow_.end(), price,
                                              [](const DeepEntry& o, int64_t p) { return o.price < p; }) -
                             overflow_.begin());
}

void Ladder::overflow_insert(const DeepEntry& d) {
  overflow_.insert(overflow_.begin() + static_cast<ptrdiff_t>(overflow_lower_bound(d.price)), d);
}

size_t Ladder::overflow_beyond(int64_t bound) const {
  if (overflow_.empty()) return 0;
  if (is_bid_) {  // highest price below bound
    const size_t i = overflow_lower_bound(bound);
    return i == 0 ? overflow_.size() : i - 1;
  }
  const size_t i = overflow_lower_bound(bound);  // lowest price above bound
  return i < overflow_.size() && overflow_[i].price == bound ? i + 1 : i;
}

const Level& Ladder::deep_at(size_t i) const {
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

size_t Ladder::find(int64_t price) const { return is_bid_ ? find_index<true>(price) : find_index<false>(price); }

}  // namespace cmm
