// How far a predictive coder can go on K11 at an absolute error bound, by
// estimating the coded size of the quantised residuals (step 2e+1) under
// predictors that a decoder could not even have: bench/tezip-k11-bound.sh.
//
//   tezip_k11_bound RAW T H W E...
//
// RAW holds T frames of H x W u16 samples. For each bound E it prints the ratio
// (raw bytes / estimated coded bytes) of
//   prev      the previous frame as decoded (what tezip's simplest lossy
//             predictor does; calibrates the estimate against tezip itself),
//   oracle K  the least-squares combination of the K previous *original* frames
//             at the same pixel plus a constant, fitted on each group of 512
//             frames it predicts (as tezip groups K11): no quantisation noise in
//             what it predicts from, and in-sample weights, so it estimates what
//             a linear temporal predictor could reach at best,
//   floor     white Gaussian noise of the series' own sigma (from second
//             differences in time), quantised: a perfect predictor of the signal.
// The estimate is an adaptive order-0 coder per context (12 contexts from the
// residuals to the left, above and in the previous frame), as tezip's coder
// uses; keyframes every 512 frames are predicted from their left and upper
// neighbours, as decoded.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

int T, H, W, P;
std::vector<double> X;  // the samples, frame by frame

struct Adaptive {  // an adaptive frequency model over 64 symbols; cost in bits
  double count[64], total = 0;
  Adaptive() {
    for (double& c : count) c = 0.5;
    total = 32;
  }
  double code(int s) {
    double bits = -std::log2(count[s] / total);
    count[s] += 1;
    total += 1;
    if (total > 4096) {
      total = 0;
      for (double& c : count) total += (c = c * 0.5 + 0.01);
    }
    return bits;
  }
};

// Solves the normal equations a x = b (n unknowns) by Gaussian elimination.
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const int n = static_cast<int>(b.size());
  for (int i = 0; i < n; ++i) a[i][i] += 1e-9 * a[i][i] + 1e-9;
  for (int i = 0; i < n; ++i) {
    int p = i;
    for (int r = i + 1; r < n; ++r)
      if (std::fabs(a[r][i]) > std::fabs(a[p][i])) p = r;
    std::swap(a[i], a[p]);
    std::swap(b[i], b[p]);
    for (int r = i + 1; r < n; ++r) {
      const double m = a[r][i] / a[i][i];
      for (int k = i; k < n; ++k) a[r][k] -= m * a[i][k];
      b[r] -= m * b[i];
    }
  }
  std::vector<double> x(n);
  for (int i = n - 1; i >= 0; --i) {
    double s = b[i];
    for (int k = i + 1; k < n; ++k) s -= a[i][k] * x[k];
    x[i] = s / a[i][i];
  }
  return x;
}

// Features of the oracle at (t, i): the K previous originals minus the previous one, and 1.
void features(int t, int i, int k, double* f) {
  const double base = X[static_cast<size_t>(t - 1) * P + i];
  for (int j = 2; j <= k; ++j) f[j - 2] = (t - j >= 0 ? X[static_cast<size_t>(t - j) * P + i] : base) - base;
  f[k - 1] = 1;
}

