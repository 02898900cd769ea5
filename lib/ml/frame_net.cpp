#include "ml/frame_net.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <limits>

#include "crypto/hash.hpp"
#include "io/file.hpp"
#include "ml/script_model.hpp"

namespace sciflow::ml {
namespace {

__extension__ typedef __int128 i128;  // exact products of 64-bit values

constexpr const char* kFormat = "sciflow-frame-net";
constexpr int kFormatVersion = 1;
constexpr int64_t kWeightLimit = 32767;  // weights are int16 in the multiply-adds
constexpr int64_t kAccLimit = std::numeric_limits<int32_t>::max();
constexpr int kMaxLayers = 16;
constexpr int kMaxChannels = 64;
constexpr int kGroup = 8;  // output channels one kernel pass computes (one register each)
constexpr int kPad = 3;    // columns of replicate padding on each side of an activation row (k <= 7)
constexpr int kLanes = 8;  // pixels per vector

inline int32_t pair_of(int32_t lo, int32_t hi) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(lo)) | (static_cast<uint32_t>(hi) << 16));
}
inline int32_t low_of(int32_t pair) { return static_cast<int16_t>(static_cast<uint16_t>(pair)); }

// One output row of a group of G channels. rows[cp * k + ky] points at input row
// (pair cp, row y + ky - p clamped) at column -p; weights wt are [cp][ky][kx][G];
// dst[j] receives channels (2j, 2j+1) of the group as pairs for columns 0 .. wr-1.
template <int G, int K>
void conv_row(const int32_t* const* rows, int nrows, const int32_t* wt0, const int32_t* bias, int64_t wr,
              int32_t floor, int32_t* const* dst) {
  constexpr int32_t half = 1 << (kWeightBits - 1);
#if defined(__AVX2__)
  const __m256i vhalf = _mm256_set1_epi32(half), vlo = _mm256_set1_epi32(floor), vhi = _mm256_set1_epi32(kActLimit),
                mask = _mm256_set1_epi32(0xFFFF);
  for (int64_t x0 = 0; x0 < wr; x0 += kLanes) {
    __m256i acc[G];
    for (int g = 0; g < G; ++g) acc[g] = _mm256_set1_epi32(bias[g]);
    const int32_t* wt = wt0;
    for (int r = 0; r < nrows; ++r) {
      const int32_t* src = rows[r] + x0;
      for (int kx = 0; kx < K; ++kx, wt += G) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + kx));
        for (int g = 0; g < G; ++g) acc[g] = _mm256_add_epi32(acc[g], _mm256_madd_epi16(v, _mm256_set1_epi32(wt[g])));
      }
    }
    for (int g = 0; g < G; g += 2) {
      auto finish = [&](__m256i a) {
        return _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(_mm256_add_epi32(a, vhalf), kWeightBits), vlo), vhi);
      };
      const __m256i lo = _mm256_and_si256(finish(acc[g]), mask);
      const __m256i hi = g + 1 < G ? _mm256_slli_epi32(finish(acc[g + 1]), 16) : _mm256_setzero_si256();
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst[g / 2] + x0), _mm256_or_si256(lo, hi));
    }
  }
#else
  for (int64_t x0 = 0; x0 < wr; x0 += kLanes) {
    int32_t acc[G][kLanes];
    for (int g = 0; g < G; ++g)
      for (int j = 0; j < kLanes; ++j) acc[g][j] = bias[g];
    const int32_t* wt = wt0;
    for (int r = 0; r < nrows; ++r) {
      const int32_t* src = rows[r] + x0;
      for (int kx = 0; kx < K; ++kx, wt += G)
        for (int j = 0; j < kLanes; ++j) {
          const int32_t v = src[kx + j], vl = low_of(v), vh = v >> 16;
          for (int g = 0; g < G; ++g) acc[g][j] += vl * low_of(wt[g]) + vh * (wt[g] >> 16);
        }
    }
    for (int g = 0; g < G; g += 2)
      for (int j = 0; j < kLanes; ++j) {
        const int32_t lo = std::clamp((acc[g][j] + half) >> kWeightBits, floor, kActLimit);
        const int32_t hi = g + 1 < G ? std::clamp((acc[g + 1][j] + half) >> kWeightBits, floor, kActLimit) : 0;
        dst[g / 2][x0 + j] = pair_of(lo, hi);
      }
  }
