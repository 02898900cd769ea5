// ml/backend: the boundary between the library and libsciflow_torch.so, the
// plugin that holds every libtorch call. Tools that never run a model never
// load libtorch (it costs ~0.8 s and ~150 MiB at process start); ScriptModel
// dlopens the plugin on first use. Both sides are built together by this
// project, so the interface is plain C++ (same compiler, same libstdc++).
#pragma once

#include <cstdint>
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

// Entry points the plugin exports (extern "C", looked up with dlsym).
using LoadModelFn = ModelBackend* (*)(const char* path, const char* device, std::string* err, int* code);
using CudaAvailableFn = bool (*)();
using TorchVersionFn = const char* (*)();
inline constexpr const char* kLoadModelSymbol = "sciflow_ml_load_model_v1";
inline constexpr const char* kCudaAvailableSymbol = "sciflow_ml_cuda_available_v1";
inline constexpr const char* kTorchVersionSymbol = "sciflow_ml_torch_version_v1";
inline constexpr const char* kPluginName = "libsciflow_torch.so";

}  // namespace sciflow::ml
