// Market-by-order book: every resting order inline in an id-keyed open-addressing table (OrderTable) with
// its side, price and arrival number, the aggregated levels in two Ladders. No per-order links: a level's
// FIFO order is its orders' arrival order, derived on demand by scanning the table (rare reads), so an add
// or a cancel touches one order slot and one ladder level. A level with untracked liquidity names its entry
// in a small pool through Level.aux. Tables start empty and grow: construction allocates nothing. No
// allocation per event once warm; no Node dependency.
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
   * Garbage quantities whose level totals overflow int64 damage the book (a Ladder drops a level whose
   * total wrapped to <= 0 while orders still name its price): values are then meaningless, but every
   * access stays memory-safe and later events keep applying.
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
  /**
   * Removes stale_side's orders at or through the other side's best price; returns levels removed.
   * Scans the order table once: O(table size).
   */
  size_t prune_crossed(Side stale_side);

  /** Ladder view: every better level plus the whole level at price (an order joining now). */
  int64_t qty_ahead(Side s, int64_t price) const { return side(s).qty_ahead(price); }
  /**
   * Exact FIFO position: the quantity resting before this order at its own level (untracked qty plus
   * every order that arrived there earlier; 0 at the head). -1 when the order is not in the book.
   * Scans the order table: O(table size), for occasional reads (not per event).
   */
  int64_t qty_ahead_of_order(uint64_t order_id) const;

  /** Quantity at exactly (side, price): known orders plus untracked liquidity. */
  int64_t level_qty(Side s, int64_t price) const { return side(s).qty_at(price); }
  /** Untracked (anonymous) quantity at (side, price). */
  int64_t untracked_qty(Side s, int64_t price) const;
  /**
   * Forces the level's total quantity to qty (reconciling with an external L2 view): the untracked
   * part absorbs the difference; if qty is below the known orders' total, known orders are removed
   * oldest first (the last one reduced). Returns how many orders were removed or reduced. Raising the
   * total or taking it from untracked qty is O(1); removing known orders scans the order table.
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
  static constexpr uint32_t kNil = 0xffffffffu;  // no untracked entry
  using Order = OrderTable::Order;

  // A level's untracked liquidity (pooled, free list; only levels that have some get one: the level's
  // Ladder entry names it in aux, kNoAux otherwise). price and side let a lookup reject an aux that is
  // stale (its entry was freed) or left by a lost level on a damaged book.
  struct Untracked {
    int64_t qty;     // > 0 while live (freed at 0)
    int64_t price;
    uint32_t next_free;
    uint8_t side;
    bool live;
  };
  Ladder& ladder(uint8_t s) { return s == kSideBid ? bids_ : asks_; }
  const Ladder& ladder(uint8_t s) const { return s == kSideBid ? bids_ : asks_; }
  Status apply_general(const Event& e);  // any event, a branch per kind (apply() runs the common ones itself)
  // Ladder += (dqty, dcount) for an order at (side, price). hint_side / hint_price are the event's: when
  // they agree with the order's (always, on a sane feed) the ladder lookup need not wait for the order's
  // slot to load.
  void level_add(const Order& o, uint8_t hint_side, int64_t hint_price, int64_t dqty, int64_t dcount);
  void reduce(Order* o, int64_t by, uint8_t hint_side, int64_t hint_price);  // cancel/execute (removes at 0)
  void rest(Order* o, uint8_t s, int64_t price, int64_t qty);  // back of the level at price; ladder +=
  Status apply_untracked(const Event& e);                          // order_id 0 events
  uint32_t find_untracked(uint8_t s, int64_t price) const;         // kNil when the level has none
  uint32_t join_untracked(uint8_t s, int64_t price, int64_t delta);  // ladder += delta; the level's entry
  void release_untracked_if_empty(uint32_t ui);
  void reduce_untracked(uint8_t s, int64_t price, int64_t by);
  void drop_untracked(uint8_t s, int64_t price);  // the level's entry goes (its qty stays in the ladder)
  void remove_level(uint8_t s, int64_t price);    // every order and the untracked qty

  Ladder bids_{true, true};  // with meta from the start: an L3 book's levels carry order counts
  Ladder asks_{false, true};
  OrderTable orders_;
  uint64_t next_arrival_ = 0;  // Order::arrival of the next order to join a level
  std::vector<Untracked> untracked_;
  uint32_t free_untracked_ = kNil;  // free list threaded through Untracked::next_free
  uint64_t unknown_orders_ = 0;
  uint64_t duplicate_adds_ = 0;
  uint64_t invalid_events_ = 0;
};

}  // namespace cmm

#include "book/l3_book_inl.h"  // apply() and its helpers, inline
