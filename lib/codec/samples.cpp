#include "codec/samples.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace sciflow::codec {
namespace {

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

inline int64_t float_key(uint32_t bits) {
  auto s = static_cast<int32_t>(bits);
  return s < 0 ? static_cast<int64_t>(s ^ 0x7FFFFFFF) : static_cast<int64_t>(s);
}
inline uint32_t float_bits(int64_t key) {
  auto s = static_cast<int32_t>(key);
  return static_cast<uint32_t>(s < 0 ? s ^ 0x7FFFFFFF : s);
}

// Calls f(std::integral_constant<int, kC>{}) with the channel count c as a
// compile-time constant for the common counts (1, 3, 4; 0: any other), so that
// the compiler vectorises the (de)interleave of each.
template <class F>
void with_channels(int64_t c, F&& f) {
  switch (c) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
  }
}

// Interleaved elements (pixel by pixel, kC channels; 0: c at run time) to planes.
// A compile-time channel count lets the compiler vectorise the de-interleave.
template <int kC, typename T, typename D, typename F>
void planes_from(const uint8_t* __restrict src, int64_t plane, int64_t c, D* __restrict dst, F conv) {
  const int64_t cc = kC > 0 ? kC : c;
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t k = 0; k < cc; ++k)
      dst[k * plane + i] = static_cast<D>(conv(load<T>(src + (i * cc + k) * static_cast<int64_t>(sizeof(T)))));
}

// The colour transform's offset for element type T: half the range for unsigned
// types (equal channels give the middle of the range); 0 for signed ones, whose
// samples are the elements plus half the range, so that the halves cancel.
template <typename T>
constexpr std::make_unsigned_t<T> colour_offset() {
  using U = std::make_unsigned_t<T>;
  return std::is_signed_v<T> ? U{0} : static_cast<U>(U{1} << (8 * sizeof(T) - 1));
}

// planes_from with the colour transform on the way (integer T, kC 3 or 4).
template <int kC, typename T, typename D, typename F>
void planes_from_colour(const uint8_t* __restrict src, int64_t plane, D* __restrict dst, F conv) {
  using U = std::make_unsigned_t<T>;  // wrapping arithmetic (signed would overflow)
  constexpr int64_t es = sizeof(T);
  auto diff = [](U a, U g) { return static_cast<T>(static_cast<U>(a - g + colour_offset<T>())); };
  for (int64_t i = 0; i < plane; ++i) {
    const uint8_t* p = src + i * kC * es;
    const T g = load<T>(p + es);
    dst[i] = static_cast<D>(conv(diff(static_cast<U>(load<T>(p)), static_cast<U>(g))));
    dst[plane + i] = static_cast<D>(conv(g));
    dst[2 * plane + i] = static_cast<D>(conv(diff(static_cast<U>(load<T>(p + 2 * es)), static_cast<U>(g))));
    if constexpr (kC == 4) dst[3 * plane + i] = static_cast<D>(conv(load<T>(p + 3 * es)));
  }
}

template <typename T, typename D, typename F>
void each(const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, D* out, F conv,
          int64_t stride = -1, bool colour = false) {
  const int64_t plane = h * w;
  if (stride < 0) stride = plane * c * static_cast<int64_t>(sizeof(T));
  for (int64_t t = 0; t < frames; ++t) {
    const uint8_t* src = raw + t * stride;
    D* dst = out + t * plane * c;
    if constexpr (std::is_integral_v<T>) {
      if (colour && (c == 3 || c == 4)) {
        if (c == 3) planes_from_colour<3, T>(src, plane, dst, conv);
        else planes_from_colour<4, T>(src, plane, dst, conv);
        continue;
      }
    }
    with_channels(c, [&](auto k) { planes_from<decltype(k)::value, T>(src, plane, c, dst, conv); });
  }
}

// Planes back to interleaved elements (the inverse of planes_from).
template <int kC, typename T, typename F>
void planes_to(const int64_t* __restrict src, int64_t plane, int64_t c, uint8_t* __restrict dst, F conv) {
  const int64_t cc = kC > 0 ? kC : c;
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t k = 0; k < cc; ++k)
      store<T>(dst + (i * cc + k) * static_cast<int64_t>(sizeof(T)), conv(src[k * plane + i]));
}

