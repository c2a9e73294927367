// Market-by-price book: event semantics documented in l2_book.h.
#include "book/l2_book.h"

namespace cmm {

Status L2Book::apply(const Event& e) {
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

size_t L2Book::prune_crossed(Side stale_side) {
  if (!crossed() || (stale_side != kSideBid && stale_side != kSideAsk)) return 0;
  if (stale_side == kSideBid) return bids_.prune_through(asks_.best_price());
  return asks_.prune_through(bids_.best_price());
}

}  // namespace cmm
