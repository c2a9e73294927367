// The per-event feature kernel, inline: FeatureKernel updates FeatureAccumulators (MarketEngine runs it on
// a local copy over a run of events, so the state stays in registers: the rows it writes cannot alias
// it) and writes a row's columns. Formulas in features.h; FeatureState::update uses the same code.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "book/inline.h"
#include "book/ladder.h"
#include "core/event.h"
#include "features/features.h"

#ifndef CMM_UNLIKELY
#define CMM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

namespace cmm {

namespace feature_detail {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per raw kind byte: 1 for kinds that count toward event intensity (book changes and trades).
struct KindTable {
  uint8_t counts[256];
  constexpr KindTable() : counts() {
    counts[static_cast<int>(EventKind::Add)] = 1;
    counts[static_cast<int>(EventKind::Modify)] = 1;
    counts[static_cast<int>(EventKind::Cancel)] = 1;
    counts[static_cast<int>(EventKind::DeleteLevel)] = 1;
    counts[static_cast<int>(EventKind::Trade)] = 1;
  }
};
inline constexpr KindTable kKinds;

// Aggressor sign by raw side byte: bid/buy +1, ask/sell -1, anything else 0.
struct SignTable {
  double sign[256];
  constexpr SignTable() : sign() {
    sign[kSideBid] = 1.0;
    sign[kSideAsk] = -1.0;
  }
};
inline constexpr SignTable kSigns;

// 2^(-j/256), j = 0..255 (features.cc fills it at start-up).
struct Exp2Table {
  double t[256];
  Exp2Table();
};
extern const Exp2Table kExp2Table;

// e^(-x) for x >= 0 without a libm call, so the decays of one time step pipeline: e^-x = 2^(-k/256) e^r
// with k = round(256 x / ln2) (Cody-Waite hi/lo), |r| <= ln2/512, e^r by a degree-5 polynomial (Estrin),
// 2^(-k/256) from a 256-entry table and the exponent bits. Within 2 ulp of libm exp() over [0, 708]
// (checked on 1e7 points); exactly 0 beyond 708. About 2.5x faster than glibc exp() here.
[[maybe_unused]] inline double exp_neg(double x) {
  constexpr double k256OverLn2 = 256 * 1.4426950408889634;
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: adding it leaves round(y) in the low bits
  constexpr double kLn2Hi = 6.93147180369123816490e-01 / 256;
  constexpr double kLn2Lo = 1.90821492927058770002e-10 / 256;
  const bool in_range = x < 708.0;
  x = in_range ? x : 708.0;
  const double shifted = x * k256OverLn2 + kShift;
  const double k = shifted - kShift;
  const double r = (k * kLn2Hi - x) + k * kLn2Lo;
  const double r2 = r * r;
  const double p = (1.0 + r) + r2 * ((0.5 + r * (1.0 / 6)) + r2 * (1.0 / 24 + r * (1.0 / 120)));
  uint64_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  const uint64_t kk = bits & 0xffffffffu;  // k, 0 .. 261,000
  const uint64_t scale_bits = (1023 - (kk >> 8)) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return in_range ? p * kExp2Table.t[kk & 255] * scale : 0.0;
}

#if defined(__SSE2__)
// exp_neg's constants as lane pairs, defined in features.cc: out of the compiler's sight, each is one
// aligned load folded into the arithmetic rather than a scalar load and a broadcast on every call.
struct alignas(16) ExpConstants {
  double limit[2] = {708.0, 708.0};
  double inv_ln2[2] = {256 * 1.4426950408889634, 256 * 1.4426950408889634};
  double shift[2] = {6755399441055744.0, 6755399441055744.0};
  double ln2_hi[2] = {6.93147180369123816490e-01 / 256, 6.93147180369123816490e-01 / 256};
  double ln2_lo[2] = {1.90821492927058770002e-10 / 256, 1.90821492927058770002e-10 / 256};
  double one[2] = {1.0, 1.0};
  double half[2] = {0.5, 0.5};
  double c3[2] = {1.0 / 6, 1.0 / 6};
  double c4[2] = {1.0 / 24, 1.0 / 24};
  double c5[2] = {1.0 / 120, 1.0 / 120};
  int64_t low32[2] = {0xffffffffll, 0xffffffffll};
  // Small arguments: x < 1/64 takes the Taylor polynomial of e^-x to degree 6 (truncation < x^7/7! < 5e-17).
  double small[2] = {1.0 / 64, 1.0 / 64};
  double t6[2] = {1.0 / 720, 1.0 / 720};
  double t5[2] = {-1.0 / 120, -1.0 / 120};
  double t4[2] = {1.0 / 24, 1.0 / 24};
  double t3[2] = {-1.0 / 6, -1.0 / 6};
  double t1[2] = {-1.0, -1.0};
  int64_t low8[2] = {255, 255};
  int64_t bias[2] = {1023, 1023};
};
extern const ExpConstants kExpC;

// exp_neg on two lanes at once: the same operations as the scalar version, so the same results.
CMM_ALWAYS_INLINE __m128d exp_neg2(__m128d x) {
  const ExpConstants& c = kExpC;
  auto ld = [](const double* v) { return _mm_load_pd(v); };
  auto ldi = [](const int64_t* v) { return _mm_load_si128(reinterpret_cast<const __m128i*>(v)); };
  const __m128d in_range = _mm_cmplt_pd(x, ld(c.limit));
  x = _mm_min_pd(x, ld(c.limit));
  const __m128d shifted = _mm_add_pd(_mm_mul_pd(x, ld(c.inv_ln2)), ld(c.shift));
  const __m128d k = _mm_sub_pd(shifted, ld(c.shift));
  const __m128d r = _mm_add_pd(_mm_sub_pd(_mm_mul_pd(k, ld(c.ln2_hi)), x), _mm_mul_pd(k, ld(c.ln2_lo)));
  const __m128d r2 = _mm_mul_pd(r, r);
  const __m128d a = _mm_add_pd(ld(c.one), r);
  const __m128d b = _mm_add_pd(ld(c.half), _mm_mul_pd(r, ld(c.c3)));
  const __m128d d = _mm_add_pd(ld(c.c4), _mm_mul_pd(r, ld(c.c5)));
  const __m128d p = _mm_add_pd(a, _mm_mul_pd(r2, _mm_add_pd(b, _mm_mul_pd(r2, d))));
  const __m128i kk = _mm_and_si128(_mm_castpd_si128(shifted), ldi(c.low32));
  const __m128i idx = _mm_and_si128(kk, ldi(c.low8));
  const double t0 = kExp2Table.t[_mm_cvtsi128_si64(idx)];
  const double t1 = kExp2Table.t[_mm_cvtsi128_si64(_mm_unpackhi_epi64(idx, idx))];
  const __m128i scale = _mm_slli_epi64(_mm_sub_epi64(ldi(c.bias), _mm_srli_epi64(kk, 8)), 52);
  const __m128d res = _mm_mul_pd(_mm_mul_pd(p, _mm_set_pd(t1, t0)), _mm_castsi128_pd(scale));
  return _mm_and_pd(res, in_range);
}

// True when both lanes of x and y are below 1/64 (and not NaN): exp_neg2_small then serves them.
CMM_ALWAYS_INLINE bool both_small(__m128d x, __m128d y) {
  const __m128d lim = _mm_load_pd(kExpC.small);
  return _mm_movemask_pd(_mm_and_pd(_mm_cmplt_pd(x, lim), _mm_cmplt_pd(y, lim))) == 3;
}

// e^-x for 0 <= x < 1/64 on two lanes: 1 - x + x^2/2 - ... + x^6/720 by Horner. Truncation below 5e-17
// and about one rounding per step: within 2 ulp of libm exp(), like exp_neg2, without its range
// reduction and table. Events close together in time (most of a feed) take this path.
CMM_ALWAYS_INLINE __m128d exp_neg2_small(__m128d x) {
  const ExpConstants& c = kExpC;
  auto ld = [](const double* v) { return _mm_load_pd(v); };
  __m128d p = _mm_add_pd(ld(c.t5), _mm_mul_pd(x, ld(c.t6)));
  p = _mm_add_pd(ld(c.t4), _mm_mul_pd(x, p));
  p = _mm_add_pd(ld(c.t3), _mm_mul_pd(x, p));
  p = _mm_add_pd(ld(c.half), _mm_mul_pd(x, p));
  p = _mm_add_pd(ld(c.t1), _mm_mul_pd(x, p));
  return _mm_add_pd(ld(c.one), _mm_mul_pd(x, p));
}
#endif

}  // namespace feature_detail

/** Best level of each side. An empty side has qty 0 and the worst price there is (see empty()). */
struct TopOfBook {
  int64_t bid_px, bid_qty, ask_px, ask_qty;
  static CMM_ALWAYS_INLINE TopOfBook of(const Ladder& bids, const Ladder& asks) {
    return {bids.best_price_or_worst(), bids.best_qty(), asks.best_price_or_worst(), asks.best_qty()};
  }
  /** Both sides empty: bid price INT64_MIN (kNoPrice), ask price INT64_MAX. */
  static constexpr TopOfBook empty() { return {INT64_MIN, 0, INT64_MAX, 0}; }
  // Prices as doubles, NaN for an empty side (NaN then propagates into mid, microprice, spread).
  double bid() const { return bid_qty != 0 ? static_cast<double>(bid_px) : feature_detail::kNaN; }
  double ask() const { return ask_qty != 0 ? static_cast<double>(ask_px) : feature_detail::kNaN; }
  double mid() const { return (bid() + ask()) * 0.5; }
};

/**
 * The per-event kernel over FeatureAccumulators: state update, and the writers of a row's columns.
 * Static and inline, so a caller's local copy of the accumulators stays in registers.
 */
class FeatureKernel {
 public:
  /**
   * The state update for one event already applied to the book, whose best levels are `top`: clock and
   * decays, intensity, trade flow, and at book-consistent events the OFI / volatility step.
   */
  static CMM_ALWAYS_INLINE void step(FeatureAccumulators& a, const Event& e, const TopOfBook& top, bool book_consistent) {
    // Clock: monotone; a timestamp going backwards counts as no time elapsed.
    const int64_t t = e.ts_exchange != 0 ? e.ts_exchange : e.ts_local;
    if (t > a.last_t || !a.has_time) {
      if (a.has_time) decay(a, t);
      a.last_t = t;
      a.has_time = true;
    }
    const uint8_t kind = e.kind;
    const bool snapshot_flag = (e.flags & kFlagSnapshot) != 0;
    a.intensity += (feature_detail::kKinds.counts[kind] & !snapshot_flag) ? a.k_int : 0.0;
    if (kind == static_cast<uint8_t>(EventKind::Trade)) {
      a.flow += feature_detail::kSigns.sign[e.side] * static_cast<double>(e.qty);
      a.last_trade_t = a.last_t;
      a.has_trade = true;
    }
    if (CMM_UNLIKELY(kind == static_cast<uint8_t>(EventKind::SnapshotBegin) ||
                     kind == static_cast<uint8_t>(EventKind::Clear))) {
      a.has_prev = false;  // the next consistent book is a new baseline, not flow
    }
    const bool in_snapshot = (snapshot_flag && kind != static_cast<uint8_t>(EventKind::SnapshotEnd)) ||
                             kind == static_cast<uint8_t>(EventKind::SnapshotBegin);
    if (book_consistent && !in_snapshot) {
      // Empty bid = -inf (kNoPrice is INT64_MIN), empty ask = +inf; empty quantities are 0.
      const int64_t bpx = top.bid_px;
      const int64_t apx = top.ask_px;  // INT64_MAX when the side is empty
      const int64_t bqty = top.bid_qty;
      const int64_t aqty = top.ask_qty;
      const double mid = top.mid();
      if (a.has_prev) {
        const double en = (bpx >= a.prev_bid_px ? static_cast<double>(bqty) : 0.0) -
                          (bpx <= a.prev_bid_px ? static_cast<double>(a.prev_bid_qty) : 0.0) -
                          (apx <= a.prev_ask_px ? static_cast<double>(aqty) : 0.0) +
                          (apx >= a.prev_ask_px ? static_cast<double>(a.prev_ask_qty) : 0.0);
        a.ofi += en;
        const double r = mid - a.prev_mid;
        a.var += r == r ? r * r : 0.0;  // NaN (an empty side now or before): no contribution
      }
      a.prev_bid_px = bpx;
      a.prev_bid_qty = bqty;
      a.prev_ask_px = apx;
      a.prev_ask_qty = aqty;
      a.prev_mid = mid;
      a.has_prev = true;
    }
  }

