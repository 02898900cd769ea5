#include "ml/frame_net.hpp"

#include <fmt/core.h>

#include <algorithm>
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


// Round-to-nearest arithmetic right shift of a 128-bit product, saturated to the activation range.
inline int32_t scaled_act(int64_t x, int64_t mul) {
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
    for (int o = 0; o < l.out; ++o)
      for (int c = 0; c < l.in; ++c)
        for (int t = 0; t < kk; ++t) {
          uint32_t v = static_cast<uint16_t>(static_cast<int16_t>(l.w[static_cast<size_t>((o * l.in + c) * kk + t)]));
          l.packed[static_cast<size_t>((o * pairs + c / 2) * kk + t)] |= static_cast<int32_t>(c & 1 ? v << 16 : v);
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
  std::vector<int32_t>& cur = s->a;
  std::vector<int32_t>& nxt = s->b;
  cur.resize(static_cast<size_t>(window_ * n));
  for (int64_t i = 0; i < n; ++i) cur[static_cast<size_t>(i)] = scaled_act(x1[i] - norm_.mean, norm_.value_mul);
  for (int k = 1; k < window_; ++k) {
    const int64_t* xk = prev[std::min<size_t>(static_cast<size_t>(k), prev.size() - 1)];
    int32_t* d = &cur[static_cast<size_t>(k * n)];
    for (int64_t i = 0; i < n; ++i) d[i] = scaled_act(x1[i] - xk[i], norm_.diff_mul);
  }
  if (device_) {
    // libtorch in float64 (exact), one plane at a time on the device.
    nxt.resize(static_cast<size_t>(n));
    std::string err;
    int code = 0;
    bool ok;
    {
      std::lock_guard<std::mutex> l(device_->mu);
      ok = device_->backend->forward(cur.data(), window_, h, w, nxt.data(), &err, &code);
    }
    if (!ok) return Status(static_cast<Code>(code), err);
    std::swap(cur, nxt);
  }
  constexpr int64_t kLanes = 16;  // output pixels computed together in registers
  const int64_t wr = (w + kLanes - 1) / kLanes * kLanes;
  std::vector<int16_t>& pad = s->pad;
  for (const IntConv& L : device_ ? std::span<const IntConv>() : std::span<const IntConv>(layers_)) {
    const int p = L.k / 2, pairs = (L.in + 1) / 2;
    // Replicate padding, as int16 with channels interleaved in pairs (c, c+1) per
    // pixel, so that one multiply-add of int16 pairs covers two channels. Rows are
    // wr + 2p pixels wide; the slack past the edge is read, never used.
    const int64_t hp = h + 2 * p, wp = wr + 2 * p;
    pad.assign(static_cast<size_t>(pairs * hp * wp * 2), 0);
    for (int c = 0; c < L.in; ++c) {
      const int32_t* src = &cur[static_cast<size_t>(c * n)];
      for (int64_t y = 0; y < hp; ++y) {
        const int32_t* row = src + std::clamp<int64_t>(y - p, 0, h - 1) * w;
        int16_t* d = &pad[static_cast<size_t>(((c / 2) * hp + y) * wp * 2 + (c & 1))];
        for (int64_t x = 0; x < w + 2 * p; ++x)
          d[2 * x] = static_cast<int16_t>(row[std::clamp<int64_t>(x - p, 0, w - 1)]);
      }
    }
    nxt.resize(static_cast<size_t>(L.out * n));
    constexpr int32_t half = 1 << (kWeightBits - 1);
    const int32_t floor = L.relu ? 0 : -kActLimit;
    const int kk = L.k * L.k;
    for (int o = 0; o < L.out; ++o) {
      const int32_t* wo = &L.packed[static_cast<size_t>(o * pairs * kk)];
      const int32_t bias = L.b[static_cast<size_t>(o)];
      for (int64_t y = 0; y < h; ++y) {
        int32_t* out_row = &nxt[static_cast<size_t>(o * n + y * w)];
        for (int64_t x0 = 0; x0 < w; x0 += kLanes) {
          int32_t acc[kLanes];
#if defined(__AVX2__)
          __m256i a0 = _mm256_set1_epi32(bias), a1 = a0;
          for (int cp = 0; cp < pairs; ++cp)
            for (int ky = 0; ky < L.k; ++ky) {
              const int16_t* row = &pad[static_cast<size_t>(((cp * hp + y + ky) * wp + x0) * 2)];
              const int32_t* wk = wo + (cp * L.k + ky) * L.k;
              for (int kx = 0; kx < L.k; ++kx) {
                const __m256i wv = _mm256_set1_epi32(wk[kx]);
                const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * kx));
                const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * kx + 16));
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(v0, wv));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(v1, wv));
              }
            }
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc), a0);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + 8), a1);
#else
          for (int64_t j = 0; j < kLanes; ++j) acc[j] = bias;
          for (int cp = 0; cp < pairs; ++cp)
            for (int ky = 0; ky < L.k; ++ky) {
              const int16_t* row = &pad[static_cast<size_t>(((cp * hp + y + ky) * wp + x0) * 2)];
              const int32_t* wk = wo + (cp * L.k + ky) * L.k;
              for (int kx = 0; kx < L.k; ++kx) {
                const int32_t lo = static_cast<int16_t>(wk[kx] & 0xFFFF), hi = wk[kx] >> 16;
                for (int64_t j = 0; j < kLanes; ++j)
                  acc[j] += lo * row[2 * (kx + j)] + hi * row[2 * (kx + j) + 1];
              }
            }
#endif
          const int64_t m = std::min(kLanes, w - x0);
          for (int64_t j = 0; j < m; ++j) out_row[x0 + j] = std::clamp((acc[j] + half) >> kWeightBits, floor, kActLimit);
        }
      }
    }
    std::swap(cur, nxt);
  }
  for (int64_t i = 0; i < n; ++i) {
    i128 d = static_cast<i128>(cur[static_cast<size_t>(i)]) * norm_.out_mul + (i128{1} << 23);
    out[i] = x1[i] + static_cast<int64_t>(d >> 24);
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
