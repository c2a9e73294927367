// Event log bindings: one scanBatchFrames call per read chunk (the reader's hot loop), plus header
// verification. Results go into a caller-owned Float64Array: no JS object per frame.
#include <napi.h>

#include <vector>

#include "log/frame_decoder.h"
#include "napi/exports.h"

namespace cmm::napi {
namespace {

// Float64Array layout shared with src/log/event-log.ts (SCAN_* constants there).
constexpr size_t kScanHead = 8;      // status, error, consumed, needed, expected, found, frames, events
constexpr size_t kFrameFields = 4;   // frame offset, events offset, count, batch index

bool ByteView(const Napi::Value& v, const uint8_t** data, size_t* len) {
  if (!v.IsTypedArray()) return false;
  auto arr = v.As<Napi::TypedArray>();
  if (arr.TypedArrayType() != napi_uint8_array) return false;
  *data = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  *len = arr.ByteLength();
  return true;
}

bool FloatView(const Napi::Value& v, double** data, size_t* len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) return false;
  auto arr = v.As<Napi::Float64Array>();
  *data = arr.Data();
  *len = arr.ElementLength();
  return true;
}

void WriteHead(double* out, const log::ScanResult& r) {
  out[0] = r.status;
  out[1] = static_cast<double>(r.error);
  out[2] = static_cast<double>(r.consumed);
  out[3] = static_cast<double>(r.needed);
  out[4] = static_cast<double>(r.expected);
  out[5] = static_cast<double>(r.found);
  out[6] = static_cast<double>(r.frames);
  out[7] = 0;
}

// scanBatchFrames(chunk: Uint8Array, nextIndex: number, out: Float64Array): number of frames found.
Napi::Value ScanBatchFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* data;
  size_t len;
  double* out;
  size_t out_len;
  if (info.Length() < 3 || !ByteView(info[0], &data, &len) || !info[1].IsNumber() || !FloatView(info[2], &out, &out_len) ||
      out_len < kScanHead + kFrameFields) {
    Napi::TypeError::New(env, "expected (Uint8Array, number, Float64Array of at least 12) for scanBatchFrames")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const size_t max_frames = (out_len - kScanHead) / kFrameFields;
  const uint64_t next_index = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  // Reused across calls (grows to the largest `out` seen): no allocation per chunk.
  static thread_local std::vector<log::BatchFrame> frames;
  if (frames.size() < max_frames) frames.resize(max_frames);
  const log::ScanResult total = log::ScanBatchFrames(data, len, next_index, frames.data(), max_frames);
  double* f = out + kScanHead;
  double events = 0;
  for (size_t i = 0; i < total.frames; i++, f += kFrameFields) {
    f[0] = static_cast<double>(frames[i].offset);
    f[1] = static_cast<double>(frames[i].events_offset);
    f[2] = frames[i].count;
    f[3] = static_cast<double>(frames[i].batch_index);
    events += frames[i].count;
  }
  WriteHead(out, total);
  out[7] = events;
  return Napi::Number::New(env, static_cast<double>(total.frames));
}

// verifyHeaderFrame(bytes: Uint8Array, out: Float64Array): status; out head as for scanBatchFrames,
// with consumed = header span (where the first batch starts).
Napi::Value VerifyHeaderFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* data;
  size_t len;
  double* out;
  size_t out_len;
  if (info.Length() < 2 || !ByteView(info[0], &data, &len) || !FloatView(info[1], &out, &out_len) || out_len < kScanHead) {
    Napi::TypeError::New(env, "expected (Uint8Array, Float64Array of at least 8) for verifyHeaderFrame")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t span = 0;
  log::ScanResult r = log::VerifyHeaderFrame(data, len, &span);
  WriteHead(out, r);
  return Napi::Number::New(env, r.status);
}

Napi::Value FrameErrorText(const Napi::CallbackInfo& info) {
  const int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  return Napi::String::New(info.Env(), log::FrameErrorText(static_cast<log::FrameError>(code)));
}

}  // namespace

void InitLog(Napi::Env env, Napi::Object exports) {
  exports.Set("scanBatchFrames", Napi::Function::New(env, ScanBatchFrames, "scanBatchFrames"));
  exports.Set("verifyHeaderFrame", Napi::Function::New(env, VerifyHeaderFrame, "verifyHeaderFrame"));
  exports.Set("frameErrorText", Napi::Function::New(env, FrameErrorText, "frameErrorText"));
}

}  // namespace cmm::napi