#endif
}

using ConvRowFn = void (*)(const int32_t* const*, int, const int32_t*, const int32_t*, int64_t, int32_t, int32_t* const*);
template <int K>
constexpr ConvRowFn kConvRowK[kGroup] = {conv_row<1, K>, conv_row<2, K>, conv_row<3, K>, conv_row<4, K>,
                                         conv_row<5, K>, conv_row<6, K>, conv_row<7, K>, conv_row<8, K>};
// The kernel for G outputs (1-8) and a k x k convolution (k = 1, 3, 5, 7).
ConvRowFn conv_row_for(int G, int k) {
  switch (k) {
    case 1: return kConvRowK<1>[G - 1];
    case 3: return kConvRowK<3>[G - 1];
    case 5: return kConvRowK<5>[G - 1];
    default: return kConvRowK<7>[G - 1];
  }
}

// Grows a scratch vector without shrinking it (no zero-filling on every plane).
inline int32_t* grow(std::vector<int32_t>* v, int64_t n) {
  if (v->size() < static_cast<size_t>(n)) v->resize(static_cast<size_t>(n));
  return v->data();
}

// Replicate the edge columns of an activation row (stored from column kPad) into its padding.
inline void pad_row(int32_t* row, int64_t w, int64_t wp) {
  for (int i = 0; i < kPad; ++i) row[i] = row[kPad];
  for (int64_t i = kPad + w; i < wp; ++i) row[i] = row[kPad + w - 1];
}


// Round-to-nearest arithmetic right shift of a 128-bit product, saturated to the activation range.
inline int32_t scaled_act(int64_t x, int64_t mul) {
  if (x > -(int64_t{1} << 22) && x < (int64_t{1} << 22)) {  // mul <= 2^40 (validate()): exact in int64
    int64_t p = (x * mul + (int64_t{1} << 15)) >> 16;
    return static_cast<int32_t>(std::clamp<int64_t>(p, -kActLimit, kActLimit));
  }
  i128 p = static_cast<i128>(x) * mul + (i128{1} << 15);
  p >>= 16;
  if (p > kActLimit) return kActLimit;
  if (p < -kActLimit) return -kActLimit;
  return static_cast<int32_t>(p);
}

double clamp_scale(double s) {
  if (!std::isfinite(s) || s <= 0) return 1;
  return std::clamp(s, 1.0 / 256, 16777216.0);
}

std::string hash_of(std::string_view text) {
  auto d = crypto::sha256(text);
  return d ? "sha256:" + crypto::to_hex(*d) : std::string();
}

}  // namespace

int64_t FrameNet::macs_per_pixel() const {
  int64_t m = 0;
  for (const auto& l : layers_) m += static_cast<int64_t>(l.in) * l.out * l.k * l.k;
  return m;
}

