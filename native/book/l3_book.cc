// Market-by-order book, off its inline fast path (l3_book_inl.h): the other event kinds and the rare cases
// of the common ones (apply_general), untracked liquidity (order id 0: a pool entry named by the level's
// aux), and the reads and removals that need a level's orders (queue position, DeleteLevel, crossed-book
// pruning, forcing a level total below its known orders), which scan the order table: the hot path keeps
// no per-level order lists.
#include "book/l3_book.h"

#include <algorithm>

#include "book/inline.h"

namespace cmm {

using l3_detail::opposite;
using l3_detail::valid_side;

Status L3Book::apply_general(const Event& e) {
  switch (static_cast<EventKind>(e.kind)) {
    case EventKind::Add:  // apply() took the valid ones with an order id
      if (!valid_side(e.side) || e.qty <= 0) break;
      return apply_untracked(e);
    case EventKind::Modify: {
      if (e.qty < 0) break;
      if (e.order_id == 0) {
        if (!valid_side(e.side)) break;
        return apply_untracked(e);
      }
      Order* o = orders_.find(e.order_id);
      if (o == nullptr) {
        unknown_orders_++;
        return kUnknownOrder;
      }
      if (e.qty == 0) {
        level_add(*o, o->side(), o->price, -o->qty, -1);
        orders_.erase(o);
      } else if (e.price != o->price) {  // moves: back of the new level's queue
        level_add(*o, o->side(), o->price, -o->qty, -1);
        rest(o, o->side(), e.price, e.qty);
      } else {  // same price: keeps its place
        level_add(*o, o->side(), o->price, e.qty - o->qty, 0);
        o->qty = e.qty;
      }
      return kOk;
    }
    case EventKind::Cancel:  // apply() took a known order's
      if (e.qty <= 0) break;
      if (e.order_id == 0) {
        if (!valid_side(e.side)) break;
        return apply_untracked(e);
      }
      unknown_orders_++;
      if (valid_side(e.side)) reduce_untracked(e.side, e.price, e.qty);
      return kUnknownOrder;
    case EventKind::Trade: {  // apply() took an execution of a known order
      if (!(e.flags & kFlagExecResting) || (e.flags & kFlagHidden)) return kOk;  // a print only
      if (e.qty <= 0) break;
      const uint8_t resting = opposite(e.side);  // trade side is the aggressor
      if (resting != kSideNone) reduce_untracked(resting, e.price, e.qty);
      if (e.order_id == 0) return kOk;
      unknown_orders_++;
      return kUnknownOrder;
    }
    case EventKind::DeleteLevel:
      if (!valid_side(e.side)) break;
      remove_level(e.side, e.price);
      return kOk;
    case EventKind::SnapshotBegin:
    case EventKind::Clear:
      clear();
      return kOk;
    default:  // SnapshotEnd, Bbo, Status, None: informational for the book
      return kOk;
  }
  invalid_events_++;
  return kInvalidArg;
}

uint32_t L3Book::find_untracked(uint8_t s, int64_t price) const {
  const uint32_t ui = ladder(s).aux_at(price);
  // aux is kNoAux on a level without untracked qty; it may also be stale (the entry was freed when the
  // qty reached 0, perhaps reused by another level) or left by a level a damaged book lost.
  if (ui >= untracked_.size() || !untracked_[ui].live || untracked_[ui].price != price || untracked_[ui].side != s)
    return kNil;
  return ui;
}

uint32_t L3Book::join_untracked(uint8_t s, int64_t price, int64_t delta) {
  // The entry a level without one gets: the free list's head, or one past the pool.
  const uint32_t candidate = free_untracked_ != kNil ? free_untracked_ : static_cast<uint32_t>(untracked_.size());
  const uint32_t ui = ladder(s).join(price, delta, 0, candidate);
  if (ui != candidate) {
    if (ui < untracked_.size()) {
      Untracked& u = untracked_[ui];
      if (u.live && u.price == price && u.side == s) {
        u.qty = wrapping_add(u.qty, delta);
        return ui;
      }
    }
    // A level of known orders only (or a stale aux): it takes the candidate. No level (delta <= 0 at an
    // empty price, or a level the update emptied): no entry.
    if (!ladder(s).set_aux(price, candidate)) return kNil;
  }
  if (candidate == untracked_.size()) untracked_.push_back(Untracked{});
  else free_untracked_ = untracked_[candidate].next_free;
  untracked_[candidate] = Untracked{delta, price, kNil, s, true};
  return candidate;
}

void L3Book::release_untracked_if_empty(uint32_t ui) {
  Untracked& u = untracked_[ui];
  if (u.qty != 0) return;
  u.live = false;  // the level's aux goes stale: find_untracked rejects it
  u.next_free = free_untracked_;
  free_untracked_ = ui;
}

Status L3Book::apply_untracked(const Event& e) {
  const auto kind = static_cast<EventKind>(e.kind);
  if (kind == EventKind::Cancel) {
    reduce_untracked(e.side, e.price, e.qty);
    return kOk;
  }
  int64_t delta = e.qty;  // Add raises the untracked qty; Modify sets it
  if (kind == EventKind::Modify) delta = wrapping_add(e.qty, -untracked_qty(static_cast<Side>(e.side), e.price));
  if (delta == 0) return kOk;
  const uint32_t ui = join_untracked(e.side, e.price, delta);
  if (ui != kNil) release_untracked_if_empty(ui);
  return kOk;
}

void L3Book::reduce_untracked(uint8_t s, int64_t price, int64_t by) {
  const uint32_t ui = find_untracked(s, price);
  if (ui == kNil || untracked_[ui].qty <= 0) return;
  const int64_t r = std::min(by, untracked_[ui].qty);
  untracked_[ui].qty -= r;
  ladder(s).add(price, -r, 0);
  release_untracked_if_empty(ui);
}

void L3Book::drop_untracked(uint8_t s, int64_t price) {
  const uint32_t ui = find_untracked(s, price);
  if (ui == kNil) return;
  untracked_[ui].qty = 0;
  release_untracked_if_empty(ui);
}

void L3Book::remove_level(uint8_t s, int64_t price) {
  drop_untracked(s, price);
  orders_.erase_if([&](const Order& o) { return o.price == price && o.side() == s; });
  ladder(s).set(price, 0);
}

size_t L3Book::prune_crossed(Side stale_side) {
  if (!crossed() || !valid_side(stale_side)) return 0;
  const int64_t limit = side(static_cast<Side>(opposite(stale_side))).best_price();
  Ladder& l = ladder(stale_side);
  size_t n = 0;
  while (!l.empty() && !l.better(limit, l.best_price())) {
    const int64_t price = l.best_price();
    drop_untracked(stale_side, price);
    l.set(price, 0);
    n++;
  }
  orders_.erase_if([&](const Order& o) { return o.side() == stale_side && !l.better(limit, o.price); });
  return n;
}

int64_t L3Book::qty_ahead_of_order(uint64_t order_id) const {
  const Order* found = orders_.find(order_id);
  if (found == nullptr) return -1;
  const Order o = *found;
  int64_t total = untracked_qty(static_cast<Side>(o.side()), o.price);  // ahead of every known order
  orders_.for_each([&](const Order& other) {
    if (other.price == o.price && other.side() == o.side() && other.arrival() < o.arrival()) total += other.qty;
  });
  return total;
}

int64_t L3Book::untracked_qty(Side s, int64_t price) const {
  const uint32_t ui = find_untracked(s, price);
  return ui == kNil ? 0 : untracked_[ui].qty;
}

size_t L3Book::set_level_total(Side s, int64_t price, int64_t qty) {
  if (!valid_side(s)) return 0;
  if (qty < 0) qty = 0;
  const int64_t untracked = untracked_qty(s, price);
  const int64_t known = ladder(s).qty_at(price) - untracked;
  if (qty >= known) {
    const int64_t delta = (qty - known) - untracked;
    if (delta == 0) return 0;
    const uint32_t ui = join_untracked(s, price, delta);
    if (ui != kNil) release_untracked_if_empty(ui);
    return 0;
  }
  reduce_untracked(s, price, untracked);
  // The level's known orders, oldest first (copies: reducing them moves table slots).
  std::vector<Order> level;
  orders_.for_each([&](const Order& o) {
    if (o.price == price && o.side() == s) level.push_back(o);
  });
  std::sort(level.begin(), level.end(), [](const Order& a, const Order& b) { return a.arrival() < b.arrival(); });
  int64_t excess = known - qty;
  size_t touched = 0;
  for (const Order& o : level) {
    if (excess <= 0) break;
    const int64_t take = std::min(excess, o.qty);
    reduce(orders_.find(o.id), take, s, price);
    excess -= take;
    touched++;
  }
  return touched;
}

bool L3Book::find_order(uint64_t order_id, Side* s, int64_t* price, int64_t* qty) const {
  const Order* found = orders_.find(order_id);
  if (found == nullptr) return false;
  const Order& o = *found;
  if (s) *s = static_cast<Side>(o.side());
  if (price) *price = o.price;
  if (qty) *qty = o.qty;
  return true;
}

void L3Book::clear() {
  orders_.clear();
  next_arrival_ = 0;
  untracked_.clear();
  free_untracked_ = kNil;
  bids_.clear();
  asks_.clear();
}

}  // namespace cmm
