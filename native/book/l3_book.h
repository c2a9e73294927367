// Market-by-order book: every resting order inline in an id-keyed open-addressing table (OrderTable),
// per-level FIFO queues as intrusive links between table slots, the aggregated levels in two Ladders
// whose Level.aux names the level's queue. Tables start empty and grow: construction allocates nothing.
// No allocation per event once warm; no Node dependency.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "book/inline.h"
#include "book/ladder.h"
#include "book/order_table.h"
#include "core/event.h"
#include "core/status.h"

namespace cmm {

class L3Book {
 public:
  L3Book() = default;

  /**
   * Applies one event.
   *   Add: new order (order_id, side, price, qty) at the back of its level's queue. An id already
   *        resting is replaced (old order removed first).
   *   Modify: the order's new qty (<= 0 removes it); a new price moves it to the back of the new
   *        level (priority lost). Same price keeps the queue position whatever the qty.
   *   Cancel: reduces the order by qty; removed when nothing is left (qty >= remaining deletes).
   *   Trade with kFlagExecResting (and not kFlagHidden): executes order_id by qty, like Cancel.
   *   DeleteLevel: removes the whole level at (side, price), orders and untracked qty.
   *   SnapshotBegin / Clear: empty the book. Other kinds: no change.
   * order_id 0 is reserved for a level's UNTRACKED liquidity (quantity known from an L2 snapshot but
   * not attributable to orders, e.g. the book before an L3 feed's first message): Modify sets it
   * (absolute), Add raises it, Cancel lowers it. It queues ahead of every known order at the level.
   * An order id the book never saw (Modify/Cancel/execution) is counted in unknown_orders() and
   * returns kUnknownOrder; a Cancel or execution of one lowers the untracked qty at its price if
   * there is any (the order must have been part of it), otherwise the book is unchanged.
   * A malformed event (no side, negative qty, Add qty <= 0) returns kInvalidArg and changes nothing.
   */
  CMM_ALWAYS_INLINE Status apply(const Event& e);
  /** Hint: e will be applied soon (loads its order's table slot); batch loops call it a few events ahead. */
  void prefetch(const Event& e) const { orders_.prefetch(e.order_id); }

  const Ladder& bids() const { return bids_; }
  const Ladder& asks() const { return asks_; }
  const Ladder& side(Side s) const { return s == kSideBid ? bids_ : asks_; }

  bool crossed() const {
    return !bids_.empty() && !asks_.empty() && bids_.best_price() >= asks_.best_price();
  }
  /** Removes stale_side's orders at or through the other side's best price; returns levels removed. */
  size_t prune_crossed(Side stale_side);

  /** Ladder view: every better level plus the whole level at price (an order joining now). */
  int64_t qty_ahead(Side s, int64_t price) const { return side(s).qty_ahead(price); }
  /**
   * Exact FIFO position: the quantity resting before this order at its own level (0 at the head).
   * -1 when the order is not in the book. Walks the queue ahead of the order: O(orders ahead).
   */
  int64_t qty_ahead_of_order(uint64_t order_id) const;

  /** Quantity at exactly (side, price): known orders plus untracked liquidity. */
  int64_t level_qty(Side s, int64_t price) const { return side(s).qty_at(price); }
  /** Untracked (anonymous) quantity at (side, price). */
  int64_t untracked_qty(Side s, int64_t price) const;
  /**
   * Forces the level's total quantity to qty (reconciling with an external L2 view): the untracked
   * part absorbs the difference; if qty is below the known orders' total, known orders are removed
   * oldest first (the last one reduced). Returns how many orders were removed or reduced.
   */
  size_t set_level_total(Side s, int64_t price, int64_t qty);

  /** Resting order fields; false when unknown. */
  bool find_order(uint64_t order_id, Side* side, int64_t* price, int64_t* qty) const;

  void clear();

  size_t order_count() const { return orders_.size(); }
  /** Modify/Cancel/executions that named an order id not in the book (skipped, never fatal). */
  uint64_t unknown_orders() const { return unknown_orders_; }
  /** Adds whose id was already resting (the old order was replaced). */
  uint64_t duplicate_adds() const { return duplicate_adds_; }
  /** Events rejected with kInvalidArg. */
  uint64_t invalid_events() const { return invalid_events_; }

 private:
  static constexpr uint32_t kNil = OrderTable::kNil;

  struct Queue {        // one price level's FIFO (pooled; the level's Ladder entry holds its index in aux)
    uint32_t head;      // oldest order (table slot), kNil when none
    uint32_t tail;      // newest order; doubles as the free-list link while the queue is unused
    int64_t untracked;  // anonymous qty, ahead of every order
    int64_t price;
    uint8_t side;
    bool live;
  };
  Ladder& ladder(uint8_t s) { return s == kSideBid ? bids_ : asks_; }
  const Ladder& ladder(uint8_t s) const { return s == kSideBid ? bids_ : asks_; }
  uint32_t find_queue(uint8_t s, int64_t price) const;             // kNil when the level has no queue
  uint32_t join_level(uint8_t s, int64_t price, int64_t dqty, int64_t dcount);  // ladder += and the level's queue
  uint32_t order_slot(uint64_t id, bool* existed);   // find or insert (grows the table)
  uint32_t new_queue(uint32_t qi, uint8_t s, int64_t price);  // takes queue qi (free-list head or pool end)
  void attach(uint32_t idx, uint8_t s, int64_t price);  // to the back of its level's FIFO; ladder += qty, count += 1
  void detach(uint32_t idx);                         // out of its FIFO; ladder -= qty / count; queue dropped if empty
  void unlink(uint32_t idx);                         // out of its FIFO only
  void erase_order(uint32_t idx);                    // drop the (unlinked) order from the table
  void remove_order(uint32_t idx);                   // detach and erase
  void reduce(uint32_t idx, int64_t by, uint8_t side, int64_t price);  // cancel/execute by qty (removes at 0);
                                                     // (side, price): the event's, a lookup hint
  void drop_queue_if_empty(uint32_t qi);
  Status apply_untracked(const Event& e);            // order_id 0 events
  void reduce_untracked(uint8_t s, int64_t price, int64_t by);
  void remove_level(uint8_t s, int64_t price);       // every order and the untracked qty

  Ladder bids_{true};
  Ladder asks_{false};
  OrderTable orders_;
  std::vector<Queue> queues_;
  uint32_t free_queue_ = kNil;  // free list threaded through Queue::tail
  uint64_t unknown_orders_ = 0;
  uint64_t duplicate_adds_ = 0;
  uint64_t invalid_events_ = 0;
};

}  // namespace cmm

#include "book/l3_book_inl.h"  // apply() and its helpers, inline
