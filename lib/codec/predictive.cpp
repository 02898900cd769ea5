#include "codec/predictive.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numbers>

#include "codec/fast.hpp"
#include "codec/med.hpp"
#include "codec/range_coder.hpp"
#include "ml/frame_net.hpp"

namespace sciflow::codec {
namespace {

constexpr int kMaxFeatures = 32;
constexpr int kCoefShift = 16;      // coefficients are fixed point with 16 fraction bits
constexpr int kCoefBits = 28;       // stored as unsigned offset values of this width
constexpr int64_t kCoefLimit = (int64_t{1} << (kCoefBits - 1)) - 1;
constexpr int kBuckets = 32;        // activity contexts per predictor
constexpr int64_t kFitPlanePixels = 32768;  // smaller planes share one fit per group
constexpr int64_t kFitSamples = 24000;
// Classified least squares (GroupConfig::classified, format version 6): from the
// second frame of a group on, a fit has two coefficient sets, one for samples whose
// causal neighbours (W, N, NW, NE) changed little since the previous frame (a static
// background under noise) and one for those that changed more (moving objects),
// split at a threshold the encoder stores first: all ones (kOneSet) means one set
// only, where a second would not pay for its side information. A fit's block in
// memory: set 0, set 1, threshold.
constexpr int kCoefBlock = 2 * kMaxFeatures + 1;
constexpr int kThreshold = 2 * kMaxFeatures;
constexpr int64_t kNoSplit = std::numeric_limits<int64_t>::max();  // every sample in set 0
constexpr int kThresholdBits = 40;  // stored as two 20-bit values
constexpr int64_t kOneSet = (int64_t{1} << kThresholdBits) - 1;  // stored threshold: no second set
// A lossy stripe's residuals are quantised: most fall in the deadband whatever
// the weights, so a split saves far fewer bits than the Gaussian estimate says
// (first 60 bulk-water frames at e = 1 / 2: scale 1 lost 2.2% / 2.2%, 16 ties one set
// and wins 0.5% at e = 2; bright-field e = 2 keeps 3.6% of its 3.8%).
constexpr double kLossyBitsScale = 16;
// A lossy fit keeps the frames further back only where they save this fraction of
// its estimated bits (beyond their coefficients): the estimate comes from a sample
// and from the reconstruction of an earlier pass (bulk-water at e = 2: without a
// margin 0.6% lost, K11 at e = 300 saves 5%).
constexpr double kDeepMargin = 0.01;
constexpr double kDeepMarginLossless = 0.002;  // of the Gaussian estimate (bulk-water: 0.04% lost without)
constexpr double kSplitOverMedian = 2.5;  // the threshold: this times the median change (bright-field: 2.0-3.0 within 0.2%)

// What a plane's predictors can see: the plane itself (decoded so far when coding)
// and fully decoded neighbours in time and channel.
struct Refs {
  const int64_t* cur = nullptr;
  const int64_t* p1 = nullptr;   // previous frame, same channel (level >= 1)
  const int64_t* p2 = nullptr;   // two frames back (level >= 2)
  const int64_t* deep[kMaxDepth - 2] = {};  // three to `depth` frames back (level 3)
  int depth = 2;
  const int64_t* pc = nullptr;   // previous channel, this frame (channel > 0)
  const int64_t* pc1 = nullptr;  // previous channel, previous frame (channel > 0, level >= 1)
  const int64_t* pres = nullptr; // previous channel's coded residuals, this frame (null: use 0)
  const int64_t* target = nullptr;  // fitting only: the values to predict (default: cur)
  const int64_t* model = nullptr;   // the learned prediction of this plane (level >= 1), or null
  int64_t h = 0, w = 0;
  int level = 0;
  int64_t mid = 0;
};

int feature_count(int level, int depth, bool chan, bool model) {
  int n = level == 0 ? 6 : (level == 1 ? 13 : (level == 2 ? 18 : 18 + depth - 2));
  return n + (chan ? 4 : 0) + (model && level >= 1 ? 1 : 0) + 1;  // + bias
}

// Fills f[] with the features of sample (y, x) relative to the returned base, and
// the other candidates' predictions: cand[0] unused (least squares is computed by
// the caller), cand[1] MED, cand[2] previous frame, cand[3] linear extrapolation,
// cand[4] the learned model.
template <bool kInterior>
inline int64_t gather(const Refs& r, int64_t y, int64_t x, int64_t* f, int64_t* cand) {
  const int64_t w = r.w, i = y * w + x;
  const int64_t* cur = r.cur;
  auto at = [&](const int64_t* p, int64_t yy, int64_t xx) {
    if (!kInterior) {
      yy = std::clamp<int64_t>(yy, 0, r.h - 1);
      xx = std::clamp<int64_t>(xx, 0, w - 1);
    }
    return p[yy * w + xx];
  };
  const bool hw = kInterior || x > 0, hn = kInterior || y > 0, hnw = kInterior || (x > 0 && y > 0),
             hne = kInterior || (y > 0 && x + 1 < w), hww = kInterior || x > 1, hnn = kInterior || y > 1;
  int k = 0;
  int64_t base;
  if (r.level == 0) {
    int64_t W = hw ? cur[i - 1] : (hn ? cur[i - w] : r.mid);
    int64_t N = hn ? cur[i - w] : W;
    int64_t NW = hnw ? cur[i - w - 1] : N;
    int64_t NE = hne ? cur[i - w + 1] : N;
    int64_t WW = hww ? cur[i - 2] : W;
    int64_t NN = hnn ? cur[i - 2 * w] : N;
    base = W;
    int64_t m = med3(W, N, NW);
    f[k++] = N - base;
    f[k++] = NW - base;
    f[k++] = NE - base;
    f[k++] = NN - base;
    f[k++] = WW - base;
    f[k++] = m - base;
    if (r.pc) {  // the previous channel, already decoded at this pixel: its local gradients
      const int64_t* pc = r.pc;
      f[k++] = pc[i] - (hw ? pc[i - 1] : (hn ? pc[i - w] : pc[i]));
      f[k++] = pc[i] - (hn ? pc[i - w] : pc[i]);
      f[k++] = pc[i] - (hnw ? pc[i - w - 1] : pc[i]);
      f[k++] = r.pres ? r.pres[i] : 0;
    }
    cand[1] = m;
    cand[2] = m;
    cand[3] = m;
    cand[4] = m;
  } else {
    const int64_t* p1 = r.p1;
    int64_t P = p1[i];
    base = P;
    f[k++] = hw ? cur[i - 1] - p1[i - 1] : 0;
    f[k++] = hn ? cur[i - w] - p1[i - w] : 0;
    f[k++] = hnw ? cur[i - w - 1] - p1[i - w - 1] : 0;
    f[k++] = hne ? cur[i - w + 1] - p1[i - w + 1] : 0;
    f[k++] = at(p1, y, x - 1) - P;
    f[k++] = at(p1, y, x + 1) - P;
    f[k++] = at(p1, y - 1, x) - P;
    f[k++] = at(p1, y + 1, x) - P;
    f[k++] = at(p1, y - 1, x - 1) - P;
    f[k++] = at(p1, y - 1, x + 1) - P;
    f[k++] = at(p1, y + 1, x - 1) - P;
    f[k++] = at(p1, y + 1, x + 1) - P;
    int64_t Wc = hw ? cur[i - 1] : P, Nc = hn ? cur[i - w] : P, NWc = hnw ? cur[i - w - 1] : P;
    int64_t m = med3(Wc, Nc, NWc);
    f[k++] = m - P;
    cand[1] = m;
    cand[2] = P;
    cand[3] = P;
    cand[4] = P;
    if (r.model) {
      f[k++] = r.model[i] - P;
      cand[4] = r.model[i];
    }
    if (r.level >= 2) {
      const int64_t* p2 = r.p2;
      f[k++] = p2[i] - P;
      f[k++] = at(p2, y - 1, x) - P;
      f[k++] = at(p2, y + 1, x) - P;
      f[k++] = at(p2, y, x - 1) - P;
      f[k++] = at(p2, y, x + 1) - P;
      cand[3] = 2 * P - p2[i];
    }
    if (r.level >= 3)  // the same pixel further back: lets the fit average the noise of a slow drift away
      for (int j = 0; j < r.depth - 2; ++j) f[k++] = r.deep[j][i] - P;
    if (r.pc) {  // the previous channel: its change since the last frame, and its local gradients
      const int64_t* pc = r.pc;
      f[k++] = pc[i] - r.pc1[i];
      f[k++] = pc[i] - (hw ? pc[i - 1] : pc[i]);
      f[k++] = pc[i] - (hn ? pc[i - w] : pc[i]);
      f[k++] = r.pres ? r.pres[i] : 0;
    }
  }
  f[k++] = 1;
  return base;
}

// How much the causal neighbours changed since the previous frame: features 0-3
// at level >= 1 (see gather).
inline int64_t temporal_change(const int64_t* f) {
  return std::abs(f[0]) + std::abs(f[1]) + std::abs(f[2]) + std::abs(f[3]);
}
// The class (0 or 1) of a sample with features f under a fit's block.
inline int split_class(const Refs& r, const int64_t* block, const int64_t* f) {
  return r.level >= 1 && temporal_change(f) > block[kThreshold] ? 1 : 0;
}

inline bool interior(const Refs& r, int64_t y, int64_t x) {
  return y >= 2 && y + 1 < r.h && x >= 2 && x + 2 < r.w;
}

inline int64_t lsq(const int64_t* coef, const int64_t* f, int n, int64_t base) {
  int64_t acc = 0;
  for (int j = 0; j < n; ++j) acc += coef[j] * f[j];
  return base + ((acc + (int64_t{1} << (kCoefShift - 1))) >> kCoefShift);
}

// All candidate predictions for (y, x), clamped to [lo, hi]; `block` is a fit's
// coefficient block (kCoefBlock values).
inline void predict_all(const Refs& r, const int64_t* block, int n, int64_t y, int64_t x, int64_t lo,
                        int64_t hi, int64_t* cand) {
  int64_t f[kMaxFeatures];
  int64_t base = interior(r, y, x) ? gather<true>(r, y, x, f, cand) : gather<false>(r, y, x, f, cand);
  cand[0] = lsq(block + split_class(r, block, f) * kMaxFeatures, f, n, base);
  for (int c = 0; c < kNumPredictors; ++c) cand[c] = std::clamp(cand[c], lo, hi);
}

// ---- least-squares fit (encoder only; its result is stored, so the decoder never
// depends on floating point) ----------------------------------------------------

struct Normal {
  int n = 0;
  int64_t samples = 0;
  double tt = 0;  // sum of squared targets
  double a[kMaxFeatures][kMaxFeatures] = {};
  double b[kMaxFeatures] = {};
  // Sum of squared errors of fixed-point coefficients c on the accumulated samples.
  double sse(const int64_t* c) const {
    double x[kMaxFeatures], r = tt;
    for (int j = 0; j < n; ++j) x[j] = static_cast<double>(c[j]) / (1 << kCoefShift);
    for (int j = 0; j < n; ++j) {
      r -= 2 * x[j] * b[j];
      for (int k = 0; k < n; ++k) r += x[j] * x[k] * (j >= k ? a[j][k] : a[k][j]);
    }
    return std::max(r, 0.0);
  }
  // The same sums without features first..first+count-1.
  Normal without(int first, int count) const {
    Normal r;
    r.n = n - count;
    r.samples = samples;
    r.tt = tt;
    auto from = [&](int j) { return j < first ? j : j + count; };
    for (int j = 0; j < r.n; ++j) {
      r.b[j] = b[from(j)];
      for (int k = 0; k <= j; ++k) r.a[j][k] = a[from(j)][from(k)];
    }
    return r;
  }
  void add(const Normal& o) {
    samples += o.samples;
    tt += o.tt;
    for (int j = 0; j < n; ++j) {
      b[j] += o.b[j];
      for (int k = 0; k <= j; ++k) a[j][k] += o.a[j][k];
    }
  }
};

// Every step-th sample from `offset`, into ne[class] under `block`'s threshold.
void accumulate(Normal* nes, const Refs& r, const int64_t* block, int64_t step, int64_t offset) {
  // Four samples of a class at a time: each sum of the matrix is loaded and stored
  // once per four samples instead of once per sample (the fits' share of a best-tier
  // encode, bright-field --best: ~26% before, 17% after; 1.76 -> 1.52 s, the same bytes).
  constexpr int kBatch = 4;
  double fd[2][kBatch][kMaxFeatures], td[2][kBatch];
  int held[2] = {0, 0};
  auto flush = [&](int cls) {
    Normal& ne = nes[cls];
    const int m = held[cls];
    const double(*g)[kMaxFeatures] = fd[cls];
    const double* t = td[cls];
    for (int j = 0; j < ne.n; ++j) {
      double bj = 0;
      for (int q = 0; q < m; ++q) bj += g[q][j] * t[q];
      ne.b[j] += bj;
      double* row = ne.a[j];
      if (m == kBatch) {
        const double g0 = g[0][j], g1 = g[1][j], g2 = g[2][j], g3 = g[3][j];
        for (int k = 0; k <= j; ++k) row[k] += g0 * g[0][k] + g1 * g[1][k] + g2 * g[2][k] + g3 * g[3][k];
      } else {
        for (int q = 0; q < m; ++q)
          for (int k = 0; k <= j; ++k) row[k] += g[q][j] * g[q][k];
      }
    }
    held[cls] = 0;
  };
  int64_t f[kMaxFeatures], cand[kNumPredictors];
  const int64_t total = r.h * r.w;
  for (int64_t i = offset % std::max<int64_t>(step, 1); i < total; i += step) {
    int64_t y = i / r.w, x = i % r.w;
    int64_t base = interior(r, y, x) ? gather<true>(r, y, x, f, cand) : gather<false>(r, y, x, f, cand);
    const int cls = split_class(r, block, f);
    Normal& ne = nes[cls];
    ++ne.samples;
    const double t = static_cast<double>((r.target ? r.target[i] : r.cur[i]) - base);
    ne.tt += t * t;
    double* row = fd[cls][held[cls]];
    for (int j = 0; j < ne.n; ++j) row[j] = static_cast<double>(f[j]);
    td[cls][held[cls]] = t;
    if (++held[cls] == kBatch) flush(cls);
  }
  if (held[0]) flush(0);
  if (held[1]) flush(1);
}

// Solves (A + ridge) c = b by Cholesky; quantises c to fixed point.
void solve(const Normal& ne, int64_t* coef) {
  const int n = ne.n;
  double l[kMaxFeatures][kMaxFeatures] = {};
  double maxdiag = 0;
  for (int j = 0; j < n; ++j) maxdiag = std::max(maxdiag, ne.a[j][j]);
  double ridge = 1e-7 * maxdiag + 1e-9;
  for (int j = 0; j < n; ++j) {
    for (int k = 0; k <= j; ++k) {
      double s = ne.a[j][k] + (j == k ? ridge : 0);
      for (int m = 0; m < k; ++m) s -= l[j][m] * l[k][m];
      if (j == k) {
        if (s <= 0) {
          std::fill(coef, coef + n, 0);
          return;
        }
        l[j][j] = std::sqrt(s);
      } else {
        l[j][k] = s / l[k][k];
      }
    }
  }
  double z[kMaxFeatures], c[kMaxFeatures];
  for (int j = 0; j < n; ++j) {
    double s = ne.b[j];
    for (int m = 0; m < j; ++m) s -= l[j][m] * z[m];
    z[j] = s / l[j][j];
  }
  for (int j = n - 1; j >= 0; --j) {
    double s = z[j];
    for (int m = j + 1; m < n; ++m) s -= l[m][j] * c[m];
    c[j] = s / l[j][j];
  }
  for (int j = 0; j < n; ++j) {
    double q = std::round(c[j] * (1 << kCoefShift));
    if (!std::isfinite(q)) q = 0;
    coef[j] = static_cast<int64_t>(std::clamp(q, -static_cast<double>(kCoefLimit), static_cast<double>(kCoefLimit)));
  }
}

// ---- residual models -------------------------------------------------------------

inline int bit_length(uint64_t u) { return u == 0 ? 0 : 64 - std::countl_zero(u); }

inline int bucket(uint64_t a) {
  if (a < 2) return static_cast<int>(a);
  int b = bit_length(a);
  int k = 2 * b - 2 + static_cast<int>((a >> (b - 2)) & 1);
  return std::min(k, kBuckets - 1);
}

struct Models {
  int depth = 0;  // bits of the exponent tree
  int max_e = 0;
  std::vector<BitModel> exp, sign, mant, choice;

