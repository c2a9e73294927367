// libFuzzer target for the event log frame decoder (native/log/frame_decoder): arbitrary bytes as a
// whole file (header + batches) and as a bare run of batch frames. Every frame the decoder accepts must
// be in bounds, 8-aligned and checksummed; ASan/UBSan catch any read outside the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/crc32c.h"
#include "core/event.h"
#include "log/frame_decoder.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Walks every frame the decoder reports and re-checks what the zero-copy reader relies on.
void ScanAll(const uint8_t* data, size_t len) {
  std::vector<cmm::log::BatchFrame> frames(8);
  size_t pos = 0;
  uint64_t next = 0;
  for (;;) {
    const cmm::log::ScanResult r = cmm::log::ScanBatchFrames(data + pos, len - pos, next, frames.data(), frames.size());
    Check(r.frames <= frames.size() && r.consumed <= len - pos);
    for (size_t i = 0; i < r.frames; i++) {
      const cmm::log::BatchFrame& f = frames[i];
      Check(f.offset % 8 == 0 && f.events_offset % 8 == 0 && f.span % 8 == 0);
      Check(f.events_offset + uint64_t{f.count} * sizeof(cmm::Event) <= f.offset + f.span);
      Check(f.offset + f.span <= len - pos && f.batch_index == next + i);
      const uint8_t* ev = data + pos + f.events_offset;
      volatile uint32_t crc = cmm::crc32c(ev, uint64_t{f.count} * sizeof(cmm::Event));  // touches every byte
      (void)crc;
    }
    next += r.frames;
    if (r.status != cmm::kOk || r.frames == 0) {
      Check(r.status != cmm::kOk || pos + r.consumed == len);
      Check(cmm::log::FrameErrorText(r.error) != nullptr);
      return;
    }
    pos += r.consumed;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size, 8-aligned heap copy: ASan then flags a read even one byte past the input.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(copy.get(), data, size);
  const uint8_t* buf = copy.get();

  uint32_t span = 0;
  const cmm::log::ScanResult h = cmm::log::VerifyHeaderFrame(buf, size, &span);
  if (h.status == cmm::kOk) {
    Check(span % 8 == 0 && span <= size);
    ScanAll(buf + span, size - span);
  }
  ScanAll(buf, size);
  return 0;
}
