// libFuzzer target for the books through MarketEngine (native/market): input bytes become events over a
// small price/order-id range so adds, modifies, cancels and executions hit live levels and orders.
// Checks: ladders sorted with positive quantities, no crossed book after EndOfMessage, one batch call
// gives the same features and ladders as one call per event, and FeatureSet::kTop the same top-of-book
// columns as kAll (NaN in the others); without rows, the same books and counts (the best-level history
// kept per event instead of read back from the rows).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "features/features.h"
#include "market/market_engine.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Reader {
  const uint8_t* p;
  size_t n;
  uint64_t take(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes && n > 0; i++, n--) v |= uint64_t{*p++} << (8 * i);
    return v;
  }
};

constexpr size_t kBytesPerEvent = 10;

void CheckLadder(const cmm::Ladder& l) {
  for (size_t i = 0; i < l.size(); i++) {
    Check(l.at(i).qty > 0);
    if (i + 1 < l.size()) Check(l.better(l.at(i).price, l.at(i + 1).price));
  }
}

bool SameLadder(const cmm::Ladder& a, const cmm::Ladder& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (a.at(i).price != b.at(i).price || a.at(i).qty != b.at(i).qty) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Reader in{data + 1, size - 1};
  // First byte: book types of up to three instruments (bit i set: L3).
  std::vector<cmm::BookType> types;
  for (int i = 0; i < 3; i++) types.push_back((data[0] >> i) & 1 ? cmm::BookType::kL3 : cmm::BookType::kL2);

  std::vector<cmm::Event> events;
  int64_t ts = 1'000'000'000;
  uint64_t seq = 1;
  while (in.n >= kBytesPerEvent) {
    cmm::Event e{};
    const uint64_t a = in.take(4), b = in.take(4), c = in.take(2);
    e.instrument = static_cast<uint32_t>(a % 4);  // 3 = an unknown instrument (must be skipped)
    e.kind = static_cast<uint8_t>((a >> 2) % cmm::kEventKindCount);
    e.side = static_cast<uint8_t>((a >> 6) % 3);
    e.price = 1000 + static_cast<int64_t>((a >> 8) % 41) - 20;
    e.qty = static_cast<int64_t>((a >> 16) % 9) - 1;  // -1 (invalid) .. 7
    e.order_id = (a >> 20) % 24;                      // 0 = untracked liquidity on L3
    e.flags = static_cast<uint16_t>(b & 0x1f);
    ts += static_cast<int64_t>((b >> 5) % 1000) * 1000 - ((b >> 15) & 1 ? 50'000 : 0);  // occasionally back
    e.ts_exchange = e.ts_local = ts;
    if ((b >> 16) & 1) seq++;  // a new venue message
    e.seq = (b >> 17) & 1 ? 0 : seq;
    e.prev_seq = (b >> 18) % 4 == 0 ? seq - 1 - ((b >> 20) & 1) : 0;  // sometimes a gap
    if (c % 97 == 0) e.price = (c & 1) ? INT64_MAX - 3 : INT64_MIN + 3;  // extreme prices
    if (c % 89 == 0) e.qty = (c & 1) ? INT64_MAX / 2 : INT64_MIN / 2;
    events.push_back(e);
  }
  const size_t n = events.size();
  if (n == 0) return 0;
  std::vector<double> batch_features(n * cmm::kNumFeatures), one_features(n * cmm::kNumFeatures);

  cmm::MarketEngine batch(types), single(types);
  const size_t applied = batch.apply(events.data(), n, batch_features.data());
  size_t applied_single = 0;
  for (size_t i = 0; i < n; i++) {
    applied_single += single.apply(&events[i], 1, one_features.data() + i * cmm::kNumFeatures);
    const cmm::Event& e = events[i];
    if (e.instrument >= single.instrument_count()) continue;
    const cmm::Ladder& bids = single.ladder(e.instrument, cmm::kSideBid);
    const cmm::Ladder& asks = single.ladder(e.instrument, cmm::kSideAsk);
    CheckLadder(bids);
    CheckLadder(asks);
    if (e.flags & cmm::kFlagEndOfMessage)
      Check(bids.empty() || asks.empty() || bids.best_price() < asks.best_price());
  }
  Check(applied == applied_single);
  // Same bits (NaN included): memcmp, not ==.
  Check(std::memcmp(batch_features.data(), one_features.data(), n * cmm::kNumFeatures * sizeof(double)) == 0);
  for (uint32_t i = 0; i < batch.instrument_count(); i++) {
    Check(SameLadder(batch.ladder(i, cmm::kSideBid), single.ladder(i, cmm::kSideBid)));
    Check(SameLadder(batch.ladder(i, cmm::kSideAsk), single.ladder(i, cmm::kSideAsk)));
    Check(std::memcmp(batch.features(i), single.features(i), cmm::kNumFeatures * sizeof(double)) == 0);
  }
  Check(batch.counts().gaps == single.counts().gaps && batch.counts().unknown_orders == single.counts().unknown_orders);

  // Without rows the engine keeps its own best-level history (with rows it reads the rows back): the
  // same stale sides, so the same books and counts, as long as prices and quantities are exact as
  // doubles (the rows' columns): inputs without the extreme values.
  bool exact = true;
  for (const cmm::Event& e : events) exact = exact && e.price > -(int64_t{1} << 52) && e.price < (int64_t{1} << 52) && e.qty < 1000;
  if (exact) {
    for (cmm::FeatureSet set : {cmm::FeatureSet::kAll, cmm::FeatureSet::kTop}) {
      cmm::MarketEngine norows(types, cmm::FeatureConfig(), 1024, set);
      Check(norows.apply(events.data(), n, nullptr) == applied);
      const cmm::MarketCounts a = norows.counts(), b = batch.counts();
      Check(a.crossed_episodes == b.crossed_episodes && a.pruned_levels == b.pruned_levels && a.stale_events == b.stale_events &&
            a.invalid_events == b.invalid_events && a.unknown_orders == b.unknown_orders && a.gaps == b.gaps);
      for (uint32_t i = 0; i < norows.instrument_count(); i++) {
        Check(SameLadder(batch.ladder(i, cmm::kSideBid), norows.ladder(i, cmm::kSideBid)));
        Check(SameLadder(batch.ladder(i, cmm::kSideAsk), norows.ladder(i, cmm::kSideAsk)));
      }
    }
  }

  // FeatureSet::kTop: its compact rows equal kAll's top-of-book columns bit for bit, its features()
  // vectors are NaN in the other columns; same books either way.
  cmm::MarketEngine top(types, cmm::FeatureConfig(), 1024, cmm::FeatureSet::kTop);
  std::vector<double> top_features(n * cmm::kNumTopFeatures);
  // In calls of 100 events, so rows also cross call boundaries. (Fuzz inputs seldom hold a run of 64
  // events of one instrument whose top changes often, which the eager row writer needs; the market-engine
  // test "'top' rows of an L3 book whose top changes at most events" covers that writer.)
  size_t top_applied = 0;
  for (size_t s = 0; s < n; s += 100) {
    const size_t m = n - s < 100 ? n - s : 100;
    top_applied += top.apply(events.data() + s, m, top_features.data() + s * cmm::kNumTopFeatures);
  }
  Check(top_applied == applied);
  for (size_t i = 0; i < n; i++) {
    for (int c = 0; c < cmm::kNumTopFeatures; c++) {
      const double* all = &batch_features[i * cmm::kNumFeatures + cmm::top_feature(c)];
      Check(std::memcmp(&top_features[i * cmm::kNumTopFeatures + c], all, sizeof(double)) == 0);
    }
  }
  for (uint32_t i = 0; i < top.instrument_count(); i++) {
    for (int f = 0; f < cmm::kNumFeatures; f++) {
      if (cmm::is_top_of_book_feature(f)) Check(std::memcmp(&top.features(i)[f], &batch.features(i)[f], sizeof(double)) == 0);
      else Check(std::isnan(top.features(i)[f]));
    }
    Check(SameLadder(batch.ladder(i, cmm::kSideBid), top.ladder(i, cmm::kSideBid)));
    Check(SameLadder(batch.ladder(i, cmm::kSideAsk), top.ladder(i, cmm::kSideAsk)));
  }
  return 0;
}
