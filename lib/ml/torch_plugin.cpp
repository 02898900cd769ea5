// libsciflow_torch.so: the libtorch side of ml::ScriptModel (see ml/backend.hpp).
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/status.hpp"
#include "ml/backend.hpp"

namespace sciflow::ml {
namespace {

class TorchModel : public ModelBackend {
 public:
  TorchModel(torch::jit::Module m, torch::Device d, std::string path) : module_(std::move(m)), device_(d), path_(std::move(path)) {}

  bool forward(const float* input, const std::vector<int64_t>& shape, std::vector<float>* out, int64_t* cols,
               std::string* err, int* code) override {
    try {
      torch::NoGradGuard no_grad;
      auto x = torch::from_blob(const_cast<float*>(input), shape, torch::kFloat32).to(device_);
      auto y = module_.forward({x});
      if (!y.isTensor()) {
        *err = fmt::format("{}: forward() returned a {}, not a tensor", path_, y.tagKind());
        *code = static_cast<int>(Code::kInvalidArgument);
        return false;
      }
      auto t = y.toTensor().to(torch::kCPU, torch::kFloat32).contiguous();
      if (t.dim() < 1 || t.size(0) != shape[0]) {
        *err = fmt::format("{}: forward() returned shape {} for a batch of {}", path_, fmt::join(t.sizes(), "x"), shape[0]);
        *code = static_cast<int>(Code::kInvalidArgument);
        return false;
      }
      t = t.reshape({shape[0], -1});
      *cols = t.size(1);
      out->assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
      return true;
    } catch (const c10::Error& e) {
      std::string what = e.what_without_backtrace();
      *err = fmt::format("{}: forward() failed on input of shape {}: {}", path_, fmt::join(shape, "x"),
                         what.substr(0, what.find('\n')));
      *code = static_cast<int>(Code::kInvalidArgument);
      return false;
    }
  }

 private:
  torch::jit::Module module_;
  torch::Device device_;
  std::string path_;
};

// "cpu" or "cuda" (when libtorch sees a GPU) as a torch::Device; false with *err and *code otherwise.
bool choose_device(const std::string& name, torch::Device* dev, std::string* err, int* code) {
  *dev = torch::kCPU;
  if (name != "cuda") return true;
  if (!torch::cuda::is_available()) {
    *err = "--device cuda: no CUDA device is available to libtorch here";
    *code = static_cast<int>(Code::kUnavailable);
    return false;
  }
  *dev = torch::kCUDA;
  return true;
}

// The integer network in float64 (exact: see ml/backend.hpp). cuDNN is off for
// these convolutions: its Winograd and FFT algorithms transform the operands and
// would not be exact; the plain im2col + GEMM path is.
class TorchIntNet : public IntNetBackend {
 public:
  TorchIntNet(const std::vector<IntLayerSpec>& layers, int weight_bits, int32_t act_limit, torch::Device dev)
      : dev_(dev), scale_(static_cast<double>(int64_t{1} << weight_bits)), half_(scale_ / 2), limit_(act_limit) {
    for (const auto& l : layers) {
      L t;
      t.k = l.k;
      t.relu = l.relu;
      t.w = torch::tensor(std::vector<double>(l.w.begin(), l.w.end()), torch::kFloat64).view({l.out, l.in, l.k, l.k}).to(dev);
      t.b = torch::tensor(std::vector<double>(l.b.begin(), l.b.end()), torch::kFloat64).view({1, l.out, 1, 1}).to(dev);
      layers_.push_back(std::move(t));
    }
  }

  bool forward(const int32_t* in, int64_t c, int64_t h, int64_t w, int32_t* out, std::string* err, int* code) override {
    try {
      torch::NoGradGuard no_grad;
      namespace F = torch::nn::functional;
      auto x = torch::from_blob(const_cast<int32_t*>(in), {1, c, h, w}, torch::kInt32).to(torch::kFloat64).to(dev_);
      for (const auto& l : layers_) {
        const int64_t p = l.k / 2;
        if (p > 0) x = F::pad(x, F::PadFuncOptions({p, p, p, p}).mode(torch::kReplicate));
        auto y = torch::conv2d(x, l.w) + l.b;
        y = torch::floor((y + half_) / scale_);
        x = torch::clamp(y, l.relu ? 0.0 : -static_cast<double>(limit_), static_cast<double>(limit_));
      }
      auto r = x.to(torch::kCPU).to(torch::kInt32).contiguous();
      std::memcpy(out, r.data_ptr<int32_t>(), static_cast<size_t>(h * w) * sizeof(int32_t));
      return true;
    } catch (const c10::Error& e) {
      std::string what = e.what_without_backtrace();
      *err = fmt::format("integer network on {}: {}", dev_.str(), what.substr(0, what.find('\n')));
      *code = static_cast<int>(Code::kInternal);
      return false;
    }
  }

