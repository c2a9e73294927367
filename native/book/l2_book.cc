// Market-by-price book: event semantics documented in l2_book.h; apply() is inline there.
#include "book/l2_book.h"

namespace cmm {

size_t L2Book::prune_crossed(Side stale_side) {
  if (!crossed() || (stale_side != kSideBid && stale_side != kSideAsk)) return 0;
  if (stale_side == kSideBid) return bids_.prune_through(asks_.best_price());
  return asks_.prune_through(bids_.best_price());
}

}  // namespace cmm
