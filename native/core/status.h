// Native status codes returned on the hot path (no exceptions there). src/errors.ts maps them to
// EngineError codes in its NATIVE_STATUS table; keep the two in step.
#pragma once

namespace cmm {
enum Status : int {
  kOk = 0,
  kInvalidArg = 1,
  kBadFormat = 2,
  kBadChecksum = 3,
  kTruncated = 4,
  kUnknownOrder = 5,
  kCrossedBook = 6,
  kSequenceGap = 7,
  kInternal = 8,
};
}  // namespace cmm
