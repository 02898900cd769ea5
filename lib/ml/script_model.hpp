// ml/script_model: run a TorchScript model (a file saved by torch.jit.save or
// torch::jit::Module::save) on batches of float arrays, on the CPU or a CUDA GPU.
// libtorch types stay in script_model.cpp.
// Thread safety: one model per thread (forward() is not re-entrant here).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "ml/backend.hpp"

namespace sciflow::ml {

// True when libtorch sees a usable CUDA device.
bool cuda_available();
// "libtorch 1.13.1".
std::string torch_version();

// Trains tezip's next-frame network (ml/frame_net.hpp) with libtorch in the plugin.
// kUnavailable without the plugin or (device "cuda") without a GPU; kCancelled
// when request.progress returned false.
Result<TrainResult> train_frame_net(const TrainRequest& request, const std::vector<TrainSeries>& series);

// Loads an integer network into libtorch on `device` ("cpu" or "cuda"); see IntNetBackend.
Result<std::unique_ptr<IntNetBackend>> load_int_net(const std::vector<IntLayerSpec>& layers, int weight_bits,
                                                    int32_t act_limit, const std::string& device);

class ScriptModel {
 public:
  ScriptModel();
  ~ScriptModel();
  ScriptModel(ScriptModel&&) noexcept;
  ScriptModel& operator=(ScriptModel&&) noexcept;

  // Loads `path` onto `device` ("cpu" or "cuda"); kUnavailable for cuda without a GPU.
  static Result<ScriptModel> load(const std::string& path, const std::string& device);

  // Runs forward() on `input` of `shape` (row-major, float32) and returns the
  // output flattened to [shape[0], rest]; `*out_cols` receives the row length.
  Result<std::vector<float>> forward(const std::vector<float>& input, const std::vector<int64_t>& shape,
                                     int64_t* out_cols);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sciflow::ml
