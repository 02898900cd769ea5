#include "codec/tez.hpp"

#include "codec/fast.hpp"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "codec/samples.hpp"
#include "core/huge_pages.hpp"
#include "core/thread_pool.hpp"
#include "ml/frame_net.hpp"

namespace sciflow::codec::tez {
namespace {

constexpr uint8_t kMagic[8] = {0x89, 'T', 'E', 'Z', '\r', '\n', 0x1a, '\n'};
constexpr char kGroupTag[4] = {'T', 'Z', 'G', '1'};
constexpr char kEndTag[4] = {'T', 'Z', 'E', '1'};
constexpr char kTrailerMagic[8] = {'T', 'E', 'Z', 'I', 'N', 'D', 'E', 'X'};
constexpr int64_t kMaxHeaderJson = 1 << 20;
constexpr int64_t kMaxGroupRawBytes = int64_t{4} << 30;  // refuse records that would need more
constexpr int64_t kTargetGroupBytes = 16 << 20;

// Best-tier groups of version 6 and 7 files (and of the file being written) use two
// least-squares classes, versions 1 and 4 one; version 7's fits may see kMaxDepth
// frames back, earlier versions' two.
bool best_classified(const Header& h) { return h.effort != "fast" && (h.format_major == 0 || h.format_major >= 6); }
int best_depth(const Header& h) {
  return h.effort != "fast" && (h.format_major == 0 || h.format_major >= 7) ? kMaxDepth : 2;
}
constexpr int64_t kMaxGroupFrames = 64;
constexpr int64_t kMinGroupFrames = 8;
constexpr int64_t kStripePixels = 131072;

// CRC-32 as zlib and gzip define it (libdeflate's: the same values, 3-4x as fast).
uint32_t crc32_of(std::span<const uint8_t> d) { return libdeflate_crc32(0, d.data(), d.size()); }

// Little-endian byte building and parsing.
struct Bytes {
  std::vector<uint8_t> b;
  void raw(const void* p, size_t n) { b.insert(b.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n); }
  template <typename T>
  void put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof v);
    if constexpr (std::endian::native == std::endian::big) std::reverse(tmp, tmp + sizeof(T));
    raw(tmp, sizeof tmp);
  }
};

struct Parse {
  const uint8_t* p;
  size_t n, off = 0;
  bool ok = true;
  template <typename T>
  T get() {
    T v{};
    if (off + sizeof(T) > n) {
      ok = false;
      return v;
    }
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, p + off, sizeof(T));
    if constexpr (std::endian::native == std::endian::big) std::reverse(tmp, tmp + sizeof(T));
    std::memcpy(&v, tmp, sizeof v);
    off += sizeof(T);
    return v;
  }
};

std::string frames_label(const GroupInfo& g) {
  return g.frames == 1 ? fmt::format("frame {}", g.first_frame)
                       : fmt::format("frames {}-{}", g.first_frame, g.first_frame + g.frames - 1);
}

// Runs fn(i) for i in [0, n) on up to `threads` threads.
template <typename F>
Status parallel_for(int64_t n, int threads, F fn) {
  if (threads <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) RETURN_IF_ERROR(fn(i));
    return Status::ok();
  }
  std::atomic<int64_t> next{0};
  std::vector<TaskResult<Status>> workers;
  for (int t = 0; t < std::min<int64_t>(threads, n); ++t)
    workers.push_back(ThreadPool::shared().run([&] {
      for (int64_t i; (i = next.fetch_add(1)) < n;) {
        Status s = fn(i);
        if (!s.is_ok()) {
          next.store(n);
          return s;
        }
      }
      return Status::ok();
    }));
  Status first;
  for (auto& w : workers) {
    Status s = w.get();
    if (first.is_ok() && !s.is_ok()) first = s;
  }
  return first;
}

int64_t stripes_of(const Header& h) { return (h.height + h.stripe_rows - 1) / h.stripe_rows; }

// Counts in a group record. Best tier: blocks per classical predictor (four), or
// with a learned model five and the number of stripes that used it; from version 7
// then the planes whose fits saw kMaxDepth frames back. Fast tier: its six.
int stat_words(const Header& h) {
  if (h.effort == "fast") return fast::kPredictors;
  return (h.model_hash.empty() ? kNumClassical : kNumPredictors + 1) + (best_depth(h) > 2 ? 1 : 0);
}
int64_t* stat_word(const Header& h, GroupStats& s, int k) {
  const int blocks = h.effort == "fast" ? fast::kPredictors : h.model_hash.empty() ? kNumClassical : kNumPredictors;
  if (k < blocks) return &s.blocks[static_cast<size_t>(k)];
  if (k == blocks && !h.model_hash.empty() && h.effort != "fast") return &s.learned_stripes;
  return &s.deep_planes;
}

}  // namespace

bool looks_like_tez(std::string_view head) {
  return head.size() >= 8 && std::memcmp(head.data(), kMagic, 8) == 0;
}

