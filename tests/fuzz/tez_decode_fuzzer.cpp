// libFuzzer target: any bytes given to the .tez reader and decoder must give a
// Status, never a crash, hang, out-of-bounds access or huge allocation.
//   cmake -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DSCIFLOW_FUZZ=ON && ...
//   build-fuzz/tests/tez_decode_fuzzer -max_total_time=60 corpus/
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/tez.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sciflow::codec;
  auto reader = tez::Reader::open_memory(std::span(data, size), "fuzz");
  if (!reader) return 0;
  const tez::Header& h = reader->header();
  (void)reader->index();  // the random-access path on the same bytes
  for (int groups = 0; groups < 64; ++groups) {
    std::vector<uint8_t> payload;
    auto next = reader->next(&payload);
    if (!next || !*next) break;
    const tez::GroupInfo& g = **next;
    std::vector<uint8_t> out(static_cast<size_t>(g.frames * h.frame_bytes()));
    (void)tez::decode_group_record(h, g, payload, out.data(), 1);
  }
  return 0;
}
