// tezip train: fit a learned next-frame predictor on sample series (libtorch,
// through the ml plugin) and write it as an integer model (ml/frame_net.hpp).
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include "codec/samples.hpp"
#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "ml/frame_net.hpp"
#include "ml/script_model.hpp"
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {
namespace {

struct Series {
  std::string name;
  DType dtype = DType::kU8;
  int64_t frames = 0, height = 0, width = 0;
  std::vector<int64_t> samples;  // frames x height x width (one channel)
};

// Reads up to `max_frames` frames of `input`; each channel becomes its own series.
Status read_series(const std::string& input, const io::ReadOptions& ro, int64_t max_frames, std::vector<Series>* out) {
  ASSIGN_OR_RETURN(auto reader, io::open_frames(input, ro));
  const io::SeriesInfo& si = reader->info();
  if (!codec::codec_supports(si.dtype))
    return unsupported(fmt::format("'{}': {} data (tezip codes u8, u16, u32, i8, i16, i32, f32)", input, dtype_name(si.dtype)));
  const int64_t T = std::min(si.frames, max_frames), H = si.height, W = si.width, C = si.channels;
  if (T < 2) return invalid_argument(fmt::format("'{}': {} frame(s); training needs series of two or more", input, si.frames));
  const int64_t fb = H * W * C * dtype_size(si.dtype);
  std::vector<uint8_t> raw(static_cast<size_t>(T * fb));
  ASSIGN_OR_RETURN(int64_t got, reader->read(T, raw.data()));
  if (got != T) return corrupt(fmt::format("'{}': ended after {} of {} frames", input, got, T));
  std::vector<int64_t> all(static_cast<size_t>(T * C * H * W));
  codec::to_samples(si.dtype, raw.data(), T, H, W, C, all.data());
  for (int64_t c = 0; c < C; ++c) {
    Series s{C > 1 ? fmt::format("{} channel {}", input, c) : input, si.dtype, T, H, W, {}};
    s.samples.resize(static_cast<size_t>(T * H * W));
    for (int64_t t = 0; t < T; ++t)
      std::copy_n(&all[static_cast<size_t>((t * C + c) * H * W)], H * W, &s.samples[static_cast<size_t>(t * H * W)]);
    out->push_back(std::move(s));
  }
  return Status::ok();
}

}  // namespace

Status run_train(const TrainOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(io::ReadOptions ro, read_options(o.in, ctx.threads()));
  // Fail before the slow part when the output exists.
  io::OutputOptions oo;
  oo.overwrite = o.force;
  {
    ASSIGN_OR_RETURN(auto probe, io::AtomicOutput::create(o.output, oo));
    probe.abort();
  }
  std::vector<Series> series;
  for (const auto& in : o.inputs) RETURN_IF_ERROR(read_series(in, ro, o.max_frames, &series));

  ml::TrainRequest rq;
  rq.window = o.window;
  rq.hidden = o.hidden;
  rq.layers = o.layers;
  rq.epochs = o.epochs;
  rq.steps_per_epoch = o.steps;
  rq.batch = o.batch;
  rq.patch = o.patch;
  rq.seed = o.seed;
  rq.threads = ctx.threads();
  rq.device = o.device;
  std::vector<ml::TrainSeries> ts;
  int64_t frames = 0;
  for (const auto& sr : series) {
    ts.push_back({sr.samples.data(), sr.frames, sr.height, sr.width});
    frames += sr.frames;
  }
  ml::frame_statistics(ts, &rq.mean, &rq.scale, &rq.diff_scale);
  term::ProgressBar bar(ctx.progress("train", o.epochs, false));
  rq.progress = [&](int, double loss) {
    bar.set_note(fmt::format("loss {:.4f}", loss));
    bar.add(1);
    return !cancel::check_cancelled().is_ok() ? false : true;
  };
  auto start = std::chrono::steady_clock::now();
  auto trained = ml::train_frame_net(rq, ts);
  if (!trained) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    return trained.status();
  }
  bar.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Json inputs = Json::array();
  for (const auto& s : series)
    inputs.push_back({{"name", s.name}, {"dtype", dtype_name(s.dtype)}, {"frames", s.frames}, {"height", s.height}, {"width", s.width}});
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  Json meta = {{"created_by", fmt::format("tezip {}", kVersion)},
               {"created", when},
               {"torch", ml::torch_version()},
               {"device", o.device},
               {"inputs", inputs},
               {"window", o.window},
               {"hidden", o.hidden},
               {"layers", o.layers},
               {"epochs", o.epochs},
               {"steps_per_epoch", o.steps},
               {"batch", o.batch},
               {"patch", o.patch},
               {"seed", o.seed},
               {"normalisation", {{"mean", rq.mean}, {"scale", rq.scale}, {"diff_scale", rq.diff_scale}}},
               {"train_seconds", secs},
               {"loss", trained->loss}};
  ASSIGN_OR_RETURN(auto net, ml::FrameNet::from_float(o.window, rq.mean, rq.scale, rq.diff_scale, trained->layers, meta));
  double l1_net = 0, l1_prev = 0;
  ml::evaluate_frame_net(net, ts, 8, &l1_net, &l1_prev);
  // The evaluation goes into the file too; from_float hashed the text without it.
  meta["eval"] = {{"l1_model", l1_net}, {"l1_previous_frame", l1_prev}};
  ASSIGN_OR_RETURN(net, ml::FrameNet::from_float(o.window, rq.mean, rq.scale, rq.diff_scale, trained->layers, meta));
  ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(o.output, oo));
  RETURN_IF_ERROR(out.write(net.serialise()));
  RETURN_IF_ERROR(out.commit());
  if (ctx.json())
    return ctx.print_json({{"model", o.output},
                           {"hash", net.hash()},
                           {"series", series.size()},
                           {"frames", frames},
                           {"seconds", secs},
                           {"loss", trained->loss},
                           {"l1_model", l1_net},
                           {"l1_previous_frame", l1_prev},
                           {"macs_per_pixel", net.macs_per_pixel()}});
  log::info("{}", fmt::format("{}: {} ({} series, {} frames, {} epochs in {:.1f} s; loss {:.4f} -> {:.4f}; mean |error| on "
                              "the first frames {:.3f} vs {:.3f} for the previous frame)",
                              o.output, net.hash(), series.size(), frames, o.epochs, secs, trained->loss.front(),
                              trained->loss.back(), l1_net, l1_prev));
  return Status::ok();
}

}  // namespace sciflow::tezip
