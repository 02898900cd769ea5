#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "codec/predictive.hpp"
#include "ml/frame_net.hpp"

namespace sciflow::ml {
namespace {

std::vector<FloatLayer> random_layers(int window, int hidden, int layers, uint32_t seed, double spread, int k = 3) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, spread);
  std::vector<FloatLayer> out;
  int ch = window;
  for (int i = 0; i < layers; ++i) {
    FloatLayer l;
    l.in = ch;
    l.out = i + 1 == layers ? 1 : hidden;
    l.k = i == 1 ? k : 3;  // the second layer's kernel size varies
    l.relu = i + 1 < layers;
    for (int j = 0; j < l.in * l.out * l.k * l.k; ++j) l.w.push_back(static_cast<float>(n(rng)));
    for (int j = 0; j < l.out; ++j) l.b.push_back(static_cast<float>(n(rng) * 0.1));
    out.push_back(l);
    ch = l.out;
  }
  return out;
}

// The same network written the slow, obvious way: int64, one output at a time.
std::vector<int64_t> reference(const FrameNet& net, const std::vector<std::vector<int64_t>>& prev, int64_t h, int64_t w) {
  Json j = parse_json(net.serialise(), "model").value();
  const int K = net.window();
  const int64_t mean = j["norm"]["mean"], vm = j["norm"]["value_mul"], dm = j["norm"]["diff_mul"], om = j["norm"]["out_mul"];
  auto sat = [](int64_t v, int64_t lo) { return std::clamp<int64_t>(v, lo, kActLimit); };
  auto scaled = [&](int64_t x, int64_t mul) {
    long double p = static_cast<long double>(x) * static_cast<long double>(mul);  // exact for the sizes used here
    return sat(static_cast<int64_t>(std::floor((p + 32768.0L) / 65536.0L)), -kActLimit);
  };
  const int64_t n = h * w;
  std::vector<std::vector<int64_t>> a(static_cast<size_t>(K), std::vector<int64_t>(static_cast<size_t>(n)));
  for (int64_t i = 0; i < n; ++i) {
    a[0][static_cast<size_t>(i)] = scaled(prev[0][static_cast<size_t>(i)] - mean, vm);
    for (int k = 1; k < K; ++k) {
      const auto& xk = prev[std::min<size_t>(static_cast<size_t>(k), prev.size() - 1)];
      a[static_cast<size_t>(k)][static_cast<size_t>(i)] = scaled(prev[0][static_cast<size_t>(i)] - xk[static_cast<size_t>(i)], dm);
    }
  }
  for (const auto& L : net.layers()) {
    std::vector<std::vector<int64_t>> b(static_cast<size_t>(L.out), std::vector<int64_t>(static_cast<size_t>(n)));
    const int p = L.k / 2;
    for (int o = 0; o < L.out; ++o)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          int64_t acc = L.b[static_cast<size_t>(o)];
          for (int c = 0; c < L.in; ++c)
            for (int ky = 0; ky < L.k; ++ky)
              for (int kx = 0; kx < L.k; ++kx) {
                int64_t yy = std::clamp<int64_t>(y + ky - p, 0, h - 1), xx = std::clamp<int64_t>(x + kx - p, 0, w - 1);
                acc += int64_t{L.w[static_cast<size_t>(((o * L.in + c) * L.k + ky) * L.k + kx)]} *
                       a[static_cast<size_t>(c)][static_cast<size_t>(yy * w + xx)];
              }
          CHECK(std::abs(acc) < (int64_t{1} << 31));
          b[static_cast<size_t>(o)][static_cast<size_t>(y * w + x)] = sat((acc + 512) >> kWeightBits, L.relu ? 0 : -kActLimit);
        }
    a = std::move(b);
  }
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    long double d = static_cast<long double>(a[0][static_cast<size_t>(i)]) * static_cast<long double>(om);
    out[static_cast<size_t>(i)] = prev[0][static_cast<size_t>(i)] + static_cast<int64_t>(std::floor((d + 8388608.0L) / 16777216.0L));
  }
  return out;
}

std::vector<std::vector<int64_t>> random_frames(int count, int64_t n, int64_t lo, int64_t hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> base(lo, hi);
  std::normal_distribution<double> noise(0, static_cast<double>(hi - lo) / 50);
  std::vector<std::vector<int64_t>> f(static_cast<size_t>(count), std::vector<int64_t>(static_cast<size_t>(n)));
  for (int64_t i = 0; i < n; ++i) {
    int64_t b = base(rng);
    for (auto& fr : f) fr[static_cast<size_t>(i)] = std::clamp<int64_t>(b + std::llround(noise(rng)), lo, hi);
  }
  return f;
}

