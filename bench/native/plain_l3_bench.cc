// Reference point for issue 2's book budget, not part of the addon: the plainest L3 book that keeps a correct
// top of book on the LOBSTER MSFT message file. Open-addressing order map (id -> side, price, qty), one
// quantity array per side indexed by price in cents, the best price per side tracked and rescanned when its
// level empties. No FIFO queue, no untracked liquidity, no crossed-book or bad-input handling, no deep-level
// reads: what the engine's L3Book does beyond this is what its extra nanoseconds buy.
// Build and run: g++ -O3 -std=gnu++17 bench/native/plain_l3_bench.cc -o build/bench/plain_l3 &&
//                build/bench/plain_l3 ../shared/data/lobster/MSFT_2012-06-21_34200000_37800000_message_50.csv [reps]
// Timing as bench/native/book_features_bench.cc: 512-event chunks, this thread's CPU clock, p50 over chunks.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Message {
  int64_t price;  // cents
  int64_t qty;
  uint64_t id;
  int type;  // LOBSTER: 1 add, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden execution, ...
  int dir;   // 1 buy, -1 sell
};

struct Order {
  uint64_t id;  // 0: empty slot
  int32_t px;   // index into the level arrays
  int32_t qty;
  int8_t side;  // 0 bid, 1 ask
};

class PlainL3 {
 public:
  PlainL3(int64_t lo, int64_t hi) : slots_(kSlots), base_(lo) {
    for (auto& l : levels_) l.assign(static_cast<size_t>(hi - lo + 1), 0);
  }

  void apply(const Message& m) {
    const int s = m.dir == 1 ? 0 : 1;
    const int64_t px = m.price - base_;
    if (m.type == 1) {
      size_t i = home(m.id);
      while (slots_[i].id != 0) i = (i + 1) & kMask;
      slots_[i] = {m.id, static_cast<int32_t>(px), static_cast<int32_t>(m.qty), static_cast<int8_t>(s)};
      level(s, px, m.qty);
    } else if (m.type == 2 || m.type == 3 || m.type == 4) {
      Order* o = find(m.id);
      if (o == nullptr) return;  // the file starts mid-day: orders placed before it are unknown
      const int64_t q = m.type == 3 ? o->qty : std::min<int64_t>(m.qty, o->qty);
      const int side = o->side;
      const int64_t at = o->px;
      o->qty -= static_cast<int32_t>(q);
      if (o->qty <= 0) erase(o);
      level(side, at, -q);
    }
  }

  int64_t best(int s) const { return best_[s]; }
  int64_t qty_at(int s, int64_t px) const { return px < 0 ? 0 : levels_[s][static_cast<size_t>(px)]; }

 private:
  static constexpr size_t kSlots = size_t{1} << 16;  // enough for MSFT's resting orders at a quarter load
  static constexpr size_t kMask = kSlots - 1;

  static size_t home(uint64_t id) { return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> 48); }

  Order* find(uint64_t id) {
    for (size_t i = home(id);; i = (i + 1) & kMask) {
      if (slots_[i].id == id) return &slots_[i];
      if (slots_[i].id == 0) return nullptr;
    }
  }

  void erase(Order* o) {  // backward-shift deletion keeps probe runs unbroken
    size_t hole = static_cast<size_t>(o - slots_.data());
    for (size_t j = (hole + 1) & kMask;; j = (j + 1) & kMask) {
      const uint64_t k = slots_[j].id;
      if (k == 0) break;
      const size_t h = home(k);
      const bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole].id = 0;
  }

  void level(int s, int64_t px, int64_t d) {
    std::vector<int64_t>& l = levels_[s];
    int64_t& q = l[static_cast<size_t>(px)];
    q += d;
    if (d > 0) {
      if (best_[s] < 0 || (s == 0 ? px > best_[s] : px < best_[s])) best_[s] = px;
      return;
    }
    if (q > 0 || px != best_[s]) return;
    const int64_t n = static_cast<int64_t>(l.size());
    int64_t p = px;
    if (s == 0) {
      while (p > 0 && l[static_cast<size_t>(p)] <= 0) p--;
    } else {
      while (p < n - 1 && l[static_cast<size_t>(p)] <= 0) p++;
    }
    best_[s] = l[static_cast<size_t>(p)] > 0 ? p : -1;
  }

  std::vector<Order> slots_;
  std::vector<int64_t> levels_[2];
  int64_t base_;
  int64_t best_[2] = {-1, -1};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: plain_l3 <lobster message.csv> [reps]\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  std::vector<Message> msgs;
  int64_t lo = INT64_MAX, hi = 0;
  std::string line;
  while (std::getline(in, line)) {
    double t;
    long long type, id, size, price, dir;
    if (std::sscanf(line.c_str(), "%lf,%lld,%lld,%lld,%lld,%lld", &t, &type, &id, &size, &price, &dir) != 6) continue;
    msgs.push_back({price / 100, size, static_cast<uint64_t>(id), static_cast<int>(type), static_cast<int>(dir)});
    lo = std::min<int64_t>(lo, price / 100);
    hi = std::max<int64_t>(hi, price / 100);
  }
  const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<double> per_event;
  double sink = 0;  // the top of book is read after every event and summed, so no work is optimised away
  for (int r = 0; r <= reps; r++) {  // rep 0 warms up
    PlainL3 book(lo - 10, hi + 10);
    for (size_t i = 0; i < msgs.size(); i += 512) {
      const size_t end = std::min(msgs.size(), i + 512);
      timespec a, b;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
      for (size_t k = i; k < end; k++) {
        book.apply(msgs[k]);
        sink += static_cast<double>(book.best(0) + book.qty_at(0, book.best(0)) + book.best(1) + book.qty_at(1, book.best(1)));
      }
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
      if (r > 0) per_event.push_back(((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / static_cast<double>(end - i));
    }
  }
  std::sort(per_event.begin(), per_event.end());
  std::printf("plain L3 book + top of book: p50 %.2f ns/event, p99 %.2f (%zu messages, %d reps; checksum %g)\n",
              per_event[per_event.size() / 2], per_event[per_event.size() * 99 / 100], msgs.size(), reps, sink);
  return 0;
}
