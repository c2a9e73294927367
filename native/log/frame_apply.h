// Replay's fused inner loop: verify the event log's Batch frames over a byte range and hand each one to a
// MarketEngine as soon as it is verified (while its bytes are still in cache). No Node here.
#pragma once
#include <cstddef>
#include <cstdint>

#include "log/frame_decoder.h"
#include "market/market_engine.h"

namespace cmm::log {

struct ApplyResult {
  ScanResult scan;      // as ScanBatchFrames over the same range (frames = batches verified and applied)
  uint64_t events = 0;  // events in those batches (all passed to the engine, unknown instruments included)
};

// Verifies frames from data[0] (8-aligned, batch_index next_index first) one at a time and applies each
// to `engine` (no feature rows). Stops where ScanBatchFrames would with no frame limit: end of range,
// a frame cut short (kTruncated) or a bad one; the frames before it are applied.
ApplyResult ApplyBatchFrames(MarketEngine& engine, const uint8_t* data, size_t len, uint64_t next_index);

}  // namespace cmm::log
