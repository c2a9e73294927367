// JS classes L2Book and L3Book over native/book/{l2,l3}_book.h. One apply() call per batch of
// 64-byte events; reads fill caller-owned Float64Arrays. The TS face is src/book/order-book.ts,
// which validates arguments; the checks here only keep bad calls from touching memory.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "book/l2_book.h"
#include "book/l3_book.h"
#include "core/event.h"
#include "napi/exports.h"

namespace cmm::napi {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void ThrowType(Napi::Env env, const char* msg) { Napi::TypeError::New(env, msg).ThrowAsJavaScriptException(); }

bool ArgSide(const Napi::CallbackInfo& info, size_t i, Side* out) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  const int32_t s = info[i].As<Napi::Number>().Int32Value();
  if (s != kSideBid && s != kSideAsk) return false;
  *out = static_cast<Side>(s);
  return true;
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, int64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  *out = info[i].As<Napi::Number>().Int64Value();
  return true;
}

bool ArgOrderId(const Napi::CallbackInfo& info, size_t i, uint64_t* out) {
  if (info.Length() <= i) return false;
  if (info[i].IsBigInt()) {
    bool lossless = false;
    *out = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
    return lossless;
  }
  if (!info[i].IsNumber()) return false;
  const double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d)) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

// Float64Array argument: false when missing or of another type. *data may be null when empty.
bool ArgF64(const Napi::CallbackInfo& info, size_t i, double** data, size_t* len) {
  if (info.Length() <= i || !info[i].IsTypedArray()) return false;
  auto ta = info[i].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_float64_array) return false;
  auto f = ta.As<Napi::Float64Array>();
  *len = f.ElementLength();
  *data = *len > 0 ? f.Data() : nullptr;
  return true;
}

void FillLevel(const Ladder& l, size_t i, double* price, double* qty) {
  if (i < l.size()) {
    *price = static_cast<double>(l.at(i).price);
    *qty = static_cast<double>(l.at(i).qty);
  } else {  // empty level: no price (NaN), nothing resting
    *price = kNaN;
    *qty = 0;
  }
}

template <class Book>
class BookWrap : public Napi::ObjectWrap<BookWrap<Book>> {
  static constexpr bool kL3 = std::is_same_v<Book, L3Book>;

 public:
  static Napi::Function Define(Napi::Env env, const char* name) {
    using W = BookWrap<Book>;
    std::vector<typename Napi::ObjectWrap<W>::PropertyDescriptor> props = {
        W::InstanceMethod("apply", &W::Apply),
        W::InstanceMethod("bestPrice", &W::BestPrice),
        W::InstanceMethod("bestQty", &W::BestQty),
        W::InstanceMethod("depth", &W::Depth),
        W::InstanceMethod("topLevels", &W::TopLevels),
        W::InstanceMethod("qtyAhead", &W::QtyAhead),
        W::InstanceMethod("levelQty", &W::LevelQty),
        W::InstanceMethod("crossed", &W::Crossed),
        W::InstanceMethod("pruneCrossed", &W::PruneCrossed),
        W::InstanceMethod("clear", &W::Clear),
        W::InstanceMethod("stats", &W::Stats),
    };
    if constexpr (kL3) {
      props.push_back(W::InstanceMethod("queueAhead", &W::QueueAhead));
      props.push_back(W::InstanceMethod("order", &W::Order));
      props.push_back(W::InstanceMethod("setLevel", &W::SetLevel));
      props.push_back(W::InstanceMethod("untrackedQty", &W::UntrackedQty));
    }
    return W::DefineClass(env, name, props);
  }

  explicit BookWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BookWrap<Book>>(info) {}

