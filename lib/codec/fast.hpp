// codec/fast: tezip's fast tier (`tezip compress --fast`, the default). Same group
// and stripe interface as codec/predictive, a cheaper model:
//
// - per block (GroupConfig::block square) the encoder picks one of five fixed
//   integer predictors: MED (LOCO-I), previous frame, previous frame plus the MED of
//   the temporal differences, the mean of MED and previous frame, MED corrected by
//   the previous channel's MED error, and with a learned model (ml/frame_net.hpp,
//   integer inference) its prediction of the plane; no least-squares fit, no
//   floating point;
// - residuals (quantised with step 2e+1 in lossy mode, predicted from the
//   reconstruction) become a token (16 small values directly, larger ones as
//   exponent and two leading bits) plus raw extra bits;
// - tokens are coded with rANS (32 interleaved states in four word streams, decoded
//   as four vectors of eight where the CPU has AVX2) under static frequency
//   tables per context, one set per stripe; the context is the magnitude of the
//   already coded residuals around the sample (north, north-west, north-east, the
//   same place one frame earlier and in the previous channel), none of them in the
//   sample's own row, so that a row's tokens decode without waiting on each other.
//   GroupConfig::fast_version 3 decodes the four states of format versions 3 and
//   4, fast_version 2 files of format version 2 (two states, the west neighbour in
//   the context).
//
// Decoding is integer-only and bit-exact on every machine. The decoder never reads
// out of its buffer and checks the rANS final state, so damage is detected.
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "codec/predictive.hpp"
#include "core/status.hpp"

namespace sciflow::codec::fast {

inline constexpr int kPredictors = 6;

// "med", "prev", "tmed", "mean", "chan", "learned" (index 0..5; GroupStats::blocks in this order).
std::string_view predictor_name(int k);

// As encode_group/decode_group; `g.predictor` must be kAuto. With g.model, the model
// is a sixth predictor (the same model must be given to decode).
Result<std::vector<uint8_t>> encode(const GroupConfig& g, std::span<const int64_t> samples, int64_t frames,
                                    GroupStats* stats, std::vector<int64_t>* recon);
Status decode(const GroupConfig& g, std::span<const uint8_t> data, int64_t frames, std::span<int64_t> out);

// Fills `frame` (channels x height x width samples) with frame t of the group.
using FrameSource = std::function<void(int64_t t, int64_t* frame)>;

// As encode, lossless and without a model, loading the frames one at a time
// (in order, each once) into a window of two frames instead of taking the whole
// group's samples. Same bytes as encode.
Result<std::vector<uint8_t>> encode_frames(const GroupConfig& g, int64_t frames, const FrameSource& load,
                                           GroupStats* stats);

// As encode_frames with the frames as int32 samples, for lossless data without a
// model whose samples and block sums fit (frames_fit_int32): no int64 copy of
// them at all. Same bytes as encode.
using FrameSource32 = std::function<void(int64_t t, int32_t* frame)>;
bool frames_fit_int32(const GroupConfig& g);
Result<std::vector<uint8_t>> encode_frames(const GroupConfig& g, int64_t frames, const FrameSource32& load,
                                           GroupStats* stats);

// Called with each decoded frame (channels x height x width samples, valid during
// the call), in order.
using FrameSink = std::function<void(int64_t t, const int64_t* frame)>;

// As decode, keeping only the last window.size() / frame-size frames (at least two;
// the whole group with a model or for format version 2) and handing each frame to
// `emit` as soon as it is decoded: memory and cache footprint of two frames instead
// of the group. kInvalidArgument when the window does not fit.
Status decode_frames(const GroupConfig& g, std::span<const uint8_t> data, int64_t frames, std::span<int64_t> window,
                     const FrameSink& emit);

}  // namespace sciflow::codec::fast