#if defined(__AVX2__)
// The low bytes of in[0..16) (samples of u8 data: 0..255) in order.
inline __m128i low_bytes16(const int64_t* in) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 4));
  const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 8));
  const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 12));
  // Each int64 is one small int32 and a zero: two unsigned packs give per lane
  // (a0 a1 b0 b1 c0 c1 d0 d1 | a2 a3 b2 b3 c2 c3 d2 d3) as 16-bit values.
  const __m256i x = _mm256_packus_epi32(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
  const __m256i y = _mm256_packus_epi16(x, x);  // the same as bytes, twice per lane
  const __m128i z = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(y, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0)));
  // (a0 a1 b0 b1 a2 a3 b2 b3 c0 c1 d0 d1 c2 c3 d2 d3) -> in order.
  return _mm_shuffle_epi8(z, _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15));
}

// Sixteen RGB u8 pixels from their three planes' bytes: 48 interleaved bytes.
inline void interleave3(__m128i r, __m128i g, __m128i b, uint8_t* out) {
  // Output byte k is channel k mod 3 of pixel k / 3: one shuffle per source and block.
  static constexpr auto masks = [] {
    std::array<std::array<int8_t, 16>, 9> m{};
    for (int blk = 0; blk < 3; ++blk)
      for (int ch = 0; ch < 3; ++ch)
        for (int i = 0; i < 16; ++i) {
          const int k = 16 * blk + i;
          m[static_cast<size_t>(3 * blk + ch)][static_cast<size_t>(i)] = k % 3 == ch ? static_cast<int8_t>(k / 3) : int8_t{-128};
        }
    return m;
  }();
  auto mask = [](int j) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(masks[static_cast<size_t>(j)].data())); };
  for (int blk = 0; blk < 3; ++blk) {
    const __m128i v = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(r, mask(3 * blk)), _mm_shuffle_epi8(g, mask(3 * blk + 1))),
                                   _mm_shuffle_epi8(b, mask(3 * blk + 2)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * blk), v);
  }
}
#endif

// planes_to for RGB(A) samples of the colour transform (kC 3 or 4): channels 0 and
// 2 get channel 1 added back, minus the offset, wrapping in T.
template <int kC, typename T, typename F>
void planes_to_colour(const int64_t* __restrict src, int64_t plane, uint8_t* __restrict dst, F conv) {
  constexpr int64_t es = sizeof(T), off = colour_offset<T>();
  int64_t i = 0;
#if defined(__AVX2__)
  if constexpr (kC == 3 && std::is_same_v<T, uint8_t>) {
    // Sixteen pixels at a time: samples of u8 data lie in [0, 255], so their low
    // bytes are the samples, and the channel sums wrap in bytes as in T.
    const __m128i half = _mm_set1_epi8(static_cast<char>(off));
    for (; i + 16 <= plane; i += 16) {
      const __m128i g = low_bytes16(src + plane + i);
      const __m128i r = _mm_add_epi8(_mm_sub_epi8(low_bytes16(src + i), half), g);
      const __m128i b = _mm_add_epi8(_mm_sub_epi8(low_bytes16(src + 2 * plane + i), half), g);
      interleave3(r, g, b, dst + i * 3);
    }
  }
#endif
  for (; i < plane; ++i) {
    const int64_t g = src[plane + i];
    uint8_t* p = dst + i * kC * es;
    store<T>(p, conv(src[i] + g - off));
    store<T>(p + es, conv(g));
    store<T>(p + 2 * es, conv(src[2 * plane + i] + g - off));
    if constexpr (kC == 4) store<T>(p + 3 * es, conv(src[3 * plane + i]));
  }
}

