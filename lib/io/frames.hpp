// io/frames: read and write series of frames (a time axis of 2-D images, each
// pixel with one or more channels) from and to the formats detectors and
// analysis codes use: HDF5 datasets (NeXus external links followed), .npy, raw
// binary, PNG sequences and TIFF files (a directory, a glob, single or multi-page
// files; a TIFF output is one multi-page file).
//
// Frames are handed over in memory as `frames x height x width x channels`
// elements of the series' dtype, native byte order. Readers stream: they never
// hold more than the frames asked for. Writers are atomic: nothing appears under
// the final name until commit(), and a writer destroyed without commit() removes
// what it wrote.
// Thread safety: a reader or writer belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dtype.hpp"
#include "core/status.hpp"

namespace sciflow::io {

struct SeriesInfo {
  DType dtype = DType::kU8;
  int64_t frames = 0;
  int64_t height = 0, width = 0, channels = 1;
  std::string format;   // "hdf5", "npy", "raw", "png", "tiff"
  std::string dataset;  // HDF5 dataset path, when format == "hdf5"
  std::vector<std::pair<std::string, std::string>> attributes;  // HDF5 string attributes of the dataset
  int64_t frame_elements() const { return height * width * channels; }
  int64_t frame_bytes() const { return frame_elements() * dtype_size(dtype); }
};

struct ReadOptions {
  std::string format = "auto";         // auto, hdf5, npy, raw, png, tiff
  std::vector<int64_t> shape;          // raw: T,H,W or T,H,W,C
  std::optional<DType> dtype;          // raw: element type
  bool drop_alpha = false;             // PNG RGBA / grey+alpha: keep colour channels only
  int threads = 1;                     // PNG sequences: files decoded ahead at once, on the ThreadPool
};

class FrameReader {
 public:
  virtual ~FrameReader() = default;
  const SeriesInfo& info() const { return info_; }
  // Reads up to `max_frames` frames into `buf` (max_frames * frame_bytes());
  // returns how many were read, 0 at the end.
  virtual Result<int64_t> read(int64_t max_frames, uint8_t* buf) = 0;

 protected:
  SeriesInfo info_;
};

// Opens `spec`: "-" (stdin: .npy, HDF5 or raw by content), "file.h5:/entry/data"
// or "file.h5" (the only dataset with 3 or 4 dimensions), "x.npy", a directory
// of PNG files, a glob such as "frames/*.png", or a raw file (with shape and dtype).
Result<std::unique_ptr<FrameReader>> open_frames(std::string_view spec, const ReadOptions& options);

// "FILE.h5:/dataset" -> {"FILE.h5", "/dataset"} when no file has the whole name
// and FILE.h5 exists; anything else -> {spec, ""}. (How open_frames reads a spec.)
std::pair<std::string, std::string> split_frames_spec(std::string_view spec);

// The same for an output, which need not exist yet: "OUT.h5:/entry/data" ->
// {"OUT.h5", "/entry/data"} when the part before ":/" ends in .h5, .hdf5, .hdf,
// .nxs or .nx5 (any case) and is not a directory; anything else -> {spec, ""}.
std::pair<std::string, std::string> split_output_spec(std::string_view spec);

struct WriteOptions {
  std::string format = "auto";  // auto (from the name, else `info.format`), hdf5, npy, raw, png, tiff
  bool overwrite = true;
  bool allow_tty = false;
  int threads = 1;              // PNG directories: frames encoded at once, on the ThreadPool
};

class FrameWriter {
 public:
  virtual ~FrameWriter() = default;
  virtual Status write(int64_t frames, const uint8_t* buf) = 0;
  // Checks that all info.frames frames arrived, then makes the output visible.
  virtual Status commit() = 0;
};

// Creates a writer for `info.frames` frames. HDF5 output keeps `info.dataset`
// (default /data; "OUT.h5:/path" names another) and the string attributes; PNG output is a directory of
// frame_NNNNNN.png files.
Result<std::unique_ptr<FrameWriter>> create_frames(std::string_view spec, const SeriesInfo& info,
                                                   const WriteOptions& options);

// "T,H,W" or "T,H,W,C" -> numbers; kInvalidArgument naming the text otherwise.
Result<std::vector<int64_t>> parse_shape(std::string_view text);

}  // namespace sciflow::io
