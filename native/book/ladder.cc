// Ladder (ladder.h): everything off the per-event fast path. New and removed mirrored levels (the
// mirror's shifts, spills and refills), deep levels without a page or outside the index window
// (overflow), growing and re-centring the window, and the ordered reads (qty_ahead, levels below the
// mirror for at()).
#include "book/ladder.h"

#include <algorithm>

namespace cmm {

Ladder::Ladder(bool is_bid, bool meta) : flip_(is_bid ? 0 : -1), meta_(meta) {
  for (Level& l : top_) l = unused_entry();
}

template <class Op>
typename Op::Result Ladder::update_deep_slow(int64_t price, Op op) {
  // Below the mirror (key(price) < top_floor_, so the mirror holds kTopMin levels or more): a level
  // made here stays deep, and the mirror is not touched.
  uint64_t off;
  LevelSlot slot{0, LevelMeta{0, kNoAux}};
  size_t oi = 0;
  bool listed = false;  // an overflow entry holds the level
  if (!index_.in_window(price, &off)) {
    oi = overflow_lower_bound(price);
    listed = oi < overflow_.size() && overflow_[oi].price == price;
    if (listed) slot = overflow_[oi].slot;
  }  // else its page is absent: no level there
  const int64_t prev = slot.qty;
  const auto result = op(slot.qty, slot.meta.count, slot.meta.aux, meta_);
  const bool now = slot.qty > 0;
  if (listed && !now) overflow_.erase(overflow_.begin() + static_cast<ptrdiff_t>(oi));
  else if (now) store(price, slot);
  size_ += static_cast<size_t>(now) - static_cast<size_t>(prev > 0);
  snapshot_valid_ = false;
  return result;
}

template <class Op>
typename Op::Result Ladder::add_top(int64_t price, Op op) {
  LevelSlot slot{0, LevelMeta{0, kNoAux}};
  const auto result = op(slot.qty, slot.meta.count, slot.meta.aux, meta_);
  if (slot.qty <= 0) return result;
  const bool outside = store(price, slot);  // the data too: right if the level ends up deep
  size_++;
  if (top_count_ == kTopCap) spill();
  const int64_t k = key(price);
  if (k >= top_floor_) {
    const size_t j = count_not_better(k);  // the new level goes to j - 1
    const size_t first = kTopCap - top_count_;
    move_top(first, j - first, true);  // the worse levels move down one
    put_top(j - 1, level(price, slot));
    top_count_++;
    set_floor();
  } else {
    snapshot_valid_ = false;  // the spill left it below the mirror: deep
  }
  if (outside) maybe_rebase();
  return result;
}

template int64_t Ladder::update_deep_slow<Ladder::SetOp>(int64_t, Ladder::SetOp);
template uint32_t Ladder::update_deep_slow<Ladder::JoinOp>(int64_t, Ladder::JoinOp);
template int64_t Ladder::add_top<Ladder::SetOp>(int64_t, Ladder::SetOp);
template uint32_t Ladder::add_top<Ladder::JoinOp>(int64_t, Ladder::JoinOp);

void Ladder::erase_top(size_t i) {
  unstore(top_[i].price);
  size_--;
  const size_t first = kTopCap - top_count_;
  move_top(first, i - first, false);  // the worse levels move up one
  top_[first] = unused_entry();
  top_count_--;
  if (top_count_ < kTopMin && size_ > top_count_) refill();
  set_floor();
}

void Ladder::move_top(size_t from, size_t n, bool down) {
  // One entry at a time: the moves are short, and a memmove call costs more than it saves. The empty
  // asm keeps compilers from turning the loop back into that call.
  if (down) {
    for (size_t i = from; i < from + n; i++) {
      put_top(i - 1, top_[i]);
      asm volatile("" ::: "memory");
    }
  } else {
    for (size_t i = from + n; i-- > from;) {
      put_top(i + 1, top_[i]);
      asm volatile("" ::: "memory");
    }
  }
}

size_t Ladder::count_not_better(int64_t k) const {
  size_t j = 0;
  // A mask rather than a select: compilers turn the select into a branch.
  for (size_t h = kTopCap / 2; h > 0; h /= 2) j += h & (size_t{0} - (key(top_[j + h - 1].price) <= k));
  return j + (key(top_[j].price) <= k);
}

void Ladder::spill() {
  // The dropped levels become deep: their data goes back to their storage.
  for (size_t i = kTopCap - top_count_; i < kTopCap - kTopRefill; i++) {
    const Level& l = top_[i];
    store(l.price, LevelSlot{l.qty, LevelMeta{l.count, l.aux}});
    top_[i] = unused_entry();
  }
  top_count_ = kTopRefill;
  set_floor();
  snapshot_valid_ = false;
}

void Ladder::refill() {
  // Called after an erase left fewer than kTopMin (but at least kTopMin - 1 >= 1) levels in the mirror
  // and deeper ones exist: they are the next best, beyond the mirror's worst level.
  size_t i = kTopCap - top_count_;
  visit_worse(top_[i].price, [&](const Level& l) {
    put_top(--i, l);
    return kTopCap - i < kTopRefill;
  });
  top_count_ = kTopCap - i;
  snapshot_valid_ = false;
}

void Ladder::set_floor() {
  top_floor_ = top_count_ >= kTopMin ? key(top_[kTopCap - top_count_].price) : INT64_MIN;
}

bool Ladder::store(int64_t price, const LevelSlot& s) {
  uint64_t off;
  if (index_.in_window(price, &off)) {
    index_.put(off, s);
    return false;
  }
  const size_t i = overflow_lower_bound(price);
  if (i < overflow_.size() && overflow_[i].price == price) {
    overflow_[i].slot = s;
  } else if (index_.grow_toward(price)) {
    absorb();
    index_.in_window(price, &off);
    index_.put(off, s);
  } else {
    overflow_.insert(overflow_.begin() + static_cast<ptrdiff_t>(i), OutsideEntry{price, s});
  }
  return true;
}

void Ladder::unstore(int64_t price) {
  uint64_t off;
  if (index_.in_window(price, &off)) {
    Page* pg = index_.page(off);
    pg->qty[PriceIndex::slot_of(off)] = 0;
    PriceIndex::mark(pg, PriceIndex::slot_of(off), false);
    return;
  }
  overflow_.erase(overflow_.begin() + static_cast<ptrdiff_t>(overflow_lower_bound(price)));
}

bool Ladder::find_deep(int64_t price, int64_t** qty, LevelMeta** meta) const {
  uint64_t off;
  if (index_.in_window(price, &off)) {
    size_t t;
    Page* pg = index_.find(price, &t);
    if (!pg) return false;
    *qty = &pg->qty[t];
    *meta = &pg->meta[t];
    return true;
  }
  const size_t i = overflow_lower_bound(price);
  if (i == overflow_.size() || overflow_[i].price != price) return false;
  OutsideEntry& o = const_cast<OutsideEntry&>(overflow_[i]);
  *qty = &o.slot.qty;
  *meta = &o.slot.meta;
  return true;
}

void Ladder::enable_meta() {
  // Until now no level's count or aux was written: each is 0 and kNoAux, wherever the level lives. The
  // stored fields may hold anything (a page slot's last use, or an overflow entry copied from one when
  // the window moved), so all three places are set.
  index_.visit([](int64_t, Page& pg, size_t t) { pg.meta[t] = LevelMeta{0, kNoAux}; });
  for (OutsideEntry& o : overflow_) o.slot.meta = LevelMeta{0, kNoAux};
  for (size_t i = kTopCap - top_count_; i < kTopCap; i++) {
    top_[i].count = 0;
    top_[i].aux = kNoAux;
  }
  snapshot_valid_ = false;
  meta_ = true;
}

uint32_t Ladder::aux_at(int64_t price) const {
  if (key(price) >= top_floor_) {
    const size_t i = top_find(price);
    return i < kTopCap ? top_[i].aux : kNoAux;
  }
  int64_t* q;
  LevelMeta* m;
  return meta_ && find_deep(price, &q, &m) ? m->aux : kNoAux;
}

bool Ladder::set_aux(int64_t price, uint32_t aux) {
  if (aux != kNoAux && !meta_) enable_meta();
  if (key(price) >= top_floor_) {
    const size_t i = top_find(price);
    if (i == kTopCap) return false;
    top_[i].aux = meta_ ? aux : kNoAux;
    return true;
  }
  int64_t* q;
  LevelMeta* m;
  if (!find_deep(price, &q, &m)) return false;
  if (meta_) m->aux = aux;  // else aux is kNoAux, as every level's
  snapshot_valid_ = false;
  return true;
}

int64_t Ladder::qty_at(int64_t price) const {
  if (key(price) >= top_floor_) {
    const size_t i = top_find(price);
    return i < kTopCap ? top_[i].qty : 0;
  }
  int64_t* q;
  LevelMeta* m;
  return find_deep(price, &q, &m) ? *q : 0;
}

int64_t Ladder::qty_ahead(int64_t price) const {
  int64_t total = 0;
  for (size_t i = 0; i < top_count_; i++) {
    const Level& l = top_[kTopCap - 1 - i];
    if (better(price, l.price)) return total;
    total = wrapping_add(total, l.qty);
  }
  if (top_count_ == 0) return total;
  visit_worse(top_[kTopCap - top_count_].price, [&](const Level& l) {
    if (better(price, l.price)) return false;
    total = wrapping_add(total, l.qty);
    return true;
  });
  return total;
}

size_t Ladder::prune_through(int64_t price) {
  size_t n = 0;
  while (top_count_ > 0 && !better(price, top_[kTopCap - 1].price)) {
    erase_top(kTopCap - 1);
    n++;
  }
  return n;
}

void Ladder::clear() {
  index_.release_all();
  overflow_.clear();
  for (Level& l : top_) l = unused_entry();
  size_ = 0;
  top_count_ = 0;
  top_floor_ = INT64_MIN;
  snapshot_valid_ = false;
}

size_t Ladder::overflow_lower_bound(int64_t price) const {
  return static_cast<size_t>(std::lower_bound(overflow_.begin(), overflow_.end(), price,
                                              [](const OutsideEntry& o, int64_t p) { return o.price < p; }) -
                             overflow_.begin());
}

void Ladder::absorb() {
  size_t keep = 0;
  for (const OutsideEntry& o : overflow_) {
    uint64_t off;
    if (index_.in_window(o.price, &off)) index_.put(off, o.slot);
    else overflow_[keep++] = o;
  }
  overflow_.resize(keep);
}

void Ladder::maybe_rebase() {
  if (top_count_ == 0) return;
  const int64_t best = top_[kTopCap - 1].price;
  uint64_t off;
  if (index_.in_window(best, &off) || !PriceIndex::indexable(best)) return;
  std::vector<OutsideEntry> all(overflow_);
  all.reserve(size_);
  index_.visit([&](int64_t p, const Page& pg, size_t t) { all.push_back(OutsideEntry{p, LevelSlot{pg.qty[t], pg.meta[t]}}); });
  // Best first: the window grows toward the levels nearest the best before the far ones. (Mirrored
  // levels' storage is re-made with stale data: only deep levels' data is read from storage.)
  std::sort(all.begin(), all.end(), [this](const OutsideEntry& a, const OutsideEntry& b) { return better(a.price, b.price); });
  overflow_.clear();
  index_.reset(best);
  for (const OutsideEntry& o : all) {
    if (index_.in_window(o.price, &off) || (index_.grow_toward(o.price) && index_.in_window(o.price, &off)))
      index_.put(off, o.slot);
    else
      overflow_.push_back(o);
  }
  std::sort(overflow_.begin(), overflow_.end(), [](const OutsideEntry& a, const OutsideEntry& b) { return a.price < b.price; });
  snapshot_valid_ = false;
}

template <class F>
void Ladder::visit_worse(int64_t bound, F&& f) const {
  const bool bid = is_bid();
  int64_t wp = 0;
  bool in_index = index_.next_occupied(!bid, bound, &wp);  // worse: lower prices for bids
  // The best overflow entry strictly worse than bound, then onward (down for bids, up for asks).
  const size_t n = overflow_.size();
  const size_t lb = overflow_lower_bound(bound);
  size_t oi = bid ? (lb == 0 ? n : lb - 1) : (lb < n && overflow_[lb].price == bound ? lb + 1 : lb);
  for (;;) {
    const bool in_overflow = oi < n;
    if (in_overflow && (!in_index || better(overflow_[oi].price, wp))) {
      if (!f(level(overflow_[oi].price, overflow_[oi].slot))) return;
      oi = bid ? (oi == 0 ? n : oi - 1) : oi + 1;
    } else if (in_index) {
      size_t t;
      const Page* pg = index_.find(wp, &t);
      if (!f(level(wp, LevelSlot{pg->qty[t], pg->meta[t]}))) return;
      in_index = index_.next_occupied(!bid, wp, &wp);
    } else {
      return;
    }
  }
}

const Level& Ladder::deep_at(size_t i) const {
  if (!snapshot_valid_) {
    snapshot_.clear();
    visit_worse(top_[kTopCap - top_count_].price, [&](const Level& l) {
      snapshot_.push_back(l);
      return true;
    });
    snapshot_valid_ = true;
  }
  return snapshot_[i];
}

}  // namespace cmm
