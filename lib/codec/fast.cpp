#include "codec/fast.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "codec/med.hpp"
#include "core/huge_pages.hpp"
#include "ml/frame_net.hpp"

namespace sciflow::codec::fast {
namespace {

constexpr int kProbBits = 11;  // decode tables: 2 KiB of symbols per context
constexpr uint32_t kProbScale = 1u << kProbBits;
constexpr uint32_t kRansL = 1u << 15;  // rANS state stays in [L, 2^31); 16-bit words in and out
constexpr int kResidCtx = 24;          // contexts of residual tokens
constexpr int kChoiceCtx = kResidCtx;  // context of the predictor choices
constexpr int kCtx = kResidCtx + 1;
constexpr int kDirect = 16;            // tokens below this are the value itself
constexpr int kMaxTokens = 256;

constexpr int kLanes = 32;             // interleaved rANS states (version 3 and 4 files: 4, version 2: 2)
constexpr int kStreams = 4;            // their word streams (version 5), kStreamLanes states each
constexpr int kStreamLanes = kLanes / kStreams;
constexpr int kLanesV3 = 4;
constexpr int kMed = 0, kPrev = 1, kTmed = 2, kMean = 3, kChan = 4, kLearned = 5;

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t u) { return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1); }

// u < 16 is its own token; larger u: exponent and the two bits after the leading
// one in the token, the n - 3 bits below them raw.
// Without branches (the data decide which case applies): the selects are masks,
// which GCC keeps (a ?: here becomes a branch).
[[gnu::always_inline]] inline int token_of(uint64_t u, int* extra_bits) {
  const uint64_t m = 0 - static_cast<uint64_t>(u >= kDirect);
  const int n = static_cast<int>(std::bit_width(u | kDirect));  // u's own bit width when u >= 16
  *extra_bits = (n - 3) & static_cast<int>(m);
  const uint64_t t = static_cast<uint64_t>(kDirect + 4 * (n - 5)) + ((u >> (n - 3)) & 3);
  return static_cast<int>(u ^ ((t ^ u) & m));
}

constexpr int ctx_slow(uint64_t a) {
  if (a < 4) return static_cast<int>(a);
  const int b = static_cast<int>(std::bit_width(a));
  return std::min(2 * b - 2 + static_cast<int>((a >> (b - 2)) & 1), kResidCtx - 1);
}

// Residual magnitudes for contexts: contexts stop growing long before 2^16.
inline uint16_t saturate(uint64_t v) { return v > 0xFFFFu ? 0xFFFFu : static_cast<uint16_t>(v); }

// MED of plane p at (y, x) from its causal neighbours (first row and column: what exists).
template <class S>
inline int64_t med_at(const S* p, int64_t i, int64_t x, int64_t y, int64_t w, int64_t mid) {
  if (y > 0 && x > 0) return med3<int64_t>(p[i - 1], p[i - w], p[i - w - 1]);
  if (y > 0) return p[i - w];
  if (x > 0) return p[i - 1];
  return mid;
}

// The planes a prediction reads (decoded values), as int64 samples, or as int32
// (S) where they fit (the lossless encoder's copies, fits_int32_costs).
template <class S>
struct RefsT {
  const S* cur = nullptr;
  const S* p1 = nullptr;  // previous frame, same channel
  const S* pc = nullptr;  // previous channel, same frame
  int64_t w = 0, mid = 0, lo = 0, hi = 0;
  const int64_t* model = nullptr;  // the learned model's prediction of this plane
};
using Refs = RefsT<int64_t>;

template <class S>
inline int64_t predict(int k, const RefsT<S>& r, int64_t i, int64_t x, int64_t y) {
  const int64_t w = r.w;
  switch (k) {
    case kPrev: return r.p1[i];
    case kTmed: {
      if (y > 0 && x > 0) {
        const S* c = r.cur;
        const S* p = r.p1;
        const int64_t d = med3<int64_t>(c[i - 1] - int64_t{p[i - 1]}, c[i - w] - int64_t{p[i - w]},
                                        c[i - w - 1] - int64_t{p[i - w - 1]});
        return std::clamp(p[i] + d, r.lo, r.hi);
      }
      return r.p1[i];
    }
    case kMean: return (med_at(r.cur, i, x, y, w, r.mid) + r.p1[i]) >> 1;
    case kChan:
      return std::clamp(med_at(r.cur, i, x, y, w, r.mid) + int64_t{r.pc[i]} - med_at(r.pc, i, x, y, w, r.mid), r.lo,
                        r.hi);
    case kLearned: return r.model[i];
    default: return med_at(r.cur, i, x, y, w, r.mid);
  }
}

// The context of a residual is the quantised activity 2uN + uNW + uNE + 2uT + 3uC
// of the residual magnitudes around it: north, north-west, north-east, the same
// place one frame earlier and in the previous channel (0 in the first channel).
// All are known before a row is coded (u still holds the previous frame's values
// from this row on, the previous channel's plane the current frame's), so a row's
// contexts are computed in one pass and its tokens decode without waiting on the
// sample before. (Version 2 files used 2(uW + uN) + uNW + uNE + 2uT: 1.2% bigger
// on the RGB bulk-water series, 0.1% smaller on grey series, and each sample's
// table lookup waited on the one before.)
void row_activity(const uint16_t* __restrict u, int64_t y, int64_t w, uint32_t* __restrict out) {
  const uint16_t* cur = u + y * w;
  if (y == 0) {
    for (int64_t x = 0; x < w; ++x) out[x] = 2u * cur[x];
    return;
  }
  const uint16_t* up = cur - w;
  auto act = [](uint32_t un, uint32_t unw, uint32_t une, uint32_t ut) { return 2 * un + unw + une + 2 * ut; };
  if (w == 1) {
    out[0] = act(up[0], up[0], up[0], cur[0]);
    return;
  }
  out[0] = act(up[0], up[0], up[1], cur[0]);
  for (int64_t x = 1; x + 1 < w; ++x) out[x] = act(up[x], up[x - 1], up[x + 1], cur[x]);
  out[w - 1] = act(up[w - 1], up[w - 2], up[w - 1], cur[w - 1]);
}

// ctx_slow for activities below 2^24 (all there are: 11 x 65535 at most), without
// a branch or table: for a >= 4 the float's exponent is bit_width(a) - 1 and its
// first mantissa bit the bit after the leading one, so that the loop over a row
// vectorises.
[[gnu::always_inline]] constexpr uint32_t ctx_of(uint32_t a) {
  const uint32_t f = std::bit_cast<uint32_t>(static_cast<float>(static_cast<int32_t>(a)));
  const uint32_t c = std::min<uint32_t>((f >> 22) - 254, kResidCtx - 1);
  return a < 4 ? a : c;
}

static_assert([] {
  for (uint32_t a = 0; a < 8192; ++a)  // ctx_slow saturates from 4096 on
    if (ctx_of(a) != static_cast<uint32_t>(ctx_slow(a))) return false;
  return ctx_of((1u << 24) - 1) == kResidCtx - 1;
}());

// The quantised contexts of row y (plane u, uc the previous channel's or null):
// activities summed in `act`, then quantised in place.
void row_contexts(const uint16_t* u, const uint16_t* uc, int64_t y, int64_t w, uint32_t* __restrict act) {
  row_activity(u, y, w, act);
  if (uc) {
    const uint16_t* __restrict q = uc + y * w;
    for (int64_t x = 0; x < w; ++x) act[x] += 3u * q[x];
  }
  // Activities stay below 11 * 65535 < 2^24. Eight at a time in GCC's vector
  // extension (it does not vectorise the scalar form: the select becomes a branch).
  using V8 = int32_t __attribute__((vector_size(32)));
  using F8 = float __attribute__((vector_size(32)));
  int64_t x = 0;
  for (; x + 8 <= w; x += 8) {
    V8 a, f;
    std::memcpy(&a, act + x, sizeof a);
    const F8 fa = __builtin_convertvector(a, F8);
    std::memcpy(&f, &fa, sizeof f);
    V8 c = (f >> 22) - 254;
    c = c > kResidCtx - 1 ? kResidCtx - 1 : c;
    const V8 r = a < 4 ? a : c;
    std::memcpy(act + x, &r, sizeof r);
  }
  for (; x < w; ++x) act[x] = ctx_of(act[x]);
}

// ---- byte and bit streams ---------------------------------------------------------

void put_varint(std::vector<uint8_t>* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

struct ByteReader {
  const uint8_t* p;
  const uint8_t* end;
  bool bad = false;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) break;
      const uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    bad = true;
    return 0;
  }
};

// Extra bits, least significant first. `out` is kept sized to its capacity while
// writing (reserve() before each row: no size check per sample) and trimmed by flush().
class BitWriter {
 public:
  BitWriter() = default;
  explicit BitWriter(std::vector<uint8_t>* out) : out_(out) { out_->clear(); }
  // Room for `samples` more samples' bits (at most 62 each).
  void reserve(int64_t samples) {
    const size_t need = pos_ + 8 * static_cast<size_t>(samples) + 8;
    if (out_->size() < need) out_->resize(std::max(need, 2 * out_->size()));
  }
  [[gnu::always_inline]] void put(uint64_t v, int bits) {  // v < 2^bits, bits <= 62
    if (bits > 32) [[unlikely]] {
      put32(v & 0xFFFFFFFFu, 32);
      v >>= 32;
      bits -= 32;
    }
    put32(v, bits);
  }
  size_t bytes() const { return pos_ + static_cast<size_t>(n_ + 7) / 8; }
  void flush() {
    out_->resize(pos_);
    for (; n_ > 0; n_ -= 8, acc_ >>= 8) out_->push_back(static_cast<uint8_t>(acc_));
    n_ = 0;
    pos_ = out_->size();
  }

 private:
  // Appends without a branch: the low word goes out every time and counts when full.
  [[gnu::always_inline]] void put32(uint64_t v, int bits) {  // bits <= 32
    acc_ |= v << n_;
    n_ += bits;
    uint32_t lo = static_cast<uint32_t>(acc_);
    if constexpr (std::endian::native == std::endian::big) lo = __builtin_bswap32(lo);  // the stream is little-endian
    std::memcpy(out_->data() + pos_, &lo, 4);
    // n_ < 32 before, so n_ < 64 now: bit 5 tells whether a word is full.
    pos_ += static_cast<size_t>(n_ >> 5) * 4;
    acc_ >>= n_ & 32;
    n_ &= 31;
  }
  std::vector<uint8_t>* out_ = nullptr;
  size_t pos_ = 0;
  uint64_t acc_ = 0;
  int n_ = 0;
};

class BitReader {
 public:
  BitReader() = default;
  BitReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end), left_(static_cast<uint64_t>(end - p) * 8) {}
  uint64_t get(int bits) {  // bits <= 62
    if (bits > 32) {
      uint64_t lo = get(32);
      return lo | (get(bits - 32) << 32);
    }
    if (n_ < bits) refill();
    const uint64_t v = acc_ & ((uint64_t{1} << bits) - 1);
    acc_ >>= bits;
    n_ -= bits;
    if (static_cast<uint64_t>(bits) > left_) over_ = true;
    else left_ -= static_cast<uint64_t>(bits);
    return v;
  }
  bool overrun() const { return over_; }

 private:
  void refill() {
    while (n_ <= 56) {
      const uint64_t b = p_ < end_ ? *p_++ : 0;
      acc_ |= b << n_;
      n_ += 8;
    }
  }
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t acc_ = 0;
  int n_ = 0;
  uint64_t left_ = 0;
  bool over_ = false;
};

// ---- frequency tables ---------------------------------------------------------------

using Counts = std::array<uint32_t, kMaxTokens>;

// Scales counts to sum kProbScale, every symbol seen keeping at least 1.
void normalise(const Counts& counts, int alphabet, std::array<uint32_t, kMaxTokens>* freq) {
  uint64_t total = 0;
  for (int s = 0; s < alphabet; ++s) total += counts[static_cast<size_t>(s)];
  freq->fill(0);
  if (total == 0) return;
  int64_t sum = 0;
  int biggest = 0;
  for (int s = 0; s < alphabet; ++s) {
    const uint64_t c = counts[static_cast<size_t>(s)];
    if (!c) continue;
    uint32_t f = static_cast<uint32_t>(std::max<uint64_t>(1, (c * kProbScale + total / 2) / total));
    (*freq)[static_cast<size_t>(s)] = f;
    sum += f;
    if (f > (*freq)[static_cast<size_t>(biggest)]) biggest = s;
  }
  if (sum <= kProbScale) {
    (*freq)[static_cast<size_t>(biggest)] += static_cast<uint32_t>(kProbScale - sum);
    return;
  }
  while (sum > kProbScale) {  // take from the largest, never below 1
    int b = 0;
    for (int s = 1; s < alphabet; ++s)
      if ((*freq)[static_cast<size_t>(s)] > (*freq)[static_cast<size_t>(b)]) b = s;
    const uint32_t take = std::min<uint32_t>((*freq)[static_cast<size_t>(b)] - 1, static_cast<uint32_t>(sum - kProbScale));
    (*freq)[static_cast<size_t>(b)] -= take;
    sum -= take;
  }
}

// The symbol of each slot of the probability scale, and freq | start << 16 of each
// symbol. A context the encoder never used decodes every slot as kInvalid, a token no
// encoder writes (it would stand for a residual of 2^63), so using it is an error.
constexpr int kInvalid = kMaxTokens - 1;
struct DecodeTable {
  std::array<uint8_t, kProbScale> sym;
  std::array<uint32_t, kMaxTokens> fs{};
  DecodeTable() {
    sym.fill(kInvalid);
    fs[kInvalid] = kProbScale;  // leaves the state as it is
  }
};

// Interior samples (y > 0, x > 0): all neighbours exist. These are the hot loops;
// the edges go through predict(). `wv` is the sample to the west, already decoded
// (kept in a register rather than read back from memory).
template <int K>
[[gnu::always_inline]] inline int64_t predict_inner(const Refs& r, int64_t i, int64_t wv) {
  const int64_t* c = r.cur;
  const int64_t w = r.w;
  if constexpr (K == kMed) {
    return med3(wv, c[i - w], c[i - w - 1]);
  } else if constexpr (K == kPrev) {
    return r.p1[i];
  } else if constexpr (K == kTmed) {
    const int64_t* p = r.p1;
    return clamp64(p[i] + med3(wv - p[i - 1], c[i - w] - p[i - w], c[i - w - 1] - p[i - w - 1]), r.lo, r.hi);
  } else if constexpr (K == kMean) {
    return (med3(wv, c[i - w], c[i - w - 1]) + r.p1[i]) >> 1;
  } else if constexpr (K == kLearned) {
    return r.model[i];
  } else {
    const int64_t* q = r.pc;
    return clamp64(med3(wv, c[i - w], c[i - w - 1]) + q[i] - med3(q[i - 1], q[i - w], q[i - w - 1]), r.lo, r.hi);
  }
}

