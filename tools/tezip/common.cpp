#include <fmt/core.h>
#include <unistd.h>

#include <deque>
#include <optional>

#include "core/huge_pages.hpp"
#include "core/log.hpp"
#include "core/thread_pool.hpp"
#include "io/file.hpp"
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {

Result<io::ReadOptions> read_options(const InputOptions& o, int threads) {
  io::ReadOptions r;
  r.format = o.format;
  r.drop_alpha = o.drop_alpha;
  r.threads = threads;
  if (!o.shape.empty()) {
    ASSIGN_OR_RETURN(r.shape, io::parse_shape(o.shape));
  }
  if (!o.dtype.empty()) {
    r.dtype = parse_dtype(o.dtype);
    if (!r.dtype) return invalid_argument(fmt::format("unknown dtype '{}' (u8, u16, u32, i8, i16, i32, f32)", o.dtype));
  }
  return r;
}

void add_input_options(cli::Definition& def, CLI::App* cmd, InputOptions& o) {
  def.choices(cmd->add_option("--format", o.format, "Input format (default: detected from the content)")
                  ->capture_default_str(),
              {"auto", "hdf5", "npy", "raw", "png", "tiff"});
  def.value_kind(cmd->add_option("--shape", o.shape, "Raw input: frames,height,width[,channels]")->type_name("T,H,W"),
                 cli::ValueKind::kNone);
  def.choices(cmd->add_option("--dtype", o.dtype, "Raw input: element type"),
              {"u8", "u16", "u32", "i8", "i16", "i32", "f32"});
  cmd->add_flag("--drop-alpha", o.drop_alpha, "PNG with alpha: keep the colour channels only");
}

void add_effort_flags(CLI::App* cmd, bool& fast, bool& best) {
  auto* f = cmd->add_flag("--fast", fast,
                          "Fast tier (default when lossless): fixed predictors per block, rANS; 6-20x the speed of "
                          "--best");
  auto* b = cmd->add_flag("--best", best,
                          "Least-squares tier (default with --abs/--rel): fitted predictors, context-adaptive binary "
                          "coder; lossless 1-12% smaller, lossy up to 5x smaller, 6-20x slower (implied by --predictor)");
  f->excludes(b);
}

Result<std::string> choose_effort(bool fast, bool best, const std::string& predictor, bool lossy) {
  if (fast && predictor != "auto") return invalid_argument("--predictor needs the least-squares tier: drop --fast");
  if (fast) return std::string("fast");
  // Lossy: the least-squares tier's ratios are 1.0-5.1x the fast tier's on the shared
  // data sets (docs/BENCHMARKS.md), worth its time where ratio is the point.
  return std::string(best || predictor != "auto" || lossy ? "best" : "fast");
}

void add_device_option(cli::Definition& def, CLI::App* cmd, std::string& device) {
  def.choices(cmd->add_option("--device", device,
                              "Where a learned model runs: cpu (integer kernel), torch (libtorch, CPU) or cuda (libtorch, "
                              "GPU); all three give the same bytes")
                  ->capture_default_str(),
              {"cpu", "torch", "cuda"});
}

Status attach_model(codec::tez::Reader& reader, const std::string& path, const std::string& device,
                    std::unique_ptr<ml::FrameNet>* holder) {
  const std::string& want = reader.header().model_hash;
  if (want.empty()) {
    if (!path.empty()) log::info("{}", fmt::format("{}: compressed without a learned model; --model not needed", reader.name()));
    return Status::ok();
  }
  if (path.empty())
    return invalid_argument(
        fmt::format("{}: compressed with the learned model {}: give its file with --model", reader.name(), want));
  ASSIGN_OR_RETURN(auto net, ml::FrameNet::load(path));
  if (net.hash() != want)
    return invalid_argument(fmt::format("--model {} is {}, but {} was compressed with {}", path, net.hash(), reader.name(), want));
  RETURN_IF_ERROR(net.use_device(device));
  *holder = std::make_unique<ml::FrameNet>(std::move(net));
  reader.set_model(holder->get());
  return Status::ok();
}

Status decode_frames(codec::tez::Reader& reader, int64_t first, int64_t last, int threads, const GroupSink& sink) {
  const codec::tez::Header& h = reader.header();
  const codec::tez::ThreadSplit split = codec::tez::split_threads(h, threads);
  const int inflight = split.groups_in_flight, per_group = split.threads_per_group;
  struct Job {
    codec::tez::GroupInfo info;
    std::vector<uint8_t> payload;
    HugeVector<uint8_t> data;  // written whole by the decoder: not zeroed first
    TaskResult<Status> done;
  };
  std::deque<Job> jobs;
  // The buffers of groups already handed on, for the next ones: a file of many
  // groups decodes into the same pages instead of faulting in fresh ones for
  // every group (K11: 3,201 frames in 10 groups).
  std::vector<std::vector<uint8_t>> spare_payloads;
  std::vector<HugeVector<uint8_t>> spare_data;
  // Hands the oldest group (decoded with status `s`) to the sink and drops it.
  auto sink_front = [&](Status s) -> Status {
    Job& j = jobs.front();
    if (s.is_ok()) {
      int64_t a = std::max(first, j.info.first_frame), b = std::min(last, j.info.first_frame + j.info.frames);
      s = sink(a, b - a, j.data.data() + (a - j.info.first_frame) * h.frame_bytes());
    }
    spare_payloads.push_back(std::move(j.payload));
    spare_data.push_back(std::move(j.data));
    jobs.pop_front();
    return s;
  };
  // A spare buffer (empty when there is none) to read or decode the next group into.
  auto take = [](auto& spares) {
    typename std::decay_t<decltype(spares)>::value_type b;
    if (!spares.empty()) {
      b = std::move(spares.back());
      spares.pop_back();
    }
    return b;
  };
  // At most `inflight` groups decode at once: wait for the oldest, start the new
  // one, then hand the oldest to the sink (write it) while the new one decodes.
  auto launch = [&](codec::tez::GroupInfo info, std::vector<uint8_t> payload) -> Status {
    std::optional<Status> oldest;
    if (static_cast<int>(jobs.size()) >= inflight) oldest = jobs.front().done.get();
    jobs.push_back(Job{std::move(info), std::move(payload), take(spare_data), {}});
    Job& j = jobs.back();
    j.data.resize(static_cast<size_t>(j.info.frames * h.frame_bytes()));
    j.done = ThreadPool::shared().run([&h, &j, per_group] {
      return codec::tez::decode_group_record(h, j.info, j.payload, j.data.data(), per_group);
    });
    return oldest ? sink_front(std::move(*oldest)) : Status::ok();
  };
  auto overlaps = [&](const codec::tez::GroupInfo& g) {
    return g.first_frame < last && g.first_frame + g.frames > first;
  };
  Status status;
  // Random access through the index when only part of a seekable file is wanted.
  bool partial = first > 0 || (h.frames > 0 && last < h.frames);
  if (partial && reader.file_bytes() >= 0) {
    ASSIGN_OR_RETURN(auto index, reader.index());
    for (const auto& e : index) {
      if (!overlaps(e)) continue;
      std::vector<uint8_t> payload = take(spare_payloads);
      ASSIGN_OR_RETURN(auto info, reader.read_at(e.offset, &payload));
      if (info.first_frame != e.first_frame || info.frames != e.frames)
        return corrupt(fmt::format("'{}': index and group record at byte {} disagree", reader.name(), e.offset));
      RETURN_IF_ERROR(launch(std::move(info), std::move(payload)));
    }
  } else {
    int64_t expect = 0;
    for (;;) {
      std::vector<uint8_t> payload = take(spare_payloads);
      auto next = reader.next(&payload);
      if (!next) {
        status = next.status();
        break;
      }
      if (!next->has_value()) break;
      codec::tez::GroupInfo info = std::move(**next);
      if (info.first_frame != expect) {
        status = corrupt(fmt::format("'{}': group starts at frame {}, expected {}", reader.name(), info.first_frame, expect));
        break;
      }
      expect += info.frames;
      if (!overlaps(info)) continue;
      status = launch(std::move(info), std::move(payload));
      if (!status.is_ok()) break;
    }
    if (status.is_ok() && h.frames > 0 && expect != h.frames)
      status = corrupt(fmt::format("'{}': {} frames, header says {}", reader.name(), expect, h.frames));
  }
  while (!jobs.empty()) {
    Status s = sink_front(jobs.front().done.get());
    if (status.is_ok()) status = s;
  }
  return status;
}

}  // namespace sciflow::tezip
