// codec/tez: the .tez container (specified in man/tezip.5).
//
//   file    = header group* end trailer
//   header  = magic "\x89TEZ\r\n\x1a\n", version (u16 major, u16 minor), u32 n, n bytes of
//             JSON (dtype, shape, mode, bound, predictor, ...), u32 CRC-32 of all before it
//   group   = "TZG1" record header (first frame, frames, sample range, bound, stripe sizes,
//             predictor use, CRC-32 of the decoded frames) + its CRC, then the coded
//             stripes and a CRC-32 of them
//   end     = "TZE1" frame count and an index of every group's offset, + CRC
//   trailer = u64 offset of `end`, "TEZINDEX"
//
// Groups are independent (each starts at a keyframe), so they decode in any
// order and in parallel; stripes of rows within a group are independent too. The
// file is written front to back, so it streams through pipes; the index at the end
// gives random access when the file can seek.
// Thread safety: encode_group_record/decode_group_record are reentrant; Writer and
// Reader belong to one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "codec/predictive.hpp"
#include "core/dtype.hpp"
#include "core/json.hpp"
#include "core/status.hpp"
#include "io/file.hpp"

namespace sciflow::codec::tez {

// Version 1: stripes coded by codec/predictive (the "best" tier); version 2: by
// codec/fast with contexts that include the west neighbour (read, no longer
// written); version 3: codec/fast with four rANS states (read, no longer written);
// version 4: either tier, with groups that may carry the colour transform
// (kFlagColour; fast-tier groups with four states: read, no longer written);
// version 5: codec/fast as it is now (32 states, four streams), with or without the colour
// transform; version 6: codec/predictive with classified least squares (two
// coefficient sets per fit, GroupConfig::classified), with or without the colour
// transform (read, no longer written); version 7: as 6, with fits that may also see
// up to kMaxDepth frames back (GroupConfig::depth) and one more count per group
// record. Each file carries the lowest version that describes it, so older readers
// still read what they can and refuse the rest by its version.
inline constexpr uint16_t kVersionMajor = 7;  // the highest this tezip reads and writes
inline constexpr uint16_t kVersionMinor = 0;
inline uint16_t version_major_of(const std::string& effort, bool /*colour_transform*/) {
  return effort == "fast" ? 5 : 7;
}
// Whether a file of version `major` may hold this tier and colour transform (what
// this and earlier tezips wrote).
inline bool version_allows(uint16_t major, const std::string& effort, bool colour_transform) {
  if (effort == "fast") return major == 5 || (major == 4 && colour_transform) || ((major == 2 || major == 3) && !colour_transform);
  return major == 7 || major == 6 || major == (colour_transform ? 4 : 1);
}

struct Header {
  DType dtype = DType::kU8;
  int64_t frames = 0, height = 0, width = 0, channels = 1;
  std::string mode = "lossless";  // lossless | abs | rel
  double bound = 0;               // abs: in data units; rel: fraction of the value range
  Predictor predictor = Predictor::kAuto;
  std::string effort = "best";    // fast (codec/fast.hpp) | best (codec/predictive.hpp)
  int block = 8;
  int64_t group_frames = 0;       // frames per group (keyframe interval)
  int64_t stripe_rows = 0;        // rows per independently coded stripe
  std::string model_hash;         // learned predictor's hash; empty: none
  bool colour_transform = false;  // groups may code RGB as G and differences from it (kFlagColour)
  const ml::FrameNet* model = nullptr;  // not stored: the loaded model whose hash is model_hash
  std::string source_format;      // hdf5, npy, raw, png
  std::string dataset;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string created_by;
  uint16_t format_major = 0;      // not stored in the JSON: the major version of the file it was read from, or to
                                  // write (0: the newest for its tier; the HDF5 filter writes 1)

