// make_frames: writes a synthetic detector-like series (smooth background, a
// moving bright disc, Gaussian noise) in any format and dtype tezip reads, so that
// the CLI tests need no external data.
//
//   make_frames write OUT --shape T,H,W[,C] --dtype u16 [--format npy|raw|hdf5|png]
//               [--noise SIGMA] [--seed N] [--dataset /entry/data/data]
#include <cmath>
#include <cstring>
#include <iostream>
#include <random>

#include "cli/cli.hpp"
#include "codec/samples.hpp"
#include "io/frames.hpp"

namespace {

struct Options {
  std::string out, shape = "8,32,40", dtype = "u16", format = "auto", dataset = "/entry/data/data";
  double noise = 3.0;
  double brightness = 0;  // added to the scene (fraction of the range): a "flat field"
  uint32_t seed = 1;
};

sciflow::Status make(const Options& o) {
  ASSIGN_OR_RETURN(auto shape, sciflow::io::parse_shape(o.shape));
  auto dt = sciflow::parse_dtype(o.dtype);
  if (!dt) return sciflow::invalid_argument("bad dtype " + o.dtype);
  sciflow::io::SeriesInfo info;
  info.dtype = *dt;
  info.frames = shape[0];
  info.height = shape[1];
  info.width = shape[2];
  info.channels = shape.size() == 4 ? shape[3] : 1;
  info.format = o.format == "auto" ? "raw" : o.format;
  info.dataset = o.dataset;
  info.attributes = {{"units", "counts"}, {"detector", "synthetic"}};
  sciflow::io::WriteOptions wo;
  wo.format = o.format;
  ASSIGN_OR_RETURN(auto w, sciflow::io::create_frames(o.out, info, wo));
  std::mt19937 rng(o.seed);
  std::normal_distribution<double> n(0, o.noise);
  double lo = 0, hi = 255;
  switch (info.dtype) {
    case sciflow::DType::kU16: hi = 65535; break;
    case sciflow::DType::kU32: hi = 1e7; break;
    case sciflow::DType::kI8: lo = -128; hi = 127; break;
    case sciflow::DType::kI16: lo = -32768; hi = 32767; break;
    case sciflow::DType::kI32: lo = -1e7; hi = 1e7; break;
    case sciflow::DType::kF32: lo = -1; hi = 1; break;
    default: break;
  }
  std::vector<uint8_t> frame(static_cast<size_t>(info.frame_bytes()));
  const int es = sciflow::dtype_size(info.dtype);
  for (int64_t t = 0; t < info.frames; ++t) {
    for (int64_t y = 0; y < info.height; ++y)
      for (int64_t x = 0; x < info.width; ++x)
        for (int64_t c = 0; c < info.channels; ++c) {
          double cx = 0.3 * info.width + 0.7 * t, cy = 0.5 * info.height;
          double base = 0.3 + 0.2 * std::sin(0.2 * x + 0.1 * y) + (std::hypot(x - cx, y - cy) < info.height / 4.0 ? 0.3 : 0) + 0.05 * c + o.brightness;
          double v = lo + (hi - lo) * base + (info.dtype == sciflow::DType::kF32 ? n(rng) * 1e-3 : n(rng));
          v = std::clamp(v, lo, hi);
          uint8_t* p = frame.data() + ((y * info.width + x) * info.channels + c) * es;
          switch (info.dtype) {
            case sciflow::DType::kU8: *p = static_cast<uint8_t>(std::lround(v)); break;
            case sciflow::DType::kI8: *p = static_cast<uint8_t>(static_cast<int8_t>(std::lround(v))); break;
            case sciflow::DType::kU16: { auto q = static_cast<uint16_t>(std::lround(v)); std::memcpy(p, &q, 2); break; }
            case sciflow::DType::kI16: { auto q = static_cast<int16_t>(std::lround(v)); std::memcpy(p, &q, 2); break; }
            case sciflow::DType::kU32: { auto q = static_cast<uint32_t>(std::lround(v)); std::memcpy(p, &q, 4); break; }
            case sciflow::DType::kI32: { auto q = static_cast<int32_t>(std::lround(v)); std::memcpy(p, &q, 4); break; }
            case sciflow::DType::kF32: { auto q = static_cast<float>(v); std::memcpy(p, &q, 4); break; }
            default: return sciflow::unsupported("dtype");
          }
        }
    RETURN_IF_ERROR(w->write(1, frame.data()));
  }
  return w->commit();
}

Options g_opts;

void define(sciflow::cli::Definition& def) {
  auto* c = def.command("write", "Write the frames", [](sciflow::cli::Context&) { return make(g_opts); });
  c->add_option("out", g_opts.out, "Output")->required();
  c->add_option("--shape", g_opts.shape, "T,H,W[,C]");
  c->add_option("--dtype", g_opts.dtype, "Element type");
  c->add_option("--format", g_opts.format, "npy, raw, hdf5, png");
  c->add_option("--dataset", g_opts.dataset, "HDF5 dataset");
  c->add_option("--noise", g_opts.noise, "Noise sigma");
  c->add_option("--seed", g_opts.seed, "Random seed");
  c->add_option("--brightness", g_opts.brightness, "Added to the scene, as a fraction of the range");
}

}  // namespace

int main(int argc, char** argv) {
  return sciflow::cli::run({"make_frames", "synthetic frames for tests"}, argc, argv, define);
}
