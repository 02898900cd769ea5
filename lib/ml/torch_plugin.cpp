// libsciflow_torch.so: the libtorch side of ml::ScriptModel (see ml/backend.hpp).
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <fmt/format.h>

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

}  // namespace
}  // namespace sciflow::ml

extern "C" {

__attribute__((visibility("default"))) sciflow::ml::ModelBackend* sciflow_ml_load_model_v1(const char* path, const char* device,
                                                                                          std::string* err, int* code) {
  using sciflow::Code;
  torch::Device dev = torch::kCPU;
  if (std::string(device) == "cuda") {
    if (!torch::cuda::is_available()) {
      *err = "--device cuda: no CUDA device is available to libtorch here";
      *code = static_cast<int>(Code::kUnavailable);
      return nullptr;
    }
    dev = torch::kCUDA;
  }
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
