// codec/med: LOCO-I's median edge detector, shared by both tezip tiers.
// Thread safety: pure function.
#pragma once

#include <algorithm>
#include <cstdint>

namespace sciflow::codec {

// The median of w, n and w + n - nw: n or w across an edge, the plane through the
// three neighbours elsewhere. Without branches (the data decide them, so branches
// would mispredict on noisy frames).
[[gnu::always_inline]] inline int64_t med3(int64_t w, int64_t n, int64_t nw) {
  const int64_t mx = std::max(w, n), mn = std::min(w, n);
  return std::max(mn, std::min(mx, w + n - nw));
}

}  // namespace sciflow::codec
