#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "codec/predictive.hpp"
#include "group_check.hpp"
#include "codec/range_coder.hpp"

namespace sciflow::codec {
namespace {

// A drifting, noisy scene with a moving bright disc: something like a detector series.
std::vector<int64_t> scene(int64_t frames, int64_t c, int64_t h, int64_t w, int64_t lo, int64_t hi,
                           double noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise);
  std::vector<int64_t> v(static_cast<size_t>(frames * c * h * w));
  double range = static_cast<double>(hi - lo);
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          double cx = 0.3 * w + 0.5 * t, cy = 0.5 * h;
          double d = std::hypot(x - cx, y - cy);
          double base = 0.3 + 0.2 * std::sin(0.1 * x + 0.05 * y) + (d < h / 4.0 ? 0.3 : 0.0) + 0.05 * k;
          double val = lo + range * base + n(rng);
          v[static_cast<size_t>(((t * c + k) * h + y) * w + x)] =
              std::clamp<int64_t>(std::llround(val), lo, hi);
        }
  return v;
}

}  // namespace

TEST_CASE("range coder: adaptive and direct bits round trip") {
  std::vector<uint8_t> buf;
  std::mt19937 rng(3);
  std::vector<int> bits(20000);
  std::vector<uint64_t> direct(500);
  for (auto& b : bits) b = (rng() % 10) < 2;
  for (auto& d : direct) d = rng() & 0xFFFFF;
  {
    RangeEncoder enc(&buf);
    BitModel m[2];
    for (size_t i = 0; i < bits.size(); ++i) {
      enc.encode(m[i & 1], bits[i]);
      if (i % 40 == 0) enc.encode_direct(direct[i / 40], 20);
    }
    enc.finish();
  }
  CHECK(buf.size() < bits.size() / 8 + direct.size() * 20 / 8);  // skewed bits compress
  RangeDecoder dec(buf.data(), buf.size());
  BitModel m[2];
  for (size_t i = 0; i < bits.size(); ++i) {
    REQUIRE(dec.decode(m[i & 1]) == bits[i]);
    if (i % 40 == 0) REQUIRE(dec.decode_direct(20) == direct[i / 40]);
  }
  CHECK_FALSE(dec.overrun());
}

TEST_CASE("predictive: lossless round trip over shapes, ranges and predictors") {
  struct Case { int64_t t, c, h, w, lo, hi; double noise; Predictor p; int block; };
  const Case cases[] = {
      {5, 1, 17, 23, 0, 255, 2.0, Predictor::kAuto, 8},
      {4, 3, 9, 12, 0, 255, 1.0, Predictor::kAuto, 4},
      {3, 1, 1, 40, 0, 65535, 300.0, Predictor::kAuto, 32},
      {6, 1, 30, 1, -32768, 32767, 50.0, Predictor::kLinear, 16},
      {2, 1, 200, 180, 0, 65535, 10.0, Predictor::kAuto, 32},   // per-plane fit
      {4, 1, 8, 8, 0, 4294967295LL, 1e6, Predictor::kPrev, 4},
      {3, 2, 6, 7, -2147483648LL, 2147483647LL, 1e7, Predictor::kMed, 4},
      {1, 1, 1, 1, 0, 255, 0.0, Predictor::kLsq, 4},
  };
  for (const auto& k : cases) {
    CAPTURE(k.h);
    CAPTURE(k.w);
    GroupConfig g{k.c, k.h, k.w, k.lo, k.hi, 0, k.p, k.block};
    check_lossless_group(g, scene(k.t, k.c, k.h, k.w, k.lo, k.hi, k.noise, 7), k.t);
  }
}

TEST_CASE("predictive: lossy bound holds for every sample") {
  for (int64_t e : {1, 2, 4, 30}) {
    CAPTURE(e);
    auto v = scene(6, 2, 21, 19, 0, 65535, 200.0, 11);
    GroupConfig g{2, 21, 19, 0, 65535, e, Predictor::kAuto, 8};
    std::vector<int64_t> recon;
    auto enc = encode_group(g, v, 6, nullptr, &recon);
    REQUIRE(enc);
    std::vector<int64_t> out(v.size());
    REQUIRE(decode_group(g, *enc, 6, out).is_ok());
    CHECK(out == recon);  // the encoder predicted from exactly what the decoder sees
    int64_t worst = 0;
    for (size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::abs(v[i] - out[i]));
    CHECK(worst <= e);
  }
}

TEST_CASE("predictive: temporal prediction beats spatial on a noisy static scene") {
  auto v = scene(8, 1, 64, 64, 0, 255, 1.5, 5);
  GroupConfig g{1, 64, 64, 0, 255, 0, Predictor::kAuto, 32};
  auto aut = encode_group(g, v, 8, nullptr, nullptr);
  g.predictor = Predictor::kMed;
  auto med = encode_group(g, v, 8, nullptr, nullptr);
  REQUIRE(aut);
  REQUIRE(med);
  CHECK(aut->size() < med->size());
}

