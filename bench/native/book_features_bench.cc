// Native micro-benchmark (not part of the addon): ns/event for book only, book + top-of-book features,
// book + all features, and the whole MarketEngine (all features, and its top-of-book feature set),
// over a LOBSTER message file (default: MSFT, L3) or a raw event file written by
// bench/native/export-events.ts (NAME.l2.events / NAME.l3.events).
// Build and run: bench/native/run.sh [message.csv] [reps] [only cases whose name contains this]
// Timing: the stream is replayed `reps` times on fresh state (plus one warm-up rep); every 512-event
// chunk is timed with this thread's CPU clock (preemption by other processes on a shared machine is
// not counted); p50 / p99 are over the chunks' ns/event, mean = total time / total events.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "book/l2_book.h"
#include "book/l3_book.h"
#include "core/event.h"
#include "features/features.h"
#include "market/market_engine.h"

using namespace cmm;

namespace {

// LOBSTER message rows -> events, the mapping of src/import/lobster.ts (prices in cents when every
// price is a multiple of 100, which holds for the sample files; time as ns after midnight).
std::vector<Event> load_lobster(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path);
    std::exit(1);
  }
  std::vector<Event> out;
  std::string line;
  uint64_t seq = 0;
  while (std::getline(in, line)) {
    double t;
    long long type, id, size, price, dir;
    if (std::sscanf(line.c_str(), "%lf,%lld,%lld,%lld,%lld,%lld", &t, &type, &id, &size, &price, &dir) != 6) continue;
    Event e{};
    e.ts_exchange = e.ts_local = static_cast<int64_t>(t * 1e9);
    e.price = price / 100;
    e.qty = size;
    e.order_id = static_cast<uint64_t>(id);
    e.seq = ++seq;
    e.flags = kFlagEndOfMessage;
    const uint8_t side = dir == 1 ? kSideBid : kSideAsk;
    const uint8_t aggressor = dir == 1 ? kSideAsk : kSideBid;
    switch (type) {
      case 1: e.kind = static_cast<uint8_t>(EventKind::Add); e.side = side; break;
      case 2: case 3: e.kind = static_cast<uint8_t>(EventKind::Cancel); e.side = side; break;
      case 4: e.kind = static_cast<uint8_t>(EventKind::Trade); e.side = aggressor; e.flags |= kFlagExecResting; break;
      case 5: e.kind = static_cast<uint8_t>(EventKind::Trade); e.side = aggressor; e.flags |= kFlagHidden; break;
      case 6: e.kind = static_cast<uint8_t>(EventKind::Trade); e.side = kSideNone; break;
      default: e.kind = static_cast<uint8_t>(EventKind::Status); e.qty = price; e.price = 0; break;
    }
    out.push_back(e);
  }
  return out;
}

struct Result {
  double mean, p50, p99;
};

volatile double g_sink;

double thread_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Runs body(start, end) over every chunk of kChunk events; make() resets state before each rep.
template <class Make, class Body>
Result run(const std::vector<Event>& ev, int reps, size_t kChunk, Make make, Body body) {
  std::vector<double> per_chunk;
  double total_ns = 0;
  for (int r = 0; r < reps + 1; r++) {  // rep 0 warms caches and allocators: not counted
    make();
    for (size_t start = 0; start < ev.size(); start += kChunk) {
      const size_t end = std::min(ev.size(), start + kChunk);
      const double t0 = thread_ns();
      body(start, end);
      const double ns = thread_ns() - t0;
      if (r > 0) {
        per_chunk.push_back(ns / static_cast<double>(end - start));
        total_ns += ns;
      }
    }
  }
  std::sort(per_chunk.begin(), per_chunk.end());
  auto pct = [&](double p) { return per_chunk[static_cast<size_t>(p * (per_chunk.size() - 1))]; };
  return {total_ns / (static_cast<double>(ev.size()) * reps), pct(0.5), pct(0.99)};
}

const char* g_only = nullptr;  // argv[3]: run only the cases whose name contains it

bool wanted(const char* name) { return !g_only || std::strstr(name, g_only) != nullptr; }

void report(const char* name, const Result& r) {
  std::printf("%-40s mean %6.2f ns/event  p50 %6.2f  p99 %6.2f  (%.1f M events/s)\n", name, r.mean, r.p50, r.p99,
              1e3 / r.mean);
}