  /** The decayed and clock columns (kOfi .. kTimeSinceTrade) into out. */
  static CMM_ALWAYS_INLINE void write_flow(const FeatureAccumulators& a, double* out) {
    out[kOfi] = a.ofi;
    out[kTradeFlow] = a.flow;
    out[kRealisedVol] = std::sqrt(a.var);
    out[kIntensity] = a.intensity;
    out[kTimeSinceTrade] =
        a.has_trade ? static_cast<double>(static_cast<uint64_t>(a.last_t) - static_cast<uint64_t>(a.last_trade_t)) * 1e-9
                    : feature_detail::kNaN;
  }

  /** The columns that depend on the book only: top of book, imbalances over 1, 5 and 10 levels. */
  static CMM_ALWAYS_INLINE void write_book(const TopOfBook& top, const Ladder& bids, const Ladder& asks, double* out) {
    write_top_columns(top, out);
    const DepthSums b = depth_sums(bids, top.bid_qty);
    const DepthSums a = depth_sums(asks, top.ask_qty);
    // 0/0 = NaN when both sides are empty. Two quotients per divpd: the same correctly rounded results.
#if defined(__SSE2__)
    const __m128d num = _mm_sub_pd(_mm_set_pd(b.s10, b.s5), _mm_set_pd(a.s10, a.s5));
    const __m128d den = _mm_add_pd(_mm_set_pd(b.s10, b.s5), _mm_set_pd(a.s10, a.s5));
    const __m128d q = _mm_div_pd(num, den);
    out[kImbalance5] = _mm_cvtsd_f64(q);
    out[kImbalance10] = _mm_cvtsd_f64(_mm_unpackhi_pd(q, q));
#else
    out[kImbalance5] = (b.s5 - a.s5) / (b.s5 + a.s5);
    out[kImbalance10] = (b.s10 - a.s10) / (b.s10 + a.s10);
#endif
  }