// Calls f(std::integral_constant<int, k>{}) for predictor k: one instantiation of
// a row loop per predictor.
template <class F>
[[gnu::always_inline]] inline void with_predictor(int k, F&& f) {
  switch (k) {
    case kMed: f(std::integral_constant<int, kMed>{}); break;
    case kPrev: f(std::integral_constant<int, kPrev>{}); break;
    case kTmed: f(std::integral_constant<int, kTmed>{}); break;
    case kMean: f(std::integral_constant<int, kMean>{}); break;
    case kChan: f(std::integral_constant<int, kChan>{}); break;
    default: f(std::integral_constant<int, kLearned>{}); break;
  }
}

// Calls body(i, prediction, activity) for the samples x0 <= x < x1 of row y with
// predictor k, in order; body returns the sample's decoded value.
template <int K, class Body>
[[gnu::always_inline]] inline void run_inner(const Refs& r, const uint32_t* ctx, int64_t row, int64_t x0, int64_t x1,
                                             Body& body) {
  int64_t wv = r.cur[row + x0 - 1];
  for (int64_t x = x0; x < x1; ++x) wv = body(row + x, predict_inner<K>(r, row + x, wv), ctx[x]);
}

// Codes row y, each block's samples with its predictor; ctx[x] is what the body
// takes for column x (its context, or for version 2 its activity). Works on local
// copies of the references and of the coder's state, so that the compiler keeps them
// in registers (stores to the sample arrays could alias them).
template <class Body>
void run_row(const Refs& refs, const uint8_t* choice, int64_t B, int64_t y, const uint32_t* ctx, Body& coder) {
  const Refs r = refs;
  const int64_t w = r.w, row = y * w;
  Body body = coder;
  body.start_row(row, w);
  for (int64_t x0 = 0, blk = 0; x0 < w; x0 += B, ++blk) {
    const int k = choice[blk];
    const int64_t x1 = std::min(w, x0 + B);
    int64_t a = x0;
    if (y == 0) a = x1;  // the first row: all edge samples
    else if (x0 == 0) a = 1;
    for (int64_t x = x0; x < a; ++x) body(row + x, predict(k, r, row + x, x, y), ctx[x]);
    if (a < x1)
      with_predictor(k, [&](auto p) { run_inner<decltype(p)::value>(r, ctx, row, a, x1, body); });
  }
  coder = body;
}

// Decoder: rows y and y + 1 (0 < y, one row of blocks, so the same predictors)
// together, sample x of row y + 1 right after sample x of row y. Each sample's
// prediction waits on its west neighbour; two rows give two such chains that
// overlap. Row y + 1 reads only samples of row y at x and x - 1, already decoded.
template <int K, class Body>
[[gnu::always_inline]] inline void run_inner2(const Refs& r, int64_t row, int64_t x0, int64_t x1, Body& body) {
  const int64_t w = r.w;
  if constexpr (K == kPrev) {  // no chain: the body may do the run at once
    if (body.from_prev(r.p1, row, w, x0, x1)) return;
  }
  int64_t wa = r.cur[row + x0 - 1], wb = r.cur[row + w + x0 - 1];
  for (int64_t x = x0; x < x1; ++x) {
    wa = body(row + x, predict_inner<K>(r, row + x, wa), 0);
    wb = body(row + w + x, predict_inner<K>(r, row + w + x, wb), 0);
  }
}

template <class Body>
void run_two_rows(const Refs& refs, const uint8_t* choice, int64_t B, int64_t y, Body& coder) {
  const Refs r = refs;
  const int64_t w = r.w, row = y * w;
  Body body = coder;
  body.start_row(row, w);
  const int64_t bw = (w + B - 1) / B;
  for (int64_t x0 = 0, blk = 0; x0 < w;) {
    // A run of blocks with the same predictor at once.
    const int k = choice[blk];
    int64_t end = blk + 1;
    while (end < bw && choice[end] == k) ++end;
    const int64_t x1 = std::min(w, end * B);
    int64_t a = x0;
    if (x0 == 0) {
      body(row, predict(k, r, row, 0, y), 0);
      body(row + w, predict(k, r, row + w, 0, y + 1), 0);
      a = 1;
    }
    if (a < x1) with_predictor(k, [&](auto p) { run_inner2<decltype(p)::value>(r, row, a, x1, body); });
    x0 = x1;
    blk = end;
  }
  coder = body;
}

// Codes one sample's residual (encoder side of run_row).
struct EncodeBody {
  const int64_t* orig = nullptr;  // the plane's original samples
  int64_t* out = nullptr;         // its reconstruction (lossy only)
  uint16_t* u = nullptr;
  uint8_t* tok = nullptr;         // next token and its context
  uint8_t* ctx = nullptr;
  BitWriter bits;  // by value: run_row's copy of the body keeps it in registers
  int64_t bound = 0, step = 1, lo = 0, hi = 0;
  int max_token = 0;  // at least: Pass::count() takes the tokens' maximum

  void start_row(int64_t, int64_t w) { bits.reserve(w); }

  // Records token t in context c (the rANS pass codes them once the tables are known).
  [[gnu::always_inline]] void put(int c, int t) {
    *tok++ = static_cast<uint8_t>(t);
    *ctx++ = static_cast<uint8_t>(c);
  }

  // Lossless, a whole row y (index `row` of its first sample) at once from its
  // residuals q (as code() with each sample's prediction), ctx[x] the contexts.
  void code_row(const int32_t* __restrict q, int64_t row, int64_t w, const uint32_t* __restrict cx) {
    uint16_t* __restrict uu = u + row;
    uint8_t* __restrict tk = tok;
    uint8_t* __restrict cc = ctx;
    auto zz = [q](int64_t x) { return (static_cast<uint32_t>(q[x]) << 1) ^ static_cast<uint32_t>(q[x] >> 31); };
    int64_t wide = 0;  // samples whose token is not their value (>= kDirect: extra bits)
    for (int64_t x = 0; x < w; ++x) {
      const uint32_t uz = zz(x);
      uu[x] = static_cast<uint16_t>(std::min<uint32_t>(uz, 0xFFFF));
      cc[x] = static_cast<uint8_t>(cx[x]);
      tk[x] = static_cast<uint8_t>(uz);
      wide += uz >= kDirect;
    }
    if (wide > 0) {
      BitWriter b = bits;
      b.reserve(w);
      // (The two loops repeat their body on purpose: a shared lambda taking the
      // writer by reference kept its state in memory, encode 0.75x.)
      if (4 * wide > w) {  // many (16-bit data): every sample, without branches
        for (int64_t x = 0; x < w; ++x) {
          const uint32_t uz = zz(x);
          int nb;
          tk[x] = static_cast<uint8_t>(token_of(uz, &nb));
          b.put(uz & ((uint64_t{1} << nb) - 1), nb);
        }
      } else {  // a few (noisy 8-bit rows): only those, in order
        for (int64_t x = 0; x < w; ++x) {
          const uint32_t uz = zz(x);
          if (uz < kDirect) continue;
          int nb;
          tk[x] = static_cast<uint8_t>(token_of(uz, &nb));
          b.put(uz & ((uint64_t{1} << nb) - 1), nb);
        }
      }
      bits = b;
    }
    tok += w;
    ctx += w;
  }

  template <bool kLossy>
  [[gnu::always_inline]] int64_t code(int64_t i, int64_t pred, uint32_t c) {
    int64_t v = orig[i];
    int64_t q = v - pred;
    if constexpr (kLossy) {
      q = quantise(q, bound, step);
      v = clamp64(pred + q * step, lo, hi);
      out[i] = v;
    }
    const uint64_t uz = zigzag(q);
    int nb;
    put(static_cast<int>(c), token_of(uz, &nb));
    bits.put(uz & ((uint64_t{1} << nb) - 1), nb);
    u[i] = saturate(uz);
    return v;
  }
};

// EncodeBody for run_row, lossless or lossy fixed at compile time (the lossless
// loop then has no quantisation in it, and fewer values to keep in registers).
template <bool kLossy>
struct EncodeAs {
  EncodeBody b;
  void start_row(int64_t row, int64_t w) { b.start_row(row, w); }
  [[gnu::always_inline]] int64_t operator()(int64_t i, int64_t pred, uint32_t c) { return b.code<kLossy>(i, pred, c); }
};

// Version 2 files: decodes one sample (decoder side of run_row), the token with rANS
// (two states; the context includes the west neighbour), its extra bits.
struct DecodeBodyV2 {
  const DecodeTable* tabs = nullptr;
  uint32_t x = 0, x2 = 0;          // two interleaved rANS states: x codes this symbol, x2 the next
  const uint8_t* rp = nullptr;     // next 16-bit word, and the end of the words
  const uint8_t* rend = nullptr;
  BitReader bits;
  int64_t* cur = nullptr;
  uint16_t* u = nullptr;
  int64_t bound = 0, step = 1, lo = 0, hi = 0;
  uint64_t max_u = 0;
  bool bad = false;          // the token stream ran out or named an empty context
  bool range_error = false;  // a residual or sample outside what the encoder can write
  uint32_t uw = 0;           // the west neighbour's residual magnitude

  void start_row(int64_t, int64_t) { uw = 0; }
  static uint32_t word(const uint8_t* q) { return static_cast<uint32_t>(q[0]) | static_cast<uint32_t>(q[1]) << 8; }

  [[gnu::always_inline]] int next(int c) {
    const DecodeTable& T = tabs[c];
    const uint32_t slot = x & (kProbScale - 1);
    const int s = T.sym[slot];
    const uint32_t e = T.fs[static_cast<size_t>(s)];
    x = (e & 0xFFFF) * (x >> kProbBits) + slot - (e >> 16);
    if (x < kRansL) {
      if (rp < rend) {
        x = (x << 16) | word(rp);
        rp += 2;
      } else {
        bad = true;
        x = kRansL;
      }
    }
    std::swap(x, x2);
    return s;
  }

  [[gnu::always_inline]] int64_t operator()(int64_t i, int64_t pred, uint32_t act) {
    const int t = next(static_cast<int>(ctx_of(act + 2 * uw)));
    uint64_t uz;
    if (t < kDirect) {
      uz = static_cast<uint64_t>(t);
    } else {
      const int n = (t - kDirect) / 4 + 5;
      uz = (static_cast<uint64_t>(4 | ((t - kDirect) & 3)) << (n - 3)) | bits.get(n - 3);
    }
    if (uz > max_u) {
      range_error = true;
      uz = 0;
    }
    const int64_t q = unzigzag(uz);
    int64_t v;
    if (!bound) {
      v = pred + q;
      range_error |= v < lo || v > hi;
    } else {
      v = std::clamp(pred + q * step, lo, hi);
    }
    cur[i] = v;
    uw = saturate(uz);
    u[i] = static_cast<uint16_t>(uw);
    return v;
  }
};

// The predictors a plane may use: MED always, the temporal ones after the group's
// first frame, chan after the first channel, the model's with one after the first frame.
uint32_t allowed_mask(int64_t t, int64_t c, bool model) {
  uint32_t m = 1u << kMed;
  if (t > 0) m |= (1u << kPrev) | (1u << kTmed) | (1u << kMean);
  if (c > 0) m |= 1u << kChan;
  if (t > 0 && model) m |= 1u << kLearned;
  return m;
}

// Whether the predictor costs may work on int32 copies of the samples: no sum
// or difference they form, nor a column's sum over a block row, can leave int32.
bool fits_int32_costs(int64_t lo, int64_t hi, int64_t B) {
  return lo > -(int64_t{1} << 28) && hi < (int64_t{1} << 28) && hi - lo < (int64_t{1} << 24) && B <= 64;
}

// Adds each column's |error| of row (cr; cn the row above, pr/pn and qr/qn the same
// rows of the previous frame and channel) to the predictors' column sums, from
// column 1. T: the samples' type, A: the sums' (int32 for both where
// fits_int32_costs holds, so that the compiler vectorises the loop). With kKeep,
// also stores the signed errors (residuals) in the rows k_med.. (the lossless
// encoder codes them from there, without predicting again).
template <class T, class A, bool kUseTime, bool kUseChan, bool kKeep>
void column_errors(const T* __restrict cr, const T* __restrict cn, const T* __restrict pr, const T* __restrict pn,
                   const T* __restrict qr, const T* __restrict qn, int64_t w, T lo, T hi, A* __restrict a_med,
                   A* __restrict a_prev, A* __restrict a_tmed, A* __restrict a_mean, A* __restrict a_chan,
                   T* __restrict k_med, T* __restrict k_prev, T* __restrict k_tmed, T* __restrict k_mean,
                   T* __restrict k_chan) {
  for (int64_t x = 1; x < w; ++x) {
    const T v = cr[x], wv = cr[x - 1], n = cn[x], nw = cn[x - 1];
    const T m = med3(wv, n, nw);
    const T e_med = v - m;
    a_med[x] += static_cast<A>(std::abs(e_med));
    if constexpr (kKeep) k_med[x] = e_med;
    if constexpr (kUseTime) {
      const T pv = pr[x];
      const T e_prev = v - pv;
      const T e_tmed = v - std::clamp(pv + med3(wv - pr[x - 1], n - pn[x], nw - pn[x - 1]), lo, hi);
      const T e_mean = v - ((m + pv) >> 1);
      a_prev[x] += static_cast<A>(std::abs(e_prev));
      a_tmed[x] += static_cast<A>(std::abs(e_tmed));
      a_mean[x] += static_cast<A>(std::abs(e_mean));
      if constexpr (kKeep) {
        k_prev[x] = e_prev;
        k_tmed[x] = e_tmed;
        k_mean[x] = e_mean;
      }
    }
    if constexpr (kUseChan) {
      const T e_chan = v - std::clamp(m + qr[x] - med3(qr[x - 1], qn[x], qn[x - 1]), lo, hi);
      a_chan[x] += static_cast<A>(std::abs(e_chan));
      if constexpr (kKeep) k_chan[x] = e_chan;
    }
  }
}

