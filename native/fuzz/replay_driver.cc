// Native replay of an event log file, for sanitizer runs over real data: verifies the header, walks
// every batch with the frame decoder and feeds it to MarketEngine, then prints one summary line.
// Usage: replay_driver <file.cmmlog>   (exit 0 when the file was read to its end, 1 otherwise)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "features/features.h"
#include "log/event_log_generated.h"
#include "log/frame_decoder.h"
#include "market/market_engine.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <file.cmmlog>\n", argv[0]);
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "rb");
  if (!f) {
    std::perror(argv[1]);
    return 2;
  }
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  // uint64_t storage: the buffer is 8-aligned like the TS reader's, so events are read in place.
  std::vector<uint64_t> words((static_cast<size_t>(size) + 7) / 8);
  uint8_t* data = reinterpret_cast<uint8_t*>(words.data());
  const size_t len = std::fread(data, 1, static_cast<size_t>(size), f);
  std::fclose(f);

  uint32_t span = 0;
  const cmm::log::ScanResult h = cmm::log::VerifyHeaderFrame(data, len, &span);
  if (h.status != cmm::kOk) {
    std::fprintf(stderr, "%s: bad header: %s\n", argv[1], cmm::log::FrameErrorText(h.error));
    return 1;
  }
  const cmm::log::Header* header = flatbuffers::GetSizePrefixedRoot<cmm::log::Header>(data);
  std::vector<cmm::BookType> types;
  if (header->instruments())
    for (const auto* inst : *header->instruments())
      types.push_back(inst->book_type() == cmm::log::BookType::L3 ? cmm::BookType::kL3 : cmm::BookType::kL2);
  cmm::MarketEngine engine(types);

  std::vector<cmm::log::BatchFrame> frames(1024);
  std::vector<double> features;
  size_t pos = span, batches = 0, events = 0;
  cmm::log::ScanResult r;
  for (;;) {
    r = cmm::log::ScanBatchFrames(data + pos, len - pos, batches, frames.data(), frames.size());
    for (size_t i = 0; i < r.frames; i++) {
      const cmm::log::BatchFrame& fr = frames[i];
      const auto* ev = reinterpret_cast<const cmm::Event*>(data + pos + fr.events_offset);
      if (features.size() < size_t{fr.count} * cmm::kNumFeatures) features.resize(size_t{fr.count} * cmm::kNumFeatures);
      engine.apply(ev, fr.count, features.data());
      events += fr.count;
    }
    batches += r.frames;
    pos += r.consumed;
    if (r.status != cmm::kOk || r.frames == 0) break;
  }
  const bool eof = r.status == cmm::kOk && pos == len;
  const cmm::MarketCounts& c = engine.counts();
  std::printf("%s: %zu instruments, %zu batches, %zu events, gaps %llu, crossed %llu, unknown orders %llu, "
              "stopped at byte %zu: %s\n",
              argv[1], types.size(), batches, events, static_cast<unsigned long long>(c.gaps),
              static_cast<unsigned long long>(c.crossed_episodes), static_cast<unsigned long long>(c.unknown_orders),
              pos, eof ? "eof" : cmm::log::FrameErrorText(r.error));
  return eof ? 0 : 1;
}