Json Header::to_json() const {
  Json attrs = Json::object();
  for (const auto& [k, v] : attributes) attrs[k] = v;
  Json j = {{"dtype", dtype_name(dtype)},
             {"frames", frames},
             {"height", height},
             {"width", width},
             {"channels", channels},
             {"mode", mode},
             {"bound", bound},
             {"predictor", predictor_name(predictor)},
             {"effort", effort},
             {"block", block},
             {"group_frames", group_frames},
             {"stripe_rows", stripe_rows},
             {"model_hash", model_hash},
             {"source", {{"format", source_format}, {"dataset", dataset}, {"attributes", attrs}}},
             {"created_by", created_by}};
  if (colour_transform) j["colour_transform"] = "rct";
  return j;
}

Result<Header> Header::from_json(const Json& j) {
  Header h;
  try {
    auto dt = parse_dtype(j.at("dtype").get<std::string>());
    if (!dt || !codec_supports(*dt)) return unsupported(fmt::format("dtype '{}'", j.at("dtype").get<std::string>()));
    h.dtype = *dt;
    h.frames = j.at("frames").get<int64_t>();
    h.height = j.at("height").get<int64_t>();
    h.width = j.at("width").get<int64_t>();
    h.channels = j.at("channels").get<int64_t>();
    h.mode = j.at("mode").get<std::string>();
    h.bound = j.at("bound").get<double>();
    ASSIGN_OR_RETURN(h.predictor, parse_predictor(j.at("predictor").get<std::string>()));
    h.block = j.at("block").get<int>();
    h.group_frames = j.at("group_frames").get<int64_t>();
    h.stripe_rows = j.at("stripe_rows").get<int64_t>();
    h.model_hash = j.value("model_hash", "");
    h.effort = j.value("effort", "best");  // files from before the fast tier are "best"
    if (h.effort != "fast" && h.effort != "best") return unsupported(fmt::format("header: effort '{}'", h.effort));
    if (h.effort == "fast" && h.predictor != Predictor::kAuto)
      return corrupt("header: the fast tier takes no forced predictor");
    const Json& src = j.at("source");
    h.source_format = src.value("format", "");
    h.dataset = src.value("dataset", "");
    if (src.contains("attributes"))
      for (const auto& [k, v] : src.at("attributes").items()) h.attributes.emplace_back(k, v.get<std::string>());
    h.created_by = j.value("created_by", "");
    const std::string colour = j.value("colour_transform", "none");
    if (colour != "none" && colour != "rct") return unsupported(fmt::format("header: colour transform '{}'", colour));
    h.colour_transform = colour == "rct";
  } catch (const Json::exception& e) {
    return corrupt(fmt::format("header: {}", e.what()));
  }
  if (h.frames < 0 || h.height < 1 || h.width < 1 || h.channels < 1 || h.channels > 4 || h.block < 4 ||
      h.block > 4096 || h.group_frames < 1 || h.stripe_rows < 1 || h.height > (1 << 20) || h.width > (1 << 20) ||
      (h.mode != "lossless" && h.mode != "abs" && h.mode != "rel") || !(h.bound >= 0))
    return corrupt("header: values out of range");
  if (h.frame_bytes() * std::min<int64_t>(h.group_frames, std::max<int64_t>(h.frames, 1)) > kMaxGroupRawBytes)
    return unsupported("header: groups larger than 4 GiB");
  if (h.colour_transform && !colour_transform_fits(h))
    return corrupt("header: a colour transform for data it does not apply to");
  return h;
}

bool colour_transform_pays(const Header& h, const uint8_t* raw, int64_t frames) {
  const int64_t W = h.width, C = h.channels, fb = h.frame_bytes(), n = std::min<int64_t>(frames, 4);
  const int64_t rows = std::min<int64_t>(h.height, 32), r0 = (h.height - rows) / 2;
  const int64_t row_bytes = W * C * dtype_size(h.dtype);
  const SampleRange range = lossless_range(h.dtype);
  const GroupConfig cfg{C, rows, W, range.lo, range.hi, 0, Predictor::kAuto, h.block, nullptr, true};
  std::vector<int64_t> samples(static_cast<size_t>(n * C * rows * W));
  auto coded_size = [&](bool colour) {
    to_samples(h.dtype, raw + r0 * row_bytes, n, rows, W, C, samples.data(), fb, colour);
    auto coded = encode_group(cfg, samples, n, nullptr, nullptr);
    return coded ? static_cast<int64_t>(coded->size()) : std::numeric_limits<int64_t>::max();
  };
  return coded_size(true) < coded_size(false);
}

bool colour_transform_fits(const Header& h) {
  return h.mode == "lossless" && (h.channels == 3 || h.channels == 4) && colour_transform_supports(h.dtype) && h.model_hash.empty();
}

ThreadSplit split_threads(const Header& h, int threads) {
  threads = std::max(1, threads);
  const int64_t busy = std::max<int64_t>(1, std::min<int64_t>(stripes_of(h), threads));
  ThreadSplit t;
  t.groups_in_flight = std::max(1, threads / static_cast<int>(busy));
  t.threads_per_group = std::max(1, threads / t.groups_in_flight);
  return t;
}

