#include "ml/script_model.hpp"

#include <dlfcn.h>

#include <fmt/core.h>

#include <mutex>

#include "core/plugin.hpp"
#include "ml/backend.hpp"

namespace sciflow::ml {
namespace {

struct Plugin {
  void* handle = nullptr;
  LoadModelFn load = nullptr;
  CudaAvailableFn cuda = nullptr;
  TorchVersionFn version = nullptr;
  TrainFn train = nullptr;
  LoadIntNetFn int_net = nullptr;
  Status status;
};

// $SCIFLOW_ML_PLUGIN, else beside the executable, else installed (core/plugin.hpp).
const Plugin& plugin() {
  static Plugin p;
  static std::once_flag once;
  std::call_once(once, [] {
    auto handle = load_plugin(kPluginName, "SCIFLOW_ML_PLUGIN", "the libtorch plugin");
    if (!handle) {
      p.status = handle.status();
      return;
    }
    p.handle = *handle;
    p.load = reinterpret_cast<LoadModelFn>(::dlsym(p.handle, kLoadModelSymbol));
    p.cuda = reinterpret_cast<CudaAvailableFn>(::dlsym(p.handle, kCudaAvailableSymbol));
    p.version = reinterpret_cast<TorchVersionFn>(::dlsym(p.handle, kTorchVersionSymbol));
    p.train = reinterpret_cast<TrainFn>(::dlsym(p.handle, kTrainSymbol));
    p.int_net = reinterpret_cast<LoadIntNetFn>(::dlsym(p.handle, kLoadIntNetSymbol));
    if (!p.load || !p.cuda || !p.version || !p.train || !p.int_net)
      p.status = Status(Code::kUnavailable, fmt::format("{}: not a sciflow libtorch plugin of this version", kPluginName));
  });
  return p;
}

}  // namespace

bool cuda_available() {
  const Plugin& p = plugin();
  return p.status.is_ok() && p.cuda();
}

std::string torch_version() {
  const Plugin& p = plugin();
  return p.status.is_ok() ? fmt::format("libtorch {}", p.version()) : "libtorch (plugin not found)";
}

Result<TrainResult> train_frame_net(const TrainRequest& request, const std::vector<TrainSeries>& series) {
  if (request.device != "cpu" && request.device != "cuda")
    return invalid_argument(fmt::format("--device '{}': expected cpu or cuda", request.device));
  const Plugin& p = plugin();
  RETURN_IF_ERROR(p.status);
  TrainResult out;
  std::string err;
  int code = 0;
  if (!p.train(request, series, &out, &err, &code)) return Status(static_cast<Code>(code), err);
  return out;
}

Result<std::unique_ptr<IntNetBackend>> load_int_net(const std::vector<IntLayerSpec>& layers, int weight_bits,
                                                    int32_t act_limit, const std::string& device) {
  if (device != "cpu" && device != "cuda") return invalid_argument(fmt::format("device '{}': expected cpu or cuda", device));
  const Plugin& p = plugin();
  RETURN_IF_ERROR(p.status);
  std::string err;
  int code = 0;
  IntNetBackend* b = p.int_net(layers, weight_bits, act_limit, device.c_str(), &err, &code);
  if (!b) return Status(static_cast<Code>(code), err);
  return std::unique_ptr<IntNetBackend>(b);
}

struct ScriptModel::Impl {
  std::unique_ptr<ModelBackend> backend;
};

ScriptModel::ScriptModel() : impl_(std::make_unique<Impl>()) {}
ScriptModel::~ScriptModel() = default;
ScriptModel::ScriptModel(ScriptModel&&) noexcept = default;
ScriptModel& ScriptModel::operator=(ScriptModel&&) noexcept = default;

Result<ScriptModel> ScriptModel::load(const std::string& path, const std::string& device) {
  if (device != "cpu" && device != "cuda") return invalid_argument(fmt::format("--device '{}': expected cpu or cuda", device));
  const Plugin& p = plugin();
  RETURN_IF_ERROR(p.status);
  std::string err;
  int code = 0;
  ModelBackend* b = p.load(path.c_str(), device.c_str(), &err, &code);
  if (!b) return Status(static_cast<Code>(code), err);
  ScriptModel m;
  m.impl_->backend.reset(b);
  return m;
}

Result<std::vector<float>> ScriptModel::forward(const std::vector<float>& input, const std::vector<int64_t>& shape,
                                                int64_t* out_cols) {
  std::vector<float> out;
  std::string err;
  int code = 0;
  if (!impl_->backend->forward(input.data(), shape, &out, out_cols, &err, &code)) return Status(static_cast<Code>(code), err);
  return out;
}

}  // namespace sciflow::ml