  int64_t frame_bytes() const { return height * width * channels * dtype_size(dtype); }
  Json to_json() const;
  static Result<Header> from_json(const Json& j);
};

// What a group record says about itself (read without decoding the payload).
struct GroupInfo {
  int64_t first_frame = 0, frames = 0;
  uint32_t flags = 0;           // kFlagFloatGrid, kFlagColour
  int64_t lo = 0, hi = 0, bound = 0;
  double step = 0;              // float grid step (lossy f32)
  uint32_t data_crc = 0;        // CRC-32 of the decoded frames' bytes
  GroupStats stats;
  std::vector<uint64_t> stripe_bytes;
  int64_t offset = 0;           // of the record in the file
  int64_t record_bytes = 0;     // record header + payload + CRCs
};
inline constexpr uint32_t kFlagFloatGrid = 1;
// The group's frames were coded after the colour transform of codec::to_samples
// (lossless RGB or RGBA integer data, in files whose header allows it), which the
// decoder's from_samples undoes.
inline constexpr uint32_t kFlagColour = 2;

// Whether groups of a series with this header may use the colour transform: lossless
// integer data of three or four channels without a learned model (whose planes are the
// untransformed ones). The encoder then tries it per group and keeps it where a
// sample of the group codes smaller with it.
bool colour_transform_fits(const Header& h);
// Whether the transform makes `frames` frames of `raw` smaller, judged on a sample:
// a band of up to 32 rows from the middle of the first four frames, coded by the fast
// tier with and without it (3-5% of the fast tier's time for a group). The encoder
// asks per group; the compressor asks for the first group before it writes the header,
// so that a file whose data do not gain keeps the version older readers read.
bool colour_transform_pays(const Header& h, const uint8_t* raw, int64_t frames);

// How `threads` are shared: groups coded at once, and threads inside each group
// (over its stripes). Small frames have one stripe, so parallelism comes from groups.
struct ThreadSplit {
  int groups_in_flight = 1;
  int threads_per_group = 1;
};
ThreadSplit split_threads(const Header& h, int threads);

// Chooses frames per group and rows per stripe for a series (bounded memory, enough
// work items for threads, enough frames per group for temporal prediction).
void choose_layout(Header* h, int64_t group_frames_override);

// Per-block predictor counters of a group record (GroupStats::blocks): how many, and
// the name of counter k ("lsq", "med", ... for best; codec/fast.hpp's names for fast).
int predictor_count(const Header& h);
std::string predictor_label(const Header& h, int k);

// kInvalidArgument unless h.model is loaded and is the model h.model_hash names (or both are absent).
Status check_model(const Header& h);

// Encodes `frames` frames of `raw` (frame layout height x width x channels) as one
// group record. Uses up to `threads` threads over stripes. `info` receives the record's
// metadata.
Result<std::vector<uint8_t>> encode_group_record(const Header& h, int64_t first_frame, int64_t frames,
                                                 const uint8_t* raw, int threads, GroupInfo* info);

// Decodes a record read by Reader into `raw` (frames * frame_bytes), checking its CRCs.
// Errors name the group's frames: "frames 64-127: checksum mismatch".
Status decode_group_record(const Header& h, const GroupInfo& info, std::span<const uint8_t> payload, uint8_t* raw,
                           int threads);

// Writes a .tez file front to back.
class Writer {
 public:
  using Sink = std::function<Status(std::span<const uint8_t>)>;
  explicit Writer(io::AtomicOutput* out)
      : sink_([out](std::span<const uint8_t> b) { return out->write(b); }) {}
  explicit Writer(Sink sink) : sink_(std::move(sink)) {}
  Status write_header(const Header& h);
  Status write_group(std::span<const uint8_t> record, const GroupInfo& info);
  // End record (frame count, index, `stats` as JSON) and trailer. Does not commit the output.
  Status finish(const Json& stats = Json::object());
  int64_t bytes() const { return offset_; }

 private:
  Sink sink_;
  int64_t offset_ = 0;
  int64_t frames_ = 0;
  std::vector<GroupInfo> index_;
};

// Reads a .tez file front to back (pipes work), or by group via the index.
class Reader {
 public:
  // Opens and validates the header. `path` "-" reads stdin.
  static Result<Reader> open(std::string_view path);
  // Reads a whole .tez held in memory (the HDF5 filter's chunks); `data` must outlive the reader.
  static Result<Reader> open_memory(std::span<const uint8_t> data, std::string name);
  const Header& header() const { return header_; }
  // Gives the reader the learned model its header names (see check_model()).
  void set_model(const ml::FrameNet* model) { header_.model = model; }
  const std::string& name() const { return name_; }

  // The next group; nullopt after the end record (whose frame count is then checked).
  Result<std::optional<GroupInfo>> next(std::vector<uint8_t>* payload);

  // The index from the end of the file (seekable files only): offsets of all groups.
  Result<std::vector<GroupInfo>> index();
  // Reads the group at `offset` (from index()).
  Result<GroupInfo> read_at(int64_t offset, std::vector<uint8_t>* payload);

  int64_t file_bytes() const { return file_bytes_; }
  // The JSON statistics of the end record, once next() has reached it (or after index()).
  const Json& end_stats() const { return end_stats_; }

 private:
  Result<GroupInfo> read_record(std::vector<uint8_t>* payload, int64_t offset);
  Result<Reader> finish_open();
  // Sequential read of exactly n bytes (kCorrupt "unexpected end" when short).
  Status read_seq(void* buf, size_t n);
  // Positioned read; returns bytes read or -1 with errno.
  ssize_t read_pos(void* buf, size_t n, int64_t offset);
  io::InputFile in_;
  std::span<const uint8_t> mem_;
  bool use_mem_ = false;
  size_t mem_pos_ = 0;
  std::string name_;
  Header header_;
  int64_t pos_ = 0;
  int64_t file_bytes_ = -1;  // -1 when not seekable
  bool ended_ = false;
  Json end_stats_ = Json::object();
};

// TEZip's dynamic window: true when frame `cur` differs from the frame before it
// more than from itself shifted by one pixel (a scene change: a flat field after
// projections, a new sample), so that a new group (keyframe) should start at it.
bool scene_changed(const Header& h, const uint8_t* prev, const uint8_t* cur);

// A whole .tez file in memory: header, one group per `group_frames` frames, end.
// Used for HDF5 chunks. `raw` holds h.frames frames.
Result<std::vector<uint8_t>> encode_buffer(const Header& h, const uint8_t* raw, int threads);

// True if `head` (at least 8 bytes) starts like a .tez file.
bool looks_like_tez(std::string_view head);

}  // namespace sciflow::codec::tez