  /** kMid, kMicroprice, kSpread, kImbalance1 and the best prices / quantities (FeatureSet::kTop's columns). */
  static CMM_ALWAYS_INLINE void write_top_columns(const TopOfBook& top, double* out) {
    const double bp = top.bid();
    const double ap = top.ask();
    const double bq = static_cast<double>(top.bid_qty);  // 0 when empty
    const double aq = static_cast<double>(top.ask_qty);
    out[kMid] = (bp + ap) * 0.5;
    // NaN in bp or ap propagates into the microprice; 0/0 = NaN on an empty book
    out[kMicroprice] = (bp * aq + ap * bq) / (bq + aq);
    out[kImbalance1] = (bq - aq) / (bq + aq);
    out[kSpread] = ap - bp;
    out[kBidPrice] = bp;
    out[kAskPrice] = ap;
    out[kBidQty] = bq;
    out[kAskQty] = aq;
  }

  /** A FeatureSet::kTop row: the top-of-book columns, NaN in the others. */
  static CMM_ALWAYS_INLINE void write_top_row(const TopOfBook& top, double* out) {
    const double nan = feature_detail::kNaN;
    for (int f = kImbalance5; f <= kTimeSinceTrade; f++) out[f] = nan;
    write_top_columns(top, out);
  }

