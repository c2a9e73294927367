// Market-by-order book: event semantics documented in l3_book.h. Orders live in a pooled vector
// (free list), found by id through a FlatMap; each level's FIFO is an intrusive list whose ends sit in
// a pooled Queue (found by price through a per-side FlatMap; orders keep its index, so removing an
// order needs no lookup). Ladders hold the aggregated qty and order count.
#include "book/l3_book.h"

#include <algorithm>

namespace cmm {

namespace {
inline bool valid_side(uint8_t s) { return s == kSideBid || s == kSideAsk; }
inline uint8_t opposite(uint8_t s) { return s == kSideBid ? kSideAsk : s == kSideAsk ? kSideBid : kSideNone; }
inline uint64_t price_key(int64_t price) { return static_cast<uint64_t>(price); }
}  // namespace

L3Book::L3Book() : ids_(1u << 13), bid_levels_(512), ask_levels_(512) {
  orders_.reserve(1u << 14);
  queues_.reserve(1024);
}

Status L3Book::apply(const Event& e) {
  switch (static_cast<EventKind>(e.kind)) {
    case EventKind::Add: {
      if (!valid_side(e.side) || e.qty <= 0) break;
      if (e.order_id == 0) return apply_untracked(e);
      if (const uint32_t* old = ids_.find(e.order_id)) {
        duplicate_adds_++;
        remove_order(*old);
      }
      const uint32_t idx = alloc_order();
      Order& o = orders_[idx];
      o.id = e.order_id;
      o.price = e.price;
      o.qty = e.qty;
      o.side = e.side;
      ids_.insert(e.order_id, idx);
      live_orders_++;
      enqueue(idx);
      return kOk;
    }
    case EventKind::Modify: {
      if (e.qty < 0) break;
      if (e.order_id == 0) {
        if (!valid_side(e.side)) break;
        return apply_untracked(e);
      }
      const uint32_t* found = ids_.find(e.order_id);
      if (!found) {
        unknown_orders_++;
        return kUnknownOrder;
      }
      const uint32_t idx = *found;
      Order& o = orders_[idx];
      if (e.qty == 0) {
        remove_order(idx);
      } else if (e.price != o.price) {  // moves: back of the new level's queue
        unlink(idx);
        ladder(o.side).add(o.price, -o.qty, -1);
        drop_queue_if_empty(o.queue);
        o.price = e.price;
        o.qty = e.qty;
        enqueue(idx);
      } else {  // same price: keeps its place
        ladder(o.side).add(o.price, e.qty - o.qty, 0);
        o.qty = e.qty;
      }
      return kOk;
    }
    case EventKind::Cancel: {
      if (e.qty <= 0) break;
      if (e.order_id == 0) {
        if (!valid_side(e.side)) break;
        return apply_untracked(e);
      }
      const uint32_t* found = ids_.find(e.order_id);
      if (!found) {
        unknown_orders_++;
        if (valid_side(e.side)) reduce_untracked(e.side, e.price, e.qty);
        return kUnknownOrder;
      }
      reduce(*found, e.qty);
      return kOk;
    }
    case EventKind::Trade: {
      if (!(e.flags & kFlagExecResting) || (e.flags & kFlagHidden)) return kOk;  // a print only
      if (e.qty <= 0) break;
      const uint32_t* found = e.order_id != 0 ? ids_.find(e.order_id) : nullptr;
      if (found) {
        reduce(*found, e.qty);
        return kOk;
      }
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

Status L3Book::apply_untracked(const Event& e) {
  const auto kind = static_cast<EventKind>(e.kind);
  if (kind == EventKind::Cancel) {
    reduce_untracked(e.side, e.price, e.qty);
    return kOk;
  }
  const uint32_t qi = queue_for(e.side, e.price);
  Queue& q = queues_[qi];
  const int64_t delta = kind == EventKind::Modify ? e.qty - q.untracked : e.qty;
  q.untracked += delta;
  ladder(e.side).add(e.price, delta, 0);
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

uint32_t L3Book::alloc_order() {
  if (free_head_ != kNil) {
    const uint32_t idx = free_head_;
    free_head_ = orders_[idx].next;
    return idx;
  }
  orders_.push_back(Order{});
  return static_cast<uint32_t>(orders_.size() - 1);
}

uint32_t L3Book::find_queue(uint8_t s, int64_t price) const {
  const uint32_t* qi = level_map(s).find(price_key(price));
  return qi ? *qi : kNil;
}

uint32_t L3Book::queue_for(uint8_t s, int64_t price) {
  FlatMap<uint32_t>& m = level_map(s);
  if (const uint32_t* found = m.find(price_key(price))) return *found;
  uint32_t qi;
  if (free_queue_ != kNil) {
    qi = free_queue_;
    free_queue_ = queues_[qi].tail;
  } else {
    queues_.push_back(Queue{});
    qi = static_cast<uint32_t>(queues_.size() - 1);
  }
  queues_[qi] = Queue{kNil, kNil, 0, price, s};
  m.insert(price_key(price), qi);
  return qi;
}

void L3Book::enqueue(uint32_t idx) {
  const uint32_t qi = queue_for(orders_[idx].side, orders_[idx].price);
  Order& o = orders_[idx];
  Queue& q = queues_[qi];
  o.queue = qi;
  o.priority = next_priority_++;
  o.prev = q.tail;
  o.next = kNil;
  if (q.tail != kNil) orders_[q.tail].next = idx;
  else q.head = idx;
  q.tail = idx;
  ladder(o.side).add(o.price, o.qty, 1);
}

void L3Book::unlink(uint32_t idx) {
  Order& o = orders_[idx];
  Queue& q = queues_[o.queue];
  if (o.prev != kNil) orders_[o.prev].next = o.next;
  else q.head = o.next;
  if (o.next != kNil) orders_[o.next].prev = o.prev;
  else q.tail = o.prev;
}

void L3Book::drop_queue_if_empty(uint32_t qi) {
  Queue& q = queues_[qi];
  if (q.head != kNil || q.untracked != 0) return;
  level_map(q.side).erase(price_key(q.price));
  q.tail = free_queue_;
  free_queue_ = qi;
}

void L3Book::remove_order(uint32_t idx) {
  Order& o = orders_[idx];
  unlink(idx);
  ladder(o.side).add(o.price, -o.qty, -1);
  drop_queue_if_empty(o.queue);
  ids_.erase(o.id);
  o.next = free_head_;
  free_head_ = idx;
  live_orders_--;
}

void L3Book::reduce(uint32_t idx, int64_t by) {
  Order& o = orders_[idx];
  if (by >= o.qty) {
    remove_order(idx);
    return;
  }
  o.qty -= by;
  ladder(o.side).add(o.price, -by, 0);
}

void L3Book::remove_level(uint8_t s, int64_t price) {
  const uint32_t qi = find_queue(s, price);
  if (qi == kNil) return;
  for (uint32_t i = queues_[qi].head; i != kNil;) {
    Order& o = orders_[i];
    const uint32_t next = o.next;
    ids_.erase(o.id);
    o.next = free_head_;
    free_head_ = i;
    live_orders_--;
    i = next;
  }
  queues_[qi].head = kNil;
  queues_[qi].untracked = 0;
  drop_queue_if_empty(qi);
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
  const uint32_t* found = ids_.find(order_id);
  if (!found) return -1;
  const Order& o = orders_[*found];
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
    const uint32_t qi = queue_for(s, price);
    ladder(s).add(price, (qty - known) - untracked, 0);
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
    reduce(idx, take);  // may release the queue: looked up again next round
    excess -= take;
    touched++;
  }
  return touched;
}

bool L3Book::find_order(uint64_t order_id, Side* s, int64_t* price, int64_t* qty) const {
  const uint32_t* found = ids_.find(order_id);
  if (!found) return false;
  const Order& o = orders_[*found];
  if (s) *s = static_cast<Side>(o.side);
  if (price) *price = o.price;
  if (qty) *qty = o.qty;
  return true;
}

void L3Book::clear() {
  ids_.clear();
  bid_levels_.clear();
  ask_levels_.clear();
  queues_.clear();
  free_queue_ = kNil;
  orders_.clear();
  free_head_ = kNil;
  live_orders_ = 0;
  bids_.clear();
  asks_.clear();
}

}  // namespace cmm