// Encoder: the cost (sum of |error| on the originals) of every allowed predictor per
// block of rows y0..y1, from the planes c, p, q (this plane, the previous frame's,
// the previous channel's; int32 copies or the samples themselves). Each row is one
// pass over its columns without branches, summing per column and predictor; the
// blocks add up their columns at the end. (Measuring on every other row only was
// tried: 1.3x faster compression, but 4.5% lower ratio on the bulk-water series.)
// With `keep` (the lossless encoder; T int32), also every residual of the rows:
// keep + ((y - y0) * kLearned + k) * w is predictor k's row y.
template <class T, class A, bool kUseTime, bool kUseChan>
void block_costs(const RefsT<T>& r, const T* c, const T* p, const T* q, int64_t y0, int64_t y1, int64_t B,
                 std::array<uint64_t, kPredictors>* cost, T* keep) {
  const int64_t w = r.w;
  const T lo = static_cast<T>(r.lo), hi = static_cast<T>(r.hi);
  thread_local std::vector<A> buf;
  buf.assign(static_cast<size_t>(5 * w), 0);
  A* a_med = buf.data();
  A* a_prev = a_med + w;
  A* a_tmed = a_prev + w;
  A* a_mean = a_tmed + w;
  A* a_chan = a_mean + w;
  const uint32_t mask = allowed_mask(kUseTime, kUseChan, false);
  auto kept = [&](int64_t y, int k) { return keep + ((y - y0) * kLearned + k) * w; };
  auto edge = [&](int64_t y, int64_t x) {  // first row and column: the general predictor
    const int64_t i = y * w + x;
    auto& cb = cost[x / B];
    for (int k = 0; k < kLearned; ++k)
      if (mask >> k & 1) {
        const int64_t e = r.cur[i] - predict(k, r, i, x, y);
        cb[static_cast<size_t>(k)] += static_cast<uint64_t>(std::abs(e));
        if (keep) kept(y, k)[x] = static_cast<T>(e);
      }
  };
  for (int64_t y = y0; y < y1; ++y) {
    if (y == 0) {
      for (int64_t x = 0; x < w; ++x) edge(0, x);
      continue;
    }
    edge(y, 0);
    const T* cr = c + y * w;
    const T* pr = kUseTime ? p + y * w : cr;
    const T* qr = kUseChan ? q + y * w : cr;
    if (keep)
      column_errors<T, A, kUseTime, kUseChan, true>(cr, cr - w, pr, pr - w, qr, qr - w, w, lo, hi, a_med, a_prev, a_tmed,
                                                    a_mean, a_chan, kept(y, kMed), kept(y, kPrev), kept(y, kTmed),
                                                    kept(y, kMean), kept(y, kChan));
    else
      column_errors<T, A, kUseTime, kUseChan, false>(cr, cr - w, pr, pr - w, qr, qr - w, w, lo, hi, a_med, a_prev, a_tmed,
                                                     a_mean, a_chan, nullptr, nullptr, nullptr, nullptr, nullptr);
  }
  for (int64_t x0 = 0, blk = 0; x0 < w; x0 += B, ++blk) {
    const int64_t x1 = std::min(w, x0 + B);
    uint64_t s[5] = {0, 0, 0, 0, 0};
    for (int64_t x = x0; x < x1; ++x) {
      s[0] += static_cast<uint64_t>(a_med[x]);
      s[1] += static_cast<uint64_t>(a_prev[x]);
      s[2] += static_cast<uint64_t>(a_tmed[x]);
      s[3] += static_cast<uint64_t>(a_mean[x]);
      s[4] += static_cast<uint64_t>(a_chan[x]);
    }
    auto& cb = cost[blk];
    cb[kMed] += s[0];
    cb[kPrev] += s[1];
    cb[kTmed] += s[2];
    cb[kMean] += s[3];
    cb[kChan] += s[4];
    if (r.model) {
      uint64_t s_model = 0;
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) s_model += static_cast<uint64_t>(std::abs(r.cur[y * w + x] - r.model[y * w + x]));
      cb[kLearned] += s_model;
    }
  }
}

// block_costs for plane c (ps samples apart) at `cur`; `prev` the same plane one frame
// earlier, or null in the group's first frame.
template <class T, class A>
void plane_costs(const RefsT<T>& r, const T* cur, const T* prev, int64_t c, int64_t ps, int64_t y0, int64_t y1, int64_t B,
                 std::array<uint64_t, kPredictors>* cost, T* keep = nullptr) {
  if (prev && c > 0) block_costs<T, A, true, true>(r, cur, prev, cur - ps, y0, y1, B, cost, keep);
  else if (prev) block_costs<T, A, true, false>(r, cur, prev, nullptr, y0, y1, B, cost, keep);
  else if (c > 0) block_costs<T, A, false, true>(r, cur, nullptr, cur - ps, y0, y1, B, cost, keep);
  else block_costs<T, A, false, false>(r, cur, nullptr, nullptr, y0, y1, B, cost, keep);
}

// A row's residuals, each block's from its chosen predictor's row (rows + k * w).
// Blocks of 8 copy as one 32-byte move (a memcpy of a run-time size would call
// the library for every block).
[[gnu::noinline]] void chosen_residuals(const int32_t* __restrict rows, const uint8_t* __restrict choice, int64_t B,
                                        int64_t w, int32_t* __restrict out) {
  int64_t x0 = 0, b = 0;
  if (B == 8)
    for (; x0 + 8 <= w; x0 += 8, ++b) std::memcpy(out + x0, rows + choice[b] * w + x0, 8 * sizeof(int32_t));
  for (; x0 < w; x0 += B, ++b) {
    const int32_t* src = rows + choice[b] * w;
    for (int64_t x = x0; x < std::min(w, x0 + B); ++x) out[x] = src[x];
  }
}

// One way of coding a stripe: its tokens with their contexts, the extra bits,
// the counts, the residual magnitudes (contexts), the reconstruction (lossy) and
// the block choices. Kept per thread and reused (reset()) so that the large
// buffers are neither reallocated nor zeroed for every stripe. Not movable:
// `body.bits` points to `extra`.
struct Pass {
  Pass() = default;
  Pass(const Pass&) = delete;
  Pass& operator=(const Pass&) = delete;

  void reset(size_t samples, size_t tokens_max, int64_t fs, int64_t bw, bool lossy, uint32_t exclude) {
    if (tokens.size() < tokens_max) {
      tokens.resize(tokens_max);
      ctxs.resize(tokens_max);
    }
    hist.assign(kCtx, Counts{});
    ubuf.assign(static_cast<size_t>(fs), 0);
    if (lossy) rec.resize(samples);
    choice.resize(static_cast<size_t>(bw));
    segs.clear();
    excluded = exclude;
    body = EncodeBody{};
    body.tok = tokens.data();
    body.ctx = ctxs.data();
    body.bits = BitWriter(&extra);
    st = GroupStats{};
  }

  // The next token starts a segment (what the decoder decodes in one call).
  void mark_segment() { segs.push_back(static_cast<size_t>(body.tok - tokens.data())); }

  // The counts per context, from the recorded tokens (counting in the coding loop
  // would chain every sample on the previous one's increment of the same counter).
  void count() {
    const size_t n = static_cast<size_t>(body.tok - tokens.data());
    uint8_t top = 0;
    for (size_t i = 0; i < n; ++i) top = std::max(top, tokens[i]);
    body.max_token = std::max<int>(body.max_token, top);
    if (body.max_token < 64) count_split<4, 64>();  // four tables of 25 x 64: L1-resident
    else count_split<2, kMaxTokens>();
  }
  // Counts into kWays tables in turn (runs of the same token in the same context would
  // otherwise wait on each other's increment), rows of kStride tokens, then adds them.
  template <int kWays, int kStride>
  void count_split() {
    const size_t n = static_cast<size_t>(body.tok - tokens.data());
    thread_local std::vector<uint32_t> part;
    part.assign(static_cast<size_t>(kWays * kCtx * kStride), 0);
    uint32_t* h = part.data();
    const uint8_t* tk = tokens.data();
    const uint8_t* cx = ctxs.data();
    size_t i = 0;
    for (; i + kWays <= n; i += kWays)
      for (int k = 0; k < kWays; ++k) ++h[(k * kCtx + cx[i + k]) * kStride + tk[i + k]];
    for (; i < n; ++i) ++h[cx[i] * kStride + tk[i]];
    for (int c = 0; c < kCtx; ++c)
      for (int t = 0; t < kStride; ++t) {
        uint32_t sum = 0;
        for (int k = 0; k < kWays; ++k) sum += h[(k * kCtx + c) * kStride + t];
        hist[static_cast<size_t>(c)][static_cast<size_t>(t)] = sum;
      }
  }

  HugeVector<uint8_t> tokens, ctxs;
  std::vector<uint8_t> extra;
  std::vector<Counts> hist;
  std::vector<uint16_t> ubuf;
  std::vector<int64_t> rec;
  std::vector<uint8_t> choice;
  std::vector<size_t> segs;  // where each segment of tokens starts (a row, a row of blocks' choices)
  uint32_t excluded = 0;  // predictors this pass may not choose
  EncodeBody body;
  GroupStats st;
};

using Freqs = std::vector<std::array<uint32_t, kMaxTokens>>;  // per context, summing to kProbScale

// Appends the token alphabet and every context's quantised table (what the
// decoder reads first) to `out`; the tables themselves into `freq`.
void put_tables(const Pass& p, std::vector<uint8_t>* out, Freqs* freq) {
  const int alphabet = p.body.max_token + 1;
  put_varint(out, static_cast<uint64_t>(alphabet));
  freq->resize(kCtx);
  for (int ctx = 0; ctx < kCtx; ++ctx) {
    auto& f = (*freq)[static_cast<size_t>(ctx)];
    normalise(p.hist[static_cast<size_t>(ctx)], alphabet, &f);
    int nnz = 0;
    for (int s = 0; s < alphabet; ++s) nnz += f[static_cast<size_t>(s)] != 0;
    put_varint(out, static_cast<uint64_t>(nnz));
    int prev = -1;
    for (int s = 0; s < alphabet; ++s) {
      if (!f[static_cast<size_t>(s)]) continue;
      put_varint(out, static_cast<uint64_t>(s - prev - 1));
      put_varint(out, f[static_cast<size_t>(s)] - 1);
      prev = s;
    }
  }
}

// The bytes a pass will code to, estimated: its tables and extra bits exactly,
// each token at its cost under its table (rANS comes within 15 bytes or 0.07% of
// that on the shared data and the tests).
double estimate_bytes(const Pass& p) {
  std::vector<uint8_t> tables;
  Freqs freq;
  put_tables(p, &tables, &freq);
  double bits = 0;
  for (int ctx = 0; ctx < kCtx; ++ctx)
    for (int s = 0; s <= p.body.max_token; ++s)
      if (const uint32_t n = p.hist[static_cast<size_t>(ctx)][static_cast<size_t>(s)])
        bits += n * (kProbBits - std::log2(static_cast<double>(freq[static_cast<size_t>(ctx)][static_cast<size_t>(s)])));
  return static_cast<double>(tables.size() + p.body.bits.bytes()) + bits / 8;
}