 private:
  // Sums of the best 5 and 10 level quantities (fewer when the side is shorter; the best one is `best`).
  // Summed as uint64 (wrapping, so garbage input cannot overflow into UB; exact for real books, whose
  // sums are far below 2^53, hence equal to the TS reference's double sums), then converted. Walks a raw
  // pointer down from the best level (the Ladder keeps the best 10 contiguous, best at the back).
  struct DepthSums {
    double s5, s10;
  };
  static CMM_ALWAYS_INLINE DepthSums depth_sums(const Ladder& l, int64_t best_qty) {
    const size_t n = l.size();
    if (n == 0) return {0, 0};
    const Level* best = &l.at(0);
    auto q = [best](size_t i) { return static_cast<uint64_t>((best - i)->qty); };
    uint64_t s5 = static_cast<uint64_t>(best_qty), s10;
    if (n >= 10) {
      s5 += q(1) + q(2) + q(3) + q(4);
      s10 = s5 + q(5) + q(6) + q(7) + q(8) + q(9);
    } else {
      const size_t n5 = n < 5 ? n : 5;
      size_t i = 1;
      for (; i < n5; i++) s5 += q(i);
      s10 = s5;
      for (; i < n; i++) s10 += q(i);
    }
    auto d = [](uint64_t x) { return static_cast<double>(static_cast<int64_t>(x)); };
    return {d(s5), d(s10)};
  }

