// tezip compress: frames in, .tez out, streaming group by group.
#include <fmt/core.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <optional>

#include "codec/h5filter.hpp"
#include "codec/samples.hpp"
#include "io/hdf5.hpp"
#include "core/cancel.hpp"
#include "core/huge_pages.hpp"
#include "core/log.hpp"
#include "core/thread_pool.hpp"
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

// --to-h5: the frames into an HDF5 dataset whose chunks (one group of frames each)
// go through the tezip filter; any HDF5 program with the plugin reads it.
Status write_filtered_h5(const CompressOptions& o, const codec::tez::Header& h, io::FrameReader& reader,
                         cli::Context& ctx) {
  io::OutputOptions oo;
  oo.overwrite = o.force;
  oo.named_temp = true;  // HDF5 opens it by name
  auto [file, named] = io::split_output_spec(o.to_h5);  // "OUT.h5" or "OUT.h5:/entry/data"
  ASSIGN_OR_RETURN(io::AtomicOutput out, io::AtomicOutput::create(file, oo));
  ASSIGN_OR_RETURN(io::h5::File f, io::h5::File::create(out.temp_path()));
  std::string dataset = !named.empty() ? named : h.dataset.empty() ? "/data" : h.dataset;
  std::vector<int64_t> shape = {h.frames, h.height, h.width}, chunks = {std::min(h.group_frames, h.frames), h.height, h.width};
  if (h.channels > 1) {
    shape.push_back(h.channels);
    chunks.push_back(h.channels);
  }
  float bound = static_cast<float>(h.bound);
  unsigned bits;
  std::memcpy(&bits, &bound, 4);
  std::vector<unsigned> cd = {1, h.mode == "abs" ? 1u : 0u, h.mode == "abs" ? bits : 0u};
  RETURN_IF_ERROR(f.create_dataset(dataset, h.dtype, shape, chunks, codec::h5filter::kFilterId, cd));
  term::ProgressBar bar(ctx.progress("compress", h.frames * h.frame_bytes()));
  std::vector<uint8_t> buf(static_cast<size_t>(chunks[0] * h.frame_bytes()));
  for (int64_t done = 0; done < h.frames;) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    int64_t want = std::min(chunks[0], h.frames - done);
    ASSIGN_OR_RETURN(int64_t got, reader.read(want, buf.data()));
    if (got != want) return corrupt(fmt::format("'{}': ended after {} of {} frames", o.input, done + got, h.frames));
    RETURN_IF_ERROR(f.write_rows(dataset, h.dtype, done, got, buf.data()));
    done += got;
    bar.add(got * h.frame_bytes());
  }
  for (const auto& [k, v] : h.attributes) RETURN_IF_ERROR(f.set_attribute(dataset, k, v));
  RETURN_IF_ERROR(f.close());
  RETURN_IF_ERROR(out.commit());
  bar.finish();
  log::info("{}", fmt::format("{} -> {}:{} (tezip HDF5 filter {})", io::display_name(o.input), file, dataset,
                        codec::h5filter::kFilterId));
  return Status::ok();
}

}  // namespace

