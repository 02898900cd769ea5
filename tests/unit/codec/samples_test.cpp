#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "codec/samples.hpp"

namespace sciflow::codec {
namespace {

// change_stats against the definition: the same sums over to_samples' planes.
void check_change_stats(DType t, int64_t w, int64_t c, uint32_t seed) {
  const size_t es = dtype_size(t);
  std::vector<uint8_t> prev(static_cast<size_t>(w * c) * es), cur(prev.size());
  std::mt19937 rng(seed);
  for (auto& b : prev) b = static_cast<uint8_t>(rng());
  for (auto& b : cur) b = static_cast<uint8_t>(rng());
  if (t == DType::kF32) {  // finite floats of both signs
    for (auto* buf : {&prev, &cur})
      for (size_t i = 0; i < buf->size(); i += 4) {
        float f = static_cast<float>(static_cast<int32_t>(rng() % 20001) - 10000) / 7.0f;
        std::memcpy(buf->data() + i, &f, 4);
      }
  }
  std::vector<int64_t> a(static_cast<size_t>(w * c)), b(a.size());
  to_samples(t, prev.data(), 1, 1, w, c, a.data());
  to_samples(t, cur.data(), 1, 1, w, c, b.data());
  int64_t want_t = 0, want_s = 0;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t x = 0; x < w; ++x) {
      const int64_t i = k * w + x;
      want_t += std::abs(b[static_cast<size_t>(i)] - a[static_cast<size_t>(i)]);
      if (x > 0) want_s += std::abs(b[static_cast<size_t>(i)] - b[static_cast<size_t>(i - 1)]);
    }
  int64_t got_t = -1, got_s = -1;
  change_stats(t, prev.data(), cur.data(), w * c, c, &got_t, &got_s);
  CHECK(got_t == want_t);
  CHECK(got_s == want_s);
}

}  // namespace

TEST_CASE("samples: a row's temporal and spatial change, every dtype, grey and interleaved channels") {
  for (DType t : {DType::kU8, DType::kI8, DType::kU16, DType::kI16, DType::kU32, DType::kI32, DType::kF32})
    for (int64_t c : {1, 3, 4}) {
      CAPTURE(static_cast<int>(t));
      CAPTURE(c);
      check_change_stats(t, 37, c, 11);
      check_change_stats(t, 9000, c, 12);  // longer than one of the int32 pieces
    }
}

TEST_CASE("samples: int32 samples are the int64 ones for the narrow dtypes") {
  for (DType t : {DType::kU8, DType::kI8, DType::kU16, DType::kI16}) {
    const int64_t h = 5, w = 7, c = 3;
    std::vector<uint8_t> raw(static_cast<size_t>(2 * h * w * c) * dtype_size(t));
    std::mt19937 rng(3);
    for (auto& b : raw) b = static_cast<uint8_t>(rng());
    std::vector<int64_t> s64(static_cast<size_t>(2 * h * w * c));
    std::vector<int32_t> s32(s64.size());
    to_samples(t, raw.data(), 2, h, w, c, s64.data());
    to_samples(t, raw.data(), 2, h, w, c, s32.data());
    for (size_t i = 0; i < s64.size(); ++i) REQUIRE(s32[i] == s64[i]);
  }
}

TEST_CASE("samples: the colour transform is the wrapped difference from channel 1 and undoes exactly") {
  // (Pixel counts around the sixteen pixels that u8 RGB goes back sixteen at a time.)
  for (DType t : {DType::kU8, DType::kI8, DType::kU16, DType::kI16, DType::kU32, DType::kI32})
    for (int64_t c : {3, 4})
      for (int64_t pixels : {1000, 15, 16, 17, 63}) {
        CAPTURE(static_cast<int>(t));
        CAPTURE(c);
        CAPTURE(pixels);
        REQUIRE(colour_transform_supports(t));
        const int64_t es = dtype_size(t);
        std::vector<uint8_t> raw(static_cast<size_t>(c * pixels * es));
        std::mt19937 rng(7);
        for (auto& b : raw) b = static_cast<uint8_t>(rng());
        // Some pixels with equal colour channels; the random rest wraps at the ends of the range.
        for (int64_t i = 0; i < std::min<int64_t>(50, pixels); ++i)
          for (int64_t k = 1; k < 3; ++k)
            std::memcpy(raw.data() + (c * i + k) * es, raw.data() + c * i * es, static_cast<size_t>(es));
        std::vector<int64_t> a(static_cast<size_t>(c * pixels)), b(a.size());
        to_samples(t, raw.data(), 1, 1, pixels, c, a.data());
        to_samples(t, raw.data(), 1, 1, pixels, c, b.data(), -1, true);
        const SampleRange r = lossless_range(t);
        const int64_t n = r.hi - r.lo + 1, half = n / 2;
        auto wrap = [&](int64_t v) { return r.lo + (((v % n) + n) % n); };
        auto at = [&](const std::vector<int64_t>& v, int64_t k, int64_t i) { return v[static_cast<size_t>(k * pixels + i)]; };
        for (int64_t i = 0; i < pixels; ++i) {
          REQUIRE(at(b, 1, i) == at(a, 1, i));  // channel 1 stays, and so does alpha
          if (c == 4) REQUIRE(at(b, 3, i) == at(a, 3, i));
          for (int64_t k : {0, 2}) REQUIRE(at(b, k, i) == wrap(at(a, k, i) - at(a, 1, i) + half));
          if (i < 50) CHECK(at(b, 0, i) == r.lo + half);  // equal channels: the middle of the range
        }
        // The int32 samples are the same.
        if (es <= 2) {
          std::vector<int32_t> b32(b.size());
          to_samples(t, raw.data(), 1, 1, pixels, c, b32.data(), -1, true);
          CHECK(std::equal(b32.begin(), b32.end(), b.begin()));
        }
        // from_samples undoing the transform gives the original elements.
        std::vector<uint8_t> back(raw.size());
        from_samples(t, b.data(), 1, 1, pixels, c, back.data(), -1, true);
        CHECK(back == raw);
      }
  CHECK_FALSE(colour_transform_supports(DType::kF32));
}

}  // namespace sciflow::codec
