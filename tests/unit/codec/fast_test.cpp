// The fast tier (codec/fast.hpp) through encode_group/decode_group with GroupConfig::fast.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "codec/fast.hpp"
#include "codec/predictive.hpp"
#include "group_check.hpp"

namespace sciflow::codec {
namespace {

// Noise around a slowly moving pattern, `c` channels that share most of their structure.
std::vector<int64_t> series(int64_t frames, int64_t c, int64_t h, int64_t w, int64_t lo, int64_t hi, double noise,
                            uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise);
  std::vector<int64_t> v(static_cast<size_t>(frames * c * h * w));
  const double range = static_cast<double>(hi - lo);
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const double base = 0.4 + 0.25 * std::sin(0.13 * x + 0.07 * y + 0.05 * t) + 0.03 * k;
          v[static_cast<size_t>(((t * c + k) * h + y) * w + x)] =
              std::clamp<int64_t>(std::llround(lo + range * base + n(rng)), lo, hi);
        }
  return v;
}

GroupConfig fast_config(int64_t c, int64_t h, int64_t w, int64_t lo, int64_t hi, int64_t bound, int block) {
  GroupConfig g{c, h, w, lo, hi, bound, Predictor::kAuto, block};
  g.fast = true;
  return g;
}

}  // namespace

TEST_CASE("fast: lossless round trip over shapes, ranges and channels") {
  struct Case { int64_t t, c, h, w, lo, hi; double noise; int block; };
  const Case cases[] = {
      {5, 1, 17, 23, 0, 255, 2.0, 8},
      {4, 3, 9, 12, 0, 255, 1.0, 4},     // channels: the inter-channel predictor
      {3, 1, 1, 40, 0, 65535, 300.0, 32},  // one row: every sample on the edge
      {6, 1, 30, 1, -32768, 32767, 50.0, 16},  // one column
      {2, 1, 130, 97, 0, 65535, 10.0, 8},
      {4, 1, 8, 8, 0, 4294967295LL, 1e6, 4},  // u32: long residuals, extra bits beyond 32
      {3, 2, 6, 7, -2147483648LL, 2147483647LL, 1e9, 4},  // i32, full range noise
      {1, 1, 1, 1, 0, 255, 0.0, 4},
      {3, 1, 16, 16, 7, 7, 0.0, 8},  // constant: one symbol per context
  };
  for (const auto& k : cases) {
    CAPTURE(k.h);
    CAPTURE(k.w);
    CAPTURE(k.hi);
    const GroupConfig g = fast_config(k.c, k.h, k.w, k.lo, k.hi, 0, k.block);
    check_lossless_group(g, series(k.t, k.c, k.h, k.w, k.lo, k.hi, k.noise, 3), k.t);
  }
}

TEST_CASE("fast: lossy bound holds for every sample, the encoder predicts from the reconstruction") {
  for (int64_t e : {1, 2, 4, 30}) {
    CAPTURE(e);
    auto v = series(6, 2, 21, 19, 0, 65535, 200.0, 11);
    const GroupConfig g = fast_config(2, 21, 19, 0, 65535, e, 8);
    std::vector<int64_t> recon;
    auto enc = encode_group(g, v, 6, nullptr, &recon);
    REQUIRE(enc);
    std::vector<int64_t> out(v.size());
    REQUIRE(decode_group(g, *enc, 6, out).is_ok());
    CHECK(out == recon);
    int64_t worst = 0;
    for (size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::abs(v[i] - out[i]));
    CHECK(worst <= e);
    CHECK(worst == e);  // noise of 200 with e <= 30 reaches the bound somewhere
  }
}

TEST_CASE("fast: temporal predictors win on a static noisy scene, and the choices are counted") {
  // The same scene every frame plus fresh noise: after frame 0, previous-frame based
  // predictors should carry most blocks and the result must be smaller than frame 0 alone x T.
  std::vector<int64_t> one = series(1, 1, 64, 64, 0, 255, 0.0, 1);
  std::mt19937 rng(2);
  std::normal_distribution<double> n(0, 0.7);
  std::vector<int64_t> v;
  for (int t = 0; t < 8; ++t)
    for (int64_t s : one) v.push_back(std::clamp<int64_t>(s + std::llround(n(rng)), 0, 255));
  const GroupConfig g = fast_config(1, 64, 64, 0, 255, 0, 8);
  GroupStats st;
  auto enc = encode_group(g, v, 8, &st, nullptr);
  REQUIRE(enc);
  const int64_t temporal = st.blocks[1] + st.blocks[2] + st.blocks[3];
  CHECK(temporal > st.blocks[0]);
  CHECK(fast::predictor_name(0) == "med");
  CHECK(fast::predictor_name(4) == "chan");
}

