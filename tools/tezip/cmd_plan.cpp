// tezip plan: should this detector host compress before it sends? Measures ratio
// and speed on a sample of the input and compares compress-then-send with
// sending raw over a link of the given rate.
#include <fmt/core.h>

#include <chrono>
#include <cmath>

#include "codec/samples.hpp"
#include "core/units.hpp"
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {

Status run_plan(const PlanOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(double link, units::parse_rate(o.link));
  if (!(link > 0)) return invalid_argument(fmt::format("--link '{}': must be above zero", o.link));
  ASSIGN_OR_RETURN(io::ReadOptions ro, read_options(o.in, ctx.threads()));
  ASSIGN_OR_RETURN(auto reader, io::open_frames(o.input, ro));
  const io::SeriesInfo& si = reader->info();
  if (!codec::codec_supports(si.dtype))
    return unsupported(fmt::format("'{}': {} data", o.input, dtype_name(si.dtype)));
  codec::tez::Header h;
  h.dtype = si.dtype;
  h.height = si.height;
  h.width = si.width;
  h.channels = si.channels;
  if (o.abs_bound > 0) {
    h.mode = "abs";
    h.bound = o.abs_bound;
  }
  ASSIGN_OR_RETURN(h.effort, choose_effort(o.fast, o.best, "auto", h.mode != "lossless"));
  std::unique_ptr<ml::FrameNet> model;
  if (!o.model.empty()) {
    ASSIGN_OR_RETURN(auto net, ml::FrameNet::load(o.model));
    RETURN_IF_ERROR(net.use_device(o.device));
    model = std::make_unique<ml::FrameNet>(std::move(net));
    h.model_hash = model->hash();
    h.model = model.get();
  }
  // The sample: the requested frames, at most what the file has.
  int64_t frames = std::min<int64_t>(o.sample_frames, si.frames);
  h.frames = frames;
  codec::tez::choose_layout(&h, 0);
  h.colour_transform = codec::tez::colour_transform_fits(h);
  std::vector<uint8_t> raw(static_cast<size_t>(frames * h.frame_bytes()));
  ASSIGN_OR_RETURN(int64_t got, reader->read(frames, raw.data()));
  if (got != frames) return corrupt(fmt::format("'{}': ended after {} frames", o.input, got));
  const int threads = ctx.threads();
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto coded, codec::tez::encode_buffer(h, raw.data(), threads));
  auto t1 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto reader2, codec::tez::Reader::open_memory(coded, "sample"));
  reader2.set_model(model.get());
  std::vector<uint8_t> back(raw.size());
  for (;;) {
    std::vector<uint8_t> payload;
    ASSIGN_OR_RETURN(auto g, reader2.next(&payload));
    if (!g) break;
    RETURN_IF_ERROR(codec::tez::decode_group_record(reader2.header(), *g, payload,
                                                    back.data() + g->first_frame * h.frame_bytes(), threads));
  }
  auto t2 = std::chrono::steady_clock::now();
  const double bytes = static_cast<double>(raw.size());
  const double ratio = bytes / static_cast<double>(coded.size());
  const double comp = bytes / std::max(1e-9, std::chrono::duration<double>(t1 - t0).count());
  const double decomp = bytes / std::max(1e-9, std::chrono::duration<double>(t2 - t1).count());
  // Compressing and sending overlap (a pipeline), so the slower stage sets the pace.
  const double effective = std::min(comp, link * ratio);
  const double end_to_end = std::min(effective, decomp);
  const double speedup = effective / link;
  const bool compress = speedup > 1.0;
  const char* bottleneck = comp < link * ratio ? "the compressor (add cores with -j)" : "the link";
  if (ctx.json())
    return ctx.print_json({{"input", o.input},
                           {"sample_frames", frames},
                           {"sample_bytes", raw.size()},
                           {"mode", h.mode},
                           {"bound", h.bound},
                           {"ratio", ratio},
                           {"threads", threads},
                           {"compress_bytes_per_s", comp},
                           {"decompress_bytes_per_s", decomp},
                           {"link_bytes_per_s", link},
                           {"raw_send_bytes_per_s", link},
                           {"compressed_send_bytes_per_s", effective},
                           {"speedup", speedup},
                           {"compress_before_sending", compress}});
  std::string text;
  text += fmt::format("sample       {} frames of {} ({})\n", frames, io::display_name(o.input), units::format_bytes(bytes));
  text += fmt::format("tezip        ratio {:.3f}, compress {}, decompress {} ({} threads, {})\n", ratio,
                      units::format_rate(comp), units::format_rate(decomp), threads,
                      h.mode == "lossless" ? std::string("lossless") : fmt::format("|error| <= {}", h.bound));
  text += fmt::format("send raw     {} of detector data per second\n", units::format_rate(link));
  text += fmt::format("compressed   {} of detector data per second; limited by {}\n", units::format_rate(effective), bottleneck);
  text += fmt::format("end to end   {} including decompression at the far end\n", units::format_rate(end_to_end));
  text += compress ? fmt::format("verdict      compress before sending: {:.2f}x the raw rate\n", speedup)
                   : fmt::format("verdict      send raw: compressing would run at {:.2f}x the raw rate\n", speedup);
  return ctx.print(text);
}

}  // namespace sciflow::tezip