 private:
  // apply(events: Uint8Array, count?: number, start?: number): events applied with status kOk.
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      ThrowType(env, "expected a Uint8Array of 64-byte events for events");
      return env.Undefined();
    }
    auto ta = info[0].As<Napi::TypedArray>();
    const uint8_t* p = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    const size_t total = ta.ByteLength() / sizeof(Event);
    size_t start = 0;
    if (info.Length() > 2 && info[2].IsNumber()) {
      const int64_t s = info[2].As<Napi::Number>().Int64Value();
      if (s < 0 || static_cast<size_t>(s) > total) {
        ThrowType(env, "expected an event index within the events array for start");
        return env.Undefined();
      }
      start = static_cast<size_t>(s);
    }
    p += start * sizeof(Event);
    size_t n = total - start;
    if (info.Length() > 1 && info[1].IsNumber()) {
      const int64_t c = info[1].As<Napi::Number>().Int64Value();
      if (c < 0 || static_cast<size_t>(c) > n) {
        ThrowType(env, "expected a count within the events array for count");
        return env.Undefined();
      }
      n = static_cast<size_t>(c);
    }
    size_t ok = 0;
    if (reinterpret_cast<uintptr_t>(p) % alignof(Event) == 0) {
      const Event* ev = reinterpret_cast<const Event*>(p);
      for (size_t i = 0; i < n; i++) ok += Count(book_.apply(ev[i]));
    } else {  // unaligned view: copy each record out
      Event e;
      for (size_t i = 0; i < n; i++) {
        std::memcpy(&e, p + i * sizeof(Event), sizeof(Event));
        ok += Count(book_.apply(e));
      }
    }
    events_ += n;
    return Napi::Number::New(env, static_cast<double>(ok));
  }

  size_t Count(Status s) {
    if (s == kOk) return 1;
    if (s == kUnknownOrder) unknown_++;
    else invalid_++;
    return 0;
  }

  Napi::Value BestPrice(const Napi::CallbackInfo& info) {
    Side s;
    if (!ArgSide(info, 0, &s)) return BadSide(info.Env());
    const Ladder& l = book_.side(s);
    return Napi::Number::New(info.Env(), l.empty() ? kNaN : static_cast<double>(l.best_price()));
  }

  Napi::Value BestQty(const Napi::CallbackInfo& info) {
    Side s;
    if (!ArgSide(info, 0, &s)) return BadSide(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(book_.side(s).best_qty()));
  }

  // depth(side, n, out): [price, qty] pairs from the best level down; returns levels written.
  Napi::Value Depth(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Side s;
    int64_t n;
    size_t len = 0;
    double* out = nullptr;
    if (!ArgSide(info, 0, &s) || !ArgInt(info, 1, &n) || n < 0 || !ArgF64(info, 2, &out, &len)) {
      ThrowType(env, "expected (side 1|2, n >= 0, Float64Array) for depth");
      return env.Undefined();
    }
    const Ladder& l = book_.side(s);
    size_t k = std::min<size_t>({static_cast<size_t>(n), l.size(), len / 2});
    for (size_t i = 0; i < k; i++) {
      out[2 * i] = static_cast<double>(l.at(i).price);
      out[2 * i + 1] = static_cast<double>(l.at(i).qty);
    }
    return Napi::Number::New(env, static_cast<double>(k));
  }

  // topLevels(n, out): LOBSTER order, per level ask price, ask qty, bid price, bid qty (empty
  // levels: NaN price, 0 qty). Writes min(n, out.length / 4) levels and returns that count.
  Napi::Value TopLevels(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t n;
    size_t len = 0;
    double* out = nullptr;
    if (!ArgInt(info, 0, &n) || n < 0 || !ArgF64(info, 1, &out, &len)) {
      ThrowType(env, "expected (n >= 0, Float64Array) for topLevels");
      return env.Undefined();
    }
    const size_t k = std::min<size_t>(static_cast<size_t>(n), len / 4);
    for (size_t i = 0; i < k; i++) {
      FillLevel(book_.asks(), i, &out[4 * i], &out[4 * i + 1]);
      FillLevel(book_.bids(), i, &out[4 * i + 2], &out[4 * i + 3]);
    }
    return Napi::Number::New(env, static_cast<double>(k));
  }

  Napi::Value QtyAhead(const Napi::CallbackInfo& info) {
    Side s;
    int64_t price;
    if (!ArgSide(info, 0, &s) || !ArgInt(info, 1, &price)) return BadSide(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(book_.qty_ahead(s, price)));
  }

  Napi::Value LevelQty(const Napi::CallbackInfo& info) {
    Side s;
    int64_t price;
    if (!ArgSide(info, 0, &s) || !ArgInt(info, 1, &price)) return BadSide(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(book_.side(s).qty_at(price)));
  }

  Napi::Value Crossed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), book_.crossed()); }

  Napi::Value PruneCrossed(const Napi::CallbackInfo& info) {
    Side s;
    if (!ArgSide(info, 0, &s)) return BadSide(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(book_.prune_crossed(s)));
  }

  Napi::Value Clear(const Napi::CallbackInfo& info) {
    book_.clear();
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("events", static_cast<double>(events_));
    o.Set("unknownOrders", static_cast<double>(book_.unknown_orders()));
    o.Set("invalid", static_cast<double>(invalid_));
    o.Set("bidLevels", static_cast<double>(book_.bids().size()));
    o.Set("askLevels", static_cast<double>(book_.asks().size()));
    if constexpr (kL3) {
      o.Set("orders", static_cast<double>(book_.order_count()));
      o.Set("duplicateAdds", static_cast<double>(book_.duplicate_adds()));
    } else {
      o.Set("orders", 0);
      o.Set("duplicateAdds", 0);
    }
    return o;
  }

  // L3 only ---------------------------------------------------------------------------------------
  Napi::Value QueueAhead(const Napi::CallbackInfo& info) {
    uint64_t id;
    if (!ArgOrderId(info, 0, &id)) return BadOrderId(info.Env());
    if constexpr (kL3) return Napi::Number::New(info.Env(), static_cast<double>(book_.qty_ahead_of_order(id)));
    return info.Env().Undefined();
  }

  // order(id, out: Float64Array(3)): fills [side, price, qty]; false when the order is not resting.
  Napi::Value Order(const Napi::CallbackInfo& info) {
    uint64_t id;
    size_t len = 0;
    double* out = nullptr;
    if (!ArgOrderId(info, 0, &id) || !ArgF64(info, 1, &out, &len) || len < 3) return BadOrderId(info.Env());
    if constexpr (kL3) {
      Side s;
      int64_t price, qty;
      if (!book_.find_order(id, &s, &price, &qty)) return Napi::Boolean::New(info.Env(), false);
      out[0] = s;
      out[1] = static_cast<double>(price);
      out[2] = static_cast<double>(qty);
      return Napi::Boolean::New(info.Env(), true);
    }
    return info.Env().Undefined();
  }

  Napi::Value SetLevel(const Napi::CallbackInfo& info) {
    Side s;
    int64_t price, qty;
    if (!ArgSide(info, 0, &s) || !ArgInt(info, 1, &price) || !ArgInt(info, 2, &qty)) return BadSide(info.Env());
    if constexpr (kL3) return Napi::Number::New(info.Env(), static_cast<double>(book_.set_level_total(s, price, qty)));
    return info.Env().Undefined();
  }

  Napi::Value UntrackedQty(const Napi::CallbackInfo& info) {
    Side s;
    int64_t price;
    if (!ArgSide(info, 0, &s) || !ArgInt(info, 1, &price)) return BadSide(info.Env());
    if constexpr (kL3) return Napi::Number::New(info.Env(), static_cast<double>(book_.untracked_qty(s, price)));
    return info.Env().Undefined();
  }

  Napi::Value BadSide(Napi::Env env) {
    ThrowType(env, "expected side 1 (bid) or 2 (ask) and integer arguments");
    return env.Undefined();
  }
  Napi::Value BadOrderId(Napi::Env env) {
    ThrowType(env, "expected a non-negative integer or bigint for orderId");
    return env.Undefined();
  }

  Book book_;
  uint64_t events_ = 0;
  uint64_t unknown_ = 0;
  uint64_t invalid_ = 0;
};

}  // namespace

void InitBooks(Napi::Env env, Napi::Object exports) {
  exports.Set("L2Book", BookWrap<L2Book>::Define(env, "L2Book"));
  exports.Set("L3Book", BookWrap<L3Book>::Define(env, "L3Book"));
}

}  // namespace cmm::napi