// Version 5 codes each row's tokens with 32 states in four streams of eight: rows
// of every width up to past two groups of 32 (streams unused, partial groups in
// each stream, whole groups), in lossless and lossy mode, and both decoders (whole
// group, frame by frame).
TEST_CASE("fast: every row width against the 32 states and their four streams") {
  for (int64_t w = 1; w <= 70; ++w) {
    CAPTURE(w);
    const auto v = series(3, 2, 5, w, 0, 4095, 40.0, static_cast<uint32_t>(w));
    check_lossless_group(fast_config(2, 5, w, 0, 4095, 0, 4), v, 3);
    const GroupConfig lossy = fast_config(2, 5, w, 0, 4095, 3, 4);
    auto enc = encode_group(lossy, v, 3, nullptr, nullptr);
    REQUIRE(enc);
    std::vector<int64_t> out(v.size());
    REQUIRE(decode_group(lossy, *enc, 3, out).is_ok());
    int64_t worst = 0;
    for (size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::abs(out[i] - v[i]));
    CHECK(worst <= 3);
    std::vector<int64_t> window(static_cast<size_t>(2 * 2 * 5 * w));
    std::vector<int64_t> streamed;
    REQUIRE(fast::decode_frames(lossy, *enc, 3, window, [&](int64_t, const int64_t* f) {
              streamed.insert(streamed.end(), f, f + 2 * 5 * w);
            }).is_ok());
    CHECK(streamed == out);
  }
}

TEST_CASE("fast: truncated, damaged or foreign data is an error, never a crash") {
  auto v = series(4, 2, 16, 16, 0, 65535, 40.0, 9);
  const GroupConfig g = fast_config(2, 16, 16, 0, 65535, 0, 8);
  auto enc = encode_group(g, v, 4, nullptr, nullptr);
  REQUIRE(enc);
  std::vector<int64_t> out(v.size());
  for (size_t cut : {size_t{0}, size_t{1}, enc->size() / 3, enc->size() / 2, enc->size() - 1}) {
    CAPTURE(cut);
    std::vector<uint8_t> part(enc->begin(), enc->begin() + static_cast<long>(cut));
    CHECK(decode_group(g, part, 4, out).code() == Code::kCorrupt);
  }
  // Trailing garbage: the token stream must end exactly where it says.
  auto longer = *enc;
  longer.push_back(0x55);
  longer.push_back(0xAA);
  (void)decode_group(g, longer, 4, out);  // extra bits may absorb it; must not crash
  std::mt19937 rng(1);
  int detected = 0;
  for (int trial = 0; trial < 200; ++trial) {
    auto bad = *enc;
    // Not the last byte: its padding bits past the final extra bit carry nothing.
    bad[rng() % (bad.size() - 1)] ^= static_cast<uint8_t>(1 + rng() % 255);
    Status s = decode_group(g, bad, 4, out);
    detected += !s.is_ok() || out != v;
  }
  CHECK(detected == 200);  // a flipped byte never decodes to the original silently
  // A best-tier stream is not a fast-tier one.
  GroupConfig best = g;
  best.fast = false;
  auto other = encode_group(best, v, 4, nullptr, nullptr);
  REQUIRE(other);
  Status s = decode_group(g, *other, 4, out);
  CHECK((!s.is_ok() || out != v));
  CHECK(decode_group(g, *enc, 4, out).is_ok());
  CHECK(out == v);
}

// Decoded lossless samples outside [lo, hi] are damage: a stream coded for a wider
// range ([0, 600]) than the one given to the decoder ([100, 500], the same middle,
// so the first sample decodes alike). The samples grow down and to the right and
// leave the range from row 16 on, not in column 0: in the wavefront's last block
// row (24 rows), or in the last, partial block row decoded in pairs (21 rows).
TEST_CASE("fast: a lossless sample outside the range is damage, below the first block row too") {
  for (int64_t h : {int64_t{24}, int64_t{21}}) {
    CAPTURE(h);
    const int64_t T = 2, W = 25;
    std::vector<int64_t> v(static_cast<size_t>(T * h * W));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < W; ++x) v[static_cast<size_t>((t * h + y) * W + x)] = 200 + 10 * y + 6 * x + (x * 7 + t) % 5;
    auto enc = encode_group(fast_config(1, h, W, 0, 600, 0, 8), v, T, nullptr, nullptr);
    REQUIRE(enc);
    std::vector<int64_t> out(v.size());
    CHECK(decode_group(fast_config(1, h, W, 0, 600, 0, 8), *enc, T, out).is_ok());
    CHECK(out == v);
    Status s = decode_group(fast_config(1, h, W, 100, 500, 0, 8), *enc, T, out);
    CHECK(s.code() == Code::kCorrupt);
    CHECK(s.message() == "frame 0 channel 0: sample out of range");
  }
}

