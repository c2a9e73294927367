// The engine's single event record: 64 bytes, the same layout as the FlatBuffers struct
// cmm.log.Event (schema/event_log.fbs) and the offsets in src/core/event.ts.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cmm {

enum class EventKind : uint8_t {
  None = 0,
  Add = 1,           // L3: new resting order (order_id, side, price, qty)
  Modify = 2,        // L3: order's new qty (and price); L2: level's new absolute qty (0 removes)
  Cancel = 3,        // L3: reduce order by qty (removed when nothing is left); L2: reduce level by qty
  DeleteLevel = 4,   // L2: remove the level at price
  Trade = 5,         // a print; side = aggressor; with kFlagExecResting also executes order_id (L3)
  SnapshotBegin = 6, // clears the instrument's book; levels follow as Modify with kFlagSnapshot
  SnapshotEnd = 7,   // book is whole again: stale cleared
  Clear = 8,         // book cleared and marked stale (reconnect, session reset)
  Bbo = 9,           // venue's best bid/ask ticker: informational, does not change the book
  Status = 10,       // trading status (halt/resume) in qty: informational
};
constexpr uint8_t kEventKindCount = 11;

enum Side : uint8_t { kSideNone = 0, kSideBid = 1, kSideAsk = 2 };

enum EventFlag : uint16_t {
  kFlagEndOfMessage = 1 << 0, // last event of one venue message: the book is consistent after it
  kFlagSnapshot = 1 << 1,     // level inside a SnapshotBegin..SnapshotEnd block
  kFlagExecResting = 1 << 2,  // Trade that also executes the resting order `order_id`
  kFlagHidden = 1 << 3,       // Trade against hidden liquidity (not in the book)
  kFlagTsClamped = 1 << 4,    // importer clamped an out-of-order timestamp to the previous one
};

struct Event {
  int64_t ts_exchange;
  int64_t ts_local;
  int64_t price;
  int64_t qty;
  uint64_t order_id;
  uint64_t seq;
  uint64_t prev_seq;
  uint32_t instrument;
  uint8_t kind;
  uint8_t side;
  uint16_t flags;
};

static_assert(sizeof(Event) == 64, "Event must be 64 bytes: the FlatBuffers struct and the TS offsets rely on it");
static_assert(offsetof(Event, ts_exchange) == 0 && offsetof(Event, ts_local) == 8 && offsetof(Event, price) == 16 &&
                  offsetof(Event, qty) == 24 && offsetof(Event, order_id) == 32 && offsetof(Event, seq) == 40 &&
                  offsetof(Event, prev_seq) == 48 && offsetof(Event, instrument) == 56 && offsetof(Event, kind) == 60 &&
                  offsetof(Event, side) == 61 && offsetof(Event, flags) == 62,
              "Event field offsets are pinned by schema/event_log.fbs");

constexpr int64_t kNoPrice = INT64_MIN; // sentinel: empty side / no value

}  // namespace cmm