void choose_layout(Header* h, int64_t group_frames_override) {
  int64_t fb = std::max<int64_t>(h->frame_bytes(), 1);
  int64_t g = group_frames_override > 0 ? group_frames_override
                                         : std::clamp<int64_t>(kTargetGroupBytes / fb, kMinGroupFrames, kMaxGroupFrames);
  // Tiny frames: bigger groups so that keyframes and side information stay cheap.
  if (group_frames_override <= 0 && h->height * h->width < 4096) g = std::max<int64_t>(g, 512);
  h->group_frames = std::max<int64_t>(1, g);
  h->stripe_rows = std::max<int64_t>(64, (kStripePixels + h->width - 1) / h->width);
  if (h->stripe_rows >= h->height) h->stripe_rows = h->height;
}

int predictor_count(const Header& h) {
  if (h.effort == "fast") return h.model_hash.empty() ? fast::kPredictors - 1 : fast::kPredictors;
  return h.model_hash.empty() ? kNumClassical : kNumPredictors;
}

std::string predictor_label(const Header& h, int k) {
  if (h.effort == "fast") return std::string(fast::predictor_name(k));
  return std::string(predictor_name(static_cast<Predictor>(k + 1)));
}

Status check_model(const Header& h) {
  if (h.model_hash.empty()) return h.model ? invalid_argument("a model is loaded but the header names none") : Status::ok();
  if (!h.model)
    return invalid_argument(fmt::format("the data were compressed with the learned model {}: give its file with --model", h.model_hash));
  if (h.model->hash() != h.model_hash)
    return invalid_argument(fmt::format("the model given is {}, but the data were compressed with {}", h.model->hash(), h.model_hash));
  return Status::ok();
}

Result<std::vector<uint8_t>> encode_group_record(const Header& h, int64_t first_frame, int64_t frames,
                                                 const uint8_t* raw, int threads, GroupInfo* info) {
  RETURN_IF_ERROR(check_model(h));
  const int64_t H = h.height, W = h.width, C = h.channels, n = frames * C * H * W;
  GroupInfo g;
  g.first_frame = first_frame;
  g.frames = frames;
  // Integer data go from their rows of `raw` straight into each stripe's samples;
  // lossy floats are first mapped to a grid over the whole group (`samples`).
  std::vector<int64_t> samples;
  SampleRange range = lossless_range(h.dtype);
  double e_units = h.bound;
  if (h.mode == "rel") {
    double lo, hi;
    value_range(h.dtype, raw, n, &lo, &hi);
    e_units = std::isfinite(hi - lo) ? h.bound * (hi - lo) : 0;
  }
  bool lossy = h.mode != "lossless" && e_units > 0;
  if (h.dtype == DType::kF32 && lossy) {
    // Floats: code the grid round(x / 2e), which the decoder scales back.
    samples.resize(static_cast<size_t>(n));
    if (float_to_grid(h.dtype, raw, frames, H, W, C, 2 * e_units, e_units, samples.data(), &range)) {
      g.flags |= kFlagFloatGrid;
      g.step = 2 * e_units;
    } else {
      lossy = false;  // non-finite values or a bound below float precision: keep this group exact
      samples.clear();
    }
    g.bound = 0;
  } else {
    // A bound beyond the value range codes like the range itself (every sample
    // within it of any other), and keeps the quantiser's step 2e+1 in range.
    g.bound = lossy ? static_cast<int64_t>(std::floor(std::min(e_units, static_cast<double>(range.hi - range.lo)))) : 0;
  }
  const bool grid = !samples.empty();
  const int64_t row_bytes = W * C * dtype_size(h.dtype), fb = h.frame_bytes();
  g.lo = range.lo;
  g.hi = range.hi;
  if (h.colour_transform && !lossy && !grid && colour_transform_pays(h, raw, frames)) g.flags |= kFlagColour;
  const bool colour = (g.flags & kFlagColour) != 0;  // applied as the rows become samples

  const int64_t S = stripes_of(h);
  std::vector<std::vector<uint8_t>> coded(static_cast<size_t>(S));
  std::vector<GroupStats> stats(static_cast<size_t>(S));
  // The checksum covers the bytes the decoder must produce: for lossy integer data the
  // reconstruction, written here stripe by stripe.
  std::vector<uint8_t> decoded(g.bound > 0 ? static_cast<size_t>(frames * h.frame_bytes()) : 0);
  Status s = parallel_for(S, threads, [&](int64_t k) -> Status {
    const int64_t r0 = k * h.stripe_rows, rows = std::min(h.stripe_rows, H - r0);
    GroupConfig cfg{C, rows, W, g.lo, g.hi, g.bound, h.predictor, h.block, h.model, h.effort == "fast"};
    cfg.classified = best_classified(h);
    cfg.depth = best_depth(h);
    if (cfg.fast && g.bound == 0 && !h.model && !grid) {
      // Lossless fast tier: the coder loads the stripe's frames one at a time, as
      // int32 samples where they fit (u8, i8, u16, i16).
      auto load = [&](int64_t t, auto* frame) {
        to_samples(h.dtype, raw + t * fb + r0 * row_bytes, 1, rows, W, C, frame, fb, colour);
      };
      GroupStats* st = &stats[static_cast<size_t>(k)];
      ASSIGN_OR_RETURN(coded[static_cast<size_t>(k)],
                       fast::frames_fit_int32(cfg) ? fast::encode_frames(cfg, frames, fast::FrameSource32(load), st)
                                                   : fast::encode_frames(cfg, frames, fast::FrameSource(load), st));
      return Status::ok();
    }
    thread_local HugeVector<int64_t> part;  // kept between groups: no fresh pages per group
    part.resize(static_cast<size_t>(frames * C * rows * W));
    if (grid) {
      for (int64_t t = 0; t < frames; ++t)
        for (int64_t c = 0; c < C; ++c)
          std::memcpy(&part[static_cast<size_t>(((t * C + c) * rows) * W)], &samples[static_cast<size_t>(((t * C + c) * H + r0) * W)],
                      static_cast<size_t>(rows * W) * sizeof(int64_t));
    } else {
      to_samples(h.dtype, raw + r0 * row_bytes, frames, rows, W, C, part.data(), fb, colour);
    }
    std::vector<int64_t> rec;
    ASSIGN_OR_RETURN(coded[static_cast<size_t>(k)],
                     encode_group(cfg, part, frames, &stats[static_cast<size_t>(k)], decoded.empty() ? nullptr : &rec));
    if (!decoded.empty())
      from_samples(h.dtype, rec.data(), frames, rows, W, C, decoded.data() + r0 * row_bytes, h.frame_bytes());
    return Status::ok();
  });
  RETURN_IF_ERROR(s);
  for (const auto& st : stats) {
    for (int k = 0; k < kMaxBlockCounters; ++k) g.stats.blocks[static_cast<size_t>(k)] += st.blocks[static_cast<size_t>(k)];
    g.stats.learned_stripes += st.learned_stripes;
    g.stats.deep_planes += st.deep_planes;
  }

  std::span<const uint8_t> check(raw, static_cast<size_t>(frames * h.frame_bytes()));
  if (grid) {
    decoded.resize(check.size());
    grid_to_float(h.dtype, samples.data(), frames, H, W, C, g.step, decoded.data());
  }
  if (!decoded.empty()) check = decoded;
  g.data_crc = crc32_of(check);

  Bytes rec;
  size_t coded_bytes = 0;
  for (const auto& c : coded) coded_bytes += c.size();
  // The header words, the stripe sizes, the payload and its checksum: allocated once,
  // not grown by doubling (each growth copied the payload into fresh pages).
  rec.b.reserve(128 + 8 * static_cast<size_t>(stat_words(h) + S) + coded_bytes);
  rec.raw(kGroupTag, 4);
  rec.put<uint64_t>(static_cast<uint64_t>(first_frame));
  rec.put<uint32_t>(static_cast<uint32_t>(frames));
  rec.put<uint32_t>(g.flags);
  rec.put<int64_t>(g.lo);
  rec.put<int64_t>(g.hi);
  rec.put<int64_t>(g.bound);
  rec.put<double>(g.step);
  rec.put<uint32_t>(g.data_crc);
  for (int k = 0; k < stat_words(h); ++k)
    rec.put<uint64_t>(static_cast<uint64_t>(*stat_word(h, g.stats, k)));
  rec.put<uint32_t>(static_cast<uint32_t>(S));
  for (const auto& c : coded) {
    rec.put<uint64_t>(c.size());
    g.stripe_bytes.push_back(c.size());
  }
  rec.put<uint32_t>(crc32_of(rec.b));
  size_t payload_start = rec.b.size();
  for (const auto& c : coded) rec.raw(c.data(), c.size());
  rec.put<uint32_t>(crc32_of(std::span(rec.b).subspan(payload_start)));
  g.record_bytes = static_cast<int64_t>(rec.b.size());
  if (info) *info = g;
  return std::move(rec.b);
}

