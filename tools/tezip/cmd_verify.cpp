// tezip verify: decode everything, check every checksum, and optionally compare
// with the original frames (bit-exact?, max |error|, PSNR, bound respected?).
#include <fmt/core.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "codec/samples.hpp"
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {
namespace {

double element(DType t, const uint8_t* p) {
  switch (t) {
    case DType::kU8: return *p;
    case DType::kI8: return static_cast<int8_t>(*p);
    case DType::kU16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case DType::kI16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case DType::kU32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case DType::kI32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case DType::kF32: { float v; std::memcpy(&v, p, 4); return v; }
    default: return 0;
  }
}

}  // namespace

Status run_verify(const VerifyOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(auto reader, codec::tez::Reader::open(o.input));
  std::unique_ptr<ml::FrameNet> model;
  RETURN_IF_ERROR(attach_model(reader, o.model, o.device, &model));
  const codec::tez::Header& h = reader.header();
  std::unique_ptr<io::FrameReader> orig;
  if (!o.against.empty()) {
    ASSIGN_OR_RETURN(io::ReadOptions ro, read_options(o.in, ctx.threads()));
    ASSIGN_OR_RETURN(orig, io::open_frames(o.against, ro));
    const io::SeriesInfo& si = orig->info();
    if (si.dtype != h.dtype || si.frames != h.frames || si.height != h.height || si.width != h.width ||
        si.channels != h.channels)
      return Status(Code::kCorrupt,
                    fmt::format("'{}' is {} x {} x {} x {} {}, '{}' holds {} x {} x {} x {} {}", o.against, si.frames,
                                si.height, si.width, si.channels, dtype_name(si.dtype), o.input, h.frames, h.height,
                                h.width, h.channels, dtype_name(h.dtype)));
  }
  const int64_t es = dtype_size(h.dtype);
  bool exact = true;
  double max_err = 0, sq = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  int64_t count = 0, frames = 0, worst_frame = -1;
  std::string rel_problem;
  std::vector<uint8_t> buf;
  RETURN_IF_ERROR(decode_frames(reader, 0, std::numeric_limits<int64_t>::max(), ctx.threads(),
                                [&](int64_t first, int64_t n, const uint8_t* data) -> Status {
                                  frames += n;
                                  if (!orig) return Status::ok();
                                  buf.resize(static_cast<size_t>(n * h.frame_bytes()));
                                  ASSIGN_OR_RETURN(int64_t got, orig->read(n, buf.data()));
                                  if (got != n) return corrupt(fmt::format("'{}' ended early", o.against));
                                  if (std::memcmp(buf.data(), data, buf.size()) != 0) exact = false;
                                  const int64_t per = h.frame_bytes() / es;
                                  double group_err = 0, group_lo = std::numeric_limits<double>::infinity(),
                                         group_hi = -group_lo;
                                  for (int64_t i = 0; i < n * per; ++i) {
                                    double a = element(h.dtype, buf.data() + i * es), b = element(h.dtype, data + i * es);
                                    double d = std::fabs(a - b);
                                    if (std::isnan(a) && std::isnan(b)) d = 0;
                                    if (d > max_err || std::isnan(d)) {
                                      max_err = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
                                      worst_frame = first + i / per;
                                    }
                                    sq += d * d;
                                    group_err = std::max(group_err, std::isnan(d) ? HUGE_VAL : d);
                                    if (std::isfinite(a)) {
                                      group_lo = std::min(group_lo, a);
                                      group_hi = std::max(group_hi, a);
                                    }
                                  }
                                  lo = std::min(lo, group_lo);
                                  hi = std::max(hi, group_hi);
                                  // --rel bounds each group's error by its share of its own value range.
                                  if (h.mode == "rel" && rel_problem.empty()) {
                                    double allowed = h.bound * (group_hi - group_lo);
                                    if (!dtype_is_float(h.dtype)) allowed = std::floor(allowed);
                                    if (group_err > allowed * (1 + 1e-12))
                                      rel_problem = fmt::format("frames {}-{}: max error {} exceeds {} x range = {}", first,
                                                                first + n - 1, group_err, h.bound, allowed);
                                  }
                                  count += n * per;
                                  return Status::ok();
                                }));
  if (!orig) {
    if (ctx.json()) return ctx.print_json({{"file", o.input}, {"frames", frames}, {"checksums", "ok"}});
    return ctx.print(fmt::format("{}: {} frames, all checksums ok\n", o.input, frames));
  }
  double mse = count ? sq / static_cast<double>(count) : 0;
  double range = hi - lo;
  double psnr = mse > 0 && range > 0 ? 20 * std::log10(range) - 10 * std::log10(mse) : std::numeric_limits<double>::infinity();
  bool within = true;
  std::string problem;
  if (h.mode == "lossless" && !exact) {
    within = false;
    problem = "a lossless file does not decode to the original";
  } else if (h.mode == "abs" && max_err > h.bound) {
    within = false;
    problem = fmt::format("max error {} exceeds the bound {} (frame {})", max_err, h.bound, worst_frame);
  } else if (!rel_problem.empty()) {
    within = false;
    problem = rel_problem;
  }
  if (ctx.json()) {
    RETURN_IF_ERROR(ctx.print_json({{"file", o.input},
                                    {"against", o.against},
                                    {"frames", frames},
                                    {"checksums", "ok"},
                                    {"bit_exact", exact},
                                    {"max_abs_error", max_err},
                                    {"psnr_db", std::isfinite(psnr) ? Json(psnr) : Json(nullptr)},
                                    {"within_bound", within}}));
  } else {
    RETURN_IF_ERROR(ctx.print(fmt::format("{}: {} frames, checksums ok, {}, max |error| {}, PSNR {}\n", o.input, frames,
                                          exact ? "bit-exact" : "not bit-exact", max_err,
                                          std::isfinite(psnr) ? fmt::format("{:.2f} dB", psnr) : "inf")));
  }
  if (!within) return corrupt(fmt::format("'{}': {}", o.input, problem));
  return Status::ok();
}

}  // namespace sciflow::tezip
