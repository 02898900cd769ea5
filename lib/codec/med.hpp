// codec/med: LOCO-I's median edge detector, shared by both tezip tiers.
// Thread safety: pure function.
#pragma once

#include <algorithm>
#include <cstdint>

namespace sciflow::codec {

// The median of w, n and w + n - nw: n or w across an edge, the plane through the
// three neighbours elsewhere. Without branches (the data decide them, so branches
// would mispredict on noisy frames).
// T: int64_t, or int32_t where the samples leave room for w + n - nw.
template <class T>
[[gnu::always_inline]] inline T med3(T w, T n, T nw) {
  const T mx = std::max(w, n), mn = std::min(w, n);
  return std::max(mn, std::min(mx, w + n - nw));
}

}  // namespace sciflow::codec