Result<FrameNet> FrameNet::from_float(int window, double mean, double scale, double diff_scale,
                                      const std::vector<FloatLayer>& layers, Json meta) {
  FrameNet n;
  n.window_ = window;
  scale = clamp_scale(scale);
  diff_scale = clamp_scale(diff_scale);
  n.norm_.mean = static_cast<int64_t>(std::llround(mean));
  n.norm_.value_mul = std::max<int64_t>(1, std::llround(std::ldexp(1.0, kActBits + 16) / scale));
  n.norm_.diff_mul = std::max<int64_t>(1, std::llround(std::ldexp(1.0, kActBits + 16) / diff_scale));
  n.norm_.out_mul = std::max<int64_t>(1, std::llround(diff_scale * std::ldexp(1.0, 24 - kActBits)));
  int64_t rescaled = 0;
  for (const auto& f : layers) {
    IntConv c;
    c.in = f.in;
    c.out = f.out;
    c.k = f.k;
    c.relu = f.relu;
    const size_t per_out = static_cast<size_t>(f.in) * static_cast<size_t>(f.k * f.k);
    if (f.w.size() != per_out * static_cast<size_t>(f.out) || f.b.size() != static_cast<size_t>(f.out))
      return invalid_argument("trained layer has the wrong number of weights");
    c.w.resize(f.w.size());
    c.b.resize(f.b.size());
    for (int o = 0; o < f.out; ++o) {
      // Keep every accumulator inside int32 for any input: scale down an output
      // channel whose weights are too large (this changes the prediction a little,
      // never correctness).
      double l1 = 0;
      for (size_t j = 0; j < per_out; ++j) l1 += std::fabs(f.w[o * per_out + j]);
      double bias = f.b[static_cast<size_t>(o)];
      double budget = static_cast<double>(kAccLimit - 1024) / std::ldexp(1.0, kWeightBits);
      double need = l1 * (kActLimit + 1) + std::fabs(bias) * std::ldexp(1.0, kActBits) + 32 * static_cast<double>(per_out);
      double shrink = need > budget ? budget / need : 1.0;
      if (shrink < 1) ++rescaled;
      for (size_t j = 0; j < per_out; ++j) {
        double q = std::round(f.w[o * per_out + j] * shrink * std::ldexp(1.0, kWeightBits));
        c.w[o * per_out + j] = static_cast<int32_t>(std::clamp<double>(q, -kWeightLimit, kWeightLimit));
      }
      double qb = std::round(bias * shrink * std::ldexp(1.0, kActBits + kWeightBits));
      c.b[static_cast<size_t>(o)] = static_cast<int32_t>(std::clamp<double>(qb, -kAccLimit / 2, kAccLimit / 2));
    }
    n.layers_.push_back(std::move(c));
  }
  meta["rescaled_channels"] = rescaled;
  n.meta_ = std::move(meta);
  RETURN_IF_ERROR(n.validate("trained network"));
  n.pack();
  n.hash_ = hash_of(n.serialise());
  return n;
}

void FrameNet::pack() {
  for (IntConv& l : layers_) {
    const int pairs = (l.in + 1) / 2, kk = l.k * l.k;
    l.packed.assign(static_cast<size_t>(l.out * pairs * kk), 0);
    for (int o = 0; o < l.out; ++o) {
      const int og = o / kGroup * kGroup, g = o - og, G = std::min(kGroup, l.out - og);
      for (int c = 0; c < l.in; ++c)
        for (int t = 0; t < kk; ++t) {
          uint32_t v = static_cast<uint16_t>(static_cast<int16_t>(l.w[static_cast<size_t>((o * l.in + c) * kk + t)]));
          l.packed[static_cast<size_t>(og * pairs * kk + ((c / 2) * kk + t) * G + g)] |= static_cast<int32_t>(c & 1 ? v << 16 : v);
        }
    }
  }
}

Status FrameNet::validate(const std::string& name) const {
  if (window_ < 1 || window_ > kMaxWindow) return corrupt(fmt::format("{}: window {} out of range 1-{}", name, window_, kMaxWindow));
  if (layers_.empty() || layers_.size() > kMaxLayers) return corrupt(fmt::format("{}: {} layers (1-{} allowed)", name, layers_.size(), kMaxLayers));
  if (norm_.value_mul < 1 || norm_.diff_mul < 1 || norm_.out_mul < 1 || norm_.value_mul > (int64_t{1} << 40) ||
      norm_.diff_mul > (int64_t{1} << 40) || norm_.out_mul > (int64_t{1} << 48))
    return corrupt(fmt::format("{}: normalisation constants out of range", name));
  int ch = window_;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const IntConv& l = layers_[i];
    if (l.in != ch || l.out < 1 || l.out > kMaxChannels || l.k < 1 || l.k > 7 || l.k % 2 == 0)
      return corrupt(fmt::format("{}: layer {}: shape {}->{} k={} does not fit", name, i + 1, l.in, l.out, l.k));
    const size_t per_out = static_cast<size_t>(l.in) * static_cast<size_t>(l.k * l.k);
    if (l.w.size() != per_out * static_cast<size_t>(l.out) || l.b.size() != static_cast<size_t>(l.out))
      return corrupt(fmt::format("{}: layer {}: wrong number of weights", name, i + 1));
    for (int o = 0; o < l.out; ++o) {
      int64_t bound = std::abs(static_cast<int64_t>(l.b[static_cast<size_t>(o)])) + 512;
      for (size_t j = 0; j < per_out; ++j) {
        int64_t w = l.w[o * per_out + j];
        if (w > kWeightLimit || w < -kWeightLimit) return corrupt(fmt::format("{}: layer {}: weight out of range", name, i + 1));
        bound += std::abs(w) * kActLimit;
      }
      if (bound > kAccLimit)
        return corrupt(fmt::format("{}: layer {}: output {} could overflow 32-bit accumulation", name, i + 1, o));
    }
    ch = l.out;
  }
  if (ch != 1 || layers_.back().relu) return corrupt(fmt::format("{}: the last layer must have one linear output", name));
  return Status::ok();
}