Status run_compress(const CompressOptions& o, cli::Context& ctx) {
  // 1. Options.
  std::string output = o.output.empty() ? default_output(o.input) : o.output;
  if (output.empty() && o.to_h5.empty()) return invalid_argument("a glob input needs -o OUTPUT.tez");
  if (ctx.json() && output == "-") return invalid_argument("--json with output to stdout: give -o FILE");
  ASSIGN_OR_RETURN(io::ReadOptions ro, read_options(o.in, ctx.threads()));
  ASSIGN_OR_RETURN(codec::Predictor predictor, codec::parse_predictor(o.predictor));
  // The output may not be the input's file (for FILE.h5:/dataset, FILE.h5).
  RETURN_IF_ERROR(io::check_distinct(io::split_frames_spec(o.input).first,
                                     o.to_h5.empty() ? output : io::split_output_spec(o.to_h5).first));

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
  ASSIGN_OR_RETURN(h.effort, choose_effort(o.fast, o.best, o.predictor, h.mode != "lossless"));
  if (h.mode == "abs" && !dtype_is_float(h.dtype) && o.abs_bound < 1)
    return invalid_argument(fmt::format("--abs {} is below 1 for integer data: use lossless mode", o.abs_bound));
  std::unique_ptr<ml::FrameNet> model;
  if (!o.model.empty()) {
    if (predictor != codec::Predictor::kAuto)
      return invalid_argument("--model competes with the classical predictors: it needs --predictor auto");
    if (!o.to_h5.empty()) return invalid_argument("--to-h5 cannot carry a learned model (HDF5 readers would need it)");
    ASSIGN_OR_RETURN(auto net, ml::FrameNet::load(o.model));
    RETURN_IF_ERROR(net.use_device(o.device));
    model = std::make_unique<ml::FrameNet>(std::move(net));
    h.model_hash = model->hash();
    h.model = model.get();
  }
  codec::tez::choose_layout(&h, o.group);
  if (h.mode == "rel" && !o.to_h5.empty()) return invalid_argument("--to-h5 takes --abs, not --rel");
  if (!o.to_h5.empty()) {
    // The HDF5 filter codes chunks with the best tier (version 1 chunks: older plugins read them).
    if (o.fast) return invalid_argument("--to-h5 writes the best tier: drop --fast");
    h.effort = "best";
  }
  if (!o.to_h5.empty()) return write_filtered_h5(o, h, *reader, ctx);
  h.colour_transform = codec::tez::colour_transform_fits(h);

  // 3. Stream groups through the encoder, several at a time, in order.
  io::OutputOptions oo;
  oo.overwrite = o.force;
  oo.allow_tty = o.force;
  ASSIGN_OR_RETURN(io::AtomicOutput out, io::AtomicOutput::create(output, oo));
  codec::tez::Writer writer(&out);
  bool header_written = false;
  const int threads = ctx.threads();
  const codec::tez::ThreadSplit split = codec::tez::split_threads(h, threads);
  const int inflight = split.groups_in_flight, per_group = split.threads_per_group;
  term::ProgressBar bar(ctx.progress("compress", h.frames * h.frame_bytes()));

  struct Job {
    HugeVector<uint8_t> raw;  // read into: not zeroed first
    int64_t first = 0, frames = 0;
    codec::tez::GroupInfo info;
    TaskResult<Result<std::vector<uint8_t>>> done;
  };
  std::deque<Job> jobs;
  std::array<int64_t, codec::kMaxBlockCounters> blocks{};
  int64_t learned_stripes = 0, stripes = 0;
  // Writes the oldest group's record (its coding finished: `rec`) and drops it.
  auto write_front = [&](Result<std::vector<uint8_t>> rec) -> Status {
    Job& j = jobs.front();
    if (!rec) return rec.status();
    RETURN_IF_ERROR(writer.write_group(*rec, j.info));
    for (int k = 0; k < codec::kMaxBlockCounters; ++k) blocks[static_cast<size_t>(k)] += j.info.stats.blocks[static_cast<size_t>(k)];
    learned_stripes += j.info.stats.learned_stripes;
    stripes += static_cast<int64_t>(j.info.stripe_bytes.size());
    bar.add(j.frames * h.frame_bytes());
    jobs.pop_front();
    return cancel::check_cancelled();
  };
  auto start = std::chrono::steady_clock::now();
  // Groups hold up to group_frames frames, and a scene change starts a new one
  // (the frame that differs is carried over as the next group's keyframe).
  const int64_t fb = h.frame_bytes();
  HugeVector<uint8_t> carry;
  int64_t done = 0, read_total = 0;
  while (done < h.frames) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    Job j;
    j.first = done;
    j.raw.reserve(static_cast<size_t>(std::min(h.group_frames, h.frames - done) * fb));
    if (!carry.empty()) {  // into the room reserved for the group (no reallocation as it grows)
      j.raw.insert(j.raw.end(), carry.begin(), carry.end());
      carry.clear();
      j.frames = 1;
    }
    while (j.frames < h.group_frames && read_total < h.frames) {
      size_t at = j.raw.size();
      j.raw.resize(at + static_cast<size_t>(fb));
      ASSIGN_OR_RETURN(int64_t got, reader->read(1, j.raw.data() + at));
      if (got != 1) return corrupt(fmt::format("'{}': ended after {} of {} frames", o.input, read_total, h.frames));
      ++read_total;
      if (j.frames > 0 && codec::tez::scene_changed(h, j.raw.data() + at - fb, j.raw.data() + at)) {
        carry.assign(j.raw.begin() + static_cast<std::ptrdiff_t>(at), j.raw.end());
        j.raw.resize(at);
        break;
      }
      ++j.frames;
    }
    // At most `inflight` groups are coded at once: wait for the oldest, start this
    // one, then write the oldest out while this one codes (the next group is read
    // meanwhile too), so that reading and writing overlap the coding.
    if (!header_written) {  // once the first group is read: whether the colour transform pays
      if (h.colour_transform) h.colour_transform = codec::tez::colour_transform_pays(h, j.raw.data(), j.frames);
      RETURN_IF_ERROR(writer.write_header(h));
      header_written = true;
    }
    std::optional<Result<std::vector<uint8_t>>> oldest;
    if (static_cast<int>(jobs.size()) >= inflight) oldest = jobs.front().done.get();
    jobs.push_back(std::move(j));
    Job& jj = jobs.back();
    jj.done = ThreadPool::shared().run([&h, &jj, per_group] {
      return codec::tez::encode_group_record(h, jj.first, jj.frames, jj.raw.data(), per_group, &jj.info);
    });
    done += jj.frames;
    if (oldest) RETURN_IF_ERROR(write_front(std::move(*oldest)));
  }
  while (!jobs.empty()) RETURN_IF_ERROR(write_front(jobs.front().done.get()));
  if (!header_written) RETURN_IF_ERROR(writer.write_header(h));
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
    for (int k = 0; k < codec::tez::predictor_count(h); ++k)
      use[codec::tez::predictor_label(h, k)] = blocks[static_cast<size_t>(k)];
    Json learned = nullptr;
    if (model) learned = {{"model", model->hash()}, {"stripes", stripes}, {"stripes_using_model", learned_stripes}};
    return ctx.print_json({{"input", o.input},
                           {"output", output},
                           {"frames", h.frames},
                           {"raw_bytes", raw_bytes},
                           {"tez_bytes", tez_bytes},
                           {"ratio", ratio},
                           {"mode", h.mode},
                           {"bound", h.bound},
                           {"effort", h.effort},
                           {"seconds", secs},
                           {"mb_per_s", mbps},
                           {"threads", threads},
                           {"predictor_blocks", use},
                           {"learned", learned}});
  }
  log::info("{}", fmt::format("{}: {} frames, {} -> {} (ratio {:.3f}), {}", io::display_name(o.input), h.frames, units::format_bytes(static_cast<double>(raw_bytes)),
                        units::format_bytes(static_cast<double>(tez_bytes)), ratio, units::format_rate(raw_bytes / std::max(secs, 1e-9))));
  return Status::ok();
}

}  // namespace sciflow::tezip
