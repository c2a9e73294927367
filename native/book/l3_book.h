// Market-by-order book: every resting order by id (open-addressing hash map into a pooled order
// array), per-level FIFO queues (intrusive lists) and the aggregated levels in two Ladders.
// No allocation per event once warm (pools and tables only grow); no Node dependency.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "book/ladder.h"
#include "core/event.h"
#include "core/status.h"

namespace cmm {

class L3Book {
 public:
  L3Book();

  /**
   * Applies one event.
   *   Add: new order (order_id, side, price, qty) at the back of its level's queue. An id already
   *        resting is replaced (old order removed first).
   *   Modify: the order's new qty (<= 0 removes it); a new price moves it to the back of the new
   *        level (priority lost). Same price keeps the queue position whatever the qty.
   *   Cancel: reduces the order by qty; removed when nothing is left (qty >= remaining deletes).
   *   Trade with kFlagExecResting (and not kFlagHidden): executes order_id by qty, like Cancel.
   *   SnapshotBegin / Clear: empty the book. Other kinds: no change.
   * An order id the book never saw (Modify/Cancel/execution) is counted in unknown_orders() and
   * skipped: returns kUnknownOrder. A malformed Add (no side, qty <= 0) returns kInvalidArg.
   */
  Status apply(const Event& e);

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

  /** Resting order fields; false when unknown. */
  bool find_order(uint64_t order_id, Side* side, int64_t* price, int64_t* qty) const;

  void clear();

  size_t order_count() const { return live_orders_; }
  /** Modify/Cancel/executions that named an order id not in the book (skipped, never fatal). */
  uint64_t unknown_orders() const { return unknown_orders_; }
  /** Adds whose id was already resting (the old order was replaced). */
  uint64_t duplicate_adds() const { return duplicate_adds_; }
  /** Events rejected with kInvalidArg. */
  uint64_t invalid_events() const { return invalid_events_; }

 private:
  static constexpr uint32_t kNil = 0xffffffffu;

  struct Order {
    uint64_t id;
    int64_t price;
    int64_t qty;
    uint64_t priority;  // arrival counter: smaller = earlier in its level
    uint32_t prev;      // FIFO neighbours at the same level (kNil at the ends)
    uint32_t next;
    uint8_t side;
  };
  struct Queue {        // one price level's FIFO
    uint32_t head;
    uint32_t tail;
  };
  // Open-addressing table, linear probing, backward-shift deletion (no tombstones).
  template <class V>
  struct FlatMap {
    struct Slot { uint64_t key; V val; bool used; };
    std::vector<Slot> slots;
    size_t count = 0;
    size_t mask = 0;
    explicit FlatMap(size_t cap_pow2);
    V* find(uint64_t key);
    const V* find(uint64_t key) const;
    V* insert(uint64_t key, const V& val);  // key must be absent
    void erase(uint64_t key);
    void clear();
    void grow();
    static size_t hash(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 17); }
  };

  Ladder& ladder(uint8_t s) { return s == kSideBid ? bids_ : asks_; }
  FlatMap<Queue>& queues(uint8_t s) { return s == kSideBid ? bid_queues_ : ask_queues_; }
  uint32_t alloc_order();
  void enqueue(uint32_t idx);                    // append to its level's FIFO, ladder += qty, count += 1
  void unlink(uint32_t idx);                     // remove from its level's FIFO (ladder untouched)
  void remove_order(uint32_t idx);               // unlink, ladder -= qty/count, free, unmap
  void reduce(uint32_t idx, int64_t by);         // cancel/execute by qty

  Ladder bids_{true};
  Ladder asks_{false};
  std::vector<Order> orders_;
  uint32_t free_head_ = kNil;  // free list threaded through Order::next
  FlatMap<uint32_t> ids_;      // order id -> index in orders_
  FlatMap<Queue> bid_queues_;  // price -> FIFO
  FlatMap<Queue> ask_queues_;
  uint64_t next_priority_ = 1;
  size_t live_orders_ = 0;
  uint64_t unknown_orders_ = 0;
  uint64_t duplicate_adds_ = 0;
  uint64_t invalid_events_ = 0;
};

}  // namespace cmm
