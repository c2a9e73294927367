// Incremental per-instrument feature kernels: updated once per event from the book's two Ladders,
// written into caller-owned rows. No Node dependency (linked into native benchmarks and fuzzers).
#pragma once
#include <cstddef>
#include <cstdint>

#include "book/ladder.h"
#include "core/event.h"

namespace cmm {

/**
 * Feature vector layout (one double each; prices in ticks, quantities in lots, times in seconds).
 * Let b, a = best bid / ask price, qb, qa = their quantities, B_k, A_k = summed qty of the best k
 * levels of each side, t = the event time (ts_exchange, or ts_local when ts_exchange is 0).
 *   kMid            (b + a) / 2                                 NaN when either side is empty
 *   kMicroprice     (b*qa + a*qb) / (qb + qa)                   NaN when either side is empty
 *   kSpread         a - b (ticks; <= 0 only on a crossed book)  NaN when either side is empty
 *   kImbalance1/5/10  (B_k - A_k) / (B_k + A_k), k = 1, 5, 10   NaN when both sides are empty
 *                   (fewer levels than k: the levels present are summed)
 *   kOfi            order-flow imbalance of Cont, Kukanov & Stoikov (2014): at each book-consistent
 *                   event n (EndOfMessage, outside snapshots)
 *                     e_n = [b_n >= b_{n-1}] qb_n - [b_n <= b_{n-1}] qb_{n-1}
 *                         - [a_n <= a_{n-1}] qa_n + [a_n >= a_{n-1}] qa_{n-1}
 *                   (empty bid = price -inf, qty 0; empty ask = +inf, qty 0), accumulated as an
 *                   exponentially decayed sum: OFI(t) = sum_n e_n * 2^(-(t - t_n) / ofi_half_life_s).
 *   kTradeFlow      decayed sum of signed traded qty, sign = +1 buy aggressor, -1 sell, 0 unknown:
 *                   sum_k s_k q_k * 2^(-(t - t_k) / trade_flow_half_life_s).
 *   kRealisedVol    sqrt(V), V = sum_n (m_n - m_{n-1})^2 * 2^(-(t - t_n) / volatility_half_life_s):
 *                   squared mid changes in ticks between consecutive book-consistent events
 *                   (skipped when either mid is NaN), exponentially weighted; 0 before any change.
 *   kIntensity      I(t) = sum_k (1/tau) e^(-(t - t_k)/tau), tau = intensity_time_constant_s, over
 *                   book and trade events (Add, Modify, Cancel, DeleteLevel, Trade) outside
 *                   snapshots: events per second (a constant rate r gives I -> r).
 *   kTimeSinceTrade (t - t_last_trade) * 1e-9 s; NaN before the first trade.
 *   kBidPrice, kAskPrice   best prices; NaN when that side is empty.
 *   kBidQty, kAskQty       best quantities; 0 when that side is empty.
 * Decays are computed only when t moves forward (one table-driven exp per accumulator, within 2 ulp
 * of libm's); a timestamp going backwards counts as no time elapsed. SnapshotBegin / Clear drop the OFI
 * and volatility baselines, so the jump from the old book to the new one is not counted as flow or
 * volatility.
 */
enum Feature : int {
  kMid = 0,
  kMicroprice,
  kSpread,
  kImbalance1,
  kImbalance5,
  kImbalance10,
  kOfi,
  kTradeFlow,
  kRealisedVol,
  kIntensity,
  kTimeSinceTrade,
  kBidPrice,
  kAskPrice,
  kBidQty,
  kAskQty,
  kNumFeatures,
};

/** Names in Feature order (camelCase, as src/market/market-engine.ts FEATURE_NAMES). */
extern const char* const kFeatureNames[kNumFeatures];

/**
 * Which features a MarketEngine computes. kAll: every column above. kTop: only the top-of-book ones
 * (kMid, kMicroprice, kSpread, kImbalance1, kBidPrice, kAskPrice, kBidQty, kAskQty), the same values
 * as kAll, and no decay or depth walk runs. A kTop engine's per-event rows are compact: kNumTopFeatures
 * columns, those eight in that order (top_feature(c) names column c), 64 bytes an event instead of 120;
 * its features() vector keeps the kAll layout with the other seven columns NaN.
 */
enum class FeatureSet : uint8_t { kAll = 0, kTop = 1 };
constexpr int kNumTopFeatures = 8;
/** The feature in column c (0 .. kNumTopFeatures - 1) of a kTop row: kMid .. kImbalance1, then kBidPrice .. kAskQty. */
constexpr int top_feature(int c) { return c < 4 ? c : c + (kBidPrice - 4); }
static_assert(kImbalance1 == 3 && kAskQty == kBidPrice + 3, "top_feature() assumes the Feature order");
/** True for the columns FeatureSet::kTop computes. */
constexpr bool is_top_of_book_feature(int f) {
  return f == kMid || f == kMicroprice || f == kSpread || f == kImbalance1 || f >= kBidPrice;
}
/** Doubles per event row: kNumFeatures (kAll) or kNumTopFeatures (kTop). */
constexpr int row_width(FeatureSet s) { return s == FeatureSet::kTop ? kNumTopFeatures : kNumFeatures; }

struct FeatureConfig {
  double ofi_half_life_s = 1.0;
  double trade_flow_half_life_s = 1.0;
  double volatility_half_life_s = 10.0;
  double intensity_time_constant_s = 1.0;
  /** True when every parameter is a positive finite number. */
  bool valid() const;
};

/**
 * What the features carry from one event to the next (updated by the kernel in feature_run.h). A plain
 * value: MarketEngine copies it into a local for a run of events, so it lives in registers meanwhile.
 */
struct FeatureAccumulators {
  // Decay rates per second: ln2 / half-life (OFI, flow, variance), 1 / tau (intensity; also the
  // intensity added per counted event).
  double k_ofi, k_flow, k_var, k_int;
  // Decayed sums: OFI, signed trade flow, variance of mid changes, intensity.
  double ofi, flow, var, intensity;
  int64_t last_t;        // the clock: latest event time seen (ns)
  int64_t last_trade_t;  // clock at the latest trade
  bool has_time, has_trade;
  // Baseline of the previous book-consistent event (OFI, volatility).
  bool has_prev;
  int64_t prev_bid_px, prev_bid_qty, prev_ask_px, prev_ask_qty;
  double prev_mid;
};

class FeatureState {
 public:
  explicit FeatureState(const FeatureConfig& cfg = FeatureConfig());

  /**
   * Full update for one event already applied to the book (bids, asks are the book's ladders after
   * it). book_consistent: the book is whole after this event (EndOfMessage, pruned if crossed).
   */
  void update(const Event& e, const Ladder& bids, const Ladder& asks, bool book_consistent);

  /** Only the top-of-book features (mid, microprice, spread, best prices and quantities). */
  void update_top_of_book(const Ladder& bids, const Ladder& asks);

  /** Latest values, kNumFeatures doubles. */
  const double* values() const { return v_; }
  void write(double* out) const;

  /** Forget everything (accumulators, baselines, clocks); values become those of an empty book. */
  void reset();

  /**
   * Recomputes values() from the accumulators and the book (bids, asks): what update() would have
   * left after the last event (kTop: the top-of-book columns, NaN in the others). MarketEngine calls
   * it lazily, only when the values are read.
   */
  void refresh(const Ladder& bids, const Ladder& asks, FeatureSet set = FeatureSet::kAll);

  /** The state between events (MarketEngine runs the kernel on a copy and stores it back). */
  FeatureAccumulators& accumulators() { return a_; }

 private:
  FeatureAccumulators a_;
  double v_[kNumFeatures];
};

}  // namespace cmm