Status decode_group_record(const Header& h, const GroupInfo& g, std::span<const uint8_t> payload, uint8_t* raw,
                           int threads) {
  RETURN_IF_ERROR(check_model(h));
  const int64_t H = h.height, W = h.width, C = h.channels;
  const int64_t S = stripes_of(h);
  std::string label = frames_label(g);
  if (static_cast<int64_t>(g.stripe_bytes.size()) != S) return corrupt(fmt::format("{}: wrong stripe count", label));
  // Integer samples go from each stripe straight into its rows of `raw`; float grids
  // are scaled back once the whole group is in `samples`.
  const bool grid = (g.flags & kFlagFloatGrid) != 0;
  std::vector<int64_t> samples(grid ? static_cast<size_t>(g.frames * C * H * W) : 0);
  const int64_t row_bytes = W * C * dtype_size(h.dtype), fb = h.frame_bytes();
  // Decoded rows r0.. of frames t0..t0+n-1 into `raw`, undoing the colour transform.
  auto put_rows = [&](const int64_t* in, int64_t t0, int64_t n, int64_t r0, int64_t rows) {
    from_samples(h.dtype, in, n, rows, W, C, raw + t0 * fb + r0 * row_bytes, fb, (g.flags & kFlagColour) != 0);
  };
  std::vector<size_t> offsets(static_cast<size_t>(S) + 1, 0);
  for (int64_t k = 0; k < S; ++k) offsets[static_cast<size_t>(k) + 1] = offsets[static_cast<size_t>(k)] + g.stripe_bytes[static_cast<size_t>(k)];
  if (offsets.back() != payload.size()) return corrupt(fmt::format("{}: stripe sizes do not add up", label));
  Status s = parallel_for(S, threads, [&](int64_t k) -> Status {
    const int64_t r0 = k * h.stripe_rows, rows = std::min(h.stripe_rows, H - r0);
    thread_local HugeVector<int64_t> part;  // kept between groups: no fresh pages per group
    GroupConfig cfg{C, rows, W, g.lo, g.hi, g.bound, h.predictor, h.block, h.model, h.effort == "fast"};
    cfg.fast_version = h.format_major == 2 ? 2 : h.format_major == 3 || h.format_major == 4 ? 3 : 5;
    cfg.classified = best_classified(h);
    cfg.depth = best_depth(h);
    auto where = [&](const Status& d) { return d.with_context(fmt::format("{}, rows {}-{}", label, r0, r0 + rows - 1)); };
    if (cfg.fast && cfg.fast_version >= 3 && !h.model && !grid) {
      // Frame by frame into `raw`: two frames of samples per stripe instead of the group.
      part.resize(static_cast<size_t>(std::min<int64_t>(g.frames, 2) * C * rows * W));
      Status d = fast::decode_frames(
          cfg, payload.subspan(offsets[static_cast<size_t>(k)], g.stripe_bytes[static_cast<size_t>(k)]), g.frames, part,
          [&](int64_t t, const int64_t* frame) { put_rows(frame, t, 1, r0, rows); });
      return d.is_ok() ? d : where(d);
    }
    part.resize(static_cast<size_t>(g.frames * C * rows * W));
    Status d = decode_group(cfg, payload.subspan(offsets[static_cast<size_t>(k)], g.stripe_bytes[static_cast<size_t>(k)]),
                            g.frames, part);
    if (!d.is_ok()) return where(d);
    if (!grid) {
      put_rows(part.data(), 0, g.frames, r0, rows);
      return Status::ok();
    }
    for (int64_t t = 0; t < g.frames; ++t)
      for (int64_t c = 0; c < C; ++c)
        std::memcpy(&samples[static_cast<size_t>(((t * C + c) * H + r0) * W)], &part[static_cast<size_t>(((t * C + c) * rows) * W)],
                    static_cast<size_t>(rows * W) * sizeof(int64_t));
    return Status::ok();
  });
  RETURN_IF_ERROR(s);
  if (grid) grid_to_float(h.dtype, samples.data(), g.frames, H, W, C, g.step, raw);
  if (crc32_of(std::span(raw, static_cast<size_t>(g.frames * h.frame_bytes()))) != g.data_crc)
    return corrupt(fmt::format("{}: decoded data fail their checksum", label));
  return Status::ok();
}