// "Predict x1 + (x1 - x2)": a hand-made network for a linear trend per pixel.
std::vector<FloatLayer> trend_layers() {
  std::vector<FloatLayer> layers(2);
  layers[0] = {2, 2, 1, true, {0.0f, 1.0f, 0.0f, -1.0f}, {0.0f, 0.0f}};  // relu(d), relu(-d)
  layers[1] = {2, 1, 1, false, {1.0f, -1.0f}, {0.0f}};
  return layers;
}

// A series (T x 1 x H x W in [0, 1023]) coded in one tier without and with `net`;
// the stream with the model is decoded, the bound checked on every sample.
struct CodedPair {
  codec::GroupConfig plain, learned;
  std::vector<uint8_t> without, with;
  codec::GroupStats stats;  // of the stream with the model
  std::vector<int64_t> decoded;
};
CodedPair code_both(const FrameNet& net, const std::vector<int64_t>& s, int64_t T, int64_t H, int64_t W, int64_t bound, bool fast) {
  CodedPair c;
  c.plain = codec::GroupConfig{1, H, W, 0, 1023, bound, codec::Predictor::kAuto, 8, nullptr};
  c.plain.fast = fast;
  c.learned = c.plain;
  c.learned.model = &net;
  auto a = codec::encode_group(c.plain, s, T, nullptr, nullptr);
  auto b = codec::encode_group(c.learned, s, T, &c.stats, nullptr);
  REQUIRE(a);
  REQUIRE(b);
  c.without = std::move(*a);
  c.with = std::move(*b);
  c.decoded.resize(s.size());
  REQUIRE(codec::decode_group(c.learned, c.with, T, c.decoded).is_ok());
  for (size_t i = 0; i < s.size(); ++i) REQUIRE(std::abs(c.decoded[i] - s[i]) <= bound);
  return c;
}

}  // namespace

TEST_CASE("frame net: the vectorised integer inference equals a plain int64 reference") {
  // Shapes narrower and wider than a vector, odd channel counts, more outputs
  // than one kernel group (8), kernels of 1, 3, 5 and 7, and samples beyond 2^22
  // (the normalisation's 128-bit path).
  for (auto [h, w, window, hidden, k, big] : std::vector<std::array<int64_t, 6>>{
           {1, 1, 1, 4, 3, 0}, {5, 17, 2, 8, 3, 0}, {9, 33, 3, 6, 5, 0}, {23, 40, 2, 16, 3, 0}, {7, 9, 3, 5, 1, 0},
           {12, 21, 4, 9, 7, 0}, {3, 70, 2, 12, 3, 1}, {2, 3, 5, 11, 5, 1}}) {
    CAPTURE(h);
    CAPTURE(w);
    CAPTURE(hidden);
    CAPTURE(k);
    const double mean = big ? 3e9 : 1000, scale = big ? 1e9 : 300, diff = big ? 1e8 : 20;
    auto net = FrameNet::from_float(static_cast<int>(window), mean, scale, diff,
                                    random_layers(static_cast<int>(window), static_cast<int>(hidden), 3, static_cast<uint32_t>(h * w), 0.4,
                                                  static_cast<int>(k)),
                                    Json::object());
    REQUIRE(net);
    auto frames = random_frames(static_cast<int>(window), h * w, 0, big ? 4294967295 : 4095, 7);
    std::vector<const int64_t*> prev;
    for (const auto& f : frames) prev.push_back(f.data());
    std::vector<int64_t> got(static_cast<size_t>(h * w));
    FrameNet::Scratch scratch;
    REQUIRE(net->predict(prev, h, w, got.data(), &scratch).is_ok());
    CHECK(got == reference(*net, frames, h, w));
    // Fewer planes than the window (the start of a group): the oldest repeats.
    std::vector<std::vector<int64_t>> one(frames.begin(), frames.begin() + 1);
    REQUIRE(net->predict(std::span<const int64_t* const>(prev.data(), 1), h, w, got.data(), &scratch).is_ok());
    CHECK(got == reference(*net, one, h, w));
  }
}

