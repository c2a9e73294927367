// Instruction counts per event (load-independent, unlike timings on a shared machine): one case over one
// raw event file (NAME.l2.events / NAME.l3.events, bench/native/export-events.ts) or event log, run twice
// on fresh state; only the second run is instrumented. Driven by bench/native/callgrind.sh.
// Cases: book | book-top (book + top-of-book features) | book-all (book + all features, row written) |
//        engine-top | engine | engine-norows (MarketEngine 'top' / 'all' rows, 'all' without rows, 4096 a call) |
//        replay (event log: verify + apply each batch, as MarketEngine.applyFrames) | crc (event log: verify only)
#include <valgrind/callgrind.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "book/l2_book.h"
#include "book/l3_book.h"
#include "features/features.h"
#include "log/event_log_generated.h"
#include "log/frame_apply.h"
#include "market/market_engine.h"

using namespace cmm;

namespace {

std::vector<uint64_t> load(const char* path, size_t* len) {  // 8-aligned, like the TS reader's buffer
  std::ifstream in(path, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<uint64_t> w((b.size() + 7) / 8);
  std::memcpy(w.data(), b.data(), b.size());
  *len = b.size();
  return w;
}

volatile double g_sink;

template <class Book>
void run_book(const std::string& c, const Event* ev, size_t n) {
  std::vector<double> row(kNumFeatures);
  const int what = c == "book-top" ? 1 : c == "book-all" ? 2 : 0;
  for (int rep = 0; rep < 2; rep++) {
    auto book = std::make_unique<Book>();
    FeatureState fs;
    if (rep == 1) CALLGRIND_START_INSTRUMENTATION;
    if (what == 0) {
      for (size_t i = 0; i < n; i++) book->apply(ev[i]);
    } else if (what == 1) {
      for (size_t i = 0; i < n; i++) {
        book->apply(ev[i]);
        fs.update_top_of_book(book->bids(), book->asks());
      }
    } else {
      for (size_t i = 0; i < n; i++) {
        book->apply(ev[i]);
        fs.update(ev[i], book->bids(), book->asks(), (ev[i].flags & kFlagEndOfMessage) != 0);
        fs.write(row.data());
      }
    }
    if (rep == 1) CALLGRIND_STOP_INSTRUMENTATION;
    g_sink = fs.values()[0] + row[0];
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <case> <file.lN.events | file.cmmlog>\n", argv[0]);
    return 2;
  }
  const std::string c = argv[1];
  size_t len = 0;
  const std::vector<uint64_t> words = load(argv[2], &len);
  const uint8_t* data = reinterpret_cast<const uint8_t*>(words.data());
  size_t events = 0;
  if (c == "replay" || c == "crc") {
    uint32_t span = 0;
    if (log::VerifyHeaderFrame(data, len, &span).status != kOk) return 1;
    std::vector<BookType> types;
    for (const auto* inst : *flatbuffers::GetSizePrefixedRoot<log::Header>(data)->instruments())
      types.push_back(inst->book_type() == log::BookType::L3 ? BookType::kL3 : BookType::kL2);
    std::vector<log::BatchFrame> frames(64);
    for (int rep = 0; rep < 2; rep++) {
      MarketEngine engine(types);
      events = 0;
      if (rep == 1) CALLGRIND_START_INSTRUMENTATION;
      if (c == "replay") {
        events = log::ApplyBatchFrames(engine, data + span, len - span, 0).events;
      } else {
        size_t pos = span;
        uint64_t next = 0;
        for (;;) {
          const log::ScanResult r = log::ScanBatchFrames(data + pos, len - pos, next, frames.data(), frames.size());
          for (size_t i = 0; i < r.frames; i++) events += frames[i].count;
          next += r.frames;
          pos += r.consumed;
          if (r.status != kOk || r.frames == 0) break;
        }
      }
      if (rep == 1) CALLGRIND_STOP_INSTRUMENTATION;
      g_sink = engine.features(0)[0];
    }
  } else {
    const Event* ev = reinterpret_cast<const Event*>(data);
    events = len / sizeof(Event);
    const bool l2 = std::string(argv[2]).find(".l2.") != std::string::npos;
    if (c.rfind("engine", 0) == 0) {
      uint32_t max_inst = 0;
      for (size_t i = 0; i < events; i++) max_inst = std::max(max_inst, ev[i].instrument);
      const std::vector<BookType> types(max_inst + 1, l2 ? BookType::kL2 : BookType::kL3);
      std::vector<double> rows(4096 * kNumFeatures);
      for (int rep = 0; rep < 2; rep++) {
        MarketEngine engine(types, FeatureConfig(), 1024, c == "engine-top" ? FeatureSet::kTop : FeatureSet::kAll);
        if (rep == 1) CALLGRIND_START_INSTRUMENTATION;
        for (size_t s = 0; s < events; s += 4096)
          engine.apply(ev + s, std::min<size_t>(4096, events - s), c == "engine-norows" ? nullptr : rows.data());
        if (rep == 1) CALLGRIND_STOP_INSTRUMENTATION;
        g_sink = rows[0] + engine.features(0)[0];
      }
    } else if (l2) {
      run_book<L2Book>(c, ev, events);
    } else {
      run_book<L3Book>(c, ev, events);
    }
  }
  std::printf("events %zu\n", events);
  return 0;
}