// ---- Writer --------------------------------------------------------------------------

Status Writer::write_header(const Header& h) {
  std::string json = to_json_line(h.to_json());
  Bytes b;
  b.raw(kMagic, 8);
  b.put<uint16_t>(h.format_major ? h.format_major : version_major_of(h.effort, h.colour_transform));
  b.put<uint16_t>(kVersionMinor);
  b.put<uint32_t>(static_cast<uint32_t>(json.size()));
  b.raw(json.data(), json.size());
  b.put<uint32_t>(crc32_of(b.b));
  RETURN_IF_ERROR(sink_(b.b));
  offset_ += static_cast<int64_t>(b.b.size());
  return Status::ok();
}

Status Writer::write_group(std::span<const uint8_t> record, const GroupInfo& info) {
  GroupInfo g = info;
  g.offset = offset_;
  index_.push_back(g);
  frames_ += g.frames;
  RETURN_IF_ERROR(sink_(record));
  offset_ += static_cast<int64_t>(record.size());
  return Status::ok();
}

Status Writer::finish(const Json& stats) {
  Bytes b;
  b.raw(kEndTag, 4);
  b.put<uint64_t>(static_cast<uint64_t>(frames_));
  b.put<uint32_t>(static_cast<uint32_t>(index_.size()));
  for (const auto& g : index_) {
    b.put<uint64_t>(static_cast<uint64_t>(g.first_frame));
    b.put<uint64_t>(static_cast<uint64_t>(g.frames));
    b.put<uint64_t>(static_cast<uint64_t>(g.offset));
  }
  std::string js = to_json_line(stats);
  b.put<uint32_t>(static_cast<uint32_t>(js.size()));
  b.raw(js.data(), js.size());
  b.put<uint32_t>(crc32_of(b.b));
  b.put<uint64_t>(static_cast<uint64_t>(offset_));
  b.raw(kTrailerMagic, 8);
  RETURN_IF_ERROR(sink_(b.b));
  offset_ += static_cast<int64_t>(b.b.size());
  return Status::ok();
}

// ---- Reader ------------------------------------------------------------------------------

Status Reader::read_seq(void* buf, size_t n) {
  if (!use_mem_) return in_.read_exact(buf, n);
  if (mem_.size() - mem_pos_ < n) {
    mem_pos_ = mem_.size();
    return corrupt(fmt::format("read '{}': unexpected end of data", name_));
  }
  std::memcpy(buf, mem_.data() + mem_pos_, n);
  mem_pos_ += n;
  return Status::ok();
}