// Raw events (n x 64 bytes, as EventBatch.bytes() / bench/native/export-events.ts writes them).
std::vector<Event> load_raw(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Event> out(bytes.size() / sizeof(Event));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(Event));
  return out;
}

// All cases for one book type. Feature rows go to a chunk-sized buffer reused per chunk, as a replay
// reuses its batch buffer (a whole-file buffer would measure memory bandwidth instead).
template <class Book>
double run_cases(const std::vector<Event>& ev, int reps, const char* label, BookType type) {
  constexpr size_t kChunk = 512;
  std::unique_ptr<Book> book;
  FeatureState fs;
  std::vector<double> rows(kChunk * kNumFeatures);
  double sink = 0;
  auto fresh = [&] { book = std::make_unique<Book>(); fs.reset(); };
  auto name = [label](const char* what) { return std::string(label) + what; };
  if (wanted(name(" book only").c_str()))
    report(name(" book only").c_str(), run(ev, reps, kChunk, fresh, [&](size_t s, size_t e) {
             for (size_t i = s; i < e; i++) book->apply(ev[i]);
           }));
  if (wanted(name(" book + top-of-book features").c_str()))
    report(name(" book + top-of-book features").c_str(), run(ev, reps, kChunk, fresh, [&](size_t s, size_t e) {
             for (size_t i = s; i < e; i++) {
               book->apply(ev[i]);
               fs.update_top_of_book(book->bids(), book->asks());
             }
           }));
  sink += fs.values()[kMicroprice];
  if (wanted(name(" book + all features").c_str()))
    report(name(" book + all features").c_str(), run(ev, reps, kChunk, fresh, [&](size_t s, size_t e) {
             for (size_t i = s; i < e; i++) {
               book->apply(ev[i]);
               fs.update(ev[i], book->bids(), book->asks(), (ev[i].flags & kFlagEndOfMessage) != 0);
             }
           }));
  sink += fs.values()[kOfi];
  if (wanted(name(" book + all features + row written").c_str()))
    report(name(" book + all features + row written").c_str(), run(ev, reps, kChunk, fresh, [&](size_t s, size_t e) {
             for (size_t i = s; i < e; i++) {
               book->apply(ev[i]);
               fs.update(ev[i], book->bids(), book->asks(), (ev[i].flags & kFlagEndOfMessage) != 0);
               fs.write(&rows[(i - s) * kNumFeatures]);
             }
           }));
  sink += rows[0];

  // The whole engine (seq check, crossed check, features), one apply() per 512-event batch: every
  // feature (FeatureSet::kAll) and the top-of-book set alone (kTop).
  uint32_t max_inst = 0;
  for (const Event& e : ev) max_inst = std::max(max_inst, e.instrument);
  const std::vector<BookType> types(max_inst + 1, type);
  std::unique_ptr<MarketEngine> engine;
  for (FeatureSet set : {FeatureSet::kAll, FeatureSet::kTop}) {
    for (bool with_rows : {false, true}) {
      const std::string n = name(set == FeatureSet::kTop ? " MarketEngine top-of-book" : " MarketEngine.apply") +
                            (with_rows ? ", rows written" : ", no rows");
      if (!wanted(n.c_str())) continue;
      report(n.c_str(), run(ev, reps, kChunk, [&] { engine = std::make_unique<MarketEngine>(types, FeatureConfig(), 1024, set); },
                            [&](size_t s, size_t e) { engine->apply(&ev[s], e - s, with_rows ? rows.data() : nullptr); }));
      sink += engine->features(0)[kMid];
    }
  }
  return sink;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "../shared/data/lobster/MSFT_2012-06-21_34200000_37800000_message_50.csv";
  const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
  g_only = argc > 3 ? argv[3] : nullptr;
  const std::string p(path);
  const bool raw = p.size() > 7 && p.compare(p.size() - 7, 7, ".events") == 0;
  const std::vector<Event> ev = raw ? load_raw(path) : load_lobster(path);
  // Raw files name their book type in the file name (".l2.events" / ".l3.events"); LOBSTER is L3.
  const bool l2 = raw && p.find(".l2.") != std::string::npos;
  std::printf("%s: %zu events, %d reps\n", path, ev.size(), reps);
  if (ev.empty()) return 1;
  g_sink = l2 ? run_cases<L2Book>(ev, reps, "L2", BookType::kL2) : run_cases<L3Book>(ev, reps, "L3", BookType::kL3);
  return 0;
}