std::string FrameNet::serialise() const {
  Json j = Json::object();
  j["format"] = kFormat;
  j["version"] = kFormatVersion;
  j["window"] = window_;
  j["act_bits"] = kActBits;
  j["weight_bits"] = kWeightBits;
  j["norm"] = {{"mean", norm_.mean}, {"value_mul", norm_.value_mul}, {"diff_mul", norm_.diff_mul}, {"out_mul", norm_.out_mul}};
  Json layers = Json::array();
  for (const auto& l : layers_)
    layers.push_back({{"in", l.in}, {"out", l.out}, {"k", l.k}, {"relu", l.relu}, {"w", l.w}, {"b", l.b}});
  j["layers"] = std::move(layers);
  j["meta"] = meta_;
  return j.dump() + "\n";
}

Result<FrameNet> FrameNet::parse(std::string_view text, const std::string& name) {
  ASSIGN_OR_RETURN(Json j, parse_json(text, name));
  FrameNet n;
  try {
    if (!j.is_object() || j.value("format", "") != kFormat)
      return corrupt(fmt::format("{}: not a tezip model (no \"format\": \"{}\")", name, kFormat));
    if (j.at("version").get<int>() != kFormatVersion)
      return unsupported(fmt::format("{}: model format version {} (this tezip reads {})", name, j.at("version").dump(), kFormatVersion));
    if (j.at("act_bits").get<int>() != kActBits || j.at("weight_bits").get<int>() != kWeightBits)
      return unsupported(fmt::format("{}: fixed-point layout differs from this tezip's", name));
    n.window_ = j.at("window").get<int>();
    const Json& nm = j.at("norm");
    n.norm_ = {nm.at("mean").get<int64_t>(), nm.at("value_mul").get<int64_t>(), nm.at("diff_mul").get<int64_t>(),
               nm.at("out_mul").get<int64_t>()};
    for (const auto& l : j.at("layers")) {
      IntConv c;
      c.in = l.at("in").get<int>();
      c.out = l.at("out").get<int>();
      c.k = l.at("k").get<int>();
      c.relu = l.at("relu").get<bool>();
      c.w = l.at("w").get<std::vector<int32_t>>();
      c.b = l.at("b").get<std::vector<int32_t>>();
      n.layers_.push_back(std::move(c));
      if (n.layers_.size() > kMaxLayers) break;
    }
    if (j.contains("meta")) n.meta_ = j["meta"];
  } catch (const nlohmann::json::exception& e) {
    return corrupt(fmt::format("{}: malformed model: {}", name, e.what()));
  }
  RETURN_IF_ERROR(n.validate(name));
  n.pack();
  n.hash_ = hash_of(text);
  return n;
}

Result<FrameNet> FrameNet::load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, io::read_file(path));
  return parse(text, path);
}

Status FrameNet::save(const std::string& path) const {
  ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(path));
  RETURN_IF_ERROR(out.write(serialise()));
  return out.commit();
}

Status FrameNet::use_device(const std::string& device) {
  if (device == "cpu") {
    device_.reset();
    return Status::ok();
  }
  if (device != "torch" && device != "cuda")
    return invalid_argument(fmt::format("--device '{}': expected cpu, torch or cuda", device));
  std::vector<IntLayerSpec> specs;
  for (const auto& l : layers_) specs.push_back({l.in, l.out, l.k, l.relu, l.w, l.b});
  auto d = std::make_shared<Device>();
  ASSIGN_OR_RETURN(d->backend, load_int_net(specs, kWeightBits, kActLimit, device == "cuda" ? "cuda" : "cpu"));
  d->name = device;
  device_ = std::move(d);
  return Status::ok();
}

