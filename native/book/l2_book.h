// Market-by-price book: two Ladders updated from L2 events (absolute level quantities). No Node
// dependency; the JS face is native/napi/books.cc -> src/book/order-book.ts.
#pragma once
#include <cstddef>
#include <cstdint>

#include "book/inline.h"
#include "book/ladder.h"
#include "core/event.h"
#include "core/status.h"

namespace cmm {

class L2Book {
 public:
  L2Book() = default;

  /**
   * Applies one event. Modify sets the level's absolute qty (<= 0 removes), DeleteLevel removes it,
   * Cancel reduces it by qty (removed at 0), Add raises it by qty; SnapshotBegin and Clear empty the
   * book; Trade, Bbo, Status, SnapshotEnd leave the levels alone. Returns kOk, or kInvalidArg (and
   * changes nothing) for a level event with no side or a negative qty.
   */
  CMM_ALWAYS_INLINE Status apply(const Event& e);

  const Ladder& bids() const { return bids_; }
  const Ladder& asks() const { return asks_; }
  /** The ladder of side s (kSideBid -> bids, anything else -> asks). */
  const Ladder& side(Side s) const { return s == kSideBid ? bids_ : asks_; }

  /** Both sides present and best bid >= best ask. */
  bool crossed() const {
    return !bids_.empty() && !asks_.empty() && bids_.best_price() >= asks_.best_price();
  }
  /**
   * Drops the levels of stale_side that sit at or through the other side's best price (the other
   * side is trusted). Returns how many levels went; 0 when the book is not crossed.
   */
  size_t prune_crossed(Side stale_side);

  /** Quantity ahead of an order joining side s at price: every better level plus the level itself. */
  int64_t qty_ahead(Side s, int64_t price) const { return side(s).qty_ahead(price); }

  void clear() { bids_.clear(); asks_.clear(); }

  /** Always 0: an L2 book has no orders. Present so L2Book and L3Book share one interface. */
  uint64_t unknown_orders() const { return 0; }
  /** Events rejected with kInvalidArg since construction. */
  uint64_t invalid_events() const { return invalid_events_; }

 private:
  Ladder bids_{true};
  Ladder asks_{false};
  uint64_t invalid_events_ = 0;
};

// Inline so batch loops compile the level update into their own body.
CMM_ALWAYS_INLINE Status L2Book::apply(const Event& e) {
  const EventKind kind = static_cast<EventKind>(e.kind);
  switch (kind) {
    case EventKind::Modify:
    case EventKind::Cancel:
    case EventKind::Add:
    case EventKind::DeleteLevel: {
      if ((e.side != kSideBid && e.side != kSideAsk) || e.qty < 0) {
        invalid_events_++;
        return kInvalidArg;
      }
      Ladder& l = e.side == kSideBid ? bids_ : asks_;
      if (kind == EventKind::Modify) l.set(e.price, e.qty);
      else if (kind == EventKind::DeleteLevel) l.set(e.price, 0);
      else if (kind == EventKind::Cancel) l.add(e.price, -e.qty, 0);
      else l.add(e.price, e.qty, 0);
      return kOk;
    }
    case EventKind::SnapshotBegin:
    case EventKind::Clear:
      clear();
      return kOk;
    default:  // Trade, Bbo, Status, SnapshotEnd, None: informational for the levels
      return kOk;
  }
}

}  // namespace cmm