TEST_CASE("frame net: quantisation follows the float network") {
  // A network whose float output is known: one 3x3 mean filter of the difference to
  // the frame before, scaled by 0.5 (prediction = x1 + 0.5 * local mean change).
  std::vector<FloatLayer> layers(2);
  layers[0] = {2, 1, 3, true, std::vector<float>(18, 0.0f), {0.0f}};
  for (int j = 9; j < 18; ++j) layers[0].w[static_cast<size_t>(j)] = 1.0f / 9;  // channel 1 (difference)
  layers[1] = {1, 1, 1, false, {0.5f}, {0.0f}};
  auto net = FrameNet::from_float(2, 0, 100, 4, layers, Json::object());
  REQUIRE(net);
  const int64_t h = 8, w = 8;
  std::vector<int64_t> x1(h * w), x2(h * w);
  for (int64_t i = 0; i < h * w; ++i) {
    x2[static_cast<size_t>(i)] = 1000;
    x1[static_cast<size_t>(i)] = 1000 + 40;  // change +40 everywhere: ReLU passes it
  }
  const int64_t* prev[2] = {x1.data(), x2.data()};
  std::vector<int64_t> got(h * w);
  FrameNet::Scratch scratch;
  REQUIRE(net->predict(prev, h, w, got.data(), &scratch).is_ok());
  for (auto v : got) CHECK(std::abs(v - (1040 + 20)) <= 1);
}

TEST_CASE("frame net: the file round-trips, keeps its hash, and bad files are refused") {
  auto net = FrameNet::from_float(2, 500, 100, 10, random_layers(2, 8, 3, 1, 0.3), Json{{"note", "test"}});
  REQUIRE(net);
  std::string text = net->serialise();
  auto back = FrameNet::parse(text, "m.json");
  REQUIRE(back);
  CHECK(back->hash() == net->hash());
  CHECK(back->hash().rfind("sha256:", 0) == 0);
  CHECK(back->serialise() == text);
  CHECK(back->meta()["note"] == "test");

  Json j = parse_json(text, "m").value();
  auto refused = [](const Json& v) { return FrameNet::parse(v.dump(), "bad.model").status().message(); };
  Json big = j;
  for (auto& v : big["layers"][1]["w"]) v = 32767;  // 72 x 32767 x 32767 overflows int32 accumulation
  CHECK(refused(big).find("overflow") != std::string::npos);
  Json wide = j;
  wide["layers"][0]["w"][0] = 40000;  // does not fit int16
  CHECK(refused(wide).find("weight out of range") != std::string::npos);
  Json chain = j;
  chain["layers"][1]["in"] = 3;
  CHECK(refused(chain).find("layer 2") != std::string::npos);
  Json fmt = j;
  fmt["format"] = "something-else";
  CHECK(refused(fmt).find("not a tezip model") != std::string::npos);
  Json relu = j;
  relu["layers"][2]["relu"] = true;
  CHECK(refused(relu).find("last layer") != std::string::npos);
  CHECK(FrameNet::parse("{\"format\": 3", "trunc.model").status().code() == Code::kCorrupt);
  CHECK(FrameNet::parse(text.substr(0, text.size() / 2), "half.model").status().message().find("half.model") == 0);
}

TEST_CASE("codec with a learned model, both tiers: exact, no bigger, bound held, the model needed") {
  // A series whose change is learnable: a brightness ramp plus noise.
  const int64_t T = 6, H = 24, W = 37;
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 2);
  std::vector<int64_t> s(static_cast<size_t>(T * H * W));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < H * W; ++i)
      s[static_cast<size_t>(t * H * W + i)] = std::clamp<int64_t>(std::llround(200 + 30 * t + 50 * std::sin(0.3 * static_cast<double>(i % W)) + noise(rng)), 0, 1023);
  auto net = FrameNet::from_float(2, 500, 200, 30, trend_layers(), Json::object());
  REQUIRE(net);
  for (int64_t bound : {int64_t{0}, int64_t{2}}) {
    CAPTURE(bound);
    CodedPair c = code_both(*net, s, T, H, W, bound, false);
    CHECK(c.with.size() <= c.without.size() + 1);  // one bit says whether the model was used
    // A stream coded with the model does not decode without it.
    std::vector<int64_t> junk(s.size());
    Status st2 = codec::decode_group(c.plain, c.with, T, junk);
    if (st2.is_ok()) CHECK(junk != c.decoded);
  }
  codec::GroupConfig forced{1, H, W, 0, 1023, 0, codec::Predictor::kLsq, 8, &*net};
  CHECK(codec::encode_group(forced, s, T, nullptr, nullptr).status().code() == Code::kInvalidArgument);

  // The fast tier: the model is a sixth block predictor. Every pixel on its own linear
  // trend: the model (x1 + (x1 - x2)) follows it, the fixed predictors cannot (their
  // temporal one borrows the neighbours' change), so it wins most blocks after the
  // first two frames and the file gets smaller.
  std::uniform_int_distribution<int> slope(-20, 20), base(300, 700);
  std::vector<int64_t> b0(static_cast<size_t>(H * W)), sl(static_cast<size_t>(H * W));
  for (size_t i = 0; i < b0.size(); ++i) {
    b0[i] = base(rng);
    sl[i] = slope(rng);
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < H * W; ++i)
      s[static_cast<size_t>(t * H * W + i)] =
          std::clamp<int64_t>(b0[static_cast<size_t>(i)] + sl[static_cast<size_t>(i)] * t + std::llround(noise(rng) / 4), 0, 1023);
  for (int64_t bound : {int64_t{0}, int64_t{2}}) {
    CAPTURE(bound);
    CodedPair c = code_both(*net, s, T, H, W, bound, true);
    CHECK(c.with.size() < c.without.size());
    const int64_t blocks_from_third = (T - 2) * ((H + 7) / 8) * ((W + 7) / 8);
    CHECK(c.stats.blocks[5] * 2 > blocks_from_third);  // "learned" chosen in most of them
    CHECK(c.stats.learned_stripes == 1);
    std::vector<int64_t> junk(s.size());
    Status st2 = codec::decode_group(c.plain, c.with, T, junk);
    CHECK((!st2.is_ok() || junk != c.decoded));
  }
}

