// ApplyBatchFrames: ScanBatchFrames one frame at a time, each verified frame applied at once.
#include "log/frame_apply.h"

#include "core/event.h"

namespace cmm::log {

ApplyResult ApplyBatchFrames(MarketEngine& engine, const uint8_t* data, size_t len, uint64_t next_index) {
  ApplyResult out;
  size_t pos = 0;
  for (;;) {
    BatchFrame frame;
    ScanResult r = ScanBatchFrames(data + pos, len - pos, next_index, &frame, 1);
    if (r.frames == 1) {
      engine.apply(reinterpret_cast<const Event*>(data + pos + frame.events_offset), frame.count, nullptr);
      out.events += frame.count;
      out.scan.frames++;
      next_index++;
    }
    pos += r.consumed;
    // One frame found and more bytes left: go on. Otherwise this result says why the walk ends.
    if (r.status == kOk && r.frames == 1 && pos < len) continue;
    r.frames = out.scan.frames;
    r.consumed = pos;
    out.scan = r;
    return out;
  }
}

}  // namespace cmm::log