  // Decays the four accumulators from a.last_t to t (> a.last_t), as two SSE2 pairs.
  static CMM_ALWAYS_INLINE void decay(FeatureAccumulators& a, int64_t t) {
    // The unsigned difference is the exact elapsed time in ns.
    const double dt_s = static_cast<double>(static_cast<uint64_t>(t) - static_cast<uint64_t>(a.last_t)) * 1e-9;
#if defined(__SSE2__)
    const __m128d dt = _mm_set1_pd(dt_s);
    const __m128d x01 = _mm_mul_pd(dt, _mm_set_pd(a.k_flow, a.k_ofi));
    const __m128d x23 = _mm_mul_pd(dt, _mm_set_pd(a.k_int, a.k_var));
    __m128d f01, f23;
    if (feature_detail::both_small(x01, x23)) {
      f01 = feature_detail::exp_neg2_small(x01);
      f23 = feature_detail::exp_neg2_small(x23);
    } else {
      f01 = feature_detail::exp_neg2(x01);
      f23 = feature_detail::exp_neg2(x23);
    }
    const __m128d a01 = _mm_mul_pd(_mm_set_pd(a.flow, a.ofi), f01);
    const __m128d a23 = _mm_mul_pd(_mm_set_pd(a.intensity, a.var), f23);
    a.ofi = _mm_cvtsd_f64(a01);
    a.flow = _mm_cvtsd_f64(_mm_unpackhi_pd(a01, a01));
    a.var = _mm_cvtsd_f64(a23);
    a.intensity = _mm_cvtsd_f64(_mm_unpackhi_pd(a23, a23));
#else
    a.ofi *= feature_detail::exp_neg(dt_s * a.k_ofi);
    a.flow *= feature_detail::exp_neg(dt_s * a.k_flow);
    a.var *= feature_detail::exp_neg(dt_s * a.k_var);
    a.intensity *= feature_detail::exp_neg(dt_s * a.k_int);
#endif
  }
};

/**
 * A FeatureSet::kTop row (kNumTopFeatures columns, see top_feature()) held in registers as the four
 * pairs it is stored as: computed when the top of book changes, stored (4 moves, 64 bytes) for every
 * event. The same values as write_top_columns.
 */
class TopRow {
 public:
  explicit CMM_ALWAYS_INLINE TopRow(const TopOfBook& top) { set(top); }
  CMM_ALWAYS_INLINE void set(const TopOfBook& top) {
#if defined(__SSE2__)
    const double bp = top.bid();
    const double ap = top.ask();
    const double bq = static_cast<double>(top.bid_qty);  // 0 when empty
    const double aq = static_cast<double>(top.ask_qty);
    // microprice and imbalance1 in one divpd: the same correctly rounded quotients as two divsd
    const __m128d q = _mm_div_pd(_mm_set_pd(bq - aq, bp * aq + ap * bq), _mm_set1_pd(bq + aq));
    pair_[0] = _mm_unpacklo_pd(_mm_set_sd((bp + ap) * 0.5), q);  // (mid, microprice)
    pair_[1] = _mm_move_sd(q, _mm_set_sd(ap - bp));            // (spread, imbalance1)
    pair_[2] = _mm_set_pd(ap, bp);                             // (bidPrice, askPrice)
    pair_[3] = _mm_set_pd(aq, bq);                             // (bidQty, askQty)
#else
    double full[kNumFeatures];
    FeatureKernel::write_top_columns(top, full);
    for (int c = 0; c < kNumTopFeatures; c++) row_[c] = full[top_feature(c)];
#endif
  }
  CMM_ALWAYS_INLINE void store(double* out) const {
#if defined(__SSE2__)
    for (int p = 0; p < 4; p++) _mm_storeu_pd(out + 2 * p, pair_[p]);
#else
    std::memcpy(out, row_, sizeof row_);
#endif
  }