TEST_CASE("fast: refuses a forced predictor") {
  auto v = series(2, 1, 8, 8, 0, 255, 1.0, 1);
  GroupConfig g = fast_config(1, 8, 8, 0, 255, 0, 8);
  g.predictor = Predictor::kMed;
  CHECK(encode_group(g, v, 2, nullptr, nullptr).status().code() == Code::kInvalidArgument);
}

TEST_CASE("fast: decoding frame by frame in a window of two frames gives the same frames, in order") {
  for (int64_t bound : {int64_t{0}, int64_t{3}}) {
    const int64_t T = 7, C = 3, H = 13, W = 11;
    const GroupConfig g = fast_config(C, H, W, 0, 1023, bound, 8);
    const std::vector<int64_t> v = series(T, C, H, W, 0, 1023, 6.0, 11);
    GroupStats st;
    std::vector<int64_t> rec;
    auto coded = encode_group(g, v, T, &st, &rec);
    REQUIRE(coded);
    const int64_t fs = C * H * W;
    std::vector<int64_t> window(static_cast<size_t>(2 * fs), -1);
    std::vector<int64_t> got;
    int64_t next = 0;
    Status s = fast::decode_frames(g, *coded, T, window, [&](int64_t t, const int64_t* frame) {
      CHECK(t == next++);
      got.insert(got.end(), frame, frame + fs);
    });
    REQUIRE(s.is_ok());
    CHECK(next == T);
    CHECK(got == rec);  // the encoder's reconstruction (the input itself when lossless)
    if (bound == 0) CHECK(got == v);
    // A window of one frame, or one that is not whole frames, is refused.
    std::vector<int64_t> one(static_cast<size_t>(fs));
    CHECK(fast::decode_frames(g, *coded, T, one, nullptr).code() == Code::kInvalidArgument);
    std::vector<int64_t> ragged(static_cast<size_t>(2 * fs + 1));
    CHECK(fast::decode_frames(g, *coded, T, ragged, nullptr).code() == Code::kInvalidArgument);
  }
}

TEST_CASE("fast: encoding frame by frame gives the same bytes as encoding the whole group") {
  const int64_t T = 6, C = 3, H = 17, W = 9;
  const GroupConfig g = fast_config(C, H, W, 0, 4095, 0, 8);
  const std::vector<int64_t> v = series(T, C, H, W, 0, 4095, 9.0, 5);
  auto whole = encode_group(g, v, T, nullptr, nullptr);
  REQUIRE(whole);
  const int64_t fs = C * H * W;
  int64_t next = 0;
  GroupStats st;
  auto framed = fast::encode_frames(
      g, T,
      [&](int64_t t, int64_t* frame) {
        CHECK(t == next++);
        std::copy(v.begin() + t * fs, v.begin() + (t + 1) * fs, frame);
      },
      &st);
  REQUIRE(framed);
  CHECK(next == T);
  CHECK(*framed == *whole);
  int64_t blocks = 0;
  for (int64_t b : st.blocks) blocks += b;
  CHECK(blocks > 0);
  // The same from int32 frames (samples that fit: no int64 copy in the coder).
  REQUIRE(fast::frames_fit_int32(g));
  next = 0;
  auto framed32 = fast::encode_frames(
      g, T,
      [&](int64_t t, int32_t* frame) {
        CHECK(t == next++);
        for (int64_t i = 0; i < fs; ++i) frame[i] = static_cast<int32_t>(v[static_cast<size_t>(t * fs + i)]);
      },
      nullptr);
  REQUIRE(framed32);
  CHECK(next == T);
  CHECK(*framed32 == *whole);
  // Lossy or with a model it needs the whole group; int32 frames need a narrow range.
  GroupConfig lossy = g;
  lossy.bound = 2;
  CHECK(fast::encode_frames(lossy, T, [](int64_t, int64_t*) {}, nullptr).status().code() == Code::kInvalidArgument);
  CHECK(fast::encode_frames(lossy, T, [](int64_t, int32_t*) {}, nullptr).status().code() == Code::kInvalidArgument);
  GroupConfig wide = g;
  wide.hi = int64_t{1} << 31;
  CHECK_FALSE(fast::frames_fit_int32(wide));
  CHECK(fast::encode_frames(wide, T, [](int64_t, int32_t*) {}, nullptr).status().code() == Code::kInvalidArgument);
}

}  // namespace sciflow::codec

