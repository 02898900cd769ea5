// codec/predictive: the tezip frame codec. Codes a group of frames by predicting
// each sample from samples already decoded (earlier frames, the causal
// neighbourhood in the current frame, the previous channel) and coding the
// residual with a context-adaptive binary range coder.
//
// Per plane (frame x channel) the encoder fits a linear least-squares predictor
// over up to 20 neighbours, quantises its coefficients to fixed point and stores
// them; the decoder evaluates it with integer arithmetic only, so decoding is
// bit-exact on every machine, compiler and thread count. Per block of the plane it
// chooses the best of the candidate predictors (least squares, LOCO-I/MED spatial,
// previous frame, linear extrapolation) and records the choice.
// Lossy mode quantises the residual with step 2e+1 and predicts from the
// reconstructed samples, so |x - x'| <= e holds for every sample.
//
// With a learned model (ml/frame_net.hpp, integer inference), the model's
// prediction of each plane from the decoded frames before it is a fifth
// candidate and one more least-squares feature; each coded stripe says with one
// bit whether it used the model, and the encoder keeps the smaller of the coding
// with and without it, so a model never makes a stripe more than a bit bigger.
//
// Samples are int64 (see codec/samples.hpp for the mapping from each dtype).
// Thread safety: the functions are reentrant; encode different groups in
// parallel from different threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace sciflow::ml {
class FrameNet;
}

namespace sciflow::codec {

// Candidate predictors; kAuto lets the encoder choose per block.
enum class Predictor : uint8_t { kAuto = 0, kLsq = 1, kMed = 2, kPrev = 3, kLinear = 4, kLearned = 5 };
inline constexpr int kNumPredictors = 5;  // kLsq..kLearned
inline constexpr int kNumClassical = 4;   // kLsq..kLinear
inline constexpr int kMaxDepth = 8;      // frames back a least-squares fit can see (GroupConfig::depth)

std::string_view predictor_name(Predictor p);
// Parses "auto", "lsq", "med", "prev", "linear"; kInvalidArgument otherwise.
Result<Predictor> parse_predictor(std::string_view name);

struct GroupConfig {
  int64_t channels = 1;
  int64_t height = 0;
  int64_t width = 0;
  int64_t lo = 0;        // smallest valid sample
  int64_t hi = 255;      // largest valid sample
  int64_t bound = 0;     // absolute error bound in sample units; 0 = lossless
  Predictor predictor = Predictor::kAuto;
  int block = 8;         // side of the blocks that choose a predictor
  const ml::FrameNet* model = nullptr;  // learned predictor (kAuto only); must match on both sides
  bool fast = false;     // the fast tier (codec/fast.hpp): fixed predictors, rANS; no model
  int fast_version = 5;  // the fast tier's coding: 5 (32 rANS states in 4 streams), 3 (4: format versions 3, 4), 2 (version 2)
  bool classified = false;  // best tier: two least-squares classes by temporal change (format version 6)
  int depth = 2;  // best tier: frames back the least-squares fit sees, 2 or 3..kMaxDepth (format version 7)
};

// Lossy coding's quantiser: the residual r in steps of 2 * bound + 1, rounded to the
// nearest, so that pred + v * step is within bound of pred + r.
inline int64_t quantise(int64_t r, int64_t bound, int64_t step) {
  return r >= 0 ? (r + bound) / step : -((-r + bound) / step);
}

inline constexpr int kMaxBlockCounters = 6;  // the fast tier's six predictors (codec/fast.hpp)

struct GroupStats {
  // Best tier: blocks that used kLsq, kMed, kPrev, kLinear, kLearned (index = predictor - 1);
  // fast tier: blocks per fast predictor (fast::predictor_name).
  std::array<int64_t, kMaxBlockCounters> blocks{};
  int64_t learned_stripes = 0;  // coded with the model (0 or 1 per encode_group call)
  int64_t deep_planes = 0;      // planes (frame x channel of a stripe) whose fit saw GroupConfig::depth frames back
};

// Encodes `frames` frames of `samples` (frames x channels x height x width, each in
// [lo, hi]). Fills `stats`; with `recon` non-null, stores the decoded samples
// (equal to the input when lossless). kInvalidArgument on bad configuration.
Result<std::vector<uint8_t>> encode_group(const GroupConfig& config, std::span<const int64_t> samples,
                                          int64_t frames, GroupStats* stats, std::vector<int64_t>* recon);

// The learned model's prediction of plane (t, c) of `frames` (frames x channels x h x w
// decoded samples; fs and ps the frame and plane sizes) from the planes before it,
// clamped to [lo, hi]. `scratch` is the caller's ml::FrameNet::Scratch.
Status learned_plane(const ml::FrameNet& net, const int64_t* frames, int64_t t, int64_t c, int64_t fs, int64_t ps,
                     int64_t h, int64_t w, int64_t lo, int64_t hi, int64_t* out, void* scratch);

// Decodes what encode_group wrote into `out` (frames x channels x height x width).
// kCorrupt when the data are truncated or inconsistent; never reads out of bounds.
Status decode_group(const GroupConfig& config, std::span<const uint8_t> data, int64_t frames,
                    std::span<int64_t> out);

}  // namespace sciflow::codec