Status FrameNet::predict(std::span<const int64_t* const> prev, int64_t h, int64_t w, int64_t* out, Scratch* s) const {
  const int64_t n = h * w;
  const int64_t* x1 = prev[0];
  const int64_t* xs[kMaxWindow];
  for (int k = 0; k < window_; ++k) xs[k] = prev[std::min<size_t>(static_cast<size_t>(k), prev.size() - 1)];
  // Row y of the network's input channel k: the previous frame normalised, or its difference to frame t-1-k.
  auto input_row = [&](int k, int64_t y, int32_t* dst) {
    const int64_t* a = x1 + y * w;
    if (k == 0) {
      for (int64_t x = 0; x < w; ++x) dst[x] = scaled_act(a[x] - norm_.mean, norm_.value_mul);
    } else {
      const int64_t* b = xs[k] + y * w;
      for (int64_t x = 0; x < w; ++x) dst[x] = scaled_act(a[x] - b[x], norm_.diff_mul);
    }
  };
  if (device_) {
    // libtorch in float64 (exact), one plane at a time on the device.
    std::vector<int32_t>& cur = s->a;
    std::vector<int32_t>& res = s->b;
    cur.resize(static_cast<size_t>(window_ * n));
    for (int k = 0; k < window_; ++k)
      for (int64_t y = 0; y < h; ++y) input_row(k, y, &cur[static_cast<size_t>(k * n + y * w)]);
    res.resize(static_cast<size_t>(n));
    std::string err;
    int code = 0;
    bool ok;
    {
      std::lock_guard<std::mutex> l(device_->mu);
      ok = device_->backend->forward(cur.data(), window_, h, w, res.data(), &err, &code);
    }
    if (!ok) return Status(static_cast<Code>(code), err);
    for (int64_t i = 0; i < n; ++i) {
      i128 d = static_cast<i128>(res[static_cast<size_t>(i)]) * norm_.out_mul + (i128{1} << 23);
      out[i] = x1[i] + static_cast<int64_t>(d >> 24);
    }
    return Status::ok();
  }
  // Activations are int16 with the channels paired: one int32 holds channels
  // (2j, 2j+1) of a pixel, so that one int16 multiply-add covers two channels.
  // Layout [pair][row][kPad + wr + kPad]: rows padded to whole vectors and by
  // replicating the edge columns; rows past the top and bottom edges are
  // replaced by the edge rows when read. Each layer reads its input rows once
  // for all outputs (the rows of one output row stay in the L1 cache).
  const int64_t wr = (w + kLanes - 1) / kLanes * kLanes, wp = wr + 2 * kPad;
  std::vector<int32_t>* cur = &s->pairs[0];
  std::vector<int32_t>* nxt = &s->pairs[1];
  const int in_pairs = (window_ + 1) / 2;
  grow(cur, in_pairs * h * wp);
  int32_t* lo = grow(&s->a, 2 * w);
  int32_t* hi = lo + w;
  for (int cp = 0; cp < in_pairs; ++cp)
    for (int64_t y = 0; y < h; ++y) {
      input_row(2 * cp, y, lo);
      if (2 * cp + 1 < window_)
        input_row(2 * cp + 1, y, hi);
      else
        std::fill(hi, hi + w, 0);
      int32_t* row = cur->data() + (cp * h + y) * wp;
      for (int64_t x = 0; x < w; ++x) row[kPad + x] = pair_of(lo[x], hi[x]);
      pad_row(row, w, wp);
    }
  std::array<const int32_t*, kMaxChannels / 2 * 7> rows;  // input rows of one output row (validate(): k <= 7)
  for (const IntConv& L : layers_) {
    const int p = L.k / 2, pairs = (L.in + 1) / 2, out_pairs = (L.out + 1) / 2, kk = L.k * L.k;
    grow(nxt, out_pairs * h * wp);
    const int32_t floor = L.relu ? 0 : -kActLimit;
    for (int64_t y = 0; y < h; ++y) {
      for (int cp = 0; cp < pairs; ++cp)
        for (int ky = 0; ky < L.k; ++ky)
          rows[static_cast<size_t>(cp * L.k + ky)] = cur->data() + (cp * h + std::clamp<int64_t>(y + ky - p, 0, h - 1)) * wp + kPad - p;
      for (int og = 0; og < L.out; og += kGroup) {
        const int G = std::min(kGroup, L.out - og);
        int32_t* dst[kGroup / 2];
        for (int j = 0; j < (G + 1) / 2; ++j) dst[j] = nxt->data() + ((og / 2 + j) * h + y) * wp + kPad;
        conv_row_for(G, L.k)(rows.data(), pairs * L.k, &L.packed[static_cast<size_t>(og * pairs * kk)], &L.b[static_cast<size_t>(og)], wr,
                    floor, dst);
      }
      for (int j = 0; j < out_pairs; ++j) pad_row(nxt->data() + (j * h + y) * wp, w, wp);
    }
    std::swap(cur, nxt);
  }
  for (int64_t y = 0; y < h; ++y) {
    const int32_t* row = cur->data() + y * wp + kPad;
    for (int64_t x = 0; x < w; ++x) {
      const int64_t d = int64_t{low_of(row[x])} * norm_.out_mul + (int64_t{1} << 23);  // |a| < 2^15, out_mul <= 2^48: exact
      out[y * w + x] = x1[y * w + x] + (d >> 24);
    }
  }
  return Status::ok();
}

