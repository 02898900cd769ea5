// Shared checks of the tezip group codec's tests (both tiers).
#pragma once

#include <doctest/doctest.h>

#include <vector>

#include "codec/predictive.hpp"

namespace sciflow::codec {

// Codes `v` (frames x channels x height x width) as one lossless group with `g`:
// every block is counted once in the stats and the stream decodes to `v`.
inline void check_lossless_group(const GroupConfig& g, const std::vector<int64_t>& v, int64_t frames) {
  GroupStats st;
  auto enc = encode_group(g, v, frames, &st, nullptr);
  REQUIRE(enc);
  int64_t blocks = 0;
  for (auto b : st.blocks) blocks += b;
  CHECK(blocks == frames * g.channels * ((g.height + g.block - 1) / g.block) * ((g.width + g.block - 1) / g.block));
  std::vector<int64_t> out(v.size(), -1);
  REQUIRE(decode_group(g, *enc, frames, out).is_ok());
  CHECK(out == v);
}

}  // namespace sciflow::codec