TEST_CASE("predictive: classified least squares (format version 6) codes a noisy static scene with a moving disc smaller") {
  // The disc moves half a pixel a frame over a background under noise: two sets of
  // weights (changed / unchanged neighbourhood) must beat one, and decode exactly.
  auto v = scene(12, 1, 96, 96, 0, 255, 2.0, 9);
  GroupConfig one{1, 96, 96, 0, 255, 0, Predictor::kAuto, 8};
  GroupConfig two = one;
  two.classified = true;
  auto a = encode_group(one, v, 12, nullptr, nullptr);
  auto b = encode_group(two, v, 12, nullptr, nullptr);
  REQUIRE(a);
  REQUIRE(b);
  MESSAGE("one set " << a->size() << " bytes, two classes " << b->size());
  CHECK(b->size() < a->size());
  std::vector<int64_t> out(v.size());
  REQUIRE(decode_group(two, *b, 12, out).is_ok());
  CHECK(out == v);
  // A decoder that expects one set (an older version) does not read it back.
  std::vector<int64_t> wrong(v.size());
  CHECK((!decode_group(one, *b, 12, wrong).is_ok() || wrong != v));
  // Per-plane fits (planes of 32768 samples or more), lossless and lossy.
  auto big = scene(3, 1, 200, 180, 0, 65535, 40.0, 4);
  GroupConfig g{1, 200, 180, 0, 65535, 0, Predictor::kAuto, 8};
  g.classified = true;
  check_lossless_group(g, big, 3);
  for (int64_t e : {0, 3}) {
    CAPTURE(e);
    two.bound = e;
    std::vector<int64_t> recon;
    auto enc = encode_group(two, v, 12, nullptr, &recon);
    REQUIRE(enc);
    REQUIRE(decode_group(two, *enc, 12, out).is_ok());
    CHECK(out == recon);
    int64_t worst = 0;
    for (size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::abs(v[i] - out[i]));
    CHECK(worst <= e);
  }
}

TEST_CASE("predictive: fits that see kMaxDepth frames back (format version 7) average the noise of a drifting series") {
  // Each pixel starts at its own level and drifts as a random walk under white noise
  // several times its step, as K11's projections do: frames further back let the fit
  // average the noise away.
  auto drifting = [](int64_t frames, int64_t c, int64_t h, int64_t w, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> step(0, 60.0), noise(0, 250.0);
    std::uniform_real_distribution<double> start(10000.0, 50000.0);  // speckle: no use in the neighbours
    std::vector<double> level(static_cast<size_t>(c * h * w));
    for (auto& l : level) l = start(rng);
    std::vector<int64_t> v;
    for (int64_t t = 0; t < frames; ++t)
      for (auto& l : level) {
        l += step(rng);
        v.push_back(std::clamp<int64_t>(std::llround(l + noise(rng)), 0, 65535));
      }
    return v;
  };
  // Group fits (small planes, two channels) and per-plane fits (32768 samples or more).
  struct Shape {
    int64_t frames, c, h, w;
  };
  for (Shape s : {Shape{40, 2, 22, 26}, Shape{11, 1, 200, 180}}) {
    CAPTURE(s.h);
    const auto v = drifting(s.frames, s.c, s.h, s.w, 7);
    for (int64_t e : {0, 30, 300}) {
      CAPTURE(e);
      GroupConfig shallow{s.c, s.h, s.w, 0, 65535, e, Predictor::kAuto, 8};
      shallow.classified = true;
      GroupConfig deep = shallow;
      deep.depth = kMaxDepth;
      GroupStats st;
      std::vector<int64_t> recon;
      auto a = encode_group(shallow, v, s.frames, nullptr, nullptr);
      auto b = encode_group(deep, v, s.frames, &st, &recon);
      REQUIRE(a);
      REQUIRE(b);
      MESSAGE("depth 2: " << a->size() << " bytes, depth " << kMaxDepth << ": " << b->size() << " (" << st.deep_planes
                          << " planes with deep fits)");
      CHECK(st.deep_planes > 0);
      CHECK(b->size() < a->size());
      std::vector<int64_t> out(v.size());
      REQUIRE(decode_group(deep, *b, s.frames, out).is_ok());
      CHECK(out == recon);
      int64_t worst = 0;
      for (size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::abs(v[i] - out[i]));
      CHECK(worst <= e);
      // A decoder that expects two frames back (version 6) does not read it back.
      std::vector<int64_t> wrong(v.size());
      CHECK((!decode_group(shallow, *b, s.frames, wrong).is_ok() || wrong != recon));
    }
  }
  // Frames of independent noise: nothing further back helps, so no fit pays for it,
  // and the coding is version 6's plus one bit per fit.
  std::mt19937 rng(3);
  std::vector<int64_t> iid(static_cast<size_t>(30 * 22 * 26));
  for (auto& x : iid) x = static_cast<int64_t>(rng() % 4096);
  GroupConfig g{1, 22, 26, 0, 4095, 0, Predictor::kAuto, 8};
  g.classified = true;
  auto a = encode_group(g, iid, 30, nullptr, nullptr);
  g.depth = kMaxDepth;
  GroupStats st;
  auto b = encode_group(g, iid, 30, &st, nullptr);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(st.deep_planes == 0);
  CHECK(b->size() <= a->size() + 1);
  check_lossless_group(g, iid, 30);
}

TEST_CASE("predictive: truncated or damaged data is an error, not a crash") {
  auto v = scene(4, 1, 16, 16, 0, 255, 3.0, 9);
  GroupConfig g{1, 16, 16, 0, 255, 0, Predictor::kAuto, 8};
  auto enc = encode_group(g, v, 4, nullptr, nullptr);
  REQUIRE(enc);
  std::vector<int64_t> out(v.size());
  std::vector<uint8_t> cut(enc->begin(), enc->begin() + static_cast<long>(enc->size() / 2));
  Status s = decode_group(g, cut, 4, out);
  CHECK(s.code() == Code::kCorrupt);
  // Flipped bytes either fail cleanly or decode to something (the container's checksum catches that).
  std::mt19937 rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    auto bad = *enc;
    bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    (void)decode_group(g, bad, 4, out);
  }
  CHECK(decode_group(g, *enc, 4, out).is_ok());
  CHECK(out == v);
}

}  // namespace sciflow::codec