ssize_t Reader::read_pos(void* buf, size_t n, int64_t offset) {
  if (!use_mem_) return ::pread(in_.fd(), buf, n, offset);
  if (offset < 0 || static_cast<size_t>(offset) > mem_.size()) return 0;
  size_t k = std::min(n, mem_.size() - static_cast<size_t>(offset));
  std::memcpy(buf, mem_.data() + offset, k);
  return static_cast<ssize_t>(k);
}

Result<Reader> Reader::open(std::string_view path) {
  Reader r;
  ASSIGN_OR_RETURN(r.in_, io::InputFile::open(path));
  r.name_ = r.in_.name();
  struct stat st {};
  if (::fstat(r.in_.fd(), &st) == 0 && S_ISREG(st.st_mode)) r.file_bytes_ = st.st_size;
  return r.finish_open();
}

Result<Reader> Reader::open_memory(std::span<const uint8_t> data, std::string name) {
  Reader r;
  r.name_ = std::move(name);
  r.mem_ = data;
  r.use_mem_ = true;
  r.file_bytes_ = static_cast<int64_t>(data.size());
  return r.finish_open();
}

Result<Reader> Reader::finish_open() {
  Reader& r = *this;
  uint8_t fixed[16];
  Status s = r.read_seq(fixed, 16);
  if (!s.is_ok()) return corrupt(fmt::format("'{}': not a .tez file (too short)", r.name_));
  if (std::memcmp(fixed, kMagic, 8) != 0) return corrupt(fmt::format("'{}': not a .tez file (bad magic)", r.name_));
  Parse p{fixed + 8, 8};
  uint16_t major = p.get<uint16_t>();
  (void)p.get<uint16_t>();
  uint32_t len = p.get<uint32_t>();
  if (major < 1 || major > kVersionMajor)
    return unsupported(fmt::format("'{}': .tez format version {} (this tezip reads versions 1 to {})", r.name_, major,
                                   kVersionMajor));
  if (len > kMaxHeaderJson) return corrupt(fmt::format("'{}': header of {} bytes", r.name_, len));
  std::vector<uint8_t> all(16 + len + 4);
  std::memcpy(all.data(), fixed, 16);
  s = r.read_seq(all.data() + 16, len + 4);
  if (!s.is_ok()) return corrupt(fmt::format("'{}': truncated header", r.name_));
  Parse crc{all.data() + 16 + len, 4};
  if (crc.get<uint32_t>() != crc32_of(std::span(all.data(), 16 + len)))
    return corrupt(fmt::format("'{}': header checksum mismatch", r.name_));
  ASSIGN_OR_RETURN(Json j, parse_json(std::string_view(reinterpret_cast<const char*>(all.data() + 16), len), r.name_));
  auto h = Header::from_json(j);
  if (!h) return h.status().with_context(fmt::format("'{}'", r.name_));
  h->format_major = major;
  if (!version_allows(major, h->effort, h->colour_transform))
    return corrupt(fmt::format("'{}': header says tier '{}' in a version {} file", r.name_, h->effort, major));
  r.header_ = std::move(*h);
  r.pos_ = static_cast<int64_t>(all.size());
  return std::move(r);
}

bool scene_changed(const Header& h, const uint8_t* prev, const uint8_t* cur) {
  // Row by row, every other row: the sums are statistics.
  const int64_t rw = h.width * h.channels, rb = rw * dtype_size(h.dtype);
  double temporal = 0, spatial = 0;
  int64_t n = 0;
  for (int64_t y = 0; y < h.height; y += 2) {
    int64_t t = 0, s = 0;  // |differences| of one row fit easily
    change_stats(h.dtype, prev + y * rb, cur + y * rb, rw, h.channels, &t, &s);
    temporal += static_cast<double>(t);
    spatial += static_cast<double>(s);
    n += rw;
  }
  // Noise alone makes both about equal; a cut makes the temporal change dominate.
  return temporal > 2.0 * spatial + static_cast<double>(n);
}

Result<std::vector<uint8_t>> encode_buffer(const Header& h, const uint8_t* raw, int threads) {
  std::vector<uint8_t> out;
  Writer w([&out](std::span<const uint8_t> b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::ok();
  });
  RETURN_IF_ERROR(w.write_header(h));
  for (int64_t first = 0; first < h.frames; first += h.group_frames) {
    int64_t n = std::min(h.group_frames, h.frames - first);
    GroupInfo info;
    ASSIGN_OR_RETURN(auto rec, encode_group_record(h, first, n, raw + first * h.frame_bytes(), threads, &info));
    RETURN_IF_ERROR(w.write_group(rec, info));
  }
  RETURN_IF_ERROR(w.finish());
  return out;
}