// The coded stripe of a pass: tables, then the tokens with rANS, then the extra bits.
std::vector<uint8_t> finish(Pass& ps) {
  EncodeBody& body = ps.body;
  const auto& tokens = ps.tokens;
  const auto& ctxs = ps.ctxs;
  const std::vector<uint8_t>& extra = ps.extra;
  ps.body.bits.flush();
  // Tokens are coded backwards so that the decoder reads forwards.
  const int alphabet = body.max_token + 1;
  const ptrdiff_t ntok = body.tok - tokens.data();
  std::vector<uint8_t> outb;
  Freqs freq, start(kCtx);
  put_tables(ps, &outb, &freq);
  for (int ctx = 0; ctx < kCtx; ++ctx) {
    uint32_t cum = 0;
    for (int s = 0; s < alphabet; ++s) {
      start[static_cast<size_t>(ctx)][static_cast<size_t>(s)] = cum;
      cum += freq[static_cast<size_t>(ctx)][static_cast<size_t>(s)];
    }
  }
  // Division by the frequency as a multiplication by its reciprocal (exact for states
  // below 2^31), precomputed per context and symbol. 16 bytes: one vector load.
  struct EncSym {
    uint32_t x_max, rcp;
    uint32_t bias_cmpl;  // bias (< 2^13) | cmpl (<= 2^11) << 16
    uint32_t shift;
  };
  static_assert(sizeof(EncSym) == 16 && kProbScale <= (1u << 13));
  std::vector<std::array<EncSym, kMaxTokens>> enc(kCtx);
  for (int ctx = 0; ctx < kCtx; ++ctx)
    for (int s = 0; s < alphabet; ++s) {
      const uint32_t f = freq[static_cast<size_t>(ctx)][static_cast<size_t>(s)];
      if (!f) continue;
      EncSym& e = enc[static_cast<size_t>(ctx)][static_cast<size_t>(s)];
      e.x_max = ((kRansL >> kProbBits) << 16) * f;
      const uint32_t cmpl = kProbScale - f;
      uint32_t bias;
      if (f < 2) {
        e.rcp = ~0u;
        e.shift = 0;
        bias = start[static_cast<size_t>(ctx)][static_cast<size_t>(s)] + kProbScale - 1;
      } else {
        uint32_t shift = 0;
        while (f > (1u << shift)) ++shift;
        e.rcp = static_cast<uint32_t>(((uint64_t{1} << (shift + 31)) + f - 1) / f);
        e.shift = shift - 1;
        bias = start[static_cast<size_t>(ctx)][static_cast<size_t>(s)];
      }
      e.bias_cmpl = bias | cmpl << 16;
    }
  // kLanes states in kStreams word streams: token j of a segment (a row, or a row of
  // blocks' choices) uses state j % kLanes, whose words go to stream (j % kLanes) /
  // kStreamLanes. At most one 16-bit word per token, written from the back of its
  // stream: the rANS coder runs backwards so that the decoder reads forwards.
  // Kept per thread (no fresh pages, no zeroing per stripe): only [ws[s], end[s])
  // is used, and all of it is written below. Each stream has room for all its
  // tokens' words, its final states, and the four words a vector step stores below
  // its pointer.
  static_assert(kLanes % 4 == 0 && kStreamLanes % 4 == 0);
  // The segments' bounds.
  std::vector<size_t> bounds(ps.segs.begin(), ps.segs.end());
  if (bounds.empty() || bounds.front() != 0) bounds.insert(bounds.begin(), 0);
  bounds.push_back(static_cast<size_t>(ntok));
  // Tokens per stream (short segments use the first streams only).
  size_t per_stream[kStreams] = {};
  for (size_t sg = 0; sg + 1 < bounds.size(); ++sg) {
    const size_t m = bounds[sg + 1] - bounds[sg];
    for (int st = 0; st < kStreams; ++st) {
      const size_t r = m % kLanes, first = static_cast<size_t>(st) * kStreamLanes;
      per_stream[st] += m / kLanes * kStreamLanes + (r > first ? std::min<size_t>(r - first, kStreamLanes) : 0);
    }
  }
  thread_local HugeVector<uint16_t> rans[kStreams];
  uint16_t* end[kStreams];
  uint16_t* ws[kStreams];
  for (int st = 0; st < kStreams; ++st) {
    rans[st].resize(per_stream[st] + 2 * kStreamLanes + 8);
    end[st] = ws[st] = rans[st].data() + rans[st].size();
  }
  uint32_t xs[kLanes];
  std::fill(std::begin(xs), std::end(xs), kRansL);
  // Renormalises (at most once: afterwards x < 2^15) without a branch: the word is
  // stored every time and kept when needed.
  auto put = [&enc, &ctxs, &tokens](uint32_t x, size_t n, uint16_t*& w) {
    const EncSym& e = enc[ctxs[n]][tokens[n]];
    const uint32_t r = x >= e.x_max;
    w[-1] = static_cast<uint16_t>(x);
    w -= r;
    x >>= r << 4;
    const uint32_t q = static_cast<uint32_t>((static_cast<uint64_t>(x) * e.rcp) >> 32) >> e.shift;
    return x + (e.bias_cmpl & 0xFFFF) + q * (e.bias_cmpl >> 16);
  };
#if defined(__AVX2__)
  // Four states in one vector, a group of four tokens per step: the same
  // arithmetic lane by lane, and the words of the lanes that renormalise stored in
  // the scalar order (lane 3's word highest) with one shuffle and one 8-byte store
  // (what lies below the new w is overwritten later, as in the scalar loop).
  static constexpr auto kPack = [] {
    std::array<std::array<uint8_t, 16>, 16> t{};
    for (int m = 0; m < 16; ++m) {
      t[static_cast<size_t>(m)].fill(0x80);
      int pos = 4 - std::popcount(static_cast<unsigned>(m));  // right-aligned in 4 words
      for (int k = 0; k < 4; ++k)
        if (m >> k & 1) {
          t[static_cast<size_t>(m)][static_cast<size_t>(2 * pos)] = static_cast<uint8_t>(4 * k);
          t[static_cast<size_t>(m)][static_cast<size_t>(2 * pos + 1)] = static_cast<uint8_t>(4 * k + 1);
          ++pos;
        }
    }
    return t;
  }();
  const __m128i sign = _mm_set1_epi32(static_cast<int>(0x80000000u));
  const __m128i sixteen = _mm_set1_epi32(16), low16 = _mm_set1_epi32(0xFFFF);
  const uint8_t* tk = tokens.data();
  const uint8_t* cx = ctxs.data();
  auto step = [&](__m128i& x, size_t i0, uint16_t*& w) {  // tokens i0..i0+3, their states in x
    auto row = [&](size_t i) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(&enc[cx[i]][tk[i]])); };
    const __m128i s0 = row(i0), s1 = row(i0 + 1), s2 = row(i0 + 2), s3 = row(i0 + 3);
    const __m128i t0 = _mm_unpacklo_epi32(s0, s1), t1 = _mm_unpacklo_epi32(s2, s3);
    const __m128i t2 = _mm_unpackhi_epi32(s0, s1), t3 = _mm_unpackhi_epi32(s2, s3);
    const __m128i xmax = _mm_unpacklo_epi64(t0, t1), rcp = _mm_unpackhi_epi64(t0, t1);
    const __m128i bc = _mm_unpacklo_epi64(t2, t3), sh = _mm_unpackhi_epi64(t2, t3);
    // Lanes with x >= x_max (unsigned) put out their low word and shift it away.
    const __m128i below = _mm_cmpgt_epi32(_mm_xor_si128(xmax, sign), _mm_xor_si128(x, sign));
    const int m = ~_mm_movemask_ps(_mm_castsi128_ps(below)) & 0xF;
    const __m128i words =
        _mm_shuffle_epi8(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPack[static_cast<size_t>(m)].data())));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(w - 4), words);
    w -= std::popcount(static_cast<unsigned>(m));
    x = _mm_srlv_epi32(x, _mm_andnot_si128(below, sixteen));
    // q = (x * rcp) >> 32 >> shift, then x + bias + q * cmpl.
    const __m128i even = _mm_srli_epi64(_mm_mul_epu32(x, rcp), 32);
    const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(x, 32), _mm_srli_epi64(rcp, 32));
    const __m128i q = _mm_srlv_epi32(_mm_blend_epi16(even, odd, 0xCC), sh);
    x = _mm_add_epi32(_mm_add_epi32(x, _mm_and_si128(bc, low16)), _mm_mullo_epi32(q, _mm_srli_epi32(bc, 16)));
  };
#endif
  // Stream by stream (its states and words depend on no other stream's), the
  // segments last first, each from its last token: of the partial group of kLanes,
  // the stream's whole quads as vectors and its last part-quad one at a time; then
  // the stream's eight tokens of each whole group, as two vectors of four.
  for (int st = 0; st < kStreams; ++st) {
    uint16_t*& w = ws[st];
    const size_t l0 = static_cast<size_t>(st) * kStreamLanes;  // the stream's first lane
#if defined(__AVX2__)
    __m128i X0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xs + l0));
    __m128i X1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xs + l0 + 4));
    // Lanes q0..q0+3 of the partial group `full`, of which r exist, with their states in x.
    auto quad = [&](__m128i& x, size_t q0, size_t full, size_t r) {
      if (q0 + 4 <= r) {
        step(x, full + q0, w);
      } else if (q0 < r) {
        alignas(16) uint32_t q[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(q), x);
        for (size_t l = r; l-- > q0;) q[l - q0] = put(q[l - q0], full + l, w);
        x = _mm_load_si128(reinterpret_cast<const __m128i*>(q));
      }
    };
#endif
    for (size_t sg = bounds.size() - 1; sg-- > 0;) {
      const size_t s0 = bounds[sg], s1 = bounds[sg + 1];
      const size_t full = s0 + (s1 - s0) / kLanes * kLanes, r = s1 - full;
#if defined(__AVX2__)
      if (r > l0) {
        quad(X1, l0 + 4, full, r);
        quad(X0, l0, full, r);
      }
      for (size_t n = full; n > s0;) {
        n -= kLanes;
        step(X1, n + l0 + 4, w);
        step(X0, n + l0, w);
      }
#else
      for (size_t l = std::min(r, l0 + kStreamLanes); l-- > l0;) xs[l] = put(xs[l], full + l, w);
      for (size_t n = full; n > s0;) {
        n -= kLanes;
        for (size_t l = l0 + kStreamLanes; l-- > l0;) xs[l] = put(xs[l], n + l, w);
      }
#endif
    }
#if defined(__AVX2__)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xs + l0), X0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xs + l0 + 4), X1);
#endif
  }
  // Each stream starts with its lanes' final states, the first lane's high word first.
  for (int k = kLanes - 1; k >= 0; --k) {
    uint16_t*& w = ws[k / kStreamLanes];
    *--w = static_cast<uint16_t>(xs[k]);
    *--w = static_cast<uint16_t>(xs[k] >> 16);
  }
  size_t words = 0;
  for (int st = 0; st < kStreams; ++st) {
    put_varint(&outb, static_cast<uint64_t>(end[st] - ws[st]));
    words += static_cast<size_t>(end[st] - ws[st]);
  }
  size_t at = outb.size();
  outb.resize(at + 2 * words + extra.size());
  for (int st = 0; st < kStreams; ++st)
    for (const uint16_t* q = ws[st]; q < end[st]; ++q, at += 2) {
      outb[at] = static_cast<uint8_t>(*q);
      outb[at + 1] = static_cast<uint8_t>(*q >> 8);
    }
  if (!extra.empty()) std::memcpy(outb.data() + at, extra.data(), extra.size());

  return outb;
}

}  // namespace

std::string_view predictor_name(int k) {
  static constexpr std::string_view kNames[kPredictors] = {"med", "prev", "tmed", "mean", "chan", "learned"};
  return k >= 0 && k < kPredictors ? kNames[k] : "?";
}

namespace {

// The encoder. Its originals come from `samples` (the whole group), from `load`
// (lossless, no model) one frame at a time into `window` (two frames: frame t in
// slot t mod 2), or from `load32` straight into the int32 copies (frames_fit_int32:
// no int64 samples at all).
Result<std::vector<uint8_t>> encode_impl(const GroupConfig& g, std::span<const int64_t> samples, int64_t frames,
                                         const FrameSource* load, std::span<int64_t> window, const FrameSource32* load32,
                                         GroupStats* stats, std::vector<int64_t>* recon) {
  if (g.predictor != Predictor::kAuto) return invalid_argument("the fast coder chooses its own predictors");
  const int64_t H = g.height, W = g.width, C = g.channels, ps = H * W, fs = C * ps, B = g.block;
  const int64_t step = 2 * g.bound + 1, mid = g.lo + (g.hi - g.lo) / 2;
  const bool lossless = g.bound == 0;
  const int64_t bw = (W + B - 1) / B;
  const int64_t total = frames * fs;
  // Frame t's originals.
  auto frame_of = [&](int64_t t) -> const int64_t* {
    if (load32) return nullptr;
    return load ? window.data() + (t & 1) * fs : samples.data() + t * fs;
  };
  // Every sample's token, and a choice per block and plane (at most).
  const size_t tokens_max = static_cast<size_t>(total) + static_cast<size_t>(frames * C * bw * ((H + B - 1) / B));

  // With a model, the stripe is coded twice, with and without it, and keeps the
  // smaller (a model never makes a file bigger): both passes share the block
  // costs and the model's predictions; only the token coding is done twice.
  thread_local Pass pass_buffers[2];
  std::vector<Pass*> passes{&pass_buffers[0]};
  if (g.model && frames > 1) passes.push_back(&pass_buffers[1]);
  for (size_t k = 0; k < passes.size(); ++k)
    passes[k]->reset(static_cast<size_t>(total), tokens_max, fs, bw, !lossless, k == 0 ? 0 : 1u << kLearned);
  for (auto& p : passes) {
    EncodeBody& body = p->body;
    body.bound = g.bound;
    body.step = step;
    body.lo = g.lo;
    body.hi = g.hi;
    body.max_token = kPredictors - 1;  // the alphabet covers every predictor choice
  }
  // The decoded samples of the whole group (for the model: not with `load`).
  auto dec_of = [&](const Pass& p) { return lossless ? samples.data() : p.rec.data(); };
  // int32 copies of the samples for choosing predictors, where they fit: the
  // current and the previous frame (frame t in slot t mod 2).
  const bool narrow = fits_int32_costs(g.lo, g.hi, B);
  // Lossless without a model: the cost pass keeps every predictor's residuals of a
  // block row, and the rows are coded from them (no per-sample prediction chain).
  const bool from_residuals = frames_fit_int32(g);
  if (load32 && !from_residuals) return invalid_argument("fast coder: 32-bit frames need lossless, narrow data");
  thread_local HugeVector<int32_t> o32;
  if (narrow) o32.resize(static_cast<size_t>(std::min<int64_t>(frames, 2) * fs));
  std::vector<uint32_t> ctx_row(static_cast<size_t>(W));
  std::vector<std::array<uint64_t, kPredictors>> cost(static_cast<size_t>(bw));
  thread_local std::vector<int32_t> kept;
  if (from_residuals) kept.resize(static_cast<size_t>(B * kLearned * W));
  std::vector<int32_t> qrow(from_residuals ? static_cast<size_t>(W) : 0);
  std::vector<int64_t> mplane(g.model ? static_cast<size_t>(ps) : 0);
  ml::FrameNet::Scratch scratch;

  for (int64_t t = 0; t < frames; ++t) {
    if (load) (*load)(t, window.data() + (t & 1) * fs);
    const int64_t* fo = frame_of(t);
    const int64_t* fp = t > 0 ? frame_of(t - 1) : nullptr;
    int32_t* f32 = narrow ? o32.data() + (t & 1) * fs : nullptr;
    if (load32) (*load32)(t, f32);
    else if (narrow)
      for (int64_t i = 0; i < fs; ++i) f32[i] = static_cast<int32_t>(fo[i]);
    const int32_t* p32 = narrow && t > 0 ? o32.data() + ((t - 1) & 1) * fs : nullptr;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t off = t * fs + c * ps;
      const int64_t* cur = fo ? fo + c * ps : nullptr;  // none with load32
      Refs ro{cur, fp ? fp + c * ps : nullptr, cur && c > 0 ? cur - ps : nullptr, W, mid, g.lo, g.hi};
      RefsT<int32_t> r32;  // the same planes as int32
      if (narrow) r32 = {f32 + c * ps, p32 ? p32 + c * ps : nullptr, c > 0 ? f32 + (c - 1) * ps : nullptr, W, mid, g.lo, g.hi};
      const uint32_t mask = allowed_mask(t, c, g.model != nullptr);
      if (g.model && t > 0) {  // from the decoded frames before this one, as the decoder will
        RETURN_IF_ERROR(learned_plane(*g.model, dec_of(*passes[0]), t, c, fs, ps, H, W, g.lo, g.hi, mplane.data(), &scratch));
        ro.model = mplane.data();
        r32.model = ro.model;
      }
      for (auto& p : passes) {
        p->body.orig = ro.cur;
        p->body.out = lossless ? nullptr : p->rec.data() + off;
        p->body.u = p->ubuf.data() + c * ps;
      }
      for (int64_t y0 = 0; y0 < H; y0 += B) {
        const int64_t y1 = std::min(H, y0 + B);
        if (mask != 1 || from_residuals) {
          // Choose per block on the originals (the reconstruction is not known yet in lossy mode).
          for (auto& cb : cost) cb.fill(0);
          if (narrow)
            plane_costs<int32_t, int32_t>(r32, f32 + c * ps, p32 ? p32 + c * ps : nullptr, c, ps, y0, y1, B, cost.data(),
                                          from_residuals ? kept.data() : nullptr);
          else
            plane_costs<int64_t, int64_t>(ro, ro.cur, ro.p1, c, ps, y0, y1, B, cost.data());
        }
        for (auto& p : passes) {
          if (mask == 1) {
            std::fill(p->choice.begin(), p->choice.end(), kMed);
          } else {
            const uint32_t m = mask & ~p->excluded;
            p->mark_segment();
            for (int64_t b = 0; b < bw; ++b) {
              const auto& cb = cost[static_cast<size_t>(b)];
              int best = kMed;
              for (int k = 1; k < kPredictors; ++k)
                if ((m >> k & 1) && cb[static_cast<size_t>(k)] < cb[static_cast<size_t>(best)]) best = k;
              p->choice[static_cast<size_t>(b)] = static_cast<uint8_t>(best);
              p->body.put(kChoiceCtx, best);
            }
          }
          for (int64_t b = 0; b < bw; ++b) ++p->st.blocks[p->choice[static_cast<size_t>(b)]];
          Refs rd = ro;  // lossless: the originals are the decoded samples
          if (!lossless) {
            const int64_t* dec = p->rec.data() + off;
            rd = Refs{dec, t > 0 ? dec - fs : nullptr, c > 0 ? dec - ps : nullptr, W, mid, g.lo, g.hi};
            rd.model = ro.model;
          }
          const uint16_t* uc = c > 0 ? p->body.u - ps : nullptr;
          for (int64_t y = y0; y < y1; ++y) {
            p->mark_segment();
            row_contexts(p->body.u, uc, y, W, ctx_row.data());
            if (from_residuals) {
              chosen_residuals(kept.data() + (y - y0) * kLearned * W, p->choice.data(), B, W, qrow.data());
              p->body.code_row(qrow.data(), y * W, W, ctx_row.data());
            } else if (lossless) {
              EncodeAs<false> e{p->body};
              run_row(rd, p->choice.data(), B, y, ctx_row.data(), e);
              p->body = e.b;
            } else {
              EncodeAs<true> e{p->body};
              run_row(rd, p->choice.data(), B, y, ctx_row.data(), e);
              p->body = e.b;
            }
          }
        }
      }
    }
  }