 private:
  struct L {
    int k = 3;
    bool relu = true;
    torch::Tensor w, b;
  };
  torch::Device dev_;
  double scale_, half_;
  int32_t limit_;
  std::vector<L> layers_;
};

// Random training patches: input (window channels) and target, as tezip's
// FrameNet sees them (see ml/frame_net.hpp): channel 0 the previous frame
// normalised, channels k the differences to older frames (the first frame of a
// series repeats), target the change to the next frame.
void fill_batch(const TrainRequest& rq, const std::vector<TrainSeries>& series, const std::vector<double>& cdf, int P,
                std::mt19937_64& rng, float* x, float* y) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int K = rq.window;
  const float inv_scale = static_cast<float>(1.0 / rq.scale), inv_diff = static_cast<float>(1.0 / rq.diff_scale);
  const float lim = 127.0f;
  for (int b = 0; b < rq.batch; ++b) {
    size_t s = static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u(rng) * cdf.back()) - cdf.begin());
    s = std::min(s, series.size() - 1);
    const TrainSeries& ts = series[s];
    const int64_t H = ts.height, W = ts.width, plane = H * W;
    int64_t t = 1 + static_cast<int64_t>(u(rng) * static_cast<double>(ts.frames - 1));
    t = std::min(t, ts.frames - 1);
    int64_t y0 = static_cast<int64_t>(u(rng) * static_cast<double>(H - P + 1));
    int64_t x0 = static_cast<int64_t>(u(rng) * static_cast<double>(W - P + 1));
    y0 = std::min(y0, H - P);
    x0 = std::min(x0, W - P);
    const int64_t* f1 = ts.data + (t - 1) * plane;
    const int64_t* ft = ts.data + t * plane;
    float* xb = x + static_cast<size_t>(b) * K * P * P;
    float* yb = y + static_cast<size_t>(b) * P * P;
    for (int yy = 0; yy < P; ++yy)
      for (int xx = 0; xx < P; ++xx) {
        int64_t i = (y0 + yy) * W + x0 + xx;
        size_t o = static_cast<size_t>(yy * P + xx);
        xb[o] = std::clamp(static_cast<float>(f1[i] - static_cast<int64_t>(std::llround(rq.mean))) * inv_scale, -lim, lim);
        for (int k = 1; k < K; ++k) {
          const int64_t* fk = ts.data + std::max<int64_t>(t - 1 - k, 0) * plane;
          xb[static_cast<size_t>(k) * P * P + o] = std::clamp(static_cast<float>(f1[i] - fk[i]) * inv_diff, -lim, lim);
        }
        yb[o] = static_cast<float>(ft[i] - f1[i]) * inv_diff;
      }
  }
}

}  // namespace
}  // namespace sciflow::ml

