// JS class MarketEngine over cmm::MarketEngine, plus featureNames(). One apply() call per batch:
// events in as a Uint8Array of 64-byte rows, feature rows out into a caller-owned Float64Array; or one
// applyFrames() call per chunk of an event-log file (frames verified and applied natively, for replay).
// Argument checks here are cheap guards; src/market/market-engine.ts validates with full messages.
#include <napi.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "features/features.h"
#include "log/frame_apply.h"
#include "market/market_engine.h"
#include "napi/exports.h"

namespace cmm::napi {
namespace {

double OptionalPositive(Napi::Object cfg, const char* key, double fallback) {
  if (!cfg.Has(key)) return fallback;
  Napi::Value v = cfg.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(cfg.Env(), std::string("expected a number for ") + key);
  return v.As<Napi::Number>().DoubleValue();
}

template <class T>
T* TypedData(Napi::TypedArray a) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

class MarketEngineWrap : public Napi::ObjectWrap<MarketEngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MarketEngine",
                       {InstanceMethod<&MarketEngineWrap::Apply>("apply"),
                        InstanceMethod<&MarketEngineWrap::ApplyFrames>("applyFrames"),
                        InstanceMethod<&MarketEngineWrap::Features>("features"),
                        InstanceMethod<&MarketEngineWrap::TopOfBook>("topOfBook"),
                        InstanceMethod<&MarketEngineWrap::Depth>("depth"),
                        InstanceMethod<&MarketEngineWrap::Stats>("stats"),
                        InstanceMethod<&MarketEngineWrap::InstrumentStats>("instrumentStats"),
                        InstanceMethod<&MarketEngineWrap::Gaps>("gaps"),
                        InstanceMethod<&MarketEngineWrap::IsStale>("isStale"),
                        InstanceAccessor<&MarketEngineWrap::InstrumentCount>("instrumentCount")});
  }

  // new MarketEngine(bookTypes: Uint8Array, config?: {ofiHalfLife, tradeFlowHalfLife,
  //   volatilityHalfLife, intensityTimeConstant (seconds), maxGapRecords, featureSet (0 all, 1 top)})
  explicit MarketEngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MarketEngineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, "expected a Uint8Array of book types (0 L2, 1 L3) for bookTypes");
    }
    auto types = info[0].As<Napi::Uint8Array>();
    std::vector<BookType> book_types;
    for (size_t i = 0; i < types.ElementLength(); i++) {
      if (types[i] > 1) throw Napi::RangeError::New(env, "expected 0 (L2) or 1 (L3) for bookTypes entries");
      book_types.push_back(static_cast<BookType>(types[i]));
    }
    FeatureConfig cfg;
    double max_gaps = 1024;
    double feature_set = 0;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      cfg.ofi_half_life_s = OptionalPositive(o, "ofiHalfLife", cfg.ofi_half_life_s);
      cfg.trade_flow_half_life_s = OptionalPositive(o, "tradeFlowHalfLife", cfg.trade_flow_half_life_s);
      cfg.volatility_half_life_s = OptionalPositive(o, "volatilityHalfLife", cfg.volatility_half_life_s);
      cfg.intensity_time_constant_s = OptionalPositive(o, "intensityTimeConstant", cfg.intensity_time_constant_s);
      max_gaps = OptionalPositive(o, "maxGapRecords", max_gaps);
      feature_set = OptionalPositive(o, "featureSet", feature_set);
    }
    if (!cfg.valid()) throw Napi::RangeError::New(env, "expected positive finite half-lives / time constant for config");
    if (!(max_gaps >= 0 && max_gaps <= 1e7)) throw Napi::RangeError::New(env, "expected 0..1e7 for maxGapRecords");
    if (feature_set != 0 && feature_set != 1) throw Napi::RangeError::New(env, "expected 0 (all) or 1 (top) for featureSet");
    engine_ = std::make_unique<MarketEngine>(book_types, cfg, static_cast<size_t>(max_gaps),
                                             feature_set == 1 ? FeatureSet::kTop : FeatureSet::kAll);
  }

 private:
  uint32_t InstrumentArg(const Napi::CallbackInfo& info, size_t k) {
    if (info.Length() <= k || !info[k].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected an instrument index");
    double d = info[k].As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d < static_cast<double>(engine_->instrument_count())) || d != static_cast<uint32_t>(d)) {
      throw Napi::RangeError::New(info.Env(), "instrument index out of range");
    }
    return static_cast<uint32_t>(d);
  }

  Napi::Float64Array F64Arg(const Napi::CallbackInfo& info, size_t k, size_t min_len) {
    if (info.Length() <= k || !info[k].IsTypedArray() ||
        info[k].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      throw Napi::TypeError::New(info.Env(), "expected a Float64Array for out");
    }
    auto a = info[k].As<Napi::Float64Array>();
    if (a.ElementLength() < min_len) throw Napi::RangeError::New(info.Env(), "output Float64Array too short");
    return a;
  }

  // apply(events: Uint8Array, count: number, featuresOut?: Float64Array): number (events applied); rows of
  // engine_->row_width() doubles
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "expected (events: Uint8Array, count: number, featuresOut?: Float64Array)");
    }
    auto bytes = info[0].As<Napi::TypedArray>();
    const double count_d = info[1].As<Napi::Number>().DoubleValue();
    if (!(count_d >= 0) || count_d * sizeof(Event) > static_cast<double>(bytes.ByteLength())) {
      throw Napi::RangeError::New(env, "count exceeds the events in the buffer");
    }
    const size_t count = static_cast<size_t>(count_d);
    const uint8_t* p = TypedData<uint8_t>(bytes);
    if (reinterpret_cast<uintptr_t>(p) % 8 != 0) throw Napi::RangeError::New(env, "events must start 8-byte aligned");
    double* out = nullptr;
    if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()) {
      out = TypedData<double>(F64Arg(info, 2, count * static_cast<size_t>(engine_->row_width())));
      // Rows are written while events are read (and read back: the best-level history).
      const uintptr_t o0 = reinterpret_cast<uintptr_t>(out), e0 = reinterpret_cast<uintptr_t>(p);
      const uintptr_t o1 = o0 + count * static_cast<size_t>(engine_->row_width()) * sizeof(double), e1 = e0 + count * sizeof(Event);
      if (count != 0 && o0 < e1 && e0 < o1) throw Napi::RangeError::New(env, "featuresOut must not overlap the events");
    }
    return Napi::Number::New(env, static_cast<double>(engine_->apply(reinterpret_cast<const Event*>(p), count, out)));
  }

  // applyFrames(chunk: Uint8Array, nextIndex: number, out: Float64Array(8)): frames applied. Verifies the
  // event log's Batch frames in chunk (8-aligned, batch_index nextIndex first) and applies each to the
  // engine without feature rows. out: the scan head of napi/log.cc scanBatchFrames (status, error,
  // consumed, needed, expected, found, frames), with out[7] = events applied; no per-frame fields.
  Napi::Value ApplyFrames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "expected (chunk: Uint8Array, nextIndex: number, out: Float64Array)");
    }
    auto chunk = info[0].As<Napi::TypedArray>();
    double* out = TypedData<double>(F64Arg(info, 2, 8));
    const uint64_t next = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
    const log::ApplyResult r = log::ApplyBatchFrames(*engine_, TypedData<uint8_t>(chunk), chunk.ByteLength(), next);
    out[0] = r.scan.status;
    out[1] = static_cast<double>(r.scan.error);
    out[2] = static_cast<double>(r.scan.consumed);
    out[3] = static_cast<double>(r.scan.needed);
    out[4] = static_cast<double>(r.scan.expected);
    out[5] = static_cast<double>(r.scan.found);
    out[6] = static_cast<double>(r.scan.frames);
    out[7] = static_cast<double>(r.events);
    return Napi::Number::New(env, static_cast<double>(r.scan.frames));
  }

  // features(instrument, out: Float64Array(kNumFeatures)): out
  Napi::Value Features(const Napi::CallbackInfo& info) {
    uint32_t i = InstrumentArg(info, 0);
    auto out = F64Arg(info, 1, kNumFeatures);
    const double* v = engine_->features(i);
    for (int f = 0; f < kNumFeatures; f++) out[f] = v[f];
    return out;
  }

  // topOfBook(instrument, out: Float64Array(4)): [bidPrice, bidQty, askPrice, askQty]; NaN price on an empty side
  Napi::Value TopOfBook(const Napi::CallbackInfo& info) {
    uint32_t i = InstrumentArg(info, 0);
    auto out = F64Arg(info, 1, 4);
    const Ladder& b = engine_->ladder(i, kSideBid);
    const Ladder& a = engine_->ladder(i, kSideAsk);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    out[0] = b.empty() ? nan : static_cast<double>(b.best_price());
    out[1] = static_cast<double>(b.best_qty());
    out[2] = a.empty() ? nan : static_cast<double>(a.best_price());
    out[3] = static_cast<double>(a.best_qty());
    return out;
  }

  // depth(instrument, side (1 bid, 2 ask), n, out: Float64Array(2n)): levels written, [price, qty] best first
  Napi::Value Depth(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t i = InstrumentArg(info, 0);
    if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) {
      throw Napi::TypeError::New(env, "expected (instrument, side, n, out)");
    }
    const uint32_t side = info[1].As<Napi::Number>().Uint32Value();
    if (side != kSideBid && side != kSideAsk) throw Napi::RangeError::New(env, "expected 1 (bid) or 2 (ask) for side");
    const double nd = info[2].As<Napi::Number>().DoubleValue();
    if (!(nd >= 0 && nd <= 1e9)) throw Napi::RangeError::New(env, "expected a level count >= 0 for n");
    const size_t n = static_cast<size_t>(nd);
    auto out = F64Arg(info, 3, 2 * n);
    const Ladder& l = engine_->ladder(i, static_cast<Side>(side));
    const size_t m = n < l.size() ? n : l.size();
    for (size_t k = 0; k < m; k++) {
      out[2 * k] = static_cast<double>(l.at(k).price);
      out[2 * k + 1] = static_cast<double>(l.at(k).qty);
    }
    return Napi::Number::New(env, static_cast<double>(m));
  }

  static Napi::Object CountsObject(Napi::Env env, const MarketCounts& c, bool engine_wide) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("events", static_cast<double>(c.events));
    o.Set("gaps", static_cast<double>(c.gaps));
    o.Set("crossedEpisodes", static_cast<double>(c.crossed_episodes));
    o.Set("prunedLevels", static_cast<double>(c.pruned_levels));
    o.Set("unknownOrders", static_cast<double>(c.unknown_orders));
    o.Set("invalidEvents", static_cast<double>(c.invalid_events));
    o.Set("staleEvents", static_cast<double>(c.stale_events));
    if (engine_wide) o.Set("unknownInstruments", static_cast<double>(c.unknown_instruments));
    return o;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) { return CountsObject(info.Env(), engine_->counts(), true); }

  Napi::Value InstrumentStats(const Napi::CallbackInfo& info) {
    uint32_t i = InstrumentArg(info, 0);
    Napi::Object o = CountsObject(info.Env(), engine_->instrument_counts(i), false);
    o.Set("stale", engine_->is_stale(i));
    return o;
  }

  // gaps(): [{instrument, expected: bigint, got: bigint, eventIndex}]
  Napi::Value Gaps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& gaps = engine_->gaps();
    Napi::Array arr = Napi::Array::New(env, gaps.size());
    for (size_t k = 0; k < gaps.size(); k++) {
      Napi::Object g = Napi::Object::New(env);
      g.Set("instrument", gaps[k].instrument);
      g.Set("expected", Napi::BigInt::New(env, gaps[k].expected));
      g.Set("got", Napi::BigInt::New(env, gaps[k].got));
      g.Set("eventIndex", static_cast<double>(gaps[k].event_index));
      arr.Set(static_cast<uint32_t>(k), g);
    }
    return arr;
  }

  Napi::Value IsStale(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_->is_stale(InstrumentArg(info, 0)));
  }

  Napi::Value InstrumentCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(engine_->instrument_count()));
  }

  std::unique_ptr<MarketEngine> engine_;
};

Napi::Value FeatureNames(const Napi::CallbackInfo& info) {
  Napi::Array arr = Napi::Array::New(info.Env(), kNumFeatures);
  for (int f = 0; f < kNumFeatures; f++) arr.Set(static_cast<uint32_t>(f), kFeatureNames[f]);
  return arr;
}

}  // namespace

void InitMarket(Napi::Env env, Napi::Object exports) {
  exports.Set("MarketEngine", MarketEngineWrap::Define(env));
  exports.Set("featureNames", Napi::Function::New(env, FeatureNames, "featureNames"));
}

}  // namespace cmm::napi