  for (Pass* p : passes) {
    p->count();
    if (p->body.max_token >= kInvalid) return invalid_argument("fast coder: residuals beyond its token alphabet");
  }
  // With the model chosen somewhere, keep the smaller pass: decided on the
  // estimates where they are clearly apart, by coding both where they are close.
  size_t chosen = 0;
  std::vector<uint8_t> outb;
  if (passes.size() > 1 && passes[0]->st.blocks[kLearned] > 0) {
    const double ea = estimate_bytes(*passes[0]), eb = estimate_bytes(*passes[1]);
    const double margin = 0.001 * std::min(ea, eb) + 64;  // measured: within 0.07% and 15 bytes
    if (eb + margin < ea) {
      chosen = 1;
    } else if (!(ea + margin < eb)) {
      outb = finish(*passes[0]);
      std::vector<uint8_t> plain = finish(*passes[1]);
      if (plain.size() <= outb.size()) {
        outb = std::move(plain);
        chosen = 1;
      }
    }
  }  // (a pass with the model that never chose it is the same as the one without)
  if (outb.empty()) outb = finish(*passes[chosen]);
  Pass& p = *passes[chosen];
  p.st.learned_stripes = p.st.blocks[kLearned] > 0 ? 1 : 0;
  if (stats) *stats = p.st;
  if (recon) *recon = lossless ? std::vector<int64_t>(samples.begin(), samples.end()) : std::move(p.rec);
  return outb;
}

}  // namespace

Result<std::vector<uint8_t>> encode(const GroupConfig& g, std::span<const int64_t> samples, int64_t frames,
                                    GroupStats* stats, std::vector<int64_t>* recon) {
  return encode_impl(g, samples, frames, nullptr, {}, nullptr, stats, recon);
}

namespace {

Status check_frames_config(const GroupConfig& g, int64_t frames) {
  if (g.channels < 1 || g.height < 1 || g.width < 1 || frames < 1 || g.lo > g.hi || g.block < 4 || g.block > 4096)
    return invalid_argument("fast coder: bad group configuration");
  return Status::ok();
}

}  // namespace

Result<std::vector<uint8_t>> encode_frames(const GroupConfig& g, int64_t frames, const FrameSource& load,
                                           GroupStats* stats) {
  RETURN_IF_ERROR(check_frames_config(g, frames));
  if (g.bound != 0 || g.model) return invalid_argument("fast coder: frame by frame only lossless and without a model");
  thread_local HugeVector<int64_t> window;  // kept between groups
  window.resize(static_cast<size_t>(2 * g.channels * g.height * g.width));
  return encode_impl(g, {}, frames, &load, window, nullptr, stats, nullptr);
}

bool frames_fit_int32(const GroupConfig& g) { return g.bound == 0 && !g.model && fits_int32_costs(g.lo, g.hi, g.block); }

Result<std::vector<uint8_t>> encode_frames(const GroupConfig& g, int64_t frames, const FrameSource32& load,
                                           GroupStats* stats) {
  RETURN_IF_ERROR(check_frames_config(g, frames));
  if (!frames_fit_int32(g)) return invalid_argument("fast coder: 32-bit frames only lossless, without a model, in a narrow range");
  return encode_impl(g, {}, frames, nullptr, {}, &load, stats, nullptr);
}

namespace {

// A stripe's header: the token alphabet and each context's table (per symbol its
// frequency, 0 for none). Leaves `br` at the rANS word count.
Status read_tables(ByteReader* br, int* alphabet_out, Freqs* freq) {
  const uint64_t alphabet = br->varint();
  // Token kInvalid marks the slots of unused contexts, so no stream may use it.
  if (br->bad || alphabet < kPredictors || alphabet > kInvalid) return corrupt("bad token alphabet");
  freq->assign(kCtx, {});
  int64_t top = -1;  // the largest token any table holds
  for (int ctx = 0; ctx < kCtx; ++ctx) {
    auto& f = (*freq)[static_cast<size_t>(ctx)];
    const uint64_t nnz = br->varint();
    if (br->bad || nnz > alphabet) return corrupt("bad frequency table");
    uint32_t cum = 0;
    int64_t s = -1;
    for (uint64_t k = 0; k < nnz; ++k) {
      s += static_cast<int64_t>(br->varint()) + 1;
      const uint64_t fr = br->varint() + 1;
      if (br->bad || s >= static_cast<int64_t>(alphabet) || fr > kProbScale || cum + fr > kProbScale)
        return corrupt("bad frequency table");
      f[static_cast<size_t>(s)] = static_cast<uint32_t>(fr);
      cum += static_cast<uint32_t>(fr);
    }
    if (nnz && cum != kProbScale) return corrupt("bad frequency table");
    top = std::max(top, s);
  }
  // The encoder writes the smallest alphabet that holds its tokens and every
  // predictor choice: a larger one is damage.
  if (static_cast<int64_t>(alphabet) > std::max<int64_t>(top + 1, kPredictors)) return corrupt("bad token alphabet");
  *alphabet_out = static_cast<int>(alphabet);
  return Status::ok();
}

uint32_t word16(const uint8_t* q) { return static_cast<uint32_t>(q[0]) | static_cast<uint32_t>(q[1]) << 8; }

// ---- version 3 decoder ----------------------------------------------------------------

// One 32-bit entry per context and slot of the probability scale: the symbol, its
// frequency and the slot's offset from the symbol's start, so that decoding a token is
// one load. Slots of an unused context decode as kInvalid with frequency 2^11 and
// their own offset, leaving the state as it is.
std::vector<uint32_t> packed_tables(const Freqs& freq) {
  std::vector<uint32_t> tab(static_cast<size_t>(kCtx) * kProbScale);
  for (int ctx = 0; ctx < kCtx; ++ctx) {
    uint32_t* t = tab.data() + static_cast<size_t>(ctx) * kProbScale;
    uint32_t cum = 0;
    for (int s = 0; s < kMaxTokens; ++s) {
      const uint32_t f = freq[static_cast<size_t>(ctx)][static_cast<size_t>(s)];
      for (uint32_t k = 0; k < f; ++k) t[cum + k] = static_cast<uint32_t>(s) | f << 8 | k << 20;
      cum += f;
    }
    if (cum == 0)
      for (uint32_t k = 0; k < kProbScale; ++k) t[k] = kInvalid | kProbScale << 8 | k << 20;
  }
  return tab;
}

// The rANS decoder: `lanes` states (kLanes in kStreams word streams, or kLanesV3
// in one stream in version 3 and 4 files). Version 5: token j of each call (a
// segment) by state j mod kLanes; versions 3 and 4: token n of the stripe by state
// n mod 4 (`phase`: the lane of the next token).
struct Lanes {
  uint32_t x[kLanes] = {};
  int lanes = kLanes;
  unsigned phase = 0;
  const uint8_t* rp[kStreams] = {};    // each stream's next 16-bit word and end (versions 3, 4: stream 0)
  const uint8_t* rend[kStreams] = {};
  bool bad = false;              // the words ran out
};

// Decodes n tokens into out; token k in context ctx[k] (kFixed: context `fixed`).
// Without kChecked the caller has made sure that 2n bytes of words are left (a
// token reads at most one word), so the renormalisation is arithmetic instead of a
// branch (which the data decide: it would mispredict every few tokens).
template <bool kChecked, bool kFixed>
void decode_tokens_impl(Lanes* L, const uint32_t* __restrict tab, const uint32_t* __restrict ctx, uint32_t fixed, int64_t n,
                        uint8_t* __restrict out) {
  const unsigned ph = L->phase;
  uint32_t a0 = L->x[ph & 3], a1 = L->x[(ph + 1) & 3], a2 = L->x[(ph + 2) & 3], a3 = L->x[(ph + 3) & 3];
  const uint8_t* rp = L->rp[0];
  const uint8_t* const rend = L->rend[0];
  bool bad = false;
#define SCIFLOW_RANS_STEP(x, k)                                                              \
  do {                                                                                       \
    const uint32_t c_ = kFixed ? fixed : ctx[k];                                             \
    const uint32_t e_ = tab[(c_ << kProbBits) | (x & (kProbScale - 1))];                     \
    x = ((e_ >> 8) & 0xFFF) * (x >> kProbBits) + (e_ >> 20);                                 \
    if constexpr (kChecked) {                                                                \
      if (x < kRansL) {                                                                      \
        if (rend - rp >= 2) {                                                                \
          x = (x << 16) | word16(rp);                                                        \
          rp += 2;                                                                           \
        } else {                                                                             \
          bad = true;                                                                        \
          x = kRansL;                                                                        \
        }                                                                                    \
      }                                                                                      \
    } else {                                                                                 \
      const uint32_t r_ = x < kRansL;                                                        \
      x = (x << (r_ << 4)) | (word16(rp) & (0u - r_));                                       \
      rp += r_ << 1;                                                                         \
    }                                                                                        \
    out[k] = static_cast<uint8_t>(e_);                                                       \
  } while (0)
  int64_t k = 0;
  for (; k + 4 <= n; k += 4) {
    SCIFLOW_RANS_STEP(a0, k);
    SCIFLOW_RANS_STEP(a1, k + 1);
    SCIFLOW_RANS_STEP(a2, k + 2);
    SCIFLOW_RANS_STEP(a3, k + 3);
  }
  const int64_t r = n - k;
  if (r > 0) SCIFLOW_RANS_STEP(a0, k);
  if (r > 1) SCIFLOW_RANS_STEP(a1, k + 1);
  if (r > 2) SCIFLOW_RANS_STEP(a2, k + 2);
#undef SCIFLOW_RANS_STEP
  L->x[ph & 3] = a0;
  L->x[(ph + 1) & 3] = a1;
  L->x[(ph + 2) & 3] = a2;
  L->x[(ph + 3) & 3] = a3;
  L->phase = static_cast<unsigned>((ph + static_cast<uint64_t>(n)) & 3);
  L->rp[0] = rp;
  L->bad |= bad;
}

// Version 5: one segment of n tokens with kLanes (32) states in kStreams (4) word
// streams, decoded as four vectors of eight (one per stream, so that their chains
// of gather, renormalisation and next gather run side by side) where the CPU has
// AVX2 and every stream has 16 bytes to spare beyond the words the tokens may read
// (a vector reads a renormalisation word for each of its lanes at once); the last
// partial group with the lanes beyond it masked. Otherwise one at a time. `out` has
// room for kLanes bytes past n.
template <bool kFixed>
void decode_tokens_wide(Lanes* L, const uint32_t* __restrict tab, const uint32_t* __restrict ctx, uint32_t fixed,
                        int64_t n, uint8_t* __restrict out) {
  static_assert(kLanes == 32 && kStreams == 4 && kStreamLanes == 8);
  int64_t k = 0;
  bool bad = false;
#if defined(__AVX2__)
  // For each mask of lanes that renormalise, the word each such lane takes: lane i
  // the (number of such lanes before i)-th of the next eight.
  static constexpr auto kExpand = [] {
    std::array<std::array<uint32_t, 8>, 256> t{};
    for (unsigned m = 0; m < 256; ++m) {
      uint32_t pos = 0;
      for (unsigned i = 0; i < 8; ++i)
        if (m >> i & 1) t[m][i] = pos++;
    }
    return t;
  }();
  const int64_t room = 16 * ((n + kLanes - 1) / kLanes) + 16;
  bool vec = true;
  for (int st = 0; st < kStreams; ++st) vec &= L->rend[st] - L->rp[st] >= room;
  if (vec) {
    // One variable per stream (an array indexed in a loop stayed in memory).
    __m256i V0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(L->x));
    __m256i V1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(L->x + 8));
    __m256i V2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(L->x + 16));
    __m256i V3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(L->x + 24));
    const uint8_t *r0 = L->rp[0], *r1 = L->rp[1], *r2 = L->rp[2], *r3 = L->rp[3];
    const __m256i slot_mask = _mm256_set1_epi32(kProbScale - 1), f_mask = _mm256_set1_epi32(0xFFF);
    const __m256i lower = _mm256_set1_epi32(static_cast<int>(kRansL));
    const __m256i fixed_ctx = _mm256_set1_epi32(static_cast<int>(fixed << kProbBits));
    // Byte 0 of each 32-bit entry (the symbol) to bytes 0..3 of each half, then both halves' to the low 8 bytes.
    const __m256i low_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8,
                                               12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i join = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // Tokens i.. with the lanes of X and the words at r; kPart: only the first
    // `count` (< 8) of them, the other lanes left as they are.
    auto step = [&]<bool kPart>(__m256i& X, const uint8_t*& r, int64_t i, int64_t count) {
      const __m256i valid = kPart ? _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), iota) : iota;
      __m256i c = fixed_ctx;
      if constexpr (!kFixed) {
        const __m256i cl = kPart ? _mm256_maskload_epi32(reinterpret_cast<const int*>(ctx + i), valid)
                                 : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctx + i));
        c = _mm256_slli_epi32(cl, kProbBits);
      }
      const __m256i e = _mm256_i32gather_epi32(reinterpret_cast<const int*>(tab), _mm256_or_si256(c, _mm256_and_si256(X, slot_mask)), 4);
      __m256i Y = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_and_si256(_mm256_srli_epi32(e, 8), f_mask), _mm256_srli_epi32(X, kProbBits)),
                                   _mm256_srli_epi32(e, 20));
      // States stay below 2^31, so the signed comparison is the unsigned one.
      __m256i need = _mm256_cmpgt_epi32(lower, Y);
      if constexpr (kPart) need = _mm256_and_si256(need, valid);
      const unsigned m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(need)));
      const __m256i words = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r)));
      const __m256i w = _mm256_permutevar8x32_epi32(words, _mm256_load_si256(reinterpret_cast<const __m256i*>(kExpand[m].data())));
      Y = _mm256_blendv_epi8(Y, _mm256_or_si256(_mm256_slli_epi32(Y, 16), w), need);
      X = kPart ? _mm256_blendv_epi8(X, Y, valid) : Y;
      r += 2 * std::popcount(m);
      const __m256i sy = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(e, low_bytes), join);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm256_castsi256_si128(sy));
    };
    for (; k + kLanes <= n; k += kLanes) {
      step.template operator()<false>(V0, r0, k, 8);
      step.template operator()<false>(V1, r1, k + 8, 8);
      step.template operator()<false>(V2, r2, k + 16, 8);
      step.template operator()<false>(V3, r3, k + 24, 8);
    }
    if (k < n) {  // the last, partial group of kLanes
      auto part = [&](__m256i& X, const uint8_t*& r, int64_t at) {
        const int64_t left = n - at;
        if (left >= 8) step.template operator()<false>(X, r, at, 8);
        else if (left > 0) step.template operator()<true>(X, r, at, left);
      };
      part(V0, r0, k);
      part(V1, r1, k + 8);
      part(V2, r2, k + 16);
      part(V3, r3, k + 24);
      k = n;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(L->x), V0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(L->x + 8), V1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(L->x + 16), V2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(L->x + 24), V3);
    L->rp[0] = r0;
    L->rp[1] = r1;
    L->rp[2] = r2;
    L->rp[3] = r3;
  }
