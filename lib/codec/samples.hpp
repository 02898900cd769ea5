// codec/samples: conversion between stored arrays (any supported dtype, frames
// laid out as height x width x channels) and the codec's planar int64 samples.
//
// Integers map to themselves. Floats map losslessly to ordered integers (the IEEE
// bits, with negative numbers flipped so that integer order is numeric order), or,
// in lossy mode, to a grid of step 2E so that |x - x'| <= E.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/dtype.hpp"
#include "core/status.hpp"

namespace sciflow::codec {

struct SampleRange {
  int64_t lo = 0, hi = 0;
};

// True for the dtypes tezip codes: u8 u16 u32 i8 i16 i32 f32.
bool codec_supports(DType t);

// The integer range of lossless samples of `t`.
SampleRange lossless_range(DType t);

// `frames` frames of `h` x `w` x `c` elements of `t` -> planar samples
// (frame, channel, row, column). `raw_frame_bytes` is the distance between frames in
// `raw` (default: h x w x c elements; larger for a band of rows of taller frames).
// `apply_colour` (integer dtypes, 3 or 4 channels): the samples after the colour
// transform (below), in the same pass; `raw` is not changed.
void to_samples(DType t, const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, int64_t* out,
                int64_t raw_frame_bytes = -1, bool apply_colour = false);
// With `undo_colour` (integer dtypes, 3 or 4 channels) the samples are those of the
// colour transform, and the elements written the original ones, in the same pass.
void from_samples(DType t, const int64_t* in, int64_t frames, int64_t h, int64_t w, int64_t c, uint8_t* raw,
                  int64_t raw_frame_bytes = -1, bool undo_colour = false);
// The same into int32 samples, for data whose samples fit in 32 bits (the caller
// checks: u8, i8, u16, i16).
void to_samples(DType t, const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, int32_t* out,
                int64_t raw_frame_bytes = -1, bool apply_colour = false);

// For a row of n interleaved elements with c channels in two frames: the sum of
// |cur - prev| over the row and of |cur - the same channel's west neighbour|, in
// sample units (what to_samples would give).
void change_stats(DType t, const uint8_t* prev, const uint8_t* cur, int64_t n, int64_t c, int64_t* temporal,
                  int64_t* spatial);

// Float lossy: samples are round(x / step); fails (returns false) when a value is
// not finite, would overflow, or the bound `e` would not hold after reconstruction
// in the dtype's own precision.
bool float_to_grid(DType t, const uint8_t* raw, int64_t frames, int64_t h, int64_t w, int64_t c, double step,
                   double e, int64_t* out, SampleRange* range);
void grid_to_float(DType t, const int64_t* in, int64_t frames, int64_t h, int64_t w, int64_t c, double step,
                   uint8_t* raw);

// The reversible colour transform of RGB and RGBA integer frames (FFV1's and
// JPEG-LS's "RCT" kind), applied by to_samples and undone by from_samples: channels 0
// and 2 become their difference from channel 1 in the element type's own wrapping
// arithmetic, plus half the type's range for unsigned types (so that equal channels
// give the middle of the range); channel 1 and a fourth channel stay. Exact both ways
// for every input. For data decoded from video with subsampled chroma the
// differences are constant over 2x2 pixels.
bool colour_transform_supports(DType t);  // the integer dtypes

// Smallest and largest element value of a raw block (as double; NaN ignored).
void value_range(DType t, const uint8_t* raw, int64_t count, double* lo, double* hi);

}  // namespace sciflow::codec
