// tezip info: what a .tez file holds, read from its records without decoding them.
#include <fmt/core.h>

#include "core/units.hpp"
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {

Status run_info(const InfoOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(auto reader, codec::tez::Reader::open(o.input));
  const codec::tez::Header& h = reader.header();
  std::array<int64_t, codec::kMaxBlockCounters> blocks{};
  int64_t groups = 0, frames = 0, coded = 0, lossless_groups = 0, stripes = 0, learned_stripes = 0, colour_groups = 0,
          deep_planes = 0;
  Json starts = Json::array();
  for (;;) {
    std::vector<uint8_t> payload;
    ASSIGN_OR_RETURN(auto next, reader.next(&payload));
    if (!next) break;
    ++groups;
    starts.push_back(next->first_frame);
    frames += next->frames;
    coded += static_cast<int64_t>(payload.size());
    if (next->bound == 0 && !(next->flags & codec::tez::kFlagFloatGrid)) ++lossless_groups;
    if (next->flags & codec::tez::kFlagColour) ++colour_groups;
    for (int k = 0; k < codec::kMaxBlockCounters; ++k) blocks[static_cast<size_t>(k)] += next->stats.blocks[static_cast<size_t>(k)];
    stripes += static_cast<int64_t>(next->stripe_bytes.size());
    learned_stripes += next->stats.learned_stripes;
    deep_planes += next->stats.deep_planes;
  }
  const bool learned = !h.model_hash.empty();
  // Best tier, format version 7: planes (frame x channel x stripe) whose fits saw 8 frames back.
  const bool deep = h.effort != "fast" && h.format_major >= 7;
  const int64_t planes = frames * h.channels * (groups ? stripes / groups : 0);
  const int64_t raw = frames * h.frame_bytes();
  int64_t file_bytes = reader.file_bytes();
  double secs = reader.end_stats().value("compress_seconds", 0.0);
  int threads = reader.end_stats().value("threads", 0);
  int64_t total_blocks = 0;
  for (auto b : blocks) total_blocks += b;
  Json use = Json::object();
  for (int k = 0; k < codec::tez::predictor_count(h); ++k)
    use[codec::tez::predictor_label(h, k)] =
        total_blocks ? static_cast<double>(blocks[static_cast<size_t>(k)]) / static_cast<double>(total_blocks) : 0.0;
  double ratio = file_bytes > 0 ? static_cast<double>(raw) / static_cast<double>(file_bytes) : 0;
  if (ctx.json()) {
    Json j = h.to_json();
    j["file"] = o.input;
    j["groups"] = groups;
    j["group_starts"] = starts;
    j["raw_bytes"] = raw;
    j["file_bytes"] = file_bytes;
    j["coded_bytes"] = coded;
    j["ratio"] = ratio;
    j["predictor_use"] = use;
    j["lossless_groups"] = lossless_groups;
    j["colour_transform_groups"] = colour_groups;
    if (learned && h.effort != "fast") j["stripes_using_model"] = learned_stripes;
    if (deep) j["planes_seeing_8_frames_back"] = deep_planes;
    j["stripes"] = stripes;
    j["compress_seconds"] = secs;
    j["compress_threads"] = threads;
    j["compress_mb_per_s"] = secs > 0 ? raw / secs / 1e6 : 0;
    return ctx.print_json(j);
  }
  std::string shape = fmt::format("{} x {} x {}", frames, h.height, h.width);
  if (h.channels > 1) shape += fmt::format(" x {}", h.channels);
  std::string mode = h.mode == "lossless" ? "lossless"
                     : h.mode == "abs"    ? fmt::format("lossy, |error| <= {}", h.bound)
                                          : fmt::format("lossy, |error| <= {} of the value range", h.bound);
  std::string text;
  text += fmt::format("file        {}\n", o.input);
  text += fmt::format("frames      {} ({} {})\n", shape, dtype_name(h.dtype), h.source_format);
  if (!h.dataset.empty()) text += fmt::format("dataset     {}\n", h.dataset);
  text += fmt::format("mode        {}\n", mode);
  text += fmt::format("groups      {} of up to {} frames, stripes of {} rows\n", groups, h.group_frames, h.stripe_rows);
  text += fmt::format("size        {} raw, {} compressed", units::format_bytes(static_cast<double>(raw)),
                      file_bytes >= 0 ? units::format_bytes(static_cast<double>(file_bytes)) : "?");
  text += file_bytes > 0 ? fmt::format(", ratio {:.3f}\n", ratio) : "\n";
  text += fmt::format("tier        {}\n", h.effort == "fast" ? "fast (fixed predictors, rANS)"
                                                           : "best (least-squares predictors, binary range coder)");
  text += "predictors ";
  for (const auto& [k, v] : use.items()) text += fmt::format(" {} {:.1f}%", k, v.get<double>() * 100);
  text += "\n";
  if (deep)
    text += fmt::format("history     {} of {} planes predicted from up to {} frames back, the others from 2\n",
                        deep_planes, planes, codec::kMaxDepth);
  if (h.colour_transform)
    text += fmt::format("colour      channels 0 and 2 coded as differences from channel 1 in {} of {} groups\n",
                        colour_groups, groups);
  if (learned && h.effort == "fast") text += fmt::format("model       {} (a predictor chosen per block)\n", h.model_hash);
  else if (learned) text += fmt::format("model       {} (used by {} of {} stripes)\n", h.model_hash, learned_stripes, stripes);
  if (secs > 0) text += fmt::format("compressed  in {:.3f} s with {} threads ({})\n", secs, threads, units::format_rate(raw / secs));
  if (!h.created_by.empty()) text += fmt::format("created by  {}\n", h.created_by);
  return ctx.print(text);
}

}  // namespace sciflow::tezip
