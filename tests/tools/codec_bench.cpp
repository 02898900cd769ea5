// codec_bench: the tezip stripe codecs alone (no container, no I/O) on a raw
// array, best of N runs, to profile and compare coder changes without the noise
// of reading and writing files.
//
//   codec_bench RAW T,H,W,C u8|u16 [--tier fast|best] [--group N] [--runs N]
//
// Prints coded bytes, ratio and MB/s of raw data for encode and decode (one
// thread, frames in groups of --group as one stripe each).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/predictive.hpp"
#include "codec/samples.hpp"

int main(int argc, char** argv) {
  using namespace sciflow;
  using namespace sciflow::codec;
  if (argc < 4) {
    std::fprintf(stderr, "usage: codec_bench RAW T,H,W,C u8|u16 [--tier fast|best] [--group N] [--runs N]\n");
    return 2;
  }
  int64_t T = 0, H = 0, W = 0, C = 1;
  if (std::sscanf(argv[2], "%ld,%ld,%ld,%ld", &T, &H, &W, &C) < 3) return 2;
  const std::string dtype = argv[3];
  bool fast = true;
  int64_t group = 32;
  int runs = 3;
  for (int i = 4; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--tier") fast = std::string(argv[i + 1]) == "fast";
    else if (a == "--group") group = std::atol(argv[i + 1]);
    else if (a == "--runs") runs = std::atoi(argv[i + 1]);
  }
  const DType dt = dtype == "u16" ? DType::kU16 : DType::kU8;
  std::ifstream f(argv[1], std::ios::binary);
  std::vector<uint8_t> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const int64_t fb = H * W * C * dtype_size(dt);
  T = std::min<int64_t>(T, static_cast<int64_t>(raw.size()) / fb);
  std::vector<int64_t> samples(static_cast<size_t>(T * H * W * C));
  to_samples(dt, raw.data(), T, H, W, C, samples.data(), fb);
  // Planes in the codec's order: frame, channel, row, column.
  GroupConfig g;
  g.channels = C;
  g.height = H;
  g.width = W;
  g.lo = 0;
  g.hi = dt == DType::kU16 ? 65535 : 255;
  g.fast = fast;
  double best_e = 1e30, best_d = 1e30;
  size_t bytes = 0;
  std::vector<int64_t> back(samples.size());
  for (int r = 0; r < runs; ++r) {
    bytes = 0;
    double te = 0, td = 0;
    for (int64_t t0 = 0; t0 < T; t0 += group) {
      const int64_t n = std::min(group, T - t0);
      std::span<const int64_t> in(samples.data() + t0 * H * W * C, static_cast<size_t>(n * H * W * C));
      GroupStats st;
      auto a = std::chrono::steady_clock::now();
      auto coded = encode_group(g, in, n, &st, nullptr);
      auto b = std::chrono::steady_clock::now();
      if (!coded) {
        std::fprintf(stderr, "%s\n", coded.status().message().c_str());
        return 1;
      }
      bytes += coded->size();
      Status s = decode_group(g, *coded, n, std::span(back.data() + t0 * H * W * C, in.size()));
      auto c = std::chrono::steady_clock::now();
      if (!s.is_ok()) {
        std::fprintf(stderr, "%s\n", s.message().c_str());
        return 1;
      }
      te += std::chrono::duration<double>(b - a).count();
      td += std::chrono::duration<double>(c - b).count();
    }
    best_e = std::min(best_e, te);
    best_d = std::min(best_d, td);
  }
  if (back != samples) {
    std::fprintf(stderr, "codec_bench: decoded samples differ\n");
    return 1;
  }
  const double mb = static_cast<double>(T * fb) / 1e6;
  std::printf("%ld bytes  ratio %.4f  encode %.1f MB/s  decode %.1f MB/s\n", static_cast<long>(bytes),
              static_cast<double>(T * fb) / static_cast<double>(bytes), mb / best_e, mb / best_d);
  return 0;
}