 private:
#if defined(__SSE2__)
  __m128d pair_[4];
#else
  double row_[kNumTopFeatures];
#endif
};

/**
 * kTop rows for a top of book whose quantities change at most events but whose prices seldom do (an L3
 * feed: on the MSFT file the best prices change at 1 % of events, the quantities at 63 %). The price
 * columns and what depends only on them (bid/ask price, mid, spread) are kept as doubles and recomputed
 * only when a best price moves or a side is empty (a predictable branch); each event converts the two
 * quantities and computes microprice and imbalance1. The same values as TopRow (same expressions).
 */
class EagerTopRow {
 public:
  explicit CMM_ALWAYS_INLINE EagerTopRow(const TopOfBook& top) { reprice(top); }
  CMM_ALWAYS_INLINE void store(const TopOfBook& top, double* out) {
    // An empty side (qty 0) always reprices: its price column is NaN, whatever price the ladder holds.
    if (CMM_UNLIKELY(((top.bid_px ^ bid_px_) | (top.ask_px ^ ask_px_)) != 0 || top.bid_qty == 0 || top.ask_qty == 0))
      reprice(top);
#if defined(__SSE2__)
    const double bq = static_cast<double>(top.bid_qty);
    const double aq = static_cast<double>(top.ask_qty);
    const double bp = _mm_cvtsd_f64(prices_);
    const double ap = _mm_cvtsd_f64(_mm_unpackhi_pd(prices_, prices_));
    const __m128d q = _mm_div_pd(_mm_set_pd(bq - aq, bp * aq + ap * bq), _mm_set1_pd(bq + aq));
    _mm_storeu_pd(out, _mm_unpacklo_pd(mid_spread_, q));       // (mid, microprice)
    _mm_storeu_pd(out + 2, _mm_shuffle_pd(mid_spread_, q, 3));  // (spread, imbalance1)
    _mm_storeu_pd(out + 4, prices_);                           // (bidPrice, askPrice)
    _mm_storeu_pd(out + 6, _mm_set_pd(aq, bq));                // (bidQty, askQty)
#else
    TopRow(top).store(out);
#endif
  }

 private:
  CMM_ALWAYS_INLINE void reprice(const TopOfBook& top) {
    bid_px_ = top.bid_px;
    ask_px_ = top.ask_px;
#if defined(__SSE2__)
    const double bp = top.bid();
    const double ap = top.ask();
    prices_ = _mm_set_pd(ap, bp);
    mid_spread_ = _mm_set_pd(ap - bp, (bp + ap) * 0.5);
#endif
  }
  int64_t bid_px_, ask_px_;  // the ladder prices the cached columns are for
#if defined(__SSE2__)
  __m128d prices_;      // (bidPrice, askPrice): NaN for an empty side
  __m128d mid_spread_;  // (mid, spread)
#endif
};

}  // namespace cmm
