// FeatureState: the one-event-at-a-time face of the feature kernel in feature_run.h (formulas in
// features.h). MarketEngine drives the same kernel over runs of events with the state in registers.
#include "features/features.h"

#include <cmath>
#include <cstring>

#include "features/feature_run.h"

namespace cmm {

const char* const kFeatureNames[kNumFeatures] = {
    "mid",         "microprice", "spread",    "imbalance1",     "imbalance5",
    "imbalance10", "ofi",        "tradeFlow", "realisedVol",    "intensity",
    "timeSinceTrade", "bidPrice", "askPrice", "bidQty",         "askQty",
};

namespace feature_detail {
Exp2Table::Exp2Table() {
  for (int j = 0; j < 256; j++) t[j] = std::exp2(-j / 256.0);
}
const Exp2Table kExp2Table;
#if defined(__SSE2__)
const ExpConstants kExpC{};
#endif
}  // namespace feature_detail

namespace {
constexpr double kLn2 = 0.6931471805599453;  // == JS Math.LN2: the TS reference uses the same constant
}  // namespace

bool FeatureConfig::valid() const {
  auto ok = [](double x) { return std::isfinite(x) && x > 0; };
  return ok(ofi_half_life_s) && ok(trade_flow_half_life_s) && ok(volatility_half_life_s) &&
         ok(intensity_time_constant_s);
}

FeatureState::FeatureState(const FeatureConfig& cfg) {
  a_.k_ofi = kLn2 / cfg.ofi_half_life_s;
  a_.k_flow = kLn2 / cfg.trade_flow_half_life_s;
  a_.k_var = kLn2 / cfg.volatility_half_life_s;
  a_.k_int = 1.0 / cfg.intensity_time_constant_s;
  reset();
}

void FeatureState::reset() {
  a_.ofi = a_.flow = a_.var = a_.intensity = 0;
  a_.last_t = a_.last_trade_t = 0;
  a_.has_time = a_.has_trade = a_.has_prev = false;
  a_.prev_bid_px = a_.prev_bid_qty = a_.prev_ask_px = a_.prev_ask_qty = 0;
  a_.prev_mid = feature_detail::kNaN;
  for (double& x : v_) x = feature_detail::kNaN;
  v_[kOfi] = v_[kTradeFlow] = v_[kRealisedVol] = v_[kIntensity] = 0;
  v_[kBidQty] = v_[kAskQty] = 0;
}

void FeatureState::update_top_of_book(const Ladder& bids, const Ladder& asks) {
  const double bp = bids.empty() ? feature_detail::kNaN : static_cast<double>(bids.best_price());
  const double ap = asks.empty() ? feature_detail::kNaN : static_cast<double>(asks.best_price());
  const double bq = static_cast<double>(bids.best_qty());  // 0 when empty
  const double aq = static_cast<double>(asks.best_qty());
  // NaN in bp or ap propagates into all three: an empty side gives NaN without a branch.
  v_[kMid] = (bp + ap) * 0.5;
  v_[kMicroprice] = (bp * aq + ap * bq) / (bq + aq);
  v_[kSpread] = ap - bp;
  v_[kBidPrice] = bp;
  v_[kAskPrice] = ap;
  v_[kBidQty] = bq;
  v_[kAskQty] = aq;
}

void FeatureState::update(const Event& e, const Ladder& bids, const Ladder& asks, bool book_consistent) {
  const TopOfBook top = TopOfBook::of(bids, asks);
  FeatureKernel::step(a_, e, top, book_consistent);
  FeatureKernel::write_book(top, bids, asks, v_);
  FeatureKernel::write_flow(a_, v_);
}

void FeatureState::refresh(const Ladder& bids, const Ladder& asks, FeatureSet set) {
  const TopOfBook top = TopOfBook::of(bids, asks);
  if (set == FeatureSet::kTop) {
    FeatureKernel::write_top_row(top, v_);
    return;
  }
  FeatureKernel::write_book(top, bids, asks, v_);
  FeatureKernel::write_flow(a_, v_);
}

void FeatureState::write(double* out) const { std::memcpy(out, v_, sizeof(v_)); }

}  // namespace cmm
