// Frame walker for the event log: each Batch frame is checked by flatbuffers::Verifier, then for the
// invariants the zero-copy reader relies on (events 8-aligned, in bounds, last in the frame), then CRC32C.
#include "log/frame_decoder.h"

#include <cstring>

#include "core/crc32c.h"
#include "core/event.h"
#include "log/event_log_generated.h"

namespace cmm::log {
namespace {

constexpr size_t kPrefix = sizeof(uint32_t);
constexpr size_t kMinBuffer = 12;  // root offset + identifier + the smallest table reference

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

size_t AlignUp(size_t n) { return (n + kFrameAlign - 1) & ~(kFrameAlign - 1); }

ScanResult Fail(ScanResult r, Status status, FrameError error) {
  r.status = status;
  r.error = error;
  return r;
}

// Common prefix checks. Returns kOk with `total` = 4 + size when the whole frame is in range.
ScanResult CheckPrefix(const uint8_t* p, size_t remaining, const char* identifier, size_t* total) {
  ScanResult r;
  if (remaining < kPrefix) {
    r.needed = 0;  // size prefix itself is cut: the frame's length is unknown
    return Fail(r, kTruncated, FrameError::kIncomplete);
  }
  const uint32_t size = LoadU32(p);
  if (size > kMaxFrameBytes) return Fail(r, kBadFormat, FrameError::kSizeTooLarge);
  if (size < kMinBuffer) return Fail(r, kBadFormat, FrameError::kSizeTooSmall);
  // Reject a wrong identifier as soon as it is visible, before asking the caller for more bytes.
  if (remaining >= kPrefix + 8 && std::memcmp(p + kPrefix + 4, identifier, 4) != 0)
    return Fail(r, kBadFormat, FrameError::kIdentifier);
  *total = kPrefix + size;
  const size_t span = AlignUp(*total);
  if (remaining < span) {
    r.needed = span;
    return Fail(r, kTruncated, FrameError::kIncomplete);
  }
  return r;
}

// The Verifier checks each field is inside the buffer, not inside the table's declared size; the
// zero-copy reader also needs the table to end before the events vector, so check that here.
bool TableLayoutOk(const uint8_t* frame, const Batch* batch, size_t events_len_pos) {
  const uint8_t* table = reinterpret_cast<const uint8_t*>(batch);
  int32_t soff;
  std::memcpy(&soff, table, 4);
  const uint8_t* vtable = table - soff;
  const uint16_t vsize = LoadU16(vtable);
  if (vsize < 4) return false;
  const uint16_t tsize = LoadU16(vtable + 2);
  if (static_cast<size_t>(table - frame) + tsize > events_len_pos) return false;
  static const struct { uint16_t slot; uint16_t bytes; } kFields[] = {
      {Batch::VT_BATCH_INDEX, 8}, {Batch::VT_CHECKSUM, 4}, {Batch::VT_EVENTS, 4}};
  for (const auto& f : kFields) {
    if (f.slot + 2u > vsize) continue;  // field absent from an older/shorter vtable
    const uint16_t at = LoadU16(vtable + f.slot);
    if (at != 0 && (at < 4 || at + f.bytes > tsize)) return false;
  }
  return true;
}

}  // namespace

const char* FrameErrorText(FrameError error) {
  switch (error) {
    case FrameError::kNone: return "ok";
    case FrameError::kSizeTooLarge: return "size prefix is larger than any frame (corrupt length)";
    case FrameError::kSizeTooSmall: return "size prefix is smaller than any frame (corrupt length)";
    case FrameError::kIdentifier: return "wrong file identifier (not an event log frame)";
    case FrameError::kVerifier: return "FlatBuffers verifier rejected the frame";
    case FrameError::kNoEvents: return "batch has no events vector";
    case FrameError::kEventsMisaligned: return "events vector is not 8-byte aligned";
    case FrameError::kEventsNotLast: return "events vector does not end at the end of the frame";
    case FrameError::kTableLayout: return "batch table overlaps its events vector";
    case FrameError::kChecksum: return "CRC32C of the events does not match the batch checksum";
    case FrameError::kSequence: return "batch_index out of sequence";
    case FrameError::kIncomplete: return "file ends inside a frame";
    case FrameError::kUnaligned: return "buffer is not 8-byte aligned";
    case FrameError::kFormatVersion: return "unsupported format_version";
  }
  return "unknown frame error";
}

ScanResult ScanBatchFrames(const uint8_t* data, size_t len, uint64_t next_index, BatchFrame* out,
                           size_t max_frames) {
  ScanResult r;
  if (reinterpret_cast<uintptr_t>(data) % kFrameAlign != 0) return Fail(r, kInvalidArg, FrameError::kUnaligned);
  size_t pos = 0;
  while (pos < len && r.frames < max_frames) {
    const uint8_t* p = data + pos;
    size_t total = 0;
    ScanResult prefix = CheckPrefix(p, len - pos, kBatchIdentifier, &total);
    if (prefix.status != kOk) {
      prefix.frames = r.frames;
      prefix.consumed = pos;
      return prefix;
    }
    r.consumed = pos;
    flatbuffers::Verifier verifier(p, total);
    if (!VerifySizePrefixedBatchBuffer(verifier)) return Fail(r, kBadFormat, FrameError::kVerifier);
    const Batch* batch = GetSizePrefixedBatch(p);
    const auto* events = batch->events();
    if (events == nullptr) return Fail(r, kBadFormat, FrameError::kNoEvents);
    const size_t events_pos = static_cast<size_t>(reinterpret_cast<const uint8_t*>(events->Data()) - p);
    const size_t count = events->size();
    if (events_pos % kFrameAlign != 0) return Fail(r, kBadFormat, FrameError::kEventsMisaligned);
    // Builders write the events vector first, so it ends the buffer: the size prefix and the vector
    // length then check each other, and a corrupt length is caught here rather than frames later.
    if (events_pos + count * sizeof(Event) != total) return Fail(r, kBadFormat, FrameError::kEventsNotLast);
    if (!TableLayoutOk(p, batch, events_pos - kPrefix)) return Fail(r, kBadFormat, FrameError::kTableLayout);
    const uint32_t crc = crc32c(p + events_pos, count * sizeof(Event));
    if (crc != batch->checksum()) {
      r.expected = batch->checksum();
      r.found = crc;
      return Fail(r, kBadChecksum, FrameError::kChecksum);
    }
    if (batch->batch_index() != next_index) {
      r.expected = next_index;
      r.found = batch->batch_index();
      return Fail(r, kSequenceGap, FrameError::kSequence);
    }
    const size_t span = AlignUp(total);
    out[r.frames++] = BatchFrame{pos, pos + events_pos, next_index, static_cast<uint32_t>(count),
                                 static_cast<uint32_t>(span)};
    next_index++;
    pos += span;
    r.consumed = pos;
  }
  r.consumed = pos;
  return r;
}

ScanResult VerifyHeaderFrame(const uint8_t* data, size_t len, uint32_t* span) {
  size_t total = 0;
  ScanResult r = CheckPrefix(data, len, kHeaderIdentifier, &total);
  if (r.status != kOk) return r;
  flatbuffers::Verifier verifier(data, total);
  if (!verifier.VerifySizePrefixedBuffer<Header>(kHeaderIdentifier)) return Fail(r, kBadFormat, FrameError::kVerifier);
  const Header* header = flatbuffers::GetSizePrefixedRoot<Header>(data);
  if (header->format_version() != kFormatVersion) {
    r.expected = kFormatVersion;
    r.found = header->format_version();
    return Fail(r, kBadFormat, FrameError::kFormatVersion);
  }
  *span = static_cast<uint32_t>(AlignUp(total));
  r.consumed = *span;
  return r;
}

}  // namespace cmm::log