// Estimated ratio at bound e: oracle K > 0, or the decoded previous frame (K = 0).
double ratio(double e, int k) {
  std::vector<std::vector<double>> coefs;  // per group of 512 frames
  for (int g = 0; k > 0 && g * 512 < T; ++g) {
    std::vector<std::vector<double>> a(k, std::vector<double>(k, 0));
    std::vector<double> b(k, 0), f(k);
    for (int t = g * 512 + 1; t < std::min(T, (g + 1) * 512); ++t)
      for (int i = 0; i < P; ++i) {
        features(t, i, k, f.data());
        const double y = X[static_cast<size_t>(t) * P + i] - X[static_cast<size_t>(t - 1) * P + i];
        for (int r = 0; r < k; ++r) {
          b[r] += f[r] * y;
          for (int c = 0; c < k; ++c) a[r][c] += f[r] * f[c];
        }
      }
    coefs.push_back(solve(a, b));
  }
  const double step = 2 * e + 1;
  std::vector<double> rec(X.size());
  std::vector<int> mag(2 * static_cast<size_t>(P), 0);
  std::vector<Adaptive> model(12);
  std::vector<double> f(std::max(k, 1));
  double bits = 0;
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < P; ++i) {
      const size_t at = static_cast<size_t>(t) * P + i;
      const int x = i % W, y = i / W;
      double pred;
      if (t % 512 == 0) {
        pred = x > 0 && y > 0 ? (rec[at - 1] + rec[at - W]) / 2 : x > 0 ? rec[at - 1] : y > 0 ? rec[at - W] : 32768;
      } else if (k == 0) {
        pred = rec[at - P];
      } else {
        features(t, i, k, f.data());
        pred = X[at - P];
        for (int j = 0; j < k; ++j) pred += coefs[static_cast<size_t>(t / 512)][j] * f[j];
        pred = std::round(pred);
      }
      const double r = X[at] - pred;
      const int v = r >= 0 ? static_cast<int>((r + e) / step) : -static_cast<int>((-r + e) / step);
      rec[at] = std::clamp(pred + v * step, 0.0, 65535.0);
      int* cur = &mag[static_cast<size_t>(t & 1) * P];
      const int* prev = &mag[static_cast<size_t>((t + 1) & 1) * P];
      const int ctx = std::min(11, 2 * ((x > 0 ? cur[i - 1] : 0) + (y > 0 ? cur[i - W] : 0) + (t > 0 ? prev[i] : 0)));
      int s = v + 31;
      if (s < 0 || s > 62) {
        bits += 20;  // escape: rare
        s = 63;
      }
      bits += model[ctx].code(s);
      cur[i] = std::abs(v);
    }
  return static_cast<double>(X.size()) * 16 / bits;
}

double floor_ratio(double e) {
  std::vector<double> d;
  for (int t = 1; t + 1 < T; ++t)
    for (int i = 0; i < P; ++i) {
      const size_t at = static_cast<size_t>(t) * P + i;
      d.push_back(std::fabs(X[at] - (X[at - P] + X[at + P]) / 2));
    }
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  const double sigma = 1.4826 * d[d.size() / 2] / std::sqrt(1.5), step = 2 * e + 1;
  double h = 0;
  for (int k = -60; k <= 60; ++k) {
    const double p = 0.5 * (std::erf((k + 0.5) * step / sigma / std::sqrt(2.0)) - std::erf((k - 0.5) * step / sigma / std::sqrt(2.0)));
    if (p > 0) h -= p * std::log2(p);
  }
  std::printf("noise sigma (robust, from second differences in time): %.1f counts\n", sigma);
  return 16 / h;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s RAW T H W E...\n", argv[0]);
    return 2;
  }
  T = std::atoi(argv[2]);
  H = std::atoi(argv[3]);
  W = std::atoi(argv[4]);
  P = H * W;
  std::vector<uint16_t> raw(static_cast<size_t>(T) * P);
  FILE* in = std::fopen(argv[1], "rb");
  if (!in || std::fread(raw.data(), 2, raw.size(), in) != raw.size()) {
    std::fprintf(stderr, "%s: cannot read %d frames of %dx%d u16\n", argv[1], T, H, W);
    return 1;
  }
  std::fclose(in);
  X.assign(raw.begin(), raw.end());
  for (int a = 5; a < argc; ++a) {
    const double e = std::atof(argv[a]);
    std::printf("e = %g: prev (decoded) %.3f", e, ratio(e, 0));
    for (int k : {1, 2, 4, 8, 16, 32}) std::printf(", oracle %d %.3f", k, ratio(e, k));
    std::printf("\n");
    std::printf("e = %g: floor %.3f\n", e, floor_ratio(e));
  }
  return 0;
}