void frame_statistics(const std::vector<TrainSeries>& series, double* mean, double* scale, double* diff_scale) {
  double n = 0, sum = 0, sq = 0, dn = 0, dsum = 0;
  for (const auto& s : series) {
    const int64_t plane = s.height * s.width, step = std::max<int64_t>(1, plane / 20000);
    for (int64_t t = 0; t < s.frames; ++t)
      for (int64_t i = (t * 7) % step; i < plane; i += step) {
        double v = static_cast<double>(s.data[t * plane + i]);
        n += 1;
        sum += v;
        sq += v * v;
        if (t > 0) {
          dn += 1;
          dsum += std::fabs(v - static_cast<double>(s.data[(t - 1) * plane + i]));
        }
      }
  }
  *mean = n > 0 ? sum / n : 0;
  *scale = n > 0 ? std::sqrt(std::max(0.0, sq / n - *mean * *mean)) : 1;
  *diff_scale = dn > 0 ? dsum / dn : 1;
  if (!(*scale > 0)) *scale = 1;
  if (!(*diff_scale > 0)) *diff_scale = 1;
}

void evaluate_frame_net(const FrameNet& net, const std::vector<TrainSeries>& series, int64_t frames, double* l1_model,
                        double* l1_previous) {
  double n = 0, a = 0, b = 0;
  FrameNet::Scratch scratch;
  for (const auto& s : series) {
    const int64_t plane = s.height * s.width;
    std::vector<int64_t> pred(static_cast<size_t>(plane));
    for (int64_t t = 1; t < std::min<int64_t>(s.frames, frames + 1); ++t) {
      const int64_t* prev[kMaxWindow];
      const int64_t k = std::min<int64_t>(net.window(), t);
      for (int64_t j = 0; j < k; ++j) prev[j] = s.data + (t - 1 - j) * plane;
      if (!net.predict(std::span<const int64_t* const>(prev, static_cast<size_t>(k)), s.height, s.width, pred.data(), &scratch).is_ok())
        return;
      const int64_t* x = s.data + t * plane;
      for (int64_t i = 0; i < plane; ++i) {
        a += std::fabs(static_cast<double>(x[i] - pred[static_cast<size_t>(i)]));
        b += std::fabs(static_cast<double>(x[i] - prev[0][i]));
      }
      n += static_cast<double>(plane);
    }
  }
  *l1_model = n > 0 ? a / n : 0;
  *l1_previous = n > 0 ? b / n : 0;
}

}  // namespace sciflow::ml