  explicit Models(uint64_t max_mag) {
    max_e = bit_length(max_mag);
    depth = std::max(1, bit_length(static_cast<uint64_t>(max_e)));
    const size_t ctxs = static_cast<size_t>(kNumPredictors) * kBuckets;
    exp.resize(ctxs << depth);
    sign.resize(ctxs * 9);
    mant.resize(ctxs * static_cast<size_t>(max_e + 1) * 3);
    choice.resize((kNumPredictors + 1) * 8);
  }
};

// Context for coding sample i: how large the residuals around it were (left, above,
// the same pixel in the previous frame and in the previous channel).
inline uint64_t activity(const uint32_t* mc, const uint32_t* mp, const uint32_t* mpc, int64_t i, int64_t x, int64_t y,
                         int64_t w) {
  uint64_t a = 2 * (uint64_t{x > 0 ? mc[i - 1] : 0u} + (y > 0 ? mc[i - w] : 0u) + (mp ? mp[i] : 0u)) +
               (x > 0 && y > 0 ? mc[i - w - 1] : 0u) + (y > 0 && x + 1 < w ? mc[i - w + 1] : 0u);
  if (mpc) a += 2 * uint64_t{mpc[i]};
  return a;
}

// Signs of the residuals to the left and above (3 x 3): a predictor that is
// locally biased leaves same-signed residuals next to each other.
inline int sign_context(const int64_t* res, int64_t i, int64_t x, int64_t y, int64_t w) {
  auto sg = [](int64_t v) { return v > 0 ? 2 : (v < 0 ? 0 : 1); };
  return (x > 0 ? sg(res[i - 1]) : 1) * 3 + (y > 0 ? sg(res[i - w]) : 1);
}

inline uint32_t saturate(uint64_t v) { return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(v); }

template <typename Coder>
inline void code_residual_enc(Coder& rc, Models& m, int ctx, int sctx, int64_t v) {
  uint64_t u = v < 0 ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
  int e = bit_length(u);
  BitModel* tree = &m.exp[static_cast<size_t>(ctx) << m.depth];
  int node = 1;
  for (int i = m.depth - 1; i >= 0; --i) {
    int bit = (e >> i) & 1;
    rc.encode(tree[node], bit);
    node = node * 2 + bit;
  }
  if (e == 0) return;
  rc.encode(m.sign[static_cast<size_t>(ctx) * 9 + static_cast<size_t>(sctx)], v < 0);
  if (e < 2) return;
  uint64_t rest = u - (uint64_t{1} << (e - 1));
  int nb = e - 1;
  BitModel* mm = &m.mant[(static_cast<size_t>(ctx) * (m.max_e + 1) + e) * 3];
  int b1 = static_cast<int>((rest >> (nb - 1)) & 1);
  rc.encode(mm[0], b1);
  if (nb >= 2) {
    rc.encode(mm[1 + b1], static_cast<int>((rest >> (nb - 2)) & 1));
    if (nb > 2) rc.encode_direct(rest & ((uint64_t{1} << (nb - 2)) - 1), nb - 2);
  }
}

inline bool code_residual_dec(RangeDecoder& rc, Models& m, int ctx, int sctx, int64_t* v) {
  BitModel* tree = &m.exp[static_cast<size_t>(ctx) << m.depth];
  int node = 1;
  for (int i = 0; i < m.depth; ++i) node = node * 2 + rc.decode(tree[node]);
  int e = node - (1 << m.depth);
  if (e == 0) {
    *v = 0;
    return true;
  }
  if (e > m.max_e) return false;
  int neg = rc.decode(m.sign[static_cast<size_t>(ctx) * 9 + static_cast<size_t>(sctx)]);
  uint64_t u = 1;
  if (e >= 2) {
    int nb = e - 1;
    BitModel* mm = &m.mant[(static_cast<size_t>(ctx) * (m.max_e + 1) + e) * 3];
    uint64_t b1 = static_cast<uint64_t>(rc.decode(mm[0]));
    uint64_t rest = b1;
    if (nb >= 2) {
      rest = (rest << 1) | static_cast<uint64_t>(rc.decode(mm[1 + b1]));
      if (nb > 2) rest = (rest << (nb - 2)) | rc.decode_direct(nb - 2);
    }
    u = (uint64_t{1} << (e - 1)) + rest;
  }
  *v = neg ? -static_cast<int64_t>(u) : static_cast<int64_t>(u);
  return true;
}

// ---- the plane loop shared by encoder and decoder ---------------------------------

struct Layout {
  int64_t c = 1, h = 0, w = 0;
  int64_t plane() const { return h * w; }
  int64_t frame() const { return c * h * w; }
};

bool allowed(Predictor forced, int level, int cand, bool model) {
  if (cand < 0 || cand >= kNumPredictors) return false;
  if (cand == 2 && level < 1) return false;
  if (cand == 3 && level < 2) return false;
  if (cand == 4 && (level < 1 || !model)) return false;
  if (forced == Predictor::kAuto) return true;
  return cand == static_cast<int>(forced) - 1;
}

// The forced predictor, or the nearest one that exists at this level.
int fallback(Predictor forced, int level) {
  int want = static_cast<int>(forced) - 1;
  if (want == 3 && level < 2) want = 2;
  if (want == 2 && level < 1) want = 1;
  return want;
}

// The predictor level of frame t of a group: how many frames back its fit sees (0, 1,
// 2, or 3 for all `depth` of them, from frame `depth` on).
int level_of(int64_t t, int depth) { return depth > 2 && t >= depth ? 3 : static_cast<int>(std::min<int64_t>(t, 2)); }

Refs refs_for(const Layout& L, const int64_t* frames, int64_t t, int64_t c, int64_t mid, int depth) {
  Refs r;
  r.h = L.h;
  r.w = L.w;
  r.mid = mid;
  r.level = level_of(t, depth);
  r.depth = depth;
  const int64_t fs = L.frame(), ps = L.plane();
  r.cur = frames + t * fs + c * ps;
  if (t >= 1) r.p1 = frames + (t - 1) * fs + c * ps;
  if (t >= 2) r.p2 = frames + (t - 2) * fs + c * ps;
  if (r.level >= 3)
    for (int j = 0; j < depth - 2; ++j) r.deep[j] = frames + (t - 3 - j) * fs + c * ps;
  if (c >= 1) {
    r.pc = frames + t * fs + (c - 1) * ps;
    if (t >= 1) r.pc1 = frames + (t - 1) * fs + (c - 1) * ps;
  }
  return r;
}

Status check_config(const GroupConfig& g, int64_t frames, size_t samples) {
  if (g.channels < 1 || g.height < 1 || g.width < 1 || frames < 1)
    return invalid_argument(fmt::format("bad group shape {}x{}x{}x{}", frames, g.channels, g.height, g.width));
  if (g.lo > g.hi || g.bound < 0 || g.block < 4 || g.block > 4096 || g.depth < 2 || g.depth > kMaxDepth)
    return invalid_argument("bad group configuration (range, bound, block size or depth)");
  if (static_cast<size_t>(frames * g.channels * g.height * g.width) != samples)
    return invalid_argument("group buffer size does not match its shape");
  return Status::ok();
}

}  // namespace

Status learned_plane(const ml::FrameNet& net, const int64_t* frames, int64_t t, int64_t c, int64_t fs, int64_t ps,
                     int64_t h, int64_t w, int64_t lo, int64_t hi, int64_t* out, void* scratch) {
  const int64_t* prev[ml::kMaxWindow];
  const int64_t k = std::min<int64_t>(net.window(), t);
  for (int64_t j = 0; j < k; ++j) prev[j] = frames + (t - 1 - j) * fs + c * ps;
  RETURN_IF_ERROR(net.predict(std::span<const int64_t* const>(prev, static_cast<size_t>(k)), h, w, out,
                              static_cast<ml::FrameNet::Scratch*>(scratch)));
  for (int64_t i = 0; i < ps; ++i) out[i] = std::clamp(out[i], lo, hi);
  return Status::ok();
}

std::string_view predictor_name(Predictor p) {
  switch (p) {
    case Predictor::kAuto: return "auto";
    case Predictor::kLsq: return "lsq";
    case Predictor::kMed: return "med";
    case Predictor::kPrev: return "prev";
    case Predictor::kLinear: return "linear";
    case Predictor::kLearned: return "learned";
  }
  return "?";
}

Result<Predictor> parse_predictor(std::string_view name) {
  for (auto p : {Predictor::kAuto, Predictor::kLsq, Predictor::kMed, Predictor::kPrev, Predictor::kLinear})
    if (predictor_name(p) == name) return p;
  return invalid_argument(fmt::format("unknown predictor '{}' (auto, lsq, med, prev, linear)", name));
}

namespace {

// How a lossy pass chooses each block's predictor. kSumAbs: the sum of |residual|
// with every candidate computed from the originals (the lossless rule). kQuantised:
// the sum of the quantised magnitudes |v| the block would code, with candidates
// computed from reconstructions (this pass's of earlier frames, the fitted-on
// pass's of this frame); on nearly static scenes at large bounds it keeps the
// predictor that leaves the deadband alone (bulk-water at e = 4: 1.5x smaller),
// elsewhere it can lose a little.
enum class BlockChoice { kSumAbs, kQuantised };

// One encoding pass. The least-squares fits see `fit_features` (the originals, or a
// previous pass's reconstruction) around each sample and learn to predict the original.
Result<std::vector<uint8_t>> encode_pass(const GroupConfig& g, std::span<const int64_t> samples, int64_t frames,
                                         GroupStats* stats, std::vector<int64_t>* recon_out,
                                         const int64_t* fit_features, bool use_model,
                                         BlockChoice block_choice = BlockChoice::kSumAbs, bool deep_allowed = true) {
  const Layout L{g.channels, g.height, g.width};
  const int64_t step = 2 * g.bound + 1, mid = g.lo + (g.hi - g.lo) / 2;
  const bool lossless = g.bound == 0;
  const bool quantised_choice = !lossless && block_choice == BlockChoice::kQuantised;
  const uint64_t max_mag = static_cast<uint64_t>(g.hi - g.lo) / static_cast<uint64_t>(step) + 1;

  std::vector<int64_t> recon_buf;
  const int64_t* orig = samples.data();
  int64_t* rec;
  if (lossless) {
    rec = nullptr;  // reconstruction == input
  } else {
    recon_buf.assign(samples.size(), 0);
    rec = recon_buf.data();
  }
  const int64_t* dec = lossless ? orig : rec;  // what the decoder will see

  std::vector<uint8_t> out;
  out.reserve(samples.size() / 2 + 64);
  RangeEncoder rc(&out);
  if (g.model) rc.encode_direct(use_model ? 1 : 0, 1);
  Models m(max_mag);
  GroupStats st;
  const ml::FrameNet* net = use_model ? g.model : nullptr;
  const int np = net ? kNumPredictors : kNumClassical, choice_bits = net ? 3 : 2;

  // The model's predictions of every plane from the planes before it: from what the
  // fits see (for lossless data that is also what the decoder computes); lossy coding
  // recomputes each plane's from the reconstruction.
  const int64_t fs = L.frame(), ps = L.plane();
  std::vector<int64_t> mfit, mdec;
  ml::FrameNet::Scratch scratch;
  if (net) {
    const int64_t* src = fit_features ? fit_features : orig;
    mfit.assign(samples.size(), 0);
    for (int64_t t = 1; t < frames; ++t)
      for (int64_t c = 0; c < L.c; ++c)
        RETURN_IF_ERROR(learned_plane(*net, src, t, c, fs, ps, L.h, L.w, g.lo, g.hi, &mfit[static_cast<size_t>(t * fs + c * ps)], &scratch));
    if (!lossless) mdec.resize(static_cast<size_t>(ps));
  }
  auto mfit_at = [&](int64_t t, int64_t c) -> const int64_t* {
    return net && t >= 1 ? &mfit[static_cast<size_t>(t * fs + c * ps)] : nullptr;
  };

  // Coefficients: per plane for large planes, else one block per (level, channel) for the group.
  const bool per_plane = L.plane() >= kFitPlanePixels;
  std::vector<int64_t> group_coef(static_cast<size_t>(4 * L.c * kCoefBlock), 0);
  // Fits planes ts of channel c at `level` and writes the coefficients. At level 3
  // (deep: kDecide, kTrial) it first decides whether the frames further back pay for
  // their coefficients and returns the depth it chose: g.depth, or 2 (then the fit,
  // and the planes it serves, are level 2's); kDecide writes that as one bit, kTrial
  // only decides and writes nothing; kUse fits level 3 as it is.
  enum class Deep { kDecide, kTrial, kUse };
  auto fit = [&](int level, int64_t c, std::span<const int64_t> ts, int64_t* block, const int64_t* pres,
                 Deep deep = Deep::kUse) -> int {
    const bool split = g.classified && level >= 1;
    Normal ne[2];
    ne[0].n = ne[1].n = feature_count(level, g.depth, c > 0, net != nullptr);
    int64_t total = static_cast<int64_t>(ts.size()) * L.plane();
    int64_t stride = std::max<int64_t>(1, total / kFitSamples);
    auto refs = [&](size_t k) {
      Refs r = refs_for(L, fit_features ? fit_features : orig, ts[k], c, mid, level == 3 ? g.depth : 2);
      r.target = orig + ts[k] * L.frame() + c * L.plane();
      r.pres = pres;
      r.model = mfit_at(ts[k], c);
      return r;
    };
    block[kThreshold] = kNoSplit;
    if (split) {  // the threshold: a multiple of the median change over the same samples
      std::vector<int64_t> change;
      int64_t f[kMaxFeatures], cand[kNumPredictors];
      for (size_t k = 0; k < ts.size(); ++k) {
        const Refs r = refs(k);
        for (int64_t i = (static_cast<int64_t>(k) * 7) % stride; i < L.plane(); i += stride) {
          const int64_t y = i / L.w, x = i % L.w;
          interior(r, y, x) ? gather<true>(r, y, x, f, cand) : gather<false>(r, y, x, f, cand);
          change.push_back(temporal_change(f));
        }
      }
      const auto mid_it = change.begin() + static_cast<ptrdiff_t>(change.size() / 2);
      std::nth_element(change.begin(), mid_it, change.end());
      const double t = change.empty() ? 0.0 : std::round(kSplitOverMedian * static_cast<double>(*mid_it));
      block[kThreshold] = static_cast<int64_t>(std::min(t, static_cast<double>(kOneSet - 1)));
    }
    for (size_t k = 0; k < ts.size(); ++k) accumulate(ne, refs(k), block, stride, static_cast<int64_t>(k) * 7);
    int depth = level == 3 ? g.depth : 2;
    if (level == 3 && deep != Deep::kUse) {
      // The frames further back where they pay for their coefficients: a drifting,
      // noisy scene (K11) gains from averaging them, a static or fast-changing one
      // (bulk-water) does not. Lossless: estimated as for the split below. Lossy:
      // most residuals fall in the deadband whatever the weights, so the estimate is
      // the order-0 entropy of the quantised residuals on the fit's samples. The
      // features come after level 2's in gather's order (before the previous
      // channel's and the bias).
      const int first = feature_count(2, 2, false, net != nullptr) - 1, count = g.depth - 2;
      Normal full = ne[0];
      full.add(ne[1]);
      const Normal reduced = full.without(first, count);
      int64_t cf[kMaxFeatures], cr[kMaxFeatures] = {};
      solve(full, cf);
      solve(reduced, cr);
      double saved;
      if (lossless) {
        const double n = static_cast<double>(std::max<int64_t>(full.samples, 1));
        const double ef = full.sse(cf) / n + 1e-3, er = reduced.sse(cr) / n + 1e-3;
        // Bits per sample of Gaussian residuals, for the margin.
        const double bits = std::max(0.0, 0.5 * std::log2(2 * std::numbers::pi * std::numbers::e * ef));
        saved = (0.5 * std::log2(er / ef) - kDeepMarginLossless * bits) * static_cast<double>(ts.size() * L.plane());
      } else {
        // The reduced coefficients in the full layout: zero for the deep features.
        std::copy_backward(cr + first, cr + reduced.n, cr + full.n);
        std::fill(cr + first, cr + first + count, 0);
        constexpr int64_t kClip = 255;
        std::vector<int64_t> hist(2 * (2 * kClip + 1), 0);
        int64_t f[kMaxFeatures], cand[kNumPredictors], evaluated = 0;
        const int64_t qstep = 2 * g.bound + 1;
        for (size_t k = 0; k < ts.size(); ++k) {
          const Refs r = refs(k);
          for (int64_t i = (static_cast<int64_t>(k) * 7) % stride; i < L.plane(); i += stride, ++evaluated) {
            const int64_t y = i / L.w, x = i % L.w;
            const int64_t base = interior(r, y, x) ? gather<true>(r, y, x, f, cand) : gather<false>(r, y, x, f, cand);
            for (int set = 0; set < 2; ++set) {
              const int64_t d = r.target[i] - std::clamp(lsq(set ? cr : cf, f, full.n, base), g.lo, g.hi);
              const int64_t v = quantise(d, g.bound, qstep);
              ++hist[static_cast<size_t>(set * (2 * kClip + 1) + std::clamp(v, -kClip, kClip) + kClip)];
            }
          }
        }
        auto bits = [&](int set) {
          double b = 0;
          for (int64_t j = 0; j <= 2 * kClip; ++j) {
            const double cnt = static_cast<double>(hist[static_cast<size_t>(set * (2 * kClip + 1) + j)]);
            if (cnt > 0) b -= cnt * std::log2(cnt / static_cast<double>(evaluated));
          }
          return b;
        };
        const double scale =
            static_cast<double>(ts.size() * L.plane()) / static_cast<double>(std::max<int64_t>(evaluated, 1));
        saved = (bits(1) - bits(0) - kDeepMargin * bits(0)) * scale;
      }
      if (!deep_allowed || !(saved > 2.0 * kCoefBits * count)) depth = 2;
      if (deep == Deep::kTrial) return depth;
      if (depth == 2) {
        ne[0] = ne[0].without(first, count);
        ne[1] = ne[1].without(first, count);
      }
      rc.encode_direct(depth > 2 ? 1 : 0, 1);
    }
    // Two sets where each class has samples enough for its own fit and the split
    // pays for the second set: the bits it saves are estimated as for Gaussian
    // residuals, half the log of the variance ratio per sample of the plane(s).
    Normal pooled = ne[0];
    pooled.add(ne[1]);
    solve(pooled, block);  // one set
    bool both = split && std::min(ne[0].samples, ne[1].samples) >= 4 * ne[0].n;
    if (both) {
      int64_t two[2 * kMaxFeatures];
      solve(ne[0], two);
      solve(ne[1], two + kMaxFeatures);
      const double n0 = static_cast<double>(ne[0].samples), n1 = static_cast<double>(ne[1].samples);
      const double e0 = ne[0].sse(two) / n0 + 1e-3, e1 = ne[1].sse(two + kMaxFeatures) / n1 + 1e-3;
      const double ep = pooled.sse(block) / (n0 + n1) + 1e-3;
      const double per_sample = 0.5 * (n0 * std::log2(ep / e0) + n1 * std::log2(ep / e1)) / (n0 + n1);
      const double saved = per_sample * static_cast<double>(ts.size() * L.plane()) / (lossless ? 1.0 : kLossyBitsScale);
      both = saved > kCoefBits * ne[0].n;
      if (both) std::copy(two, two + 2 * kMaxFeatures, block);
    }
    if (!both) {
      std::copy(block, block + kMaxFeatures, block + kMaxFeatures);
      if (split) block[kThreshold] = kOneSet;
    }
    if (split) {
      const uint64_t t = static_cast<uint64_t>(block[kThreshold]);
      rc.encode_direct(t & 0xFFFFF, kThresholdBits / 2);
      rc.encode_direct(t >> (kThresholdBits / 2), kThresholdBits / 2);
    }
    for (int set = 0; set < (both ? 2 : 1); ++set)
      for (int j = 0; j < ne[0].n; ++j)
        rc.encode_direct(static_cast<uint64_t>(block[set * kMaxFeatures + j] + kCoefLimit), kCoefBits);
    return depth;
  };
  // Group fits: where level 3 exists, one bit per channel first says whether it is
  // used; without it, level 2 serves every frame from the third on.
  std::vector<int> group_depth(static_cast<size_t>(L.c), 2);
  if (!per_plane) {
    std::vector<int64_t> deep_ts;
    for (int64_t t = g.depth; t < frames && level_of(t, g.depth) == 3; ++t) deep_ts.push_back(t);
    for (int64_t c = 0; c < L.c && !deep_ts.empty(); ++c) {
      int64_t trial[kCoefBlock];
      group_depth[static_cast<size_t>(c)] = fit(3, c, deep_ts, trial, nullptr, Deep::kTrial);
      rc.encode_direct(group_depth[static_cast<size_t>(c)] > 2 ? 1 : 0, 1);
    }
    for (int level = 0; level <= 3; ++level)
      for (int64_t c = 0; c < L.c; ++c) {
        std::vector<int64_t> ts;
        for (int64_t t = level; t < frames; ++t)
          if (level_of(t, group_depth[static_cast<size_t>(c)]) == level) ts.push_back(t);
        if (!ts.empty()) fit(level, c, ts, &group_coef[(level * L.c + c) * kCoefBlock], nullptr);
      }
  }

  const int64_t B = g.block;
  const int64_t bw = (L.w + B - 1) / B, bh = (L.h + B - 1) / B;
  std::vector<int64_t> cands(static_cast<size_t>(np * L.plane()));
  std::vector<int64_t> cost(static_cast<size_t>(np * bw * bh));
  std::vector<uint8_t> choice(static_cast<size_t>(bw * bh));
  std::vector<uint32_t> mags(static_cast<size_t>(2 * L.c * L.plane()), 0);  // |v| of this and the previous frame
  std::vector<int64_t> resid(static_cast<size_t>(L.c * L.plane()), 0);      // signed residuals of this frame
  int64_t plane_coef[kCoefBlock];

  for (int64_t t = 0; t < frames; ++t) {
    for (int64_t c = 0; c < L.c; ++c) {
      int level = level_of(t, g.depth), depth;
      const int64_t* coef;
      const int64_t* pres = c >= 1 ? &resid[static_cast<size_t>((c - 1) * L.plane())] : nullptr;
      const int64_t* mplane = nullptr;
      if (net && t >= 1) {
        if (lossless) {
          mplane = mfit_at(t, c);
        } else {
          RETURN_IF_ERROR(learned_plane(*net, rec, t, c, fs, ps, L.h, L.w, g.lo, g.hi, mdec.data(), &scratch));
          mplane = mdec.data();
        }
      }
      if (per_plane) {
        int64_t one[1] = {t};
        depth = fit(level, c, one, plane_coef, pres, Deep::kDecide);
        level = level_of(t, depth);
        coef = plane_coef;
      } else {
        depth = group_depth[static_cast<size_t>(c)];
        level = level_of(t, depth);
        coef = &group_coef[(level * L.c + c) * kCoefBlock];
      }
      const int n = feature_count(level, depth, c > 0, net != nullptr);
      if (level == 3) ++st.deep_planes;
      // Candidates on the original samples choose each block's predictor.
      Refs ro = refs_for(L, orig, t, c, mid, depth);
      ro.pres = pres;
      ro.model = mplane;
      const int64_t* xo = ro.cur;
      if (quantised_choice) {
        // Earlier frames as decoded; this frame's neighbours are not decoded yet, so
        // as the pass the fits came from decoded them (its reconstruction, when there
        // is one), which is closer to what the decoder will see than the originals.
        const Refs back = refs_for(L, rec, t, c, mid, depth);
        ro.p1 = back.p1;
        ro.p2 = back.p2;
        std::copy(std::begin(back.deep), std::end(back.deep), ro.deep);
        ro.pc1 = back.pc1;
        if (fit_features) ro.cur = refs_for(L, fit_features, t, c, mid, depth).cur;
      }
      std::fill(cost.begin(), cost.end(), 0);
      for (int64_t y = 0; y < L.h; ++y) {
        const int64_t brow = (y / B) * bw;
        for (int64_t x = 0; x < L.w; ++x) {
          int64_t cand[kNumPredictors];
          predict_all(ro, coef, n, y, x, g.lo, g.hi, cand);
          int64_t i = y * L.w + x, b = brow + (B == 8 ? x >> 3 : x / B);
          for (int k = 0; k < np; ++k) {
            cands[static_cast<size_t>(k * L.plane() + i)] = cand[k];
            const int64_t d = std::abs(xo[i] - cand[k]);
            cost[static_cast<size_t>(k * bw * bh + b)] += quantised_choice ? (d + g.bound) / step : d;
          }
        }
      }
      int prev_choice = kNumPredictors;
      for (int64_t b = 0; b < bw * bh; ++b) {
        int best = -1;
        if (g.predictor != Predictor::kAuto) best = fallback(g.predictor, level);
        else
          for (int k = 0; k < np; ++k)
            if (allowed(g.predictor, level, k, net != nullptr) &&
                (best < 0 || cost[static_cast<size_t>(k * bw * bh + b)] < cost[static_cast<size_t>(best * bw * bh + b)]))
              best = k;
        choice[static_cast<size_t>(b)] = static_cast<uint8_t>(best);
        st.blocks[static_cast<size_t>(best)]++;
        BitModel* cm = &m.choice[static_cast<size_t>(prev_choice) * 8];
        for (int bit = choice_bits - 1, node = 1; bit >= 0; --bit) {
          int v = (best >> bit) & 1;
          rc.encode(cm[node], v);
          node = node * 2 + v;
        }
        prev_choice = best;
      }
      // Code the residuals.
      Refs rr = refs_for(L, dec, t, c, mid, depth);
      rr.pres = pres;
      rr.model = mplane;
      int64_t* rres = &resid[static_cast<size_t>(c * L.plane())];
      uint32_t* mc = &mags[static_cast<size_t>(((t & 1) * L.c + c) * L.plane())];
      const uint32_t* mp = t >= 1 ? &mags[static_cast<size_t>((((t - 1) & 1) * L.c + c) * L.plane())] : nullptr;
      const uint32_t* mpc = c >= 1 ? &mags[static_cast<size_t>(((t & 1) * L.c + c - 1) * L.plane())] : nullptr;
      int64_t* rcur = lossless ? nullptr : rec + t * L.frame() + c * L.plane();
      for (int64_t y = 0; y < L.h; ++y) {
        const uint8_t* row_choice = &choice[static_cast<size_t>((y / B) * bw)];
        for (int64_t x = 0, bx = 0, left = B; x < L.w; ++x) {
          const int64_t i = y * L.w + x;
          const int k = row_choice[bx];
          if (--left == 0) {  // next block (no division per sample)
            ++bx;
            left = B;
          }
          int64_t pred;
          if (lossless) {
            pred = cands[static_cast<size_t>(k * L.plane() + i)];
          } else {
            int64_t cand[kNumPredictors];
            predict_all(rr, coef, n, y, x, g.lo, g.hi, cand);
            pred = cand[k];
          }
          int64_t r = xo[i] - pred, v;
          if (lossless) v = r;
          else v = quantise(r, g.bound, step);
          uint64_t a = activity(mc, mp, mpc, i, x, y, L.w);
          code_residual_enc(rc, m, k * kBuckets + bucket(a), sign_context(rres, i, x, y, L.w), v);
          rres[i] = v * step;
          mc[i] = saturate(static_cast<uint64_t>(v < 0 ? -v : v));
          if (!lossless) rcur[i] = std::clamp(pred + v * step, g.lo, g.hi);
        }
      }
    }
  }
  rc.finish();
  st.learned_stripes = net ? 1 : 0;
  if (stats) *stats = st;
  if (recon_out) {
    if (lossless) recon_out->assign(samples.begin(), samples.end());
    else *recon_out = std::move(recon_buf);
  }
  return out;
}

}  // namespace

namespace {

Result<std::vector<uint8_t>> encode_best(const GroupConfig& g, std::span<const int64_t> samples, int64_t frames,
                                         GroupStats* stats, std::vector<int64_t>* recon_out, bool use_model) {
  if (g.bound == 0) return encode_pass(g, samples, frames, stats, recon_out, nullptr, use_model);
  // Lossy: the decoder predicts from reconstructed samples, which carry quantisation
  // noise the originals lack. A second pass fits the predictors on the first pass's
  // reconstruction and chooses blocks by their quantised cost (BlockChoice); unless
  // that saved 5% or more, a third fits on the first reconstruction and chooses as
  // the first did. The smallest result wins, so no pass costs ratio. (Nearly static
  // scenes at large bounds, where the second pass wins by far, take two passes.)
  struct Pass {
    std::vector<uint8_t> bytes;
    GroupStats stats;
    std::vector<int64_t> recon;
  };
  Pass p[3];
  ASSIGN_OR_RETURN(p[0].bytes, encode_pass(g, samples, frames, &p[0].stats, &p[0].recon, nullptr, use_model));
  const bool deep = p[0].stats.deep_planes > 0;
  ASSIGN_OR_RETURN(p[1].bytes, encode_pass(g, samples, frames, &p[1].stats, &p[1].recon, p[0].recon.data(), use_model,
                                           BlockChoice::kQuantised, deep));
  if (p[1].bytes.size() * 20 > p[0].bytes.size() * 19) {
    ASSIGN_OR_RETURN(p[2].bytes, encode_pass(g, samples, frames, &p[2].stats, &p[2].recon, p[0].recon.data(), use_model,
                                             BlockChoice::kSumAbs, deep));
  }
  Pass* best = &p[0];
  for (Pass& q : p)
    if (!q.bytes.empty() && q.bytes.size() < best->bytes.size()) best = &q;
  if (stats) *stats = best->stats;
  if (recon_out) *recon_out = std::move(best->recon);
  return std::move(best->bytes);
}

}  // namespace

Result<std::vector<uint8_t>> encode_group(const GroupConfig& g, std::span<const int64_t> samples, int64_t frames,
                                          GroupStats* stats, std::vector<int64_t>* recon_out) {
  RETURN_IF_ERROR(check_config(g, frames, samples.size()));
  if (g.fast) return fast::encode(g, samples, frames, stats, recon_out);
  if (g.model && g.predictor != Predictor::kAuto)
    return invalid_argument("a learned model competes with the other predictors: it needs predictor auto");
  if (!g.model || frames < 2) return encode_best(g, samples, frames, stats, recon_out, false);
  // The model competes with the classical predictors for the whole stripe: keep
  // whichever coding is smaller (one bit says which).
  GroupStats st1, st2;
  std::vector<int64_t> rec1, rec2;
  ASSIGN_OR_RETURN(auto classic, encode_best(g, samples, frames, &st1, recon_out ? &rec1 : nullptr, false));
  ASSIGN_OR_RETURN(auto learned, encode_best(g, samples, frames, &st2, recon_out ? &rec2 : nullptr, true));
  const bool use_learned = learned.size() < classic.size();
  if (stats) *stats = use_learned ? st2 : st1;
  if (recon_out) *recon_out = std::move(use_learned ? rec2 : rec1);
  return use_learned ? std::move(learned) : std::move(classic);
}

Status decode_group(const GroupConfig& g, std::span<const uint8_t> data, int64_t frames, std::span<int64_t> out) {
  RETURN_IF_ERROR(check_config(g, frames, out.size()));
  if (g.fast) return fast::decode(g, data, frames, out);
  const Layout L{g.channels, g.height, g.width};
  const int64_t step = 2 * g.bound + 1, mid = g.lo + (g.hi - g.lo) / 2;
  const uint64_t max_mag = static_cast<uint64_t>(g.hi - g.lo) / static_cast<uint64_t>(step) + 1;
  RangeDecoder rc(data.data(), data.size());
  const bool use_model = g.model && rc.decode_direct(1) != 0;
  Models m(max_mag);
  int64_t* rec = out.data();
  const ml::FrameNet* net = use_model ? g.model : nullptr;
  const int choice_bits = net ? 3 : 2;
  std::vector<int64_t> mplane(net ? static_cast<size_t>(L.plane()) : 0);
  ml::FrameNet::Scratch scratch;

  const bool per_plane = L.plane() >= kFitPlanePixels;
  std::vector<int64_t> group_coef(static_cast<size_t>(4 * L.c * kCoefBlock), 0);
  // Reads a fit of planes at `level` (c > 0: with the previous channel's features);
  // returns the depth it uses (see the encoder's fit). `flag`: level 3 begins with
  // the bit that says whether it is used (a plane's own fit).
  auto read_coef = [&](int level, int64_t c, int64_t* block, bool flag) -> int {
    int depth = level == 3 ? g.depth : 2;
    if (level == 3 && flag && rc.decode_direct(1) == 0) depth = 2;
    const int n = feature_count(level == 3 && depth == 2 ? 2 : level, depth, c > 0, net != nullptr);
    block[kThreshold] = kNoSplit;
    if (g.classified && level >= 1) {
      const uint64_t lo = rc.decode_direct(kThresholdBits / 2);
      const int64_t t = static_cast<int64_t>(lo | rc.decode_direct(kThresholdBits / 2) << (kThresholdBits / 2));
      if (t != kOneSet) block[kThreshold] = t;
    }
    const int sets = block[kThreshold] == kNoSplit ? 1 : 2;
    for (int set = 0; set < sets; ++set)
      for (int j = 0; j < n; ++j) block[set * kMaxFeatures + j] = static_cast<int64_t>(rc.decode_direct(kCoefBits)) - kCoefLimit;
    return depth;
  };
  std::vector<int> group_depth(static_cast<size_t>(L.c), 2);
  if (!per_plane) {
    if (level_of(frames - 1, g.depth) == 3)
      for (int64_t c = 0; c < L.c; ++c) group_depth[static_cast<size_t>(c)] = rc.decode_direct(1) ? g.depth : 2;
    for (int level = 0; level <= 3; ++level)
      for (int64_t c = 0; c < L.c; ++c)
        if (level <= level_of(frames - 1, group_depth[static_cast<size_t>(c)]))
          read_coef(level, c, &group_coef[(level * L.c + c) * kCoefBlock], false);
  }

  const int64_t B = g.block;
  const int64_t bw = (L.w + B - 1) / B, bh = (L.h + B - 1) / B;
  std::vector<uint8_t> choice(static_cast<size_t>(bw * bh));
  std::vector<uint32_t> mags(static_cast<size_t>(2 * L.c * L.plane()), 0);
  std::vector<int64_t> resid(static_cast<size_t>(L.c * L.plane()), 0);
  int64_t plane_coef[kCoefBlock];

  for (int64_t t = 0; t < frames; ++t) {
    for (int64_t c = 0; c < L.c; ++c) {
      int level = level_of(t, g.depth), depth;
      const int64_t* coef;
      if (per_plane) {
        depth = read_coef(level, c, plane_coef, true);
        level = level_of(t, depth);
        coef = plane_coef;
      } else {
        depth = group_depth[static_cast<size_t>(c)];
        level = level_of(t, depth);
        coef = &group_coef[(level * L.c + c) * kCoefBlock];
      }
      const int n = feature_count(level, depth, c > 0, net != nullptr);
      int prev_choice = kNumPredictors;
      for (int64_t b = 0; b < bw * bh; ++b) {
        BitModel* cm = &m.choice[static_cast<size_t>(prev_choice) * 8];
        int node = 1;
        for (int bit = 0; bit < choice_bits; ++bit) node = node * 2 + rc.decode(cm[node]);
        int k = node - (1 << choice_bits);
        if (!allowed(Predictor::kAuto, level, k, net != nullptr))
          return corrupt(fmt::format("frame {} channel {}: invalid predictor choice {}", t, c, k));
        choice[static_cast<size_t>(b)] = static_cast<uint8_t>(k);
        prev_choice = k;
      }
      Refs rr = refs_for(L, rec, t, c, mid, depth);
      rr.pres = c >= 1 ? &resid[static_cast<size_t>((c - 1) * L.plane())] : nullptr;
      if (net && t >= 1) {
        RETURN_IF_ERROR(learned_plane(*net, rec, t, c, L.frame(), L.plane(), L.h, L.w, g.lo, g.hi, mplane.data(), &scratch));
        rr.model = mplane.data();
      }
      int64_t* rres = &resid[static_cast<size_t>(c * L.plane())];
      uint32_t* mc = &mags[static_cast<size_t>(((t & 1) * L.c + c) * L.plane())];
      const uint32_t* mp = t >= 1 ? &mags[static_cast<size_t>((((t - 1) & 1) * L.c + c) * L.plane())] : nullptr;
      const uint32_t* mpc = c >= 1 ? &mags[static_cast<size_t>(((t & 1) * L.c + c - 1) * L.plane())] : nullptr;
      int64_t* rcur = rec + t * L.frame() + c * L.plane();
      for (int64_t y = 0; y < L.h; ++y) {
        const uint8_t* row_choice = &choice[static_cast<size_t>((y / B) * bw)];
        for (int64_t x = 0, bx = 0, left = B; x < L.w; ++x) {
          const int64_t i = y * L.w + x;
          const int k = row_choice[bx];
          if (--left == 0) {
            ++bx;
            left = B;
          }
          int64_t cand[kNumPredictors];
          predict_all(rr, coef, n, y, x, g.lo, g.hi, cand);
          uint64_t a = activity(mc, mp, mpc, i, x, y, L.w);
          int64_t v;
          if (!code_residual_dec(rc, m, k * kBuckets + bucket(a), sign_context(rres, i, x, y, L.w), &v))
            return corrupt(fmt::format("frame {} channel {}: invalid residual code", t, c));
          mc[i] = saturate(static_cast<uint64_t>(v < 0 ? -v : v));
          rres[i] = v * step;
          int64_t val = cand[k] + v * step;
          if (g.bound == 0) {
            if (val < g.lo || val > g.hi)
              return corrupt(fmt::format("frame {} channel {}: sample out of range", t, c));
            rcur[i] = val;
          } else {
            rcur[i] = std::clamp(val, g.lo, g.hi);
          }
        }
        if (rc.overrun()) return corrupt(fmt::format("frame {} channel {}: truncated data", t, c));
      }
    }
  }
  if (rc.overrun()) return corrupt("truncated data");
  return Status::ok();
}

}  // namespace sciflow::codec
