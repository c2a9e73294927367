// Market-by-order book, its slow and rare paths: event semantics in l3_book.h, the per-event path inline in
// l3_book_inl.h. One order-id probe and one ladder lookup per event: the ladder level's aux is its FIFO
// queue (pooled, free list), an order keeps its queue index, so removing an order needs no price lookup
// beyond the ladder's own.
#include "book/l3_book.h"

#include <algorithm>

#include "book/inline.h"

namespace cmm {

using l3_detail::opposite;
using l3_detail::valid_side;

uint32_t L3Book::find_queue(uint8_t s, int64_t price) const {
  const uint32_t qi = ladder(s).aux_at(price);
  // A level always carries a live queue of its own price; the check keeps a damaged book (quantities
  // that overflowed int64) memory-safe.
  if (qi >= queues_.size() || !queues_[qi].live || queues_[qi].price != price || queues_[qi].side != s) return kNil;
  return qi;
}

uint32_t L3Book::new_queue(uint32_t qi, uint8_t s, int64_t price) {
  if (qi == queues_.size()) queues_.push_back(Queue{});
  else free_queue_ = queues_[qi].tail;
  queues_[qi] = Queue{kNil, kNil, 0, price, s, true};
  return qi;
}

Status L3Book::apply_untracked(const Event& e) {
  const auto kind = static_cast<EventKind>(e.kind);
  if (kind == EventKind::Cancel) {
    reduce_untracked(e.side, e.price, e.qty);
    return kOk;
  }
  int64_t delta = e.qty;  // Add raises the untracked qty; Modify sets it
  if (kind == EventKind::Modify) {
    const uint32_t cur = find_queue(e.side, e.price);
    delta = wrapping_add(e.qty, cur == kNil ? 0 : -queues_[cur].untracked);
  }
  if (delta == 0) return kOk;
  const uint32_t qi = join_level(e.side, e.price, delta, 0);
  if (qi == kNil) return kOk;
  queues_[qi].untracked = wrapping_add(queues_[qi].untracked, delta);
  drop_queue_if_empty(qi);
  return kOk;
}

void L3Book::reduce_untracked(uint8_t s, int64_t price, int64_t by) {
  const uint32_t qi = find_queue(s, price);
  if (qi == kNil || queues_[qi].untracked <= 0) return;
  const int64_t r = std::min(by, queues_[qi].untracked);
  queues_[qi].untracked -= r;
  ladder(s).add(price, -r, 0);
  drop_queue_if_empty(qi);
}

void L3Book::remove_level(uint8_t s, int64_t price) {
  const uint32_t qi = find_queue(s, price);
  if (qi != kNil) {
    // Take the head until none is left: an erase may move other orders of this queue in the table,
    // and the table re-points the queue's head when it does.
    while (queues_[qi].head != kNil) {
      const uint32_t idx = queues_[qi].head;
      unlink(idx);
      erase_order(idx);
    }
    queues_[qi].untracked = 0;
    drop_queue_if_empty(qi);
  }
  ladder(s).set(price, 0);
}

size_t L3Book::prune_crossed(Side stale_side) {
  if (!crossed() || !valid_side(stale_side)) return 0;
  const int64_t limit = side(static_cast<Side>(opposite(stale_side))).best_price();
  Ladder& l = ladder(stale_side);
  size_t n = 0;
  while (!l.empty() && !l.better(limit, l.best_price())) {
    remove_level(stale_side, l.best_price());
    n++;
  }
  return n;
}

int64_t L3Book::qty_ahead_of_order(uint64_t order_id) const {
  const uint32_t idx = orders_.find(order_id);
  if (idx == kNil) return -1;
  const OrderTable::Order& o = orders_[idx];
  int64_t total = 0;
  for (uint32_t i = o.prev; i != kNil; i = orders_[i].prev) total += orders_[i].qty;
  return total + queues_[o.queue].untracked;
}

int64_t L3Book::untracked_qty(Side s, int64_t price) const {
  const uint32_t qi = find_queue(s, price);
  return qi == kNil ? 0 : queues_[qi].untracked;
}

size_t L3Book::set_level_total(Side s, int64_t price, int64_t qty) {
  if (!valid_side(s)) return 0;
  if (qty < 0) qty = 0;
  const int64_t untracked = untracked_qty(s, price);
  const int64_t known = ladder(s).qty_at(price) - untracked;
  if (qty >= known) {
    const int64_t delta = (qty - known) - untracked;
    if (delta == 0) return 0;
    const uint32_t qi = join_level(s, price, delta, 0);
    if (qi == kNil) return 0;
    queues_[qi].untracked = qty - known;
    drop_queue_if_empty(qi);
    return 0;
  }
  reduce_untracked(s, price, untracked);
  int64_t excess = known - qty;
  size_t touched = 0;
  while (excess > 0) {  // oldest known orders go first
    const uint32_t qi = find_queue(s, price);
    if (qi == kNil || queues_[qi].head == kNil) break;
    const uint32_t idx = queues_[qi].head;
    const int64_t take = std::min(excess, orders_[idx].qty);
    reduce(idx, take, s, price);  // may release the queue: looked up again next round
    excess -= take;
    touched++;
  }
  return touched;
}

bool L3Book::find_order(uint64_t order_id, Side* s, int64_t* price, int64_t* qty) const {
  const uint32_t idx = orders_.find(order_id);
  if (idx == kNil) return false;
  const OrderTable::Order& o = orders_[idx];
  const Queue& q = queues_[o.queue];
  if (s) *s = static_cast<Side>(q.side);
  if (price) *price = q.price;
  if (qty) *qty = o.qty;
  return true;
}

void L3Book::clear() {
  orders_.clear();
  queues_.clear();
  free_queue_ = kNil;
  bids_.clear();
  asks_.clear();
}

}  // namespace cmm