// `colour`: undo the colour transform on the way (integer T, 3 or 4 channels).
template <typename T, typename F>
void each_back(const int64_t* in, int64_t frames, int64_t h, int64_t w, int64_t c, uint8_t* raw, F conv,
               int64_t stride = -1, bool colour = false) {
  const int64_t plane = h * w;
  if (stride < 0) stride = plane * c * static_cast<int64_t>(sizeof(T));
  for (int64_t t = 0; t < frames; ++t) {
    const int64_t* src = in + t * plane * c;
    uint8_t* dst = raw + t * stride;
    if constexpr (std::is_integral_v<T>) {
      if (colour && (c == 3 || c == 4)) {
        if (c == 3) planes_to_colour<3, T>(src, plane, dst, conv);
        else planes_to_colour<4, T>(src, plane, dst, conv);
        continue;
      }
    }
    with_channels(c, [&](auto k) { planes_to<decltype(k)::value, T>(src, plane, c, dst, conv); });
  }
}

}  // namespace

bool codec_supports(DType t) {
  switch (t) {
    case DType::kU8: case DType::kU16: case DType::kU32: case DType::kI8: case DType::kI16: case DType::kI32:
    case DType::kF32:
      return true;
    default:
      return false;
  }
}

SampleRange lossless_range(DType t) {
  switch (t) {
    case DType::kU8: return {0, 255};
    case DType::kU16: return {0, 65535};
    case DType::kU32: return {0, 4294967295LL};
    case DType::kI8: return {-128, 127};
    case DType::kI16: return {-32768, 32767};
    case DType::kI32: case DType::kF32: return {-2147483648LL, 2147483647LL};
    default: return {0, 0};
  }
}

namespace {

template <class T>
struct ElementType {
  using type = T;
};

// Calls f(ElementType<T>{}, conv) with the element type T of dtype t as stored in
// files and conv, its value as a sample (float: the order-preserving key).
template <class F>
void with_element(DType t, F&& f) {
  auto value = [](auto v) { return int64_t{v}; };
  switch (t) {
    case DType::kU8: f(ElementType<uint8_t>{}, value); break;
    case DType::kU16: f(ElementType<uint16_t>{}, value); break;
    case DType::kU32: f(ElementType<uint32_t>{}, value); break;
    case DType::kI8: f(ElementType<int8_t>{}, value); break;
    case DType::kI16: f(ElementType<int16_t>{}, value); break;
    case DType::kI32: f(ElementType<int32_t>{}, value); break;
    case DType::kF32: f(ElementType<uint32_t>{}, [](uint32_t v) { return float_key(v); }); break;
    default: break;
  }
}

template <typename D>
void to_samples_as(DType t, const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, D* out,
                   int64_t raw_frame_bytes, bool apply_colour) {
  with_element(t, [&](auto e, auto conv) {
    each<typename decltype(e)::type>(raw, frames, h, w, c, out, conv, raw_frame_bytes,
                                     apply_colour && colour_transform_supports(t));
  });
}

}  // namespace

void to_samples(DType t, const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, int64_t* out,
                int64_t raw_frame_bytes, bool apply_colour) {
  to_samples_as(t, raw, frames, h, w, c, out, raw_frame_bytes, apply_colour);
}

void to_samples(DType t, const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, int32_t* out,
                int64_t raw_frame_bytes, bool apply_colour) {
  to_samples_as(t, raw, frames, h, w, c, out, raw_frame_bytes, apply_colour);
}

void from_samples(DType t, const int64_t* in, int64_t frames, int64_t h, int64_t w, int64_t c, uint8_t* raw,
                  int64_t raw_frame_bytes, bool undo_colour) {
  const bool colour = undo_colour && colour_transform_supports(t);
  switch (t) {
    case DType::kU8: each_back<uint8_t>(in, frames, h, w, c, raw, [](int64_t v) { return static_cast<uint8_t>(v); }, raw_frame_bytes, colour); break;
    case DType::kU16: each_back<uint16_t>(in, frames, h, w, c, raw, [](int64_t v) { return static_cast<uint16_t>(v); }, raw_frame_bytes, colour); break;
    case DType::kU32: each_back<uint32_t>(in, frames, h, w, c, raw, [](int64_t v) { return static_cast<uint32_t>(v); }, raw_frame_bytes, colour); break;
    case DType::kI8: each_back<int8_t>(in, frames, h, w, c, raw, [](int64_t v) { return static_cast<int8_t>(v); }, raw_frame_bytes, colour); break;
    case DType::kI16: each_back<int16_t>(in, frames, h, w, c, raw, [](int64_t v) { return static_cast<int16_t>(v); }, raw_frame_bytes, colour); break;
    case DType::kI32: each_back<int32_t>(in, frames, h, w, c, raw, [](int64_t v) { return static_cast<int32_t>(v); }, raw_frame_bytes, colour); break;
    case DType::kF32: each_back<uint32_t>(in, frames, h, w, c, raw, [](int64_t v) { return float_bits(v); }, raw_frame_bytes); break;
    default: break;
  }
}