#endif
  for (; k < n; ++k) {
    const int lane = static_cast<int>(k % kLanes), st = lane / kStreamLanes;
    uint32_t& x = L->x[lane];
    const uint32_t c = kFixed ? fixed : ctx[k];
    const uint32_t e = tab[(c << kProbBits) | (x & (kProbScale - 1))];
    x = ((e >> 8) & 0xFFF) * (x >> kProbBits) + (e >> 20);
    if (x < kRansL) {
      if (L->rend[st] - L->rp[st] >= 2) {
        x = (x << 16) | word16(L->rp[st]);
        L->rp[st] += 2;
      } else {
        bad = true;
        x = kRansL;
      }
    }
    out[k] = static_cast<uint8_t>(e);
  }
  L->bad |= bad;
}

void decode_tokens(Lanes* L, const uint32_t* tab, const uint32_t* ctx, int64_t n, uint8_t* out) {
  if (L->lanes == kLanes) decode_tokens_wide<false>(L, tab, ctx, 0, n, out);
  else if (L->rend[0] - L->rp[0] >= 2 * n) decode_tokens_impl<false, false>(L, tab, ctx, 0, n, out);
  else decode_tokens_impl<true, false>(L, tab, ctx, 0, n, out);
}

void decode_tokens_fixed(Lanes* L, const uint32_t* tab, uint32_t ctx, int64_t n, uint8_t* out) {
  if (L->lanes == kLanes) decode_tokens_wide<true>(L, tab, nullptr, ctx, n, out);
  else if (L->rend[0] - L->rp[0] >= 2 * n) decode_tokens_impl<false, true>(L, tab, nullptr, ctx, n, out);
  else decode_tokens_impl<true, true>(L, tab, nullptr, ctx, n, out);
}

// Per token: the value it stands for without its extra bits, and how many follow.
struct TokenValue {
  uint64_t base;
  int bits;
};
constexpr auto kTokenValues = [] {
  std::array<TokenValue, kMaxTokens> t{};
  for (int k = 0; k < kMaxTokens; ++k) {
    if (k < kDirect) {
      t[static_cast<size_t>(k)] = {static_cast<uint64_t>(k), 0};
      continue;
    }
    const int n = (k - kDirect) / 4 + 5;
    if (n <= 62) t[static_cast<size_t>(k)] = {static_cast<uint64_t>(4 | ((k - kDirect) & 3)) << (n - 3), n - 3};
    else t[static_cast<size_t>(k)] = {~uint64_t{0}, 0};  // beyond any sample range: rejected by max_u
  }
  return t;
}();

// The extra bits, least significant first, refilled 8 bytes at a time (byte by
// byte only at the end of the stream, where the bytes past the end read as zeros
// and overrun() tells that they were used).
class FastBitReader {
 public:
  FastBitReader() = default;
  FastBitReader(const uint8_t* p, const uint8_t* end) : base_(p), size_(static_cast<uint64_t>(end - p)) {}
  [[gnu::always_inline]] uint64_t get(int bits) {  // bits <= 62
    if (bits > 56) [[unlikely]] {
      const uint64_t lo = get_short(28);
      return lo | get_short(bits - 28) << 28;
    }
    return get_short(bits);
  }
  bool overrun() const { return pos_ * 8 - static_cast<uint64_t>(n_) > size_ * 8; }

 private:
  [[gnu::always_inline]] uint64_t get_short(int bits) {  // bits <= 56
    refill();
    const uint64_t v = acc_ & ((uint64_t{1} << bits) - 1);
    acc_ >>= bits;
    n_ -= bits;
    return v;
  }
  [[gnu::always_inline]] void refill() {
    if (pos_ + 8 <= size_) [[likely]] {
      uint64_t w;
      std::memcpy(&w, base_ + pos_, 8);
      if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);  // the stream is little-endian
      acc_ |= w << n_;
      pos_ += static_cast<uint64_t>(63 - n_) >> 3;
      n_ |= 56;
    } else {
      for (; n_ <= 56; n_ += 8, ++pos_) acc_ |= static_cast<uint64_t>(pos_ < size_ ? base_[pos_] : 0) << n_;
    }
  }
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0, pos_ = 0;  // bytes in all, bytes loaded into acc_
  uint64_t acc_ = 0;
  int n_ = 0;  // valid bits in acc_
};

// A decoded row's residuals: from its tokens and their extra bits, the zigzag
// magnitudes (u, for the contexts after it) and the signed residuals: residual x
// to q[x kStride] (kStride 8: by step for the wavefront, wave_block_row). Returns
// the largest magnitude (above anything int32 can hold the residuals are not
// valid: damage).
template <class Q, int kStride>
[[gnu::noinline]] uint64_t row_residuals(const uint8_t* __restrict tok, int64_t w, uint8_t top_token, FastBitReader* bits,
                                         uint16_t* __restrict u, Q* __restrict q) {
  if (top_token < kDirect) {  // no extra bits in this row
    for (int64_t x = 0; x < w; ++x) {
      u[x] = tok[x];
      q[x * kStride] = static_cast<Q>(unzigzag(tok[x]));
    }
    return top_token;
  }
  // A local copy of the reader: the stores to q could alias its members, which
  // would keep them in memory.
  FastBitReader br = *bits;
  uint64_t top = 0;
  auto read = [&](int64_t x) {
    const TokenValue tv = kTokenValues[tok[x]];
    const uint64_t uz = tv.base | br.get(tv.bits);
    top = std::max(top, uz);
    u[x] = saturate(uz);
    q[x * kStride] = static_cast<Q>(unzigzag(uz));
  };
  int64_t wide = 0;  // tokens with extra bits in this row
  for (int64_t x = 0; x < w; ++x) wide += tok[x] >= kDirect;
  if (4 * wide > w) {
    for (int64_t x = 0; x < w; ++x) read(x);
  } else {
    // Few of them (noisy 8-bit rows): every sample as if its token were its value,
    // then the wide ones again with their extra bits, in order. Those are larger
    // than any direct value, so the row's largest is among them.
    for (int64_t x = 0; x < w; ++x) {
      u[x] = tok[x];
      q[x * kStride] = static_cast<Q>(unzigzag(tok[x]));
    }
    for (int64_t x = 0; x < w; ++x)
      if (tok[x] >= kDirect) read(x);
  }
  *bits = br;
  return top;
}

// Reconstructs one sample (decoder side of run_row) from its residual.
struct DecodeBody {
  const int64_t* q = nullptr;  // the row's residuals (and the next row's, after them)
  int64_t row = 0;             // index of the row's first sample
  int64_t* cur = nullptr;
  int64_t step = 1, lo = 0, hi = 0;
  bool lossy = false;

  void start_row(int64_t r, int64_t) { row = r; }

  // Lossless, predictor prev: samples x0..x1-1 of the rows at `r` and r + w from
  // the previous frame's p1, without a chain (vectorised). False when lossy.
  [[gnu::always_inline]] bool from_prev(const int64_t* p1, int64_t r, int64_t w, int64_t x0, int64_t x1) {
    if (lossy) return false;
    int64_t* __restrict c = cur + r;
    const int64_t* __restrict p = p1 + r;
    const int64_t* __restrict d = q;
    for (int64_t x = x0; x < x1; ++x) c[x] = p[x] + d[x];
    for (int64_t x = x0 + w; x < x1 + w; ++x) c[x] = p[x] + d[x];
    return true;
  }

  [[gnu::always_inline]] int64_t operator()(int64_t i, int64_t pred, uint32_t) {
    const int64_t r = q[i - row];
    // Lossless samples are checked against [lo, hi] once the row is done.
    const int64_t v = lossy ? clamp64(pred + r * step, lo, hi) : pred + r;
    cur[i] = v;
    return v;
  }
};

// The largest of t[0..n). (Small helpers like this one stay vectorised; inlined
// into the decoder's big loop, GCC compiled them into branches.)
[[gnu::noinline]] uint8_t max_of(const uint8_t* __restrict t, int64_t n) {
  uint8_t m = 0;
  for (int64_t x = 0; x < n; ++x) m = std::max(m, t[x]);
  return m;
}

// Whether any of v[0..n) lies outside [lo, hi] (one vectorised pass, no branch).
[[gnu::noinline]] bool outside(const int64_t* __restrict v, int64_t n, int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo);
  uint64_t bad = 0;
  for (int64_t x = 0; x < n; ++x) bad |= static_cast<uint64_t>(static_cast<uint64_t>(v[x] - lo) > span);
  return bad != 0;
}

// ---- wavefront reconstruction of a block row (AVX2) -----------------------------
//
// Each sample's prediction waits on its west neighbour, so a row is a serial chain.
// The eight rows of a block row are eight chains, and row j + 1 at column x needs
// only what row j decoded at x and x - 1: step s decodes row j at column s - j for
// all eight rows at once, one row per lane of a vector of int32. The lane's west
// neighbour is its own value from the step before, the north neighbour the lane
// above's value from the step before (one lane shift), the north-west one the north
// neighbour of the step before. Inputs are laid out by step, eight values per step,
// lane j from row j at column s - j: the residuals as row_residuals writes them, the
// previous frame and channel as their own block rows' output (WaveBuffers). The
// output goes back to the rows (unskew()). The predictors the block row uses are
// computed in every lane, each lane keeps its block's. Same values as run_row /
// run_two_rows (predict_inner), sample by sample.
constexpr int kWaveRows = 8;

// Whether a block row may go through the wavefront: int32 holds every sum and
// difference the predictors form of samples in [lo, hi] and of residual * step.
[[maybe_unused]] bool wave_fits(const GroupConfig& g, int64_t step) {
  constexpr int64_t kLim = int64_t{1} << 28;
  return g.block == kWaveRows && g.lo >= -kLim && g.hi <= kLim && g.hi - g.lo < kLim && step < kLim;
}

#if defined(__AVX2__)
[[gnu::always_inline]] inline void transpose8(__m256i& r0, __m256i& r1, __m256i& r2, __m256i& r3, __m256i& r4,
                                              __m256i& r5, __m256i& r6, __m256i& r7) {
  const __m256i a0 = _mm256_unpacklo_epi32(r0, r1), a1 = _mm256_unpackhi_epi32(r0, r1);
  const __m256i a2 = _mm256_unpacklo_epi32(r2, r3), a3 = _mm256_unpackhi_epi32(r2, r3);
  const __m256i a4 = _mm256_unpacklo_epi32(r4, r5), a5 = _mm256_unpackhi_epi32(r4, r5);
  const __m256i a6 = _mm256_unpacklo_epi32(r6, r7), a7 = _mm256_unpackhi_epi32(r6, r7);
  const __m256i b0 = _mm256_unpacklo_epi64(a0, a2), b1 = _mm256_unpackhi_epi64(a0, a2);
  const __m256i b2 = _mm256_unpacklo_epi64(a1, a3), b3 = _mm256_unpackhi_epi64(a1, a3);
  const __m256i b4 = _mm256_unpacklo_epi64(a4, a6), b5 = _mm256_unpackhi_epi64(a4, a6);
  const __m256i b6 = _mm256_unpacklo_epi64(a5, a7), b7 = _mm256_unpackhi_epi64(a5, a7);
  r0 = _mm256_permute2x128_si256(b0, b4, 0x20);
  r1 = _mm256_permute2x128_si256(b1, b5, 0x20);
  r2 = _mm256_permute2x128_si256(b2, b6, 0x20);
  r3 = _mm256_permute2x128_si256(b3, b7, 0x20);
  r4 = _mm256_permute2x128_si256(b0, b4, 0x31);
  r5 = _mm256_permute2x128_si256(b1, b5, 0x31);
  r6 = _mm256_permute2x128_si256(b2, b6, 0x31);
  r7 = _mm256_permute2x128_si256(b3, b7, 0x31);
}

