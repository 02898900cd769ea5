// vindex embed: run a TorchScript model over frames to get one vector per frame.
#include <fmt/core.h>


#include "core/log.hpp"
#include "index/vectors.hpp"
#include "io/frames.hpp"
#include "ml/script_model.hpp"
#include "term/term.hpp"
#include "tools/vindex/commands.hpp"

namespace sciflow::vindex {

Status run_embed(const EmbedOptions& o, cli::Context& ctx) {
  io::ReadOptions ro;
  ro.drop_alpha = o.drop_alpha;
  ASSIGN_OR_RETURN(auto reader, io::open_frames(o.input, ro));
  const io::SeriesInfo info = reader->info();
  ASSIGN_OR_RETURN(auto model, ml::ScriptModel::load(o.model, o.device));
  // Frames arrive as height x width x channels; the model gets batch x channels x height x width.
  const int64_t h = info.height, w = info.width, c = info.channels;
  std::vector<uint8_t> raw(static_cast<size_t>(o.batch * info.frame_bytes()));
  std::vector<float> flat(static_cast<size_t>(info.frame_elements()));
  index::VectorSet out;
  term::ProgressBar bar(ctx.progress("embedding", info.frames, false));
  for (;;) {
    ASSIGN_OR_RETURN(int64_t n, reader->read(o.batch, raw.data()));
    if (n == 0) break;
    std::vector<float> input(static_cast<size_t>(n * info.frame_elements()));
    for (int64_t f = 0; f < n; ++f) {
      const uint8_t* src = raw.data() + f * info.frame_bytes();
      to_float(info.dtype, src, info.frame_elements(), flat.data());
      float* dst = input.data() + f * info.frame_elements();
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t p = 0; p < h * w; ++p) dst[ch * h * w + p] = flat[static_cast<size_t>(p * c + ch)];
    }
    int64_t cols = 0;
    ASSIGN_OR_RETURN(auto y, model.forward(input, {n, c, h, w}, &cols));
    if (out.dim == 0) out.dim = cols;
    if (cols != out.dim) return internal_error(fmt::format("{}: output width changed from {} to {}", o.model, out.dim, cols));
    out.data.insert(out.data.end(), y.begin(), y.end());
    for (int64_t f = 0; f < n; ++f) out.ids.push_back(out.rows + f);
    out.rows += n;
    bar.add(n);
  }
  bar.finish();
  if (out.rows == 0) return invalid_argument(fmt::format("{}: no frames", o.input));
  RETURN_IF_ERROR(index::write_vectors(o.output, out, o.force || o.output == "-"));
  log::info("{}: {} vectors of dimension {} from {} ({})", o.output, out.rows, out.dim, o.input, o.device);
  return Status::ok();
}

}  // namespace sciflow::vindex
