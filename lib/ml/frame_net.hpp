// ml/frame_net: tezip's learned next-frame predictor, evaluated in integer
// arithmetic so that its predictions are bit-identical on every machine,
// compiler, SIMD width and thread count (a lossless decoder must reproduce the
// encoder's prediction exactly; floating-point inference cannot promise that).
//
// The network is a small stack of k x k convolutions (replicate padding) over
// the last `window` decoded frames of one plane. It predicts the change from the
// previous frame. Inputs: the previous frame, normalised ((x - mean) / scale),
// and its differences to the frames before it (/ diff_scale). All weights,
// biases and normalisation constants are integers in the model file; activations
// are fixed point with kActBits fraction bits, clamped to +-kActLimit; weights
// have kWeightBits fraction bits and fit int16 (the inner loop multiplies int16
// pairs into int32, two input channels at once). load() checks that no accumulator can leave
// int32 for any input, so every summation order gives the same result.
//
// Training happens in floating point (ml/train, libtorch); from_float()
// quantises. Thread safety: a loaded FrameNet is immutable; predict() may run on
// many threads at once, each with its own Scratch.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "ml/backend.hpp"

namespace sciflow::ml {

inline constexpr int kActBits = 8;
inline constexpr int32_t kActLimit = 32767;
inline constexpr int kWeightBits = 10;
inline constexpr int kMaxWindow = 8;

struct IntConv {
  int in = 0, out = 0, k = 3;
  bool relu = true;
  std::vector<int32_t> w;  // out x in x k x k, kWeightBits fraction bits
  std::vector<int32_t> b;  // out, kActBits + kWeightBits fraction bits
  // Derived (pack()): weights of input channels (2j, 2j+1) as int16 pairs, grouped
  // for the kernel: [out / 8][in / 2][k x k][up to 8 outputs].
  std::vector<int32_t> packed;
};

// Normalisation, in integers: a = ((x - mean) * value_mul) >> 16 and
// d = ((x1 - xk) * diff_mul) >> 16 give kActBits fixed point; the output o
// becomes the prediction x1 + ((o * out_mul) >> 24).
struct IntNorm {
  int64_t mean = 0;
  int64_t value_mul = 1;
  int64_t diff_mul = 1;
  int64_t out_mul = 1;
};

class FrameNet {
 public:
  struct Scratch {
    std::vector<int32_t> a, b;        // planes of int32 (the libtorch path, the last layer's output)
    std::vector<int32_t> pairs[2];    // activations, two channels per int32 (see predict())
  };

  int window() const { return window_; }
  const std::string& hash() const { return hash_; }  // "sha256:<hex of the model file>"
  const Json& meta() const { return meta_; }
  const std::vector<IntConv>& layers() const { return layers_; }
  int64_t macs_per_pixel() const;

  // Quantises a trained float network. `norm` holds mean, scale and diff_scale of the data.
  static Result<FrameNet> from_float(int window, double mean, double scale, double diff_scale,
                                     const std::vector<FloatLayer>& layers, Json meta);
  // Reads and validates a model file (kCorrupt names the file and the cause).
  static Result<FrameNet> load(const std::string& path);
  static Result<FrameNet> parse(std::string_view text, const std::string& name);
  // The model file's text (what load() reads); save() writes it atomically.
  std::string serialise() const;
  Status save(const std::string& path) const;

  // Predicts plane t of a series from the planes before it: prev[k] is plane
  // t-1-k (h x w samples), prev.size() >= 1; missing older planes repeat the
  // oldest given. Writes h x w predictions (not clamped to the sample range).
  // Errors only from a libtorch device (use_device).
  Status predict(std::span<const int64_t* const> prev, int64_t h, int64_t w, int64_t* out, Scratch* scratch) const;

  // Where the convolutions run: "cpu" (default: this library's integer kernel),
  // "torch" (libtorch on the CPU) or "cuda" (libtorch on a GPU), the latter two in
  // float64 on integer values, exact and so identical to "cpu" bit for bit.
  Status use_device(const std::string& device);
  std::string device() const { return device_ ? device_->name : "cpu"; }

 private:
  Status validate(const std::string& name) const;
  void pack();
  int window_ = 1;
  IntNorm norm_;
  std::vector<IntConv> layers_;
  Json meta_ = Json::object();
  std::string hash_;
  struct Device {
    std::string name;
    std::unique_ptr<IntNetBackend> backend;
    std::mutex mu;  // one plane at a time
  };
  std::shared_ptr<Device> device_;
};

// Training helpers (tezip train, and trainctl later):
// Mean and standard deviation of the samples, and the mean |change| between
// consecutive frames (what the network's input and output are scaled by),
// from a subsample of every series.
void frame_statistics(const std::vector<TrainSeries>& series, double* mean, double* scale, double* diff_scale);
// Mean |x_t - prediction| of `net` and of the previous frame, over the first
// `frames` predicted frames of each series: how much the model helps before coding.
void evaluate_frame_net(const FrameNet& net, const std::vector<TrainSeries>& series, int64_t frames, double* l1_model,
                        double* l1_previous);

}  // namespace sciflow::ml