Result<GroupInfo> Reader::read_record(std::vector<uint8_t>* payload, int64_t offset) {
  // Fixed part after the tag, then stripe sizes, then the header CRC.
  std::string where;  // "frames 8-11: " once the record header is known
  auto read = [&](void* buf, size_t n) -> Status {
    if (offset >= 0) {
      ssize_t got = read_pos(buf, n, offset);
      if (got < 0) return errno_status(fmt::format("read '{}'", name_), errno);
      if (static_cast<size_t>(got) != n)
        return corrupt(fmt::format("'{}': {}truncated at byte {}", name_, where, offset + got));
      offset += static_cast<int64_t>(n);
      return Status::ok();
    }
    Status s = read_seq(buf, n);
    if (!s.is_ok() && s.code() == Code::kCorrupt)
      return corrupt(fmt::format("'{}': {}truncated after byte {}", name_, where, pos_));
    pos_ += static_cast<int64_t>(n);
    return s;
  };
  const int64_t start = offset >= 0 ? offset : pos_;
  const size_t kFixed = 8 + 4 + 4 + 8 * 3 + 8 + 4 + 8 * static_cast<size_t>(stat_words(header_)) + 4;
  std::vector<uint8_t> head(4 + kFixed);
  RETURN_IF_ERROR(read(head.data(), 4));
  if (std::memcmp(head.data(), kEndTag, 4) == 0) {
    GroupInfo end;
    end.frames = -1;
    return end;
  }
  if (std::memcmp(head.data(), kGroupTag, 4) != 0)
    return corrupt(fmt::format("'{}': expected a group record at byte {}", name_, start));
  RETURN_IF_ERROR(read(head.data() + 4, kFixed));
  Parse p{head.data() + 4, kFixed};
  GroupInfo g;
  g.offset = start;
  g.first_frame = static_cast<int64_t>(p.get<uint64_t>());
  g.frames = p.get<uint32_t>();
  g.flags = p.get<uint32_t>();
  g.lo = p.get<int64_t>();
  g.hi = p.get<int64_t>();
  g.bound = p.get<int64_t>();
  g.step = p.get<double>();
  g.data_crc = p.get<uint32_t>();
  for (int k = 0; k < stat_words(header_); ++k) {
    *stat_word(header_, g.stats, k) = static_cast<int64_t>(p.get<uint64_t>());
  }
  uint32_t stripes = p.get<uint32_t>();
  const int64_t expect_stripes = stripes_of(header_);
  if (static_cast<int64_t>(stripes) != expect_stripes)
    return corrupt(fmt::format("'{}': group at byte {}: {} stripes, expected {}", name_, start, stripes, expect_stripes));
  std::vector<uint8_t> sizes(stripes * 8 + 4);
  RETURN_IF_ERROR(read(sizes.data(), sizes.size()));
  head.insert(head.end(), sizes.begin(), sizes.end() - 4);
  Parse ps{sizes.data(), sizes.size()};
  uint64_t total = 0;
  for (uint32_t k = 0; k < stripes; ++k) {
    g.stripe_bytes.push_back(ps.get<uint64_t>());
    total += g.stripe_bytes.back();
  }
  uint32_t head_crc = ps.get<uint32_t>();
  if (head_crc != crc32_of(head))
    return corrupt(fmt::format("'{}': group record at byte {}: header checksum mismatch", name_, start));
  std::string label = frames_label(g);
  if (g.frames < 1 || g.frames > header_.group_frames || g.lo > g.hi || g.bound < 0 ||
      (header_.frames > 0 && g.first_frame + g.frames > header_.frames))
    return corrupt(fmt::format("'{}': {}: inconsistent record", name_, label));
  if ((g.flags & ~(kFlagFloatGrid | kFlagColour)) != 0 ||
      ((g.flags & kFlagColour) && (!header_.colour_transform || (g.flags & kFlagFloatGrid) || g.bound != 0)))
    return corrupt(fmt::format("'{}': {}: unknown or inconsistent flags {:#x}", name_, label, g.flags));
  // A damaged size must not make us allocate without bound: coded data never needs
  // more than a few times the raw size.
  const uint64_t limit = static_cast<uint64_t>(g.frames * header_.frame_bytes()) * 4 + (1 << 20);
  if (total > limit) return corrupt(fmt::format("'{}': {}: payload of {} bytes is implausible", name_, label, total));
  // Nor may a small payload make us allocate a huge frame buffer: every sample costs
  // at least one coded decision of at least 0.001 bits (16-bit probabilities), so no
  // genuine payload holds more than ~7600 samples per byte.
  const uint64_t samples = static_cast<uint64_t>(g.frames * header_.height * header_.width * header_.channels);
  if (samples > (total + 64) * 8192)
    return corrupt(fmt::format("'{}': {}: {} bytes cannot hold {} samples", name_, label, total, samples));
  payload->resize(total + 4);
  where = label + ": ";
  RETURN_IF_ERROR(read(payload->data(), payload->size()));
  Parse pc{payload->data() + total, 4};
  if (pc.get<uint32_t>() != crc32_of(std::span(payload->data(), total)))
    return corrupt(fmt::format("'{}': {}: checksum mismatch in the coded data", name_, label));
  payload->resize(total);
  g.record_bytes = static_cast<int64_t>(head.size() + 4 + total + 4);  // header, its CRC, payload, its CRC
  return g;
}

