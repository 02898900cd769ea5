// tezip decompress: .tez in, frames out (whole series or a range of frames).
#include <fmt/core.h>

#include <chrono>

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/units.hpp"
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {
namespace {

// "A:B", "A:", ":B" -> [first, last) within [0, frames).
Result<std::pair<int64_t, int64_t>> parse_range(const std::string& text, int64_t frames) {
  if (text.empty()) return std::pair<int64_t, int64_t>{0, frames};
  size_t colon = text.find(':');
  auto num = [&](const std::string& s, int64_t dflt) -> Result<int64_t> {
    if (s.empty()) return dflt;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (*end != '\0' || v < 0) return invalid_argument(fmt::format("--frames '{}': expected A:B with 0 <= A < B", text));
    return static_cast<int64_t>(v);
  };
  if (colon == std::string::npos) {
    ASSIGN_OR_RETURN(int64_t a, num(text, 0));
    return std::pair<int64_t, int64_t>{a, a + 1};
  }
  ASSIGN_OR_RETURN(int64_t a, num(text.substr(0, colon), 0));
  ASSIGN_OR_RETURN(int64_t b, num(text.substr(colon + 1), frames));
  b = std::min(b, frames);
  if (a >= b) return invalid_argument(fmt::format("--frames '{}': empty range (the file has {} frames)", text, frames));
  return std::pair<int64_t, int64_t>{a, b};
}

}  // namespace

Status run_decompress(const DecompressOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(auto reader, codec::tez::Reader::open(o.input));
  std::unique_ptr<ml::FrameNet> model;
  RETURN_IF_ERROR(attach_model(reader, o.model, o.device, &model));
  const codec::tez::Header& h = reader.header();
  ASSIGN_OR_RETURN(auto range, parse_range(o.frames, h.frames));
  std::string output = o.output;
  if (output.empty()) {
    if (o.input == "-") {
      output = "-";
    } else if (o.input.size() > 4 && o.input.compare(o.input.size() - 4, 4, ".tez") == 0) {
      output = o.input.substr(0, o.input.size() - 4);
    } else {
      return invalid_argument(fmt::format("'{}' does not end in .tez: give -o OUTPUT", o.input));
    }
  }
  io::SeriesInfo si;
  si.dtype = h.dtype;
  si.frames = range.second - range.first;
  si.height = h.height;
  si.width = h.width;
  si.channels = h.channels;
  si.format = h.source_format;
  si.dataset = h.dataset;
  si.attributes = h.attributes;
  io::WriteOptions wo;
  wo.format = o.format;
  wo.overwrite = o.force;
  wo.allow_tty = o.force;
  wo.threads = ctx.threads();
  RETURN_IF_ERROR(io::check_distinct(o.input, io::split_output_spec(output).first));
  ASSIGN_OR_RETURN(auto writer, io::create_frames(output, si, wo));
  term::ProgressBar bar(ctx.progress("decompress", si.frames * h.frame_bytes()));
  auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(decode_frames(reader, range.first, range.second, ctx.threads(),
                                [&](int64_t, int64_t frames, const uint8_t* data) -> Status {
                                  RETURN_IF_ERROR(cancel::check_cancelled());
                                  RETURN_IF_ERROR(writer->write(frames, data));
                                  bar.add(frames * h.frame_bytes());
                                  return Status::ok();
                                }));
  RETURN_IF_ERROR(writer->commit());
  bar.finish();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t bytes = si.frames * h.frame_bytes();
  if (ctx.json() && output != "-")
    return ctx.print_json({{"input", o.input}, {"output", output}, {"frames", si.frames}, {"bytes", bytes},
                           {"seconds", secs}, {"mb_per_s", secs > 0 ? bytes / secs / 1e6 : 0}});
  if (output != "-")
    log::info("{}", fmt::format("{}: {} frames -> {}, {}", o.input, si.frames, output, units::format_rate(bytes / std::max(secs, 1e-9))));
  return Status::ok();
}

}  // namespace sciflow::tezip