// Eight samples of a row from column c on as int32, 0 outside [0, w).
[[gnu::always_inline]] inline __m256i row8(const int64_t* row, int64_t c, int64_t w) {
  if (c >= 0 && c + 8 <= w) {
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);  // the low halves of four int64
    const __m256i a = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + c)), even);
    const __m256i b = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + c + 4)), even);
    return _mm256_permute2x128_si256(a, b, 0x20);
  }
  alignas(32) int32_t t[8];
  for (int i = 0; i < 8; ++i) t[i] = c + i >= 0 && c + i < w ? static_cast<int32_t>(row[c + i]) : 0;
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(t));
}

// out[8 s + j] = row j at column s - j (0 outside the row), for the steps
// 0 <= s < S (a multiple of 8), of the eight rows of w samples from `rows` on.
void skew(const int64_t* rows, int64_t w, int64_t S, int32_t* __restrict out) {
  for (int64_t s0 = 0; s0 < S; s0 += 8) {
    __m256i r0 = row8(rows, s0, w), r1 = row8(rows + w, s0 - 1, w), r2 = row8(rows + 2 * w, s0 - 2, w),
            r3 = row8(rows + 3 * w, s0 - 3, w), r4 = row8(rows + 4 * w, s0 - 4, w), r5 = row8(rows + 5 * w, s0 - 5, w),
            r6 = row8(rows + 6 * w, s0 - 6, w), r7 = row8(rows + 7 * w, s0 - 7, w);
    transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
    __m256i* o = reinterpret_cast<__m256i*>(out + 8 * s0);
    _mm256_storeu_si256(o + 0, r0);
    _mm256_storeu_si256(o + 1, r1);
    _mm256_storeu_si256(o + 2, r2);
    _mm256_storeu_si256(o + 3, r3);
    _mm256_storeu_si256(o + 4, r4);
    _mm256_storeu_si256(o + 5, r5);
    _mm256_storeu_si256(o + 6, r6);
    _mm256_storeu_si256(o + 7, r7);
  }
}

// The eight values v go to row at columns c .. c + 7, those in [1, w) only; the
// lanes of those outside [lo, hi] are set in *bad.
[[gnu::always_inline]] inline void put8(int64_t* row, int64_t c, int64_t w, __m256i v, __m256i lo, __m256i hi,
                                        __m256i* bad) {
  const __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(lo, v), _mm256_cmpgt_epi32(v, hi));
  if (c >= 1 && c + 8 <= w) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + c), _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + c + 4), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
    *bad = _mm256_or_si256(*bad, out);
    return;
  }
  alignas(32) int32_t t[8], o[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), v);
  _mm256_store_si256(reinterpret_cast<__m256i*>(o), out);
  for (int64_t i = std::max<int64_t>(0, 1 - c); i < 8 && c + i < w; ++i) {
    row[c + i] = t[i];
    if (o[i]) *bad = _mm256_set1_epi32(-1);
  }
}

// The inverse of skew(): row j at column c = in[8 (c + j) + j], for 1 <= c < w.
// Whether all of those lie in [lo, hi].
bool unskew(const int32_t* __restrict in, int64_t S, int64_t* rows, int64_t w, int32_t lo32, int32_t hi32) {
  const __m256i lo = _mm256_set1_epi32(lo32), hi = _mm256_set1_epi32(hi32);
  __m256i bad = _mm256_setzero_si256();
  for (int64_t s0 = 0; s0 < S; s0 += 8) {
    const __m256i* p = reinterpret_cast<const __m256i*>(in + 8 * s0);
    __m256i r0 = _mm256_loadu_si256(p + 0), r1 = _mm256_loadu_si256(p + 1), r2 = _mm256_loadu_si256(p + 2),
            r3 = _mm256_loadu_si256(p + 3), r4 = _mm256_loadu_si256(p + 4), r5 = _mm256_loadu_si256(p + 5),
            r6 = _mm256_loadu_si256(p + 6), r7 = _mm256_loadu_si256(p + 7);
    transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
    put8(rows, s0, w, r0, lo, hi, &bad);
    put8(rows + w, s0 - 1, w, r1, lo, hi, &bad);
    put8(rows + 2 * w, s0 - 2, w, r2, lo, hi, &bad);
    put8(rows + 3 * w, s0 - 3, w, r3, lo, hi, &bad);
    put8(rows + 4 * w, s0 - 4, w, r4, lo, hi, &bad);
    put8(rows + 5 * w, s0 - 5, w, r5, lo, hi, &bad);
    put8(rows + 6 * w, s0 - 6, w, r6, lo, hi, &bad);
    put8(rows + 7 * w, s0 - 7, w, r7, lo, hi, &bad);
  }
  return _mm256_testz_si256(bad, bad) != 0;
}

// What the steps read: by step (skew(), or the steps' own output for the block
// row in the previous frame or channel), the residuals, the previous frame's
// samples and the previous channel's; by column, the row above the block row in
// this frame, the previous one and the previous channel (int64 rows, read as int32
// from their low halves); each lane's first sample (column 0, decoded before); the
// blocks' predictors.
struct WaveIn {
  const int32_t* q = nullptr;
  const int32_t* p = nullptr;
  const int32_t* pc = nullptr;
  const int64_t* above = nullptr;    // column 0; read to column S - 1 (into the next row)
  const int64_t* pabove = nullptr;   // the same in the previous frame
  const int64_t* pcabove = nullptr;  // and in the previous channel
  const int32_t* first = nullptr;   // kWaveRows values
  const uint8_t* choice = nullptr;
  int64_t blocks = 0;               // entries of choice
  int64_t S = 0;                    // steps, a multiple of 8
  int32_t lo = 0, hi = 0, step = 1;
};

// The predictors a block row uses: kUse has bit k for predictor k (only med,
// prev, tmed, mean and chan). Those not in kUse are neither computed nor chosen.
template <bool kLossy, unsigned kUse>
void wave_steps(const WaveIn& in, int32_t* __restrict out) {
  constexpr bool kMany = (kUse & (kUse - 1)) != 0;
  constexpr auto has = [](int k) { return (kUse >> k & 1) != 0; };
  constexpr bool kNeedMed = has(kMed) || has(kMean) || has(kChan);
  const __m256i lo = _mm256_set1_epi32(in.lo), hi = _mm256_set1_epi32(in.hi), step = _mm256_set1_epi32(in.step);
  const __m256i shift = _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  auto med3v = [](__m256i w, __m256i n, __m256i nw) {
    const __m256i mx = _mm256_max_epi32(w, n), mn = _mm256_min_epi32(w, n);
    return _mm256_max_epi32(mn, _mm256_min_epi32(mx, _mm256_sub_epi32(_mm256_add_epi32(w, n), nw)));
  };
  auto clampv = [&](__m256i v) { return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi); };
  auto at = [](const int32_t* a, int64_t s) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 8 * s)); };
  auto low = [](const int64_t* a, int64_t s) { return _mm256_set1_epi32(static_cast<int32_t>(a[s])); };
  __m256i v = _mm256_setzero_si256(), n = v, p = v, pn = v, dn = v, c = v, cn = v;
  for (int64_t s0 = 0, b = 0; s0 < in.S; s0 += 8, ++b) {
    // Lane j at step s0 + i is in block b when j <= i, else in block b - 1.
    __m256i kb = v, kb1 = v;
    if constexpr (kMany) {
      kb = _mm256_set1_epi32(in.choice[std::min(b, in.blocks - 1)]);
      kb1 = _mm256_set1_epi32(in.choice[b > 0 ? std::min(b - 1, in.blocks - 1) : 0]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const int64_t s = s0 + i;
      // Neighbours: north from the lane above one step back (lane 0: the row above).
      const __m256i nw = n, pw = p, dnw = dn;
      n = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(v, shift), low(in.above, s), 1);
      __m256i med = v, tm = v, pred = v;
      if constexpr (kNeedMed) med = med3v(v, n, nw);
      if constexpr (has(kPrev) || has(kTmed) || has(kMean)) p = at(in.p, s);
      __m256i co = v;  // chan: the previous channel minus the MED of its neighbours
      if constexpr (has(kChan)) {
        const __m256i cw = c, cnw = cn;
        c = at(in.pc, s);
        cn = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(cw, shift), low(in.pcabove, s), 1);
        co = _mm256_sub_epi32(c, med3v(cw, cn, cnw));
      }
      if constexpr (has(kTmed)) {
        pn = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(pw, shift), low(in.pabove, s), 1);
        dn = _mm256_sub_epi32(n, pn);
        tm = clampv(_mm256_add_epi32(p, med3v(_mm256_sub_epi32(v, pw), dn, dnw)));
      }
      if constexpr (!kMany) {
        if constexpr (has(kMed)) pred = med;
        else if constexpr (has(kPrev)) pred = p;
        else if constexpr (has(kTmed)) pred = tm;
        else if constexpr (has(kMean)) pred = _mm256_srai_epi32(_mm256_add_epi32(med, p), 1);
        else pred = clampv(_mm256_add_epi32(med, co));
      } else {
        const __m256i k = _mm256_blendv_epi8(kb1, kb, _mm256_cmpgt_epi32(_mm256_set1_epi32(i + 1), lane));
        pred = med;
        if constexpr (has(kMean))
          pred = _mm256_blendv_epi8(pred, _mm256_srai_epi32(_mm256_add_epi32(med, p), 1),
                                    _mm256_cmpeq_epi32(k, _mm256_set1_epi32(kMean)));
        if constexpr (has(kChan))
          pred = _mm256_blendv_epi8(pred, clampv(_mm256_add_epi32(med, co)),
                                    _mm256_cmpeq_epi32(k, _mm256_set1_epi32(kChan)));
        if constexpr (has(kTmed)) pred = _mm256_blendv_epi8(pred, tm, _mm256_cmpeq_epi32(k, _mm256_set1_epi32(kTmed)));
        if constexpr (has(kPrev)) pred = _mm256_blendv_epi8(pred, p, _mm256_cmpeq_epi32(k, _mm256_set1_epi32(kPrev)));
      }
      if constexpr (kLossy) v = clampv(_mm256_add_epi32(pred, _mm256_mullo_epi32(at(in.q, s), step)));
      else v = _mm256_add_epi32(pred, at(in.q, s));
      if (s0 == 0)  // lane i starts at column 0, decoded before
        v = _mm256_blendv_epi8(v, _mm256_set1_epi32(in.first[i]), _mm256_cmpeq_epi32(lane, _mm256_set1_epi32(i)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * s), v);
    }
  }
}

using WaveSteps = void (*)(const WaveIn&, int32_t*);

// wave_steps for the predictors of `use` (bit k: predictor k): each one alone,
// else all of med, prev and mean with tmed and chan where used.
template <bool kLossy>
WaveSteps wave_kernel(unsigned use) {
  constexpr unsigned kCheap = 1u << kMed | 1u << kPrev | 1u << kMean, T = 1u << kTmed, C = 1u << kChan;
  switch (use) {
    case 1u << kMed: return wave_steps<kLossy, 1u << kMed>;
    case 1u << kPrev: return wave_steps<kLossy, 1u << kPrev>;
    case 1u << kTmed: return wave_steps<kLossy, 1u << kTmed>;
    case 1u << kMean: return wave_steps<kLossy, 1u << kMean>;
    case 1u << kChan: return wave_steps<kLossy, 1u << kChan>;
    default: break;
  }
  if ((use & T) && (use & C)) return wave_steps<kLossy, kCheap | T | C>;
  if (use & T) return wave_steps<kLossy, kCheap | T>;
  if (use & C) return wave_steps<kLossy, kCheap | C>;
  return wave_steps<kLossy, kCheap>;
}

// Step-ordered buffers of wave_block_row. Every whole block row below the first
// is kept by step (the steps' output, or skew() of a block row decoded otherwise)
// for the same block row in the next channel and the next frame: their previous
// channel and frame by step.
struct WaveBuffers {
  int64_t S = 0, rows = 0;       // steps, whole block rows
  std::vector<int32_t> dq;       // residuals
  std::vector<int32_t> kept[2];  // by frame parity, plane and block row
  // Sizes for planes of c x h x w. What a previous group left stays (grown only, not
  // cleared): only lanes outside the rows read it, and what they compute is never used.
  void reset(int64_t w, int64_t h, int64_t c) {
    S = (w + kWaveRows - 1 + 7) / 8 * 8;
    rows = h / kWaveRows;
    if (dq.size() < static_cast<size_t>(8 * S)) dq.resize(static_cast<size_t>(8 * S));
    for (auto& k : kept)
      if (k.size() < static_cast<size_t>(c * rows * 8 * S)) k.resize(static_cast<size_t>(c * rows * 8 * S));
  }
  // Block row y0 / 8 (a whole one) of plane c in frame t.
  int32_t* at(int64_t t, int64_t c, int64_t y0) {
    return kept[t & 1].data() + static_cast<size_t>(c * rows + y0 / kWaveRows) * static_cast<size_t>(8 * S);
  }
};

// Rows y0 .. y0 + 7 (0 < y0) of the plane cur (= r.cur) from their residuals by
// step in wb->dq (row_residuals<int32_t, 8> of row j to wb->dq + 9 j), blocks with
// the predictors choice[0 .. bw) (none learned): the values run_row would give.
// False when a sample lies outside [lo, hi] (lossless data: damage; lossy samples
// are clamped). prev and prev_chan: the same block row by step in the previous
// frame and channel (null where there is none); out: where this one goes by step.
bool wave_block_row(const Refs& r, int64_t* cur, const uint8_t* choice, int64_t bw, int64_t y0, int64_t step,
                    bool lossy, const int32_t* prev, const int32_t* prev_chan, int32_t* out, WaveBuffers* wb) {
  const int64_t w = r.w;
  int32_t first[kWaveRows];
  bool ok = true;
  for (int64_t j = 0; j < kWaveRows; ++j) {  // column 0: its own chain, down the rows
    const int64_t i = (y0 + j) * w;
    const int64_t pred = predict(choice[0], r, i, 0, y0 + j);
    const int64_t q = wb->dq[static_cast<size_t>(9 * j)];
    cur[i] = lossy ? clamp64(pred + q * step, r.lo, r.hi) : pred + q;
    first[j] = static_cast<int32_t>(cur[i]);
    ok &= cur[i] >= r.lo && cur[i] <= r.hi;
  }
  unsigned use = 0;
  for (int64_t b = 0; b < bw; ++b) use |= 1u << choice[b];
  WaveIn in;
  in.q = wb->dq.data();
  // Without a previous frame or channel, any readable by-step data (read only by
  // predictors the block row cannot use; not `out`, which the steps write).
  in.p = prev ? prev : wb->dq.data();
  in.pc = prev_chan ? prev_chan : wb->dq.data();
  in.above = cur + (y0 - 1) * w;
  in.pabove = r.p1 ? r.p1 + (y0 - 1) * w : in.above;
  in.pcabove = r.pc ? r.pc + (y0 - 1) * w : in.above;
  in.first = first;
  in.choice = choice;
  in.blocks = bw;
  in.S = wb->S;
  in.lo = static_cast<int32_t>(r.lo);
  in.hi = static_cast<int32_t>(r.hi);
  in.step = static_cast<int32_t>(step);
  (lossy ? wave_kernel<true>(use) : wave_kernel<false>(use))(in, out);
  return unskew(out, wb->S, cur + y0 * w, w, in.lo, in.hi) && ok;
}
#endif

