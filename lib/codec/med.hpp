// codec/med: LOCO-I's median edge detector, shared by both tezip tiers.
// Thread safety: pure function.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace sciflow::codec {

namespace detail {
// min and max of int64 with conditional moves. In serial loops (each sample's
// prediction needs the one before) GCC compiles the std::min/std::max of med3 into
// a branch on which of w and n is larger; the data decide it, so it mispredicts
// about half the time on noisy frames (measured: half of the fast decoder's time).
[[gnu::always_inline]] inline int64_t min64(int64_t a, int64_t b) {
#if defined(__x86_64__)
  asm("cmpq %1, %0\n\tcmovgq %1, %0" : "+r"(a) : "r"(b) : "cc");
  return a;
#else
  return std::min(a, b);
#endif
}
[[gnu::always_inline]] inline int64_t max64(int64_t a, int64_t b) {
#if defined(__x86_64__)
  asm("cmpq %1, %0\n\tcmovlq %1, %0" : "+r"(a) : "r"(b) : "cc");
  return a;
#else
  return std::max(a, b);
#endif
}
}  // namespace detail

// The median of w, n and w + n - nw: n or w across an edge, the plane through the
// three neighbours elsewhere. Without branches (the data decide them, so branches
// would mispredict on noisy frames).
// T: int64_t (conditional moves), or int32_t where the samples leave room for
// w + n - nw (plain min/max, which GCC vectorises in the encoder's cost pass).
template <class T>
[[gnu::always_inline]] inline T med3(T w, T n, T nw) {
  if constexpr (std::is_same_v<T, int64_t>) {
    const T mx = detail::max64(w, n), mn = detail::min64(w, n);
    return detail::max64(mn, detail::min64(mx, w + n - nw));
  } else {
    const T mx = std::max(w, n), mn = std::min(w, n);
    return std::max(mn, std::min(mx, w + n - nw));
  }
}

// std::clamp without branches for int64 (as med3).
[[gnu::always_inline]] inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
  return detail::min64(detail::max64(v, lo), hi);
}

}  // namespace sciflow::codec
