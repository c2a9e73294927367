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
}  // namespace feature_detail

namespace {
constexpr double kLn2 = 0.6931471805599453;  // == JS Math.LN2: the TS reference uses the same constant
}  // namespace

bool FeatureConfig::valid() const {
  auto ok = [](double x) { return std::isfinite(x) && x > 0; };
  return ok(ofi_half_life_s) && ok(trade_flow_half_life_s) && ok(volatility_half_life_s) &&
         ok(intensity_time_constant_s);
}

FeatureState::FeatureState(const FeatureConfig& cfg)
    : k_{kLn2 / cfg.ofi_half_life_s, kLn2 / cfg.trade_flow_half_life_s, kLn2 / cfg.volatility_half_life_s,
         1.0 / cfg.intensity_time_constant_s} {
  reset();
}

void FeatureState::reset() {
  for (double& a : acc_) a = 0;
  last_t_ = last_trade_t_ = 0;
  has_time_ = has_trade_ = has_prev_ = false;
  prev_bid_px_ = prev_bid_qty_ = prev_ask_px_ = prev_ask_qty_ = 0;
  prev_mid_ = feature_detail::kNaN;
  for (double& x : v_) x = feature_detail::kNaN;
  v_[kOfi] = v_[kTradeFlow] = v_[kRealisedVol] = v_[kIntensity] = 0;
  v_[kBidQty] = v_[kAskQty] = 0;
}

void FeatureState::update_top_of_book(const Ladder& bids, const Ladder& asks) {
  const TopOfBook top = TopOfBook::of(bids, asks);
  const double imbalance1 = v_[kImbalance1];
  FeatureRun::write_top_columns(top, v_);
  v_[kImbalance1] = imbalance1;  // not one of this method's columns
}

void FeatureState::update(const Event& e, const Ladder& bids, const Ladder& asks, bool book_consistent) {
  const TopOfBook top = TopOfBook::of(bids, asks);
  FeatureRun run(*this);
  run.step(e, top, book_consistent);
  run.save(*this);
  FeatureRun::write_book(top, bids, asks, v_);
  run.write_flow(v_);
}

void FeatureState::refresh(const Ladder& bids, const Ladder& asks, FeatureSet set) {
  if (set == FeatureSet::kTop) {
    FeatureRun::write_top_row(TopOfBook::of(bids, asks), v_);
    return;
  }
  FeatureRun::write_book(TopOfBook::of(bids, asks), bids, asks, v_);
  FeatureRun(*this).write_flow(v_);
}

void FeatureState::write(double* out) const { std::memcpy(out, v_, sizeof(v_)); }

}  // namespace cmm