namespace sciflow::codec {
namespace {

// Blocks of 8 x 8 of five kinds, so that neighbouring blocks pick different
// predictors: static texture (prev), a texture whose level drifts with time (tmed),
// a scene that changes every frame, smooth in space (med), a smooth static scene
// with fresh noise in every frame (mean) and channels that follow channel 0 with an offset (chan).
std::vector<int64_t> mixed_blocks(int64_t frames, int64_t c, int64_t h, int64_t w, int64_t lo, int64_t hi,
                                  uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> kind_of(0, 4);
  std::normal_distribution<double> noise(0, 1.0);
  const int64_t bh = (h + 7) / 8, bw = (w + 7) / 8;
  std::vector<int> kind(static_cast<size_t>(bh * bw));
  for (int& k : kind) k = kind_of(rng);
  std::vector<double> tex(static_cast<size_t>(h * w));
  for (double& x : tex) x = std::uniform_real_distribution<double>(0, 1)(rng);
  const double range = static_cast<double>(hi - lo), mid = static_cast<double>(lo) + range / 2;
  std::vector<int64_t> v(static_cast<size_t>(frames * c * h * w));
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const double tx = tex[static_cast<size_t>(y * w + x)];
        double base = mid;
        switch (kind[static_cast<size_t>((y / 8) * bw + x / 8)]) {
          case 0: base += 0.3 * range * (tx - 0.5); break;
          case 1: base += 0.3 * range * (tx - 0.5) + 0.02 * range * static_cast<double>(t) * std::sin(0.3 * x); break;
          case 2: base += 0.2 * range * std::sin(0.2 * x + 0.15 * y + 1.7 * static_cast<double>(t)); break;
          case 3: base += 0.1 * range * std::sin(0.3 * x + 0.2 * y) + 0.01 * range * noise(rng); break;
          default: base += 0.3 * range * std::sin(0.9 * x + 1.3 * y + 2.1 * static_cast<double>(t)); break;
        }
        for (int64_t k = 0; k < c; ++k) {
          const double s = base + 0.05 * range * static_cast<double>(k) + 0.001 * range * noise(rng);
          v[static_cast<size_t>(((t * c + k) * h + y) * w + x)] = std::clamp<int64_t>(std::llround(s), lo, hi);
        }
      }
  return v;
}

}  // namespace

// Decoders take a block row of eight rows below the first in a wavefront (AVX2
// builds): the eight rows at once, one column apart. Every predictor in
// neighbouring blocks, row widths with partial blocks and partial step groups,
// heights with a partial last block row, negative ranges; lossless gives the input
// and lossy the encoder's reconstruction, whole-group and frame by frame.
TEST_CASE("fast: block rows in a wavefront give the encoder's values, every predictor side by side") {
  struct Case { int64_t t, c, h, w, lo, hi; };
  const Case cases[] = {
      {4, 3, 40, 64, 0, 255},
      {4, 2, 25, 37, -32768, 32767},
      {3, 3, 16, 9, 0, 65535},
      {3, 1, 24, 2, 0, 255},
      {3, 2, 17, 1, 0, 255},
      {3, 2, 24, 21, -(int64_t{1} << 27), (int64_t{1} << 27) - 1},  // the largest range it takes
      {3, 2, 24, 21, 0, 4294967295LL},                                // beyond: rows in pairs
  };
  std::array<int64_t, fast::kPredictors> used{};
  for (const auto& k : cases) {
    CAPTURE(k.h);
    CAPTURE(k.w);
    CAPTURE(k.hi);
    const auto v = mixed_blocks(k.t, k.c, k.h, k.w, k.lo, k.hi, static_cast<uint32_t>(k.w * 31 + k.h));
    for (int64_t bound : {int64_t{0}, int64_t{1}, int64_t{5}}) {
      CAPTURE(bound);
      const GroupConfig g = fast_config(k.c, k.h, k.w, k.lo, k.hi, bound, 8);
      GroupStats st;
      std::vector<int64_t> rec;
      auto enc = encode_group(g, v, k.t, &st, &rec);
      REQUIRE(enc);
      for (int p = 0; p < fast::kPredictors; ++p) used[static_cast<size_t>(p)] += st.blocks[static_cast<size_t>(p)];
      std::vector<int64_t> out(v.size(), -1);
      REQUIRE(decode_group(g, *enc, k.t, out).is_ok());
      CHECK(out == rec);
      if (bound == 0) CHECK(out == v);
      const int64_t fs = k.c * k.h * k.w;
      std::vector<int64_t> window(static_cast<size_t>(2 * fs));
      std::vector<int64_t> streamed;
      REQUIRE(fast::decode_frames(g, *enc, k.t, window, [&](int64_t, const int64_t* f) {
                streamed.insert(streamed.end(), f, f + fs);
              }).is_ok());
      CHECK(streamed == rec);
    }
  }
  for (int p = 0; p < 5; ++p) {  // all but the learned predictor were chosen somewhere
    CAPTURE(p);
    CHECK(used[static_cast<size_t>(p)] > 0);
  }
}

}  // namespace sciflow::codec
