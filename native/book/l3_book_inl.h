// L3Book's per-event path, inline (included by l3_book.h): apply() and the helpers it runs on every event,
// so a batch loop (MarketEngine::run, the Node binding) compiles the book update into its own body. Event
// semantics are documented in l3_book.h; the slow and rare paths stay in l3_book.cc.
#pragma once

namespace cmm {

namespace l3_detail {
inline bool valid_side(uint8_t s) { return s == kSideBid || s == kSideAsk; }
inline uint8_t opposite(uint8_t s) { return s == kSideBid ? kSideAsk : s == kSideAsk ? kSideBid : kSideNone; }
}  // namespace l3_detail

CMM_ALWAYS_INLINE Status L3Book::apply(const Event& e) {
  switch (static_cast<EventKind>(e.kind)) {
    case EventKind::Add: {
      if (!l3_detail::valid_side(e.side) || e.qty <= 0) break;
      if (e.order_id == 0) return apply_untracked(e);
      bool existed;
      const uint32_t idx = order_slot(e.order_id, &existed);
      if (existed) {  // the old order goes; its slot takes the new one
        duplicate_adds_++;
        detach(idx);
      }
      orders_[idx].qty = e.qty;
      attach(idx, e.side, e.price);
      return kOk;
    }
    case EventKind::Modify: {
      if (e.qty < 0) break;
      if (e.order_id == 0) {
        if (!l3_detail::valid_side(e.side)) break;
        return apply_untracked(e);
      }
      const uint32_t idx = orders_.find(e.order_id);
      if (idx == kNil) {
        unknown_orders_++;
        return kUnknownOrder;
      }
      OrderTable::Order& o = orders_[idx];
      const Queue& q = queues_[o.queue];
      if (e.qty == 0) {
        remove_order(idx);
      } else if (e.price != q.price) {  // moves: back of the new level's queue
        const uint8_t s = q.side;
        detach(idx);
        o.qty = e.qty;
        attach(idx, s, e.price);
      } else {  // same price: keeps its place
        ladder(q.side).add(q.price, e.qty - o.qty, 0);
        o.qty = e.qty;
      }
      return kOk;
    }
    case EventKind::Cancel: {
      if (e.qty <= 0) break;
      if (e.order_id == 0) {
        if (!l3_detail::valid_side(e.side)) break;
        return apply_untracked(e);
      }
      const uint32_t idx = orders_.find(e.order_id);
      if (idx == kNil) {
        unknown_orders_++;
        if (l3_detail::valid_side(e.side)) reduce_untracked(e.side, e.price, e.qty);
        return kUnknownOrder;
      }
      reduce(idx, e.qty, e.side, e.price);
      return kOk;
    }
    case EventKind::Trade: {
      if (!(e.flags & kFlagExecResting) || (e.flags & kFlagHidden)) return kOk;  // a print only
      if (e.qty <= 0) break;
      const uint32_t idx = orders_.find(e.order_id);  // kNil for order id 0
      const uint8_t resting = l3_detail::opposite(e.side);  // trade side is the aggressor
      if (idx != kNil) {
        reduce(idx, e.qty, resting, e.price);
        return kOk;
      }
      if (resting != kSideNone) reduce_untracked(resting, e.price, e.qty);
      if (e.order_id == 0) return kOk;
      unknown_orders_++;
      return kUnknownOrder;
    }
    case EventKind::DeleteLevel:
      if (!l3_detail::valid_side(e.side)) break;
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

CMM_ALWAYS_INLINE uint32_t L3Book::order_slot(uint64_t id, bool* existed) {
  return orders_.find_or_insert(id, existed, [this](const std::vector<uint32_t>& remap) {
    for (Queue& q : queues_) {
      if (!q.live) continue;
      if (q.head != kNil) q.head = remap[q.head];
      if (q.tail != kNil) q.tail = remap[q.tail];
    }
  });
}

CMM_ALWAYS_INLINE uint32_t L3Book::join_level(uint8_t s, int64_t price, int64_t dqty, int64_t dcount) {
  // The queue a new level gets: the free list's head, or one past the pool.
  const uint32_t candidate = free_queue_ != kNil ? free_queue_ : static_cast<uint32_t>(queues_.size());
  const uint32_t qi = ladder(s).join(price, dqty, dcount, candidate);
  if (qi != candidate) {
    if (qi < queues_.size()) {
      const Queue& q = queues_[qi];
      if (q.live && q.price == price && q.side == s) return qi;
    }
    if (qi == kNil) return kNil;  // no level before or after
    // Damaged book (see find_queue): a surviving level gets a fresh queue, a vanished one none.
    if (!ladder(s).set_aux(price, candidate)) return kNil;
  }
  return new_queue(candidate, s, price);
}

CMM_ALWAYS_INLINE void L3Book::attach(uint32_t idx, uint8_t s, int64_t price) {
  const uint32_t qi = join_level(s, price, orders_[idx].qty, 1);
  if (qi == kNil) {  // only on a damaged book: the order cannot rest anywhere
    erase_order(idx);
    return;
  }
  OrderTable::Order& o = orders_[idx];
  Queue& q = queues_[qi];
  o.queue = qi;
  o.prev = q.tail;
  o.next = kNil;
  if (q.tail != kNil) orders_[q.tail].next = idx;
  else q.head = idx;
  q.tail = idx;
}

CMM_ALWAYS_INLINE void L3Book::unlink(uint32_t idx) {
  OrderTable::Order& o = orders_[idx];
  Queue& q = queues_[o.queue];
  if (o.prev != kNil) orders_[o.prev].next = o.next;
  else q.head = o.next;
  if (o.next != kNil) orders_[o.next].prev = o.prev;
  else q.tail = o.prev;
}

CMM_ALWAYS_INLINE void L3Book::detach(uint32_t idx) {
  unlink(idx);
  const OrderTable::Order& o = orders_[idx];
  const Queue& q = queues_[o.queue];
  ladder(q.side).add(q.price, -o.qty, -1);
  drop_queue_if_empty(o.queue);
}

CMM_ALWAYS_INLINE void L3Book::remove_order(uint32_t idx) {
  detach(idx);
  erase_order(idx);
}

CMM_ALWAYS_INLINE void L3Book::erase_order(uint32_t idx) {
  orders_.erase(idx, [this](const OrderTable::Order& o, uint32_t at) {
    Queue& q = queues_[o.queue];
    if (o.prev == kNil) q.head = at;
    if (o.next == kNil) q.tail = at;
  });
}

CMM_ALWAYS_INLINE void L3Book::drop_queue_if_empty(uint32_t qi) {
  Queue& q = queues_[qi];
  if (q.head != kNil || q.untracked != 0) return;
  q.live = false;
  q.tail = free_queue_;
  free_queue_ = qi;
}

CMM_ALWAYS_INLINE void L3Book::reduce(uint32_t idx, int64_t by, uint8_t side, int64_t price) {
  OrderTable::Order& o = orders_[idx];
  const uint32_t qi = o.queue;
  const Queue& q = queues_[qi];
  const bool full = by >= o.qty;
  const int64_t dqty = full ? -o.qty : -by;
  if (full) unlink(idx);
  else o.qty -= by;
  // (side, price) come from the event and name the order's level: taken from there (when they agree
  // with the queue's), the ladder lookup does not wait for the order's record to load.
  if (q.price == price && q.side == side) ladder(side).add(price, dqty, full ? -1 : 0);
  else ladder(q.side).add(q.price, dqty, full ? -1 : 0);
  if (full) {
    drop_queue_if_empty(qi);
    erase_order(idx);
  }
}

}  // namespace cmm
