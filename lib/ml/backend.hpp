// ml/backend: the boundary between the library and libsciflow_torch.so, the
// plugin that holds every libtorch call. Tools that never run a model never
// load libtorch (it costs ~0.8 s and ~150 MiB at process start); ScriptModel
// dlopens the plugin on first use. Both sides are built together by this
// project, so the interface is plain C++ (same compiler, same libstdc++).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sciflow::ml {

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  // Returns false with *err (and *code, a sciflow::Code value) on failure.
  virtual bool forward(const float* input, const std::vector<int64_t>& shape, std::vector<float>* out, int64_t* cols,
                       std::string* err, int* code) = 0;
};

// A trained convolution layer (float): out x in x k x k weights, replicate padding.
struct FloatLayer {
  int in = 0, out = 0, k = 3;
  bool relu = true;
  std::vector<float> w, b;
};

// One single-channel series of samples (frames x height x width), for training.
struct TrainSeries {
  const int64_t* data = nullptr;
  int64_t frames = 0, height = 0, width = 0;
};

// What tezip train asks the plugin for: a next-frame network (see ml/frame_net.hpp
// for its inputs and output) trained on random patches of `series`.
struct TrainRequest {
  int window = 2;        // previous frames the network reads
  int hidden = 8;        // channels of the hidden layers
  int layers = 2;        // convolutions (>= 2)
  int epochs = 20;
  int steps_per_epoch = 64;
  int batch = 16;
  int patch = 48;        // side of the training patches (clipped to the frame size)
  double lr = 2e-3;
  uint64_t seed = 1;
  int threads = 1;
  std::string device = "cpu";
  double mean = 0, scale = 1, diff_scale = 1;   // normalisation (computed by the caller)
  std::function<bool(int epoch, double loss)> progress;  // after each epoch; false stops
};
struct TrainResult {
  std::vector<FloatLayer> layers;
  std::vector<double> loss;  // mean training loss per epoch (L1, in units of diff_scale)
};

// An integer convolution stack (ml/frame_net.hpp) that libtorch runs in float64:
// every value is an integer below 2^53, so each sum is exact whatever the order
// or device, and the results equal the library's own integer kernel bit for bit.
struct IntLayerSpec {
  int in = 0, out = 0, k = 3;
  bool relu = true;
  std::vector<int32_t> w, b;  // as in ml::IntConv
};
class IntNetBackend {
 public:
  virtual ~IntNetBackend() = default;
  // `in`: c x h x w activations; `out`: h x w outputs of the last layer.
  virtual bool forward(const int32_t* in, int64_t c, int64_t h, int64_t w, int32_t* out, std::string* err, int* code) = 0;
};

// Entry points the plugin exports (extern "C", looked up with dlsym).
using LoadModelFn = ModelBackend* (*)(const char* path, const char* device, std::string* err, int* code);
using CudaAvailableFn = bool (*)();
using TorchVersionFn = const char* (*)();
using TrainFn = bool (*)(const TrainRequest& request, const std::vector<TrainSeries>& series, TrainResult* out,
                         std::string* err, int* code);
inline constexpr const char* kLoadModelSymbol = "sciflow_ml_load_model_v1";
inline constexpr const char* kCudaAvailableSymbol = "sciflow_ml_cuda_available_v1";
inline constexpr const char* kTorchVersionSymbol = "sciflow_ml_torch_version_v1";
using LoadIntNetFn = IntNetBackend* (*)(const std::vector<IntLayerSpec>& layers, int weight_bits, int32_t act_limit,
                                       const char* device, std::string* err, int* code);
inline constexpr const char* kLoadIntNetSymbol = "sciflow_ml_load_int_net_v1";
inline constexpr const char* kTrainSymbol = "sciflow_ml_train_frame_net_v1";
inline constexpr const char* kPluginName = "libsciflow_torch.so";

}  // namespace sciflow::ml
