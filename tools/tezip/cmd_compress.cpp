// tezip compress: frames in, .tez out, streaming group by group.
#include <fmt/core.h>

#include <chrono>
#include <deque>
#include <future>

#include "codec/samples.hpp"
#include "core/cancel.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {
namespace {

std::string default_output(const std::string& input) {
  if (input == "-") return "-";
  std::string base = input;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (auto colon = base.rfind(":/"); colon != std::string::npos) base = base.substr(0, colon);
  if (base.find_first_of("*?[") != std::string::npos) return "";
  return base + ".tez";
}

}  // namespace

Status run_compress(const CompressOptions& o, cli::Context& ctx) {
  // 1. Options.
  std::string output = o.output.empty() ? default_output(o.input) : o.output;
  if (output.empty()) return invalid_argument("a glob input needs -o OUTPUT.tez");
  if (ctx.json() && output == "-") return invalid_argument("--json with output to stdout: give -o FILE");
  ASSIGN_OR_RETURN(io::ReadOptions ro, read_options(o.in));
  ASSIGN_OR_RETURN(codec::Predictor predictor, codec::parse_predictor(o.predictor));

  // 2. Open the input; build the header.
  ASSIGN_OR_RETURN(auto reader, io::open_frames(o.input, ro));
  const io::SeriesInfo& si = reader->info();
  if (!codec::codec_supports(si.dtype))
    return unsupported(fmt::format("'{}': {} data (tezip codes u8, u16, u32, i8, i16, i32, f32)", o.input,
                                   dtype_name(si.dtype)));
  codec::tez::Header h;
  h.dtype = si.dtype;
  h.frames = si.frames;
  h.height = si.height;
  h.width = si.width;
  h.channels = si.channels;
  h.predictor = predictor;
  h.block = o.block;
  h.source_format = si.format;
  h.dataset = si.dataset;
  h.attributes = si.attributes;
  h.created_by = fmt::format("tezip {}", kVersion);
  if (o.abs_bound > 0) {
    h.mode = "abs";
    h.bound = o.abs_bound;
  } else if (o.rel_bound > 0) {
    h.mode = "rel";
    h.bound = o.rel_bound;
  }
  if (h.mode == "abs" && !dtype_is_float(h.dtype) && o.abs_bound < 1)
    return invalid_argument(fmt::format("--abs {} is below 1 for integer data: use lossless mode", o.abs_bound));
  codec::tez::choose_layout(&h, o.group);

  // 3. Stream groups through the encoder, several at a time, in order.
  io::OutputOptions oo;
  oo.overwrite = o.force;
  oo.allow_tty = o.force;
  ASSIGN_OR_RETURN(io::AtomicOutput out, io::AtomicOutput::create(output, oo));
  codec::tez::Writer writer(&out);
  RETURN_IF_ERROR(writer.write_header(h));
  const int threads = ctx.threads();
  const int64_t stripes = (h.height + h.stripe_rows - 1) / h.stripe_rows;
  const int inflight = std::max(1, threads / static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(stripes, threads))));
  const int per_group = std::max(1, threads / inflight);
  term::ProgressBar bar(ctx.progress("compress", h.frames * h.frame_bytes()));

  struct Job {
    std::vector<uint8_t> raw;
    int64_t first = 0, frames = 0;
    codec::tez::GroupInfo info;
    std::future<Result<std::vector<uint8_t>>> done;
  };
  std::deque<Job> jobs;
  std::array<int64_t, codec::kNumPredictors> blocks{};
  auto drain_one = [&]() -> Status {
    Job& j = jobs.front();
    auto rec = j.done.get();
    if (!rec) return rec.status();
    RETURN_IF_ERROR(writer.write_group(*rec, j.info));
    for (int k = 0; k < codec::kNumPredictors; ++k) blocks[static_cast<size_t>(k)] += j.info.stats.blocks[static_cast<size_t>(k)];
    bar.add(j.frames * h.frame_bytes());
    jobs.pop_front();
    return cancel::check_cancelled();
  };
  auto start = std::chrono::steady_clock::now();
  int64_t done = 0;
  while (done < h.frames) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    Job j;
    int64_t want = std::min(h.group_frames, h.frames - done);
    j.raw.resize(static_cast<size_t>(want * h.frame_bytes()));
    ASSIGN_OR_RETURN(int64_t got, reader->read(want, j.raw.data()));
    if (got != want)
      return corrupt(fmt::format("'{}': ended after {} of {} frames", o.input, done + got, h.frames));
    j.first = done;
    j.frames = got;
    jobs.push_back(std::move(j));
    Job& jj = jobs.back();
    jj.done = std::async(std::launch::async, [&h, &jj, per_group] {
      return codec::tez::encode_group_record(h, jj.first, jj.frames, jj.raw.data(), per_group, &jj.info);
    });
    done += got;
    if (static_cast<int>(jobs.size()) >= inflight) RETURN_IF_ERROR(drain_one());
  }
  while (!jobs.empty()) RETURN_IF_ERROR(drain_one());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t raw_bytes = h.frames * h.frame_bytes();
  RETURN_IF_ERROR(writer.finish({{"compress_seconds", secs}, {"threads", threads}}));
  RETURN_IF_ERROR(out.commit());
  bar.finish();

  // 4. Report.
  const int64_t tez_bytes = writer.bytes();
  double ratio = tez_bytes > 0 ? static_cast<double>(raw_bytes) / static_cast<double>(tez_bytes) : 0;
  double mbps = secs > 0 ? static_cast<double>(raw_bytes) / secs / 1e6 : 0;
  if (ctx.json()) {
    Json use = Json::object();
    for (int k = 0; k < codec::kNumPredictors; ++k)
      use[std::string(codec::predictor_name(static_cast<codec::Predictor>(k + 1)))] = blocks[static_cast<size_t>(k)];
    return ctx.print_json({{"input", o.input},
                           {"output", output},
                           {"frames", h.frames},
                           {"raw_bytes", raw_bytes},
                           {"tez_bytes", tez_bytes},
                           {"ratio", ratio},
                           {"mode", h.mode},
                           {"bound", h.bound},
                           {"seconds", secs},
                           {"mb_per_s", mbps},
                           {"threads", threads},
                           {"predictor_blocks", use}});
  }
  note(ctx, fmt::format("{}: {} frames, {} -> {} (ratio {:.3f}), {}", io::display_name(o.input), h.frames, units::format_bytes(static_cast<double>(raw_bytes)),
                        units::format_bytes(static_cast<double>(tez_bytes)), ratio, units::format_rate(raw_bytes / std::max(secs, 1e-9))));
  return Status::ok();
}

}  // namespace sciflow::tezip
