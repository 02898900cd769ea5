#include "ml/script_model.hpp"

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <fmt/format.h>

namespace sciflow::ml {

bool cuda_available() { return torch::cuda::is_available(); }

std::string torch_version() { return fmt::format("libtorch {}", TORCH_VERSION); }

struct ScriptModel::Impl {
  torch::jit::Module module;
  torch::Device device = torch::kCPU;
  std::string path;
};

ScriptModel::ScriptModel() : impl_(std::make_unique<Impl>()) {}
ScriptModel::~ScriptModel() = default;
ScriptModel::ScriptModel(ScriptModel&&) noexcept = default;
ScriptModel& ScriptModel::operator=(ScriptModel&&) noexcept = default;

Result<ScriptModel> ScriptModel::load(const std::string& path, const std::string& device) {
  ScriptModel m;
  if (device == "cuda") {
    if (!cuda_available()) return Status(Code::kUnavailable, "--device cuda: no CUDA device is available to libtorch here");
    m.impl_->device = torch::kCUDA;
  } else if (device != "cpu") {
    return invalid_argument(fmt::format("--device '{}': expected cpu or cuda", device));
  }
  try {
    m.impl_->module = torch::jit::load(path, m.impl_->device);
    m.impl_->module.eval();
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.find("open file failed") != std::string::npos || what.find("No such file") != std::string::npos)
      return not_found(fmt::format("{}: cannot open the model file", path));
    return corrupt(fmt::format("{}: not a TorchScript model: {}", path, what.substr(0, what.find('\n'))));
  } catch (const std::exception& e) {
    return corrupt(fmt::format("{}: not a TorchScript model: {}", path, e.what()));
  }
  m.impl_->path = path;
  return m;
}

Result<std::vector<float>> ScriptModel::forward(const std::vector<float>& input, const std::vector<int64_t>& shape,
                                                int64_t* out_cols) {
  try {
    torch::NoGradGuard no_grad;
    auto x = torch::from_blob(const_cast<float*>(input.data()), shape, torch::kFloat32).to(impl_->device);
    auto y = impl_->module.forward({x});
    if (!y.isTensor())
      return invalid_argument(fmt::format("{}: forward() returned a {}, not a tensor", impl_->path, y.tagKind()));
    auto t = y.toTensor().to(torch::kCPU, torch::kFloat32).contiguous();
    if (t.dim() < 1 || t.size(0) != shape[0])
      return invalid_argument(fmt::format("{}: forward() returned shape {} for a batch of {}", impl_->path,
                                          fmt::format("{}", fmt::join(t.sizes(), "x")), shape[0]));
    t = t.reshape({shape[0], -1});
    *out_cols = t.size(1);
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    return invalid_argument(fmt::format("{}: forward() failed on input of shape {}: {}", impl_->path,
                                        fmt::format("{}", fmt::join(shape, "x")), what.substr(0, what.find('\n'))));
  }
}

}  // namespace sciflow::ml