Result<std::optional<GroupInfo>> Reader::next(std::vector<uint8_t>* payload) {
  if (ended_) return std::optional<GroupInfo>();
  ASSIGN_OR_RETURN(GroupInfo g, read_record(payload, -1));
  if (g.frames < 0) {
    ended_ = true;
    std::vector<uint8_t> rec(4);
    std::memcpy(rec.data(), kEndTag, 4);
    auto take = [&](size_t n) -> Status {
      size_t at = rec.size();
      rec.resize(at + n);
      Status s = read_seq(rec.data() + at, n);
      return s.is_ok() ? s : corrupt(fmt::format("'{}': truncated end record", name_));
    };
    RETURN_IF_ERROR(take(12));
    Parse p{rec.data() + 4, 12};
    auto frames = static_cast<int64_t>(p.get<uint64_t>());
    uint32_t groups = p.get<uint32_t>();
    if (groups > (1u << 24)) return corrupt(fmt::format("'{}': end record lists {} groups", name_, groups));
    RETURN_IF_ERROR(take(static_cast<size_t>(groups) * 24 + 4));
    Parse pl{rec.data() + rec.size() - 4, 4};
    uint32_t jlen = pl.get<uint32_t>();
    if (jlen > kMaxHeaderJson) return corrupt(fmt::format("'{}': bad end record", name_));
    RETURN_IF_ERROR(take(jlen + 4));
    Parse pc{rec.data() + rec.size() - 4, 4};
    if (pc.get<uint32_t>() != crc32_of(std::span(rec.data(), rec.size() - 4)))
      return corrupt(fmt::format("'{}': end record checksum mismatch", name_));
    auto js = parse_json(std::string_view(reinterpret_cast<const char*>(rec.data() + rec.size() - 4 - jlen), jlen), name_);
    if (js) end_stats_ = std::move(*js);
    if (header_.frames > 0 && frames != header_.frames)
      return corrupt(fmt::format("'{}': end record counts {} frames, header says {}", name_, frames, header_.frames));
    return std::optional<GroupInfo>();
  }
  return std::optional<GroupInfo>(std::move(g));
}

Result<std::vector<GroupInfo>> Reader::index() {
  if (file_bytes_ < 0) return unsupported(fmt::format("'{}': random access needs a file, not a pipe", name_));
  if (file_bytes_ < 16) return corrupt(fmt::format("'{}': truncated (no index)", name_));
  uint8_t tr[16];
  if (read_pos(tr, 16, file_bytes_ - 16) != 16) return errno_status(fmt::format("read '{}'", name_), errno);
  if (std::memcmp(tr + 8, kTrailerMagic, 8) != 0)
    return corrupt(fmt::format("'{}': truncated or damaged (no index at the end)", name_));
  Parse p{tr, 8};
  auto end_off = static_cast<int64_t>(p.get<uint64_t>());
  if (end_off < 0 || end_off > file_bytes_ - 16 - 20) return corrupt(fmt::format("'{}': bad index offset", name_));
  const int64_t max_len = file_bytes_ - 16 - end_off;
  std::vector<uint8_t> buf(static_cast<size_t>(max_len));
  if (read_pos(buf.data(), buf.size(), end_off) != static_cast<ssize_t>(buf.size()))
    return errno_status(fmt::format("read '{}'", name_), errno);
  Parse q{buf.data(), buf.size()};
  q.off = 4;
  if (std::memcmp(buf.data(), kEndTag, 4) != 0) return corrupt(fmt::format("'{}': bad index record", name_));
  auto frames = static_cast<int64_t>(q.get<uint64_t>());
  uint32_t n = q.get<uint32_t>();
  if (static_cast<uint64_t>(n) * 24 + 24 > buf.size()) return corrupt(fmt::format("'{}': bad index size", name_));
  std::vector<GroupInfo> out;
  for (uint32_t i = 0; i < n; ++i) {
    GroupInfo g;
    g.first_frame = static_cast<int64_t>(q.get<uint64_t>());
    g.frames = static_cast<int64_t>(q.get<uint64_t>());
    g.offset = static_cast<int64_t>(q.get<uint64_t>());
    out.push_back(g);
  }
  uint32_t jlen = q.get<uint32_t>();
  if (!q.ok || q.off + jlen + 4 != buf.size()) return corrupt(fmt::format("'{}': bad index size", name_));
  auto js = parse_json(std::string_view(reinterpret_cast<const char*>(buf.data() + q.off), jlen), name_);
  q.off += jlen;
  uint32_t crc = q.get<uint32_t>();
  if (!q.ok || crc != crc32_of(std::span(buf.data(), buf.size() - 4)))
    return corrupt(fmt::format("'{}': index checksum mismatch", name_));
  if (js) end_stats_ = std::move(*js);
  if (header_.frames > 0 && frames != header_.frames)
    return corrupt(fmt::format("'{}': index counts {} frames, header says {}", name_, frames, header_.frames));
  return out;
}

Result<GroupInfo> Reader::read_at(int64_t offset, std::vector<uint8_t>* payload) {
  ASSIGN_OR_RETURN(GroupInfo g, read_record(payload, offset));
  if (g.frames < 0) return corrupt(fmt::format("'{}': index points at the end record", name_));
  return g;
}

}  // namespace sciflow::codec::tez