extern "C" {

__attribute__((visibility("default"))) sciflow::ml::IntNetBackend* sciflow_ml_load_int_net_v1(
    const std::vector<sciflow::ml::IntLayerSpec>& layers, int weight_bits, int32_t act_limit, const char* device,
    std::string* err, int* code) {
  using sciflow::Code;
  torch::Device dev = torch::kCPU;
  if (!sciflow::ml::choose_device(device, &dev, err, code)) return nullptr;
  if (dev.is_cuda()) at::globalContext().setUserEnabledCuDNN(false);
  try {
    return new sciflow::ml::TorchIntNet(layers, weight_bits, act_limit, dev);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    *err = fmt::format("integer network: {}", what.substr(0, what.find('\n')));
    *code = static_cast<int>(Code::kInternal);
    return nullptr;
  }
}

__attribute__((visibility("default"))) bool sciflow_ml_train_frame_net_v1(const sciflow::ml::TrainRequest& rq,
                                                                          const std::vector<sciflow::ml::TrainSeries>& series,
                                                                          sciflow::ml::TrainResult* out, std::string* err,
                                                                          int* code) {
  using sciflow::Code;
  namespace nn = torch::nn;
  try {
    torch::Device dev = torch::kCPU;
    if (!sciflow::ml::choose_device(rq.device, &dev, err, code)) return false;
    std::vector<double> cdf;
    int P = rq.patch;
    double acc = 0;
    for (const auto& s : series) {
      acc += s.frames >= 2 ? static_cast<double>((s.frames - 1) * s.height * s.width) : 0.0;
      cdf.push_back(acc);
      if (s.frames >= 2) P = static_cast<int>(std::min<int64_t>({P, s.height, s.width}));
    }
    if (acc <= 0 || rq.window < 1 || rq.layers < 2 || rq.batch < 1 || P < 1) {
      *err = "training needs at least one series of two or more frames";
      *code = static_cast<int>(Code::kInvalidArgument);
      return false;
    }
    torch::manual_seed(rq.seed);
    at::set_num_threads(std::max(1, rq.threads));
    nn::Sequential net;
    std::vector<nn::Conv2d> convs;
    int ch = rq.window;
    for (int i = 0; i < rq.layers; ++i) {
      const bool last = i + 1 == rq.layers;
      const int oc = last ? 1 : rq.hidden;
      auto conv = nn::Conv2d(nn::Conv2dOptions(ch, oc, 3).padding(1).padding_mode(torch::kReplicate));
      if (last) {  // start as the previous-frame predictor
        torch::NoGradGuard g;
        conv->weight.zero_();
        conv->bias.zero_();
      }
      net->push_back(conv);
      convs.push_back(conv);
      if (!last) net->push_back(nn::ReLU());
      ch = oc;
    }
    net->to(dev);
    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(rq.lr));
    std::mt19937_64 rng(rq.seed);
    const int K = rq.window;
    std::vector<float> xb(static_cast<size_t>(rq.batch) * K * P * P), yb(static_cast<size_t>(rq.batch) * P * P);
    for (int e = 0; e < rq.epochs; ++e) {
      if (e == rq.epochs * 2 / 3)
        for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(rq.lr / 4);
      double sum = 0;
      for (int st = 0; st < rq.steps_per_epoch; ++st) {
        sciflow::ml::fill_batch(rq, series, cdf, P, rng, xb.data(), yb.data());
        auto x = torch::from_blob(xb.data(), {rq.batch, K, P, P}, torch::kFloat32).to(dev);
        auto y = torch::from_blob(yb.data(), {rq.batch, 1, P, P}, torch::kFloat32).to(dev);
        auto loss = (net->forward(x) - y).abs().mean();
        opt.zero_grad();
        loss.backward();
        opt.step();
        sum += loss.item<double>();
      }
      out->loss.push_back(sum / rq.steps_per_epoch);
      if (rq.progress && !rq.progress(e + 1, out->loss.back())) {
        *err = "training interrupted";
        *code = static_cast<int>(Code::kCancelled);
        return false;
      }
    }
    for (auto& c : convs) {
      sciflow::ml::FloatLayer l;
      auto w = c->weight.detach().to(torch::kCPU).contiguous();
      auto b = c->bias.detach().to(torch::kCPU).contiguous();
      l.out = static_cast<int>(w.size(0));
      l.in = static_cast<int>(w.size(1));
      l.k = static_cast<int>(w.size(2));
      l.w.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
      l.b.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
      out->layers.push_back(std::move(l));
    }
    out->layers.back().relu = false;
    return true;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    *err = fmt::format("training failed: {}", what.substr(0, what.find('\n')));
  } catch (const std::exception& e) {
    *err = fmt::format("training failed: {}", e.what());
  }
  *code = static_cast<int>(Code::kInternal);
  return false;
}

__attribute__((visibility("default"))) sciflow::ml::ModelBackend* sciflow_ml_load_model_v1(const char* path, const char* device,
                                                                                          std::string* err, int* code) {
  using sciflow::Code;
  torch::Device dev = torch::kCPU;
  if (!sciflow::ml::choose_device(device, &dev, err, code)) return nullptr;
  try {
    auto m = torch::jit::load(path, dev);
    m.eval();
    return new sciflow::ml::TorchModel(std::move(m), dev, path);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.find("open file failed") != std::string::npos || what.find("No such file") != std::string::npos) {
      *err = fmt::format("{}: cannot open the model file", path);
      *code = static_cast<int>(Code::kNotFound);
    } else {
      *err = fmt::format("{}: not a TorchScript model: {}", path, what.substr(0, what.find('\n')));
      *code = static_cast<int>(Code::kCorrupt);
    }
  } catch (const std::exception& e) {
    *err = fmt::format("{}: not a TorchScript model: {}", path, e.what());
    *code = static_cast<int>(Code::kCorrupt);
  }
  return nullptr;
}

__attribute__((visibility("default"))) bool sciflow_ml_cuda_available_v1() { return torch::cuda::is_available(); }

__attribute__((visibility("default"))) const char* sciflow_ml_torch_version_v1() { return TORCH_VERSION; }

}  // extern "C"
