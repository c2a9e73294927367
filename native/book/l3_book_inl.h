// L3Book's per-event path, inline (included by l3_book.h): apply() runs the common order flow (add, cancel,
// execution of a known order) itself, so a batch loop (MarketEngine::run, the Node binding) compiles it into
// its own body; every other event, and the rare cases of those, go to apply_general() in l3_book.cc.
// Event semantics are documented in l3_book.h.
#pragma once

namespace cmm {

namespace l3_detail {
inline bool valid_side(uint8_t s) { return s == kSideBid || s == kSideAsk; }
inline uint8_t opposite(uint8_t s) { return s == kSideBid ? kSideAsk : s == kSideAsk ? kSideBid : kSideNone; }
}  // namespace l3_detail

CMM_ALWAYS_INLINE Status L3Book::apply(const Event& e) {
  // Adds, cancels and resting executions of known orders (nearly every event of an L3 feed) are handled
  // here; a chain of ifs in that order predicts better than a jump table over the kinds.
  const auto kind = static_cast<EventKind>(e.kind);
  if (kind == EventKind::Add) {
    if (!l3_detail::valid_side(e.side) || e.qty <= 0 || e.order_id == 0) return apply_general(e);
    bool existed;
    Order* o = orders_.find_or_insert(e.order_id, &existed);
    if (__builtin_expect(existed, 0)) {  // the old order leaves its level; its slot takes the new one
      duplicate_adds_++;
      level_add(*o, o->side(), o->price, -o->qty, -1);
    }
    rest(o, e.side, e.price, e.qty);
    return kOk;
  }
  // Cancels and executions take separate copies of the same path, so a cancel (nearly half the events
  // of an L3 feed) computes no execution flag or side swap.
  if (kind == EventKind::Cancel) {
    if (e.qty > 0) {
      Order* o = orders_.find(e.order_id);  // none for order id 0
      if (__builtin_expect(o != nullptr, 1)) {
        reduce(o, e.qty, e.side, e.price);
        return kOk;
      }
    }
  } else if (kind == EventKind::Trade && (e.flags & (kFlagExecResting | kFlagHidden)) == kFlagExecResting && e.qty > 0) {
    Order* o = orders_.find(e.order_id);
    if (__builtin_expect(o != nullptr, 1)) {
      // The level named by the event: an execution's side is the aggressor's, the resting order's is the
      // other (1 <-> 2: x ^ 3; an invalid side stays invalid, matches no order, and reduce uses the order's).
      reduce(o, e.qty, e.side ^ static_cast<uint8_t>(kSideBid ^ kSideAsk), e.price);
      return kOk;
    }
  }
  return apply_general(e);
}

CMM_ALWAYS_INLINE void L3Book::level_add(const Order& o, uint8_t hint_side, int64_t hint_price, int64_t dqty,
                                         int64_t dcount) {
  if (__builtin_expect(o.price == hint_price && o.side() == hint_side, 1))
    ladder(hint_side).add_counted(hint_price, dqty, dcount);
  else
    ladder(o.side()).add_counted(o.price, dqty, dcount);
}

CMM_ALWAYS_INLINE void L3Book::rest(Order* o, uint8_t s, int64_t price, int64_t qty) {
  *o = Order{o->id, qty, price, Order::tag(next_arrival_++, s)};
  ladder(s).add_counted(price, qty, 1);
}

CMM_ALWAYS_INLINE void L3Book::reduce(Order* o, int64_t by, uint8_t hint_side, int64_t hint_price) {
  if (by >= o->qty) {
    level_add(*o, hint_side, hint_price, -o->qty, -1);
    orders_.erase(o);
  } else {
    level_add(*o, hint_side, hint_price, -by, 0);
    o->qty -= by;
  }
}

}  // namespace cmm