TEST_CASE("fast tier: a model that does not pay off leaves the stripe as the classical predictors code it") {
  // Noise around a fixed scene: nothing to learn. Models that follow trends or are
  // random win some blocks on |error| by chance but cost bits; every stripe is
  // coded with and without the model, and the smaller kept.
  const int64_t T = 8, H = 32, W = 40;
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 3);
  std::vector<int64_t> s(static_cast<size_t>(T * H * W));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < H * W; ++i)
      s[static_cast<size_t>(t * H * W + i)] = std::clamp<int64_t>(std::llround(400 + 80 * std::cos(0.2 * static_cast<double>(i)) + noise(rng)), 0, 1023);
  std::vector<std::vector<FloatLayer>> nets{trend_layers()};
  for (uint32_t seed = 1; seed <= 3; ++seed) nets.push_back(random_layers(2, 4, 2, seed, 0.3));
  for (const auto& layers : nets) {
    auto net = FrameNet::from_float(2, 400, 60, 4, layers, Json::object());
    REQUIRE(net);
    for (int64_t bound : {int64_t{0}, int64_t{1}}) {
      CAPTURE(bound);
      CodedPair c = code_both(*net, s, T, H, W, bound, true);
      CHECK(c.with.size() <= c.without.size());
      if (c.stats.blocks[5] == 0) CHECK(c.with == c.without);  // the model's pass lost: the stripe is the classical one
    }
  }
}

}  // namespace sciflow::ml

namespace sciflow::ml {

// The fast decoder takes whole block rows below the first in a wavefront, reading
// the same block row of the frame before by step; a block row that used the
// learned predictor was decoded row by row and is kept by step all the same. Block
// row 1 follows a per-pixel trend until frame 3 (the model wins there) and stands
// still after (the previous frame wins): frame 4 reads frame 3's.
TEST_CASE("fast tier with a model: block rows with and without the learned predictor, frame after frame") {
  const int64_t T = 7, H = 32, W = 29;
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> slope(-20, 20), base(300, 700);
  std::normal_distribution<double> noise(0, 1);
  std::vector<int64_t> b0(static_cast<size_t>(H * W)), sl(static_cast<size_t>(H * W));
  for (size_t i = 0; i < b0.size(); ++i) {
    b0[i] = base(rng);
    sl[i] = slope(rng);
  }
  std::vector<int64_t> s(static_cast<size_t>(T * H * W));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const size_t i = static_cast<size_t>(y * W + x);
        const int64_t v = y / 8 == 1 ? b0[i] + sl[i] * std::min<int64_t>(t, 3) : b0[i] + std::llround(noise(rng));
        s[static_cast<size_t>(t * H * W) + i] = std::clamp<int64_t>(v, 0, 1023);
      }
  auto net = FrameNet::from_float(2, 500, 200, 30, trend_layers(), Json::object());
  REQUIRE(net);
  for (int64_t bound : {int64_t{0}, int64_t{2}}) {
    CAPTURE(bound);
    codec::GroupConfig g{1, H, W, 0, 1023, bound, codec::Predictor::kAuto, 8, &*net};
    g.fast = true;
    codec::GroupStats st;
    std::vector<int64_t> rec;
    auto enc = codec::encode_group(g, s, T, &st, &rec);
    REQUIRE(enc);
    CHECK(st.blocks[5] > 0);  // learned
    CHECK(st.blocks[1] > 0);  // prev
    std::vector<int64_t> out(s.size(), -1);
    REQUIRE(codec::decode_group(g, *enc, T, out).is_ok());
    CHECK(out == rec);
    if (bound == 0) CHECK(out == s);
  }
}

}  // namespace sciflow::ml