namespace {

// 8- and 16-bit elements sum in int32 over pieces of 2^14 (no overflow; the
// compiler vectorises those loops), wider ones in int64.
template <typename T, typename F>
void change_sums(const uint8_t* prev, const uint8_t* cur, int64_t n, int64_t c, F conv, int64_t* temporal,
                 int64_t* spatial) {
  using A = std::conditional_t<sizeof(T) <= 2, int32_t, int64_t>;
  constexpr int64_t kPiece = int64_t{1} << 14;
  int64_t t = 0, s = 0;
  auto at = [&](const uint8_t* base, int64_t j) { return static_cast<A>(conv(load<T>(base + j * static_cast<int64_t>(sizeof(T))))); };
  for (int64_t j0 = 0; j0 < n; j0 += kPiece) {
    const int64_t j1 = std::min(n, j0 + kPiece);
    A pt = 0, ps = 0;
    for (int64_t j = j0; j < j1; ++j) pt += std::abs(at(cur, j) - at(prev, j));
    for (int64_t j = std::max(j0, c); j < j1; ++j) ps += std::abs(at(cur, j) - at(cur, j - c));
    t += pt;
    s += ps;
  }
  *temporal = t;
  *spatial = s;
}

}  // namespace

void change_stats(DType t, const uint8_t* prev, const uint8_t* cur, int64_t n, int64_t c, int64_t* temporal,
                  int64_t* spatial) {
  *temporal = *spatial = 0;
  with_element(t, [&](auto e, auto conv) {
    change_sums<typename decltype(e)::type>(prev, cur, n, c, conv, temporal, spatial);
  });
}

bool float_to_grid(DType t, const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, double step,
                   double e, int64_t* out, SampleRange* range) {
  if (t != DType::kF32 || !(step > 0)) return false;
  bool ok = true;
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  each<float>(raw, frames, h, w, c, out, [&](float v) -> int64_t {
    double q = std::round(static_cast<double>(v) / step);
    if (!std::isfinite(q) || std::fabs(q) > 1e15) {
      ok = false;
      return 0;
    }
    auto k = static_cast<int64_t>(q);
    float back = static_cast<float>(static_cast<double>(k) * step);
    if (!(std::fabs(static_cast<double>(back) - static_cast<double>(v)) <= e)) ok = false;
    lo = std::min(lo, k);
    hi = std::max(hi, k);
    return k;
  });
  if (ok) *range = {lo, hi};
  return ok;
}

void grid_to_float(DType t, const int64_t* in, int64_t frames, int64_t h, int64_t w, int64_t c, double step,
                   uint8_t* raw) {
  if (t != DType::kF32) return;
  each_back<float>(in, frames, h, w, c, raw,
                   [&](int64_t k) { return static_cast<float>(static_cast<double>(k) * step); });
}

bool colour_transform_supports(DType t) { return codec_supports(t) && !dtype_is_float(t); }

void value_range(DType t, const uint8_t* raw, int64_t count, double* lo, double* hi) {
  double a = std::numeric_limits<double>::infinity(), b = -a;
  auto scan = [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < count; ++i) {
      double v = static_cast<double>(load<T>(raw + i * static_cast<int64_t>(sizeof(T))));
      if (std::isnan(v)) continue;
      a = std::min(a, v);
      b = std::max(b, v);
    }
  };
  switch (t) {
    case DType::kU8: scan(uint8_t{}); break;
    case DType::kU16: scan(uint16_t{}); break;
    case DType::kU32: scan(uint32_t{}); break;
    case DType::kI8: scan(int8_t{}); break;
    case DType::kI16: scan(int16_t{}); break;
    case DType::kI32: scan(int32_t{}); break;
    case DType::kF32: scan(float{}); break;
    default: break;
  }
  *lo = a;
  *hi = b;
}

}  // namespace sciflow::codec