// ---- version 2 decoder (files from before the version 3 contexts) --------------------

Status decode_v2(const GroupConfig& g, const Freqs& freq, const ByteReader& words, uint64_t rans_words, int64_t frames,
                 std::span<int64_t> out) {
  const int64_t H = g.height, W = g.width, C = g.channels, ps = H * W, fs = C * ps, B = g.block;
  const int64_t step = 2 * g.bound + 1, mid = g.lo + (g.hi - g.lo) / 2;
  std::vector<DecodeTable> tabs(kCtx);
  for (int ctx = 0; ctx < kCtx; ++ctx) {
    DecodeTable& T = tabs[static_cast<size_t>(ctx)];
    uint32_t cum = 0;
    for (int s = 0; s < kMaxTokens; ++s) {
      const uint32_t f = freq[static_cast<size_t>(ctx)][static_cast<size_t>(s)];
      if (!f) continue;
      std::fill(T.sym.begin() + cum, T.sym.begin() + cum + f, static_cast<uint8_t>(s));
      T.fs[static_cast<size_t>(s)] = f | cum << 16;
      cum += f;
    }
  }
  DecodeBodyV2 d;
  d.tabs = tabs.data();
  d.rp = words.p + 8;
  d.rend = words.p + 2 * rans_words;
  d.bits = BitReader(d.rend, words.end);
  d.x = word16(words.p) << 16 | word16(words.p + 2);
  d.x2 = word16(words.p + 4) << 16 | word16(words.p + 6);
  d.bound = g.bound;
  d.step = step;
  d.lo = g.lo;
  d.hi = g.hi;
  d.max_u = 2 * (static_cast<uint64_t>(g.hi - g.lo) / static_cast<uint64_t>(step) + 1) + 1;

  std::vector<uint16_t> ubuf(static_cast<size_t>(fs), 0);
  std::vector<uint32_t> act(static_cast<size_t>(W));
  std::vector<int64_t> mplane(g.model ? static_cast<size_t>(ps) : 0);
  ml::FrameNet::Scratch scratch;
  const int64_t bw = (W + B - 1) / B;
  std::vector<uint8_t> choice(static_cast<size_t>(bw));
  int64_t* rec = out.data();
  for (int64_t t = 0; t < frames; ++t) {
    for (int64_t c = 0; c < C; ++c) {
      const int64_t off = t * fs + c * ps;
      Refs rd{rec + off, t > 0 ? rec + off - fs : nullptr, c > 0 ? rec + off - ps : nullptr, W, mid, g.lo, g.hi};
      uint16_t* u = ubuf.data() + c * ps;
      d.cur = rec + off;
      d.u = u;
      const uint32_t mask = allowed_mask(t, c, g.model != nullptr);
      for (int64_t y0 = 0; y0 < H; y0 += B) {
        const int64_t y1 = std::min(H, y0 + B);
        if (mask == 1) {
          std::fill(choice.begin(), choice.end(), kMed);
        } else {
          for (int64_t b = 0; b < bw; ++b) {
            const int k = d.next(kChoiceCtx);
            if (k >= kPredictors || !(mask >> k & 1))
              return corrupt(fmt::format("frame {} channel {}: invalid predictor choice", t, c));
            choice[static_cast<size_t>(b)] = static_cast<uint8_t>(k);
            if (k == kLearned && !rd.model) {  // the model runs only for planes that use it
              RETURN_IF_ERROR(learned_plane(*g.model, rec, t, c, fs, ps, H, W, g.lo, g.hi, mplane.data(), &scratch));
              rd.model = mplane.data();
            }
          }
        }
        for (int64_t y = y0; y < y1; ++y) {
          row_activity(u, y, W, act.data());
          run_row(rd, choice.data(), B, y, act.data(), d);
          if (d.range_error) return corrupt(fmt::format("frame {} channel {}: sample out of range", t, c));
          if (d.bad || d.bits.overrun())
            return corrupt(fmt::format("frame {} channel {}: truncated or damaged data", t, c));
        }
      }
    }
  }
  if (d.rp != d.rend || d.x != kRansL || d.x2 != kRansL) return corrupt("damaged data (token stream does not end where it should)");
  return Status::ok();
}

}  // namespace

Status decode(const GroupConfig& g, std::span<const uint8_t> data, int64_t frames, std::span<int64_t> out) {
  return decode_frames(g, data, frames, out, nullptr);
}

Status decode_frames(const GroupConfig& g, std::span<const uint8_t> data, int64_t frames, std::span<int64_t> window,
                     const FrameSink& emit) {
  if (g.channels < 1 || g.height < 1 || g.width < 1 || frames < 1 || g.lo > g.hi || g.bound < 0 || g.block < 4 ||
      g.block > 4096)
    return invalid_argument("fast decoder: bad group configuration");
  std::span<int64_t> out = window;
  const int64_t H = g.height, W = g.width, C = g.channels, ps = H * W, fs = C * ps, B = g.block;
  const int64_t step = 2 * g.bound + 1, mid = g.lo + (g.hi - g.lo) / 2;
  // Largest zigzag value a valid stream can hold: anything above is damage.
  const uint64_t max_u = 2 * (static_cast<uint64_t>(g.hi - g.lo) / static_cast<uint64_t>(step) + 1) + 1;

  ByteReader br{data.data(), data.data() + data.size()};
  int alphabet = 0;
  Freqs freq;
  RETURN_IF_ERROR(read_tables(&br, &alphabet, &freq));
  const int lanes = g.fast_version == 2 ? 2 : g.fast_version < 5 ? kLanesV3 : kLanes;
  // Version 5: the words of each of kStreams streams (kStreamLanes states each);
  // before: one stream.
  const int streams = lanes == kLanes ? kStreams : 1;
  std::array<uint64_t, kStreams> stream_words{};
  uint64_t rans_words = 0;
  for (int st = 0; st < streams; ++st) {
    const uint64_t sw = br.varint();
    const uint64_t least = 2u * static_cast<uint64_t>(lanes / streams);
    if (br.bad || sw < least || sw > static_cast<uint64_t>(br.end - br.p) / 2) return corrupt("bad token stream size");
    stream_words[static_cast<size_t>(st)] = sw;
    rans_words += sw;
  }
  if (rans_words > static_cast<uint64_t>(br.end - br.p) / 2) return corrupt("bad token stream size");
  const int64_t R = static_cast<int64_t>(window.size()) / fs;  // frames the window holds
  if (R < std::min<int64_t>(frames, 2) || static_cast<int64_t>(window.size()) != R * fs || R > frames ||
      ((g.model || g.fast_version == 2) && R != frames))
    return invalid_argument("fast decoder: window does not fit the group");
  if (g.fast_version == 2) {
    RETURN_IF_ERROR(decode_v2(g, freq, br, rans_words, frames, out));
    if (emit)
      for (int64_t t = 0; t < frames; ++t) emit(t, out.data() + t * fs);
    return Status::ok();
  }

  const std::vector<uint32_t> tab = packed_tables(freq);
  Lanes L;
  L.lanes = lanes;
  std::fill(std::begin(L.x), std::end(L.x), kRansL);  // lanes a version does not use stay final
  const uint8_t* at = br.p;  // stream st: its states, then its words
  for (int st = 0; st < streams; ++st) {
    for (int j = 0; j < lanes / streams; ++j)
      L.x[st * (lanes / streams) + j] = word16(at + 4 * j) << 16 | word16(at + 4 * j + 2);
    L.rp[st] = at + 4 * (lanes / streams);
    L.rend[st] = at + 2 * stream_words[static_cast<size_t>(st)];
    at = L.rend[st];
  }
  FastBitReader bits(at, br.end);
  DecodeBody d;
  d.step = step;
  d.lo = g.lo;
  d.hi = g.hi;
  d.lossy = g.bound != 0;

  std::vector<uint16_t> ubuf(static_cast<size_t>(fs), 0);
  std::vector<uint32_t> ctx(static_cast<size_t>(W));
  std::vector<uint8_t> tok(static_cast<size_t>(W) + kLanes);  // decode_tokens may write past the row
#if defined(__AVX2__)
  const bool wave = wave_fits(g, step);
  thread_local WaveBuffers wb;  // kept for the thread's next group (ThreadPool)
  if (wave) wb.reset(W, H, C);
#else
  [[maybe_unused]] constexpr bool wave = false;
#endif
  std::vector<int64_t> qrow(static_cast<size_t>(2 * W));
  std::vector<int64_t> mplane(g.model ? static_cast<size_t>(ps) : 0);
  ml::FrameNet::Scratch scratch;
  const int64_t bw = (W + B - 1) / B;
  std::vector<uint8_t> choice(static_cast<size_t>(bw) + kLanes);  // decode_tokens_fixed may write past bw
  d.q = qrow.data();
  // Frame t lives in slot t mod R of the window (R = frames: the whole group).
  int64_t* rec = out.data();
  for (int64_t t = 0; t < frames; ++t) {
    int64_t* frame = rec + (t % R) * fs;
    const int64_t* before = t > 0 ? rec + ((t - 1) % R) * fs : nullptr;
    for (int64_t c = 0; c < C; ++c) {
      int64_t* cur = frame + c * ps;
      Refs rd{cur, before ? before + c * ps : nullptr, c > 0 ? cur - ps : nullptr, W, mid, g.lo, g.hi};
      uint16_t* u = ubuf.data() + c * ps;
      const uint16_t* uc = c > 0 ? u - ps : nullptr;
      d.cur = cur;
      const uint32_t mask = allowed_mask(t, c, g.model != nullptr);
      // The residuals of row y into qrow + j W, or for the wavefront (by_step), by
      // step into wb.dq.
      auto residuals = [&](int64_t y, int64_t j, [[maybe_unused]] bool by_step = false) -> Status {
        row_contexts(u, uc, y, W, ctx.data());
        decode_tokens(&L, tab.data(), ctx.data(), W, tok.data());
        const uint8_t top = max_of(tok.data(), W);
        if (top >= alphabet || L.bad) return corrupt(fmt::format("frame {} channel {}: truncated or damaged data", t, c));
#if defined(__AVX2__)
        const uint64_t most = by_step ? row_residuals<int32_t, kWaveRows>(tok.data(), W, top, &bits, u + y * W, wb.dq.data() + 9 * j)
                                      : row_residuals<int64_t, 1>(tok.data(), W, top, &bits, u + y * W, qrow.data() + j * W);
#else
        const uint64_t most = row_residuals<int64_t, 1>(tok.data(), W, top, &bits, u + y * W, qrow.data() + j * W);
#endif
        if (most > max_u)
          return corrupt(fmt::format("frame {} channel {}: sample out of range", t, c));
        if (bits.overrun()) return corrupt(fmt::format("frame {} channel {}: truncated or damaged data", t, c));
        return Status::ok();
      };
      for (int64_t y0 = 0; y0 < H; y0 += B) {
        const int64_t y1 = std::min(H, y0 + B);
        bool learned = false;
        if (mask == 1) {
          std::fill(choice.begin(), choice.end(), kMed);
        } else {
          decode_tokens_fixed(&L, tab.data(), kChoiceCtx, bw, choice.data());
          for (int64_t b = 0; b < bw; ++b) {
            const int k = choice[static_cast<size_t>(b)];
            if (k >= kPredictors || !(mask >> k & 1))
              return corrupt(fmt::format("frame {} channel {}: invalid predictor choice", t, c));
            learned |= k == kLearned;
            if (k == kLearned && !rd.model) {  // the model runs only for planes that use it
              RETURN_IF_ERROR(learned_plane(*g.model, rec, t, c, fs, ps, H, W, g.lo, g.hi, mplane.data(), &scratch));
              rd.model = mplane.data();
            }
          }
        }
#if defined(__AVX2__)
        // A whole block row below the first: kept by step (WaveBuffers); without a
        // learned predictor its residuals, then its samples in a wavefront.
        const bool whole = wave && y0 > 0 && y1 - y0 == kWaveRows;
        if (whole && !learned) {
          for (int64_t j = 0; j < kWaveRows; ++j) RETURN_IF_ERROR(residuals(y0 + j, j, true));
          if (!wave_block_row(rd, cur, choice.data(), bw, y0, step, d.lossy, t > 0 ? wb.at(t - 1, c, y0) : nullptr,
                              c > 0 ? wb.at(t, c - 1, y0) : nullptr, wb.at(t, c, y0), &wb))
            return corrupt(fmt::format("frame {} channel {}: sample out of range", t, c));
          continue;
        }
#endif
        // Rows in pairs after the first (run_two_rows): residuals of both, then samples.
        for (int64_t y = y0; y < y1;) {
          const int64_t rows = y > 0 && y + 1 < y1 ? 2 : 1;
          for (int64_t j = 0; j < rows; ++j) RETURN_IF_ERROR(residuals(y + j, j));
          if (rows == 2) run_two_rows(rd, choice.data(), B, y, d);
          else run_row(rd, choice.data(), B, y, ctx.data(), d);
          if (!d.lossy) {
            if (outside(cur + y * W, rows * W, g.lo, g.hi))
              return corrupt(fmt::format("frame {} channel {}: sample out of range", t, c));
          }
          y += rows;
        }
#if defined(__AVX2__)
        if (whole) skew(cur + y0 * W, W, wb.S, wb.at(t, c, y0));  // (one with a learned predictor)
#endif
      }
    }
    if (emit) emit(t, frame);
  }
  bool ends = true;
  for (int st = 0; st < streams; ++st) ends &= L.rp[st] == L.rend[st];
  for (uint32_t x : L.x) ends &= x == kRansL;
  if (!ends) return corrupt("damaged data (token stream does not end where it should)");
  return Status::ok();
}

}  // namespace sciflow::codec::fast
