// Verifies and decodes the event log's size-prefixed frames (schema/event_log.fbs) over a byte range.
// No Node here: the same code runs in the addon (napi/log.cc), the fuzzers and the native replay driver.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace cmm::log {

constexpr size_t kFrameAlign = 8;               // every frame starts at an 8-aligned file offset
constexpr uint32_t kMaxFrameBytes = 1u << 30;   // a size prefix above this is corruption, not a batch
constexpr uint16_t kFormatVersion = 1;
constexpr char kHeaderIdentifier[] = "CMMH";  // the schema's root_type is Batch ("CMMB"); the header
constexpr char kBatchIdentifier[] = "CMMB";   // frame carries its own identifier

// Which check a frame failed; FrameErrorText() names it. Stable numbers: the TS reader receives them.
enum class FrameError : int32_t {
  kNone = 0,
  kSizeTooLarge = 1,      // size prefix above kMaxFrameBytes
  kSizeTooSmall = 2,      // size prefix below the smallest FlatBuffer
  kIdentifier = 3,        // not "CMMB" (batch) / "CMMH" (header)
  kVerifier = 4,          // flatbuffers::Verifier rejected the table structure
  kNoEvents = 5,          // Batch without an events vector
  kEventsMisaligned = 6,  // events data not 8-aligned from the frame start
  kEventsNotLast = 7,     // events vector does not end where the size prefix says the frame ends
  kTableLayout = 8,       // table fields overlap the events vector or exceed the table's size
  kChecksum = 9,          // CRC32C of the events bytes differs from Batch.checksum
  kSequence = 10,         // batch_index is not the next one expected
  kIncomplete = 11,       // the range ends inside this frame
  kUnaligned = 12,        // the range itself does not start 8-aligned in memory
  kFormatVersion = 13,    // Header.format_version is not one this build reads
};

const char* FrameErrorText(FrameError error);

// One verified Batch frame. Offsets are relative to the start of the scanned range.
struct BatchFrame {
  uint64_t offset;         // frame start (the size prefix)
  uint64_t events_offset;  // first byte of the events vector data (8-aligned)
  uint64_t batch_index;
  uint32_t count;          // events in the batch (64 bytes each)
  uint32_t span;           // bytes the frame occupies, padding included (multiple of 8)
};

struct ScanResult {
  size_t frames = 0;        // verified frames written to `out`
  size_t consumed = 0;      // bytes covered by those frames: where the next frame (or the problem) starts
  Status status = kOk;      // kOk: range exhausted or `out` full; kTruncated: range ends inside a frame;
                            // kBadFormat / kBadChecksum / kSequenceGap: the frame at `consumed` is bad
  FrameError error = FrameError::kNone;
  uint64_t needed = 0;      // kTruncated: bytes the partial frame needs in all (0 when its size is unknown yet)
  uint64_t expected = 0;    // kBadChecksum: stored checksum; kSequenceGap: expected batch_index
  uint64_t found = 0;       // kBadChecksum: computed checksum; kSequenceGap: batch_index in the file
};

// Walks Batch frames from data[0]. `data` must sit at an 8-aligned file offset (and, for zero-copy
// readers, an 8-aligned address). `next_index` is the batch_index the first frame must carry. Stops at
// the end of the range, when `max_frames` are found, or at the first frame that is incomplete or bad.
ScanResult ScanBatchFrames(const uint8_t* data, size_t len, uint64_t next_index, BatchFrame* out,
                           size_t max_frames);

// Verifies the Header frame at data[0]. On kOk, `span` is its size padding included (where batches
// start). kTruncated with `needed` set when the range is too short.
ScanResult VerifyHeaderFrame(const uint8_t* data, size_t len, uint32_t* span);

}  // namespace cmm::log
