#include "index/engine.hpp"

#include <fmt/core.h>
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <queue>
#include <thread>

#include "core/plugin.hpp"
#include "index/faiss_module.hpp"

namespace sciflow::index {

std::optional<Metric> parse_metric(std::string_view s) {
  if (s == "l2") return Metric::kL2;
  if (s == "ip") return Metric::kIP;
  if (s == "cosine") return Metric::kCosine;
  return std::nullopt;
}

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::kL2: return "l2";
    case Metric::kIP: return "ip";
    case Metric::kCosine: return "cosine";
  }
  return "?";
}

std::optional<EngineKind> parse_engine(std::string_view s) {
  if (s == "hnsw") return EngineKind::kHnsw;
  if (s == "ivf-flat") return EngineKind::kIvfFlat;
  if (s == "ivf-pq") return EngineKind::kIvfPq;
  if (s == "flat") return EngineKind::kFlat;
  return std::nullopt;
}

std::string_view engine_name(EngineKind e) {
  switch (e) {
    case EngineKind::kHnsw: return "hnsw";
    case EngineKind::kIvfFlat: return "ivf-flat";
    case EngineKind::kIvfPq: return "ivf-pq";
    case EngineKind::kFlat: return "flat";
  }
  return "?";
}

Json BuildParams::to_json() const {
  return Json{{"m", m}, {"ef_construction", ef_construction}, {"nlist", nlist}, {"pq_m", pq_m},
              {"pq_bits", pq_bits}, {"seed", seed}};
}

BuildParams BuildParams::from_json(const Json& j) {
  BuildParams p;
  p.m = j.value("m", p.m);
  p.ef_construction = j.value("ef_construction", p.ef_construction);
  p.nlist = j.value("nlist", p.nlist);
  p.pq_m = j.value("pq_m", p.pq_m);
  p.pq_bits = j.value("pq_bits", p.pq_bits);
  p.seed = j.value("seed", p.seed);
  return p;
}

namespace {

// libsciflow_faiss.so, loaded on the first FAISS index a run builds or opens.
const Result<const FaissModuleApi*>& faiss_module() {
  static const Result<const FaissModuleApi*> m =
      load_module<FaissModuleApi>(kFaissModuleFile, kFaissModuleEnv, "the FAISS module", kFaissModuleSymbol);
  return m;
}

}  // namespace

std::string engine_versions() {
  const auto& m = faiss_module();
  return fmt::format("hnswlib 0.6 (compiled in), {}", m ? (*m)->version() : "FAISS (module not found)");
}

namespace {

// Runs fn(i) for i in [0, n) on `threads` threads, in contiguous-ish interleaved order.
template <typename Fn>
void parallel_for(int64_t n, int threads, Fn fn) {
  threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (;;) {
        int64_t start = next.fetch_add(16);
        if (start >= n) break;
        for (int64_t i = start; i < std::min(n, start + 16); ++i) fn(i);
      }
    });
  for (auto& th : pool) th.join();
}

// Keeps the k smallest (dist, label) pairs seen.
struct TopK {
  explicit TopK(int64_t k_) : k(k_) {}
  void push(float d, int64_t l) {
    if (static_cast<int64_t>(heap.size()) < k) {
      heap.emplace(d, l);
    } else if (k > 0 && d < heap.top().first) {
      heap.pop();
      heap.emplace(d, l);
    }
  }
  // Writes ascending results, padding with (inf, -1).
  void write(float* dist, int64_t* labels) {
    int64_t n = static_cast<int64_t>(heap.size());
    for (int64_t i = k - 1; i >= 0; --i) {
      if (i >= n) {
        dist[i] = INFINITY;
        labels[i] = -1;
        continue;
      }
      dist[i] = heap.top().first;
      labels[i] = heap.top().second;
      heap.pop();
    }
  }
  int64_t k;
  std::priority_queue<std::pair<float, int64_t>> heap;
};

// ---- hnsw (hnswlib) -----------------------------------------------------------------

class HnswEngine : public Engine {
 public:
  HnswEngine(Metric metric, int64_t dim, BuildParams p) : metric_(metric), dim_(dim), p_(p) {
    if (metric == Metric::kL2)
      space_ = std::make_unique<hnswlib::L2Space>(static_cast<size_t>(dim));
    else
      space_ = std::make_unique<hnswlib::InnerProductSpace>(static_cast<size_t>(dim));
  }

  Status init(size_t capacity) {
    try {
      hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), std::max<size_t>(capacity, 1),
                                                                static_cast<size_t>(p_.m),
                                                                static_cast<size_t>(p_.ef_construction), p_.seed);
    } catch (const std::exception& e) {
      return internal_error(fmt::format("hnswlib: {}", e.what()));
    }
    return Status::ok();
  }

  Status load(const std::string& path) {
    try {
      hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), path);
    } catch (const std::exception& e) {
      return corrupt(fmt::format("{}: hnswlib cannot load it: {}", path, e.what()));
    }
    if (hnsw_->data_size_ != static_cast<size_t>(dim_) * sizeof(float))
      return corrupt(fmt::format("{}: graph of dimension {} where the manifest says {}", path,
                                 hnsw_->data_size_ / sizeof(float), dim_));
    return Status::ok();
  }

  EngineKind kind() const override { return EngineKind::kHnsw; }
  int64_t dim() const override { return dim_; }
  int64_t size() const override { return static_cast<int64_t>(hnsw_->cur_element_count); }

  Status add(const float* x, int64_t n) override {
    size_t base = hnsw_->cur_element_count;
    try {
      if (base + static_cast<size_t>(n) > hnsw_->max_elements_) hnsw_->resizeIndex(base + static_cast<size_t>(n));
      // The first point alone, so that the entry point does not depend on thread timing.
      int64_t start = 0;
      if (base == 0 && n > 0) {
        hnsw_->addPoint(x, 0);
        start = 1;
      }
      std::atomic<bool> failed{false};
      std::string what;
      parallel_for(n - start, p_.threads, [&](int64_t i) {
        if (failed) return;
        try {
          hnsw_->addPoint(x + (start + i) * dim_, base + static_cast<size_t>(start + i));
        } catch (const std::exception& e) {
          if (!failed.exchange(true)) what = e.what();
        }
      });
      if (failed) return internal_error(fmt::format("hnswlib: {}", what));
    } catch (const std::exception& e) {
      return internal_error(fmt::format("hnswlib: {}", e.what()));
    }
    return Status::ok();
  }

  Status remove(int64_t label) override {
    try {
      hnsw_->markDelete(static_cast<hnswlib::labeltype>(label));
    } catch (const std::exception& e) {
      return internal_error(fmt::format("hnswlib: label {}: {}", label, e.what()));
    }
    return Status::ok();
  }

  Status compact(const std::vector<bool>& keep) override {
    auto old = std::move(hnsw_);
    int64_t live = std::count(keep.begin(), keep.end(), true);
    RETURN_IF_ERROR(init(static_cast<size_t>(live)));
    std::vector<float> data(static_cast<size_t>(live * dim_));
    int64_t j = 0;
    try {
      for (size_t l = 0; l < keep.size(); ++l) {
        if (!keep[l]) continue;
        auto v = old->getDataByLabel<float>(l);
        std::copy(v.begin(), v.end(), data.begin() + j * dim_);
        ++j;
      }
    } catch (const std::exception& e) {
      return internal_error(fmt::format("hnswlib: {}", e.what()));
    }
    return add(data.data(), live);
  }

  Status search(const float* q, int64_t nq, const SearchParams& p, const Allow& allow, float* dist,
                int64_t* labels) const override {
    size_t ef = static_cast<size_t>(p.ef > 0 ? p.ef : std::max<int64_t>(p.k, 64));
    hnsw_->setEf(ef);  // read by searchKnn on every thread; set before they start
    int64_t n = size();
    std::atomic<bool> failed{false};
    std::string what;
    parallel_for(nq, p.threads, [&](int64_t i) {
      const float* qi = q + i * dim_;
      TopK top(p.k);
      try {
        if (allow && p.allowed >= 0 && p.allowed <= std::max<int64_t>(1024, n / 50)) {
          // A selective filter: exact distances to the few admitted vectors.
          auto fn = space_->get_dist_func();
          void* param = space_->get_dist_func_param();
          for (int64_t l = 0; l < n; ++l) {
            if (!allow(l)) continue;
            auto v = hnsw_->getDataByLabel<float>(static_cast<hnswlib::labeltype>(l));
            top.push(to_dist(fn(qi, v.data(), param)), l);
          }
        } else if (!allow) {
          // hnswlib's answer is a max-heap of at most k: unload it back to front.
          auto r = hnsw_->searchKnn(qi, static_cast<size_t>(std::min<int64_t>(p.k, std::max<int64_t>(n, 1))));
          float* d = dist + i * p.k;
          int64_t* l = labels + i * p.k;
          for (int64_t j = static_cast<int64_t>(r.size()); j < p.k; ++j) {
            d[j] = INFINITY;
            l[j] = -1;
          }
          for (int64_t j = static_cast<int64_t>(r.size()) - 1; j >= 0; --j, r.pop()) {
            d[j] = to_dist(r.top().first);
            l[j] = static_cast<int64_t>(r.top().second);
          }
          return;
        } else {
          // Over-fetch until k allowed results are found or the whole graph was asked for.
          for (int64_t kk = std::min(n, std::max<int64_t>(2 * p.k, 32));; kk = std::min(n, kk * 4)) {
            auto r = hnsw_->searchKnn(qi, static_cast<size_t>(std::max<int64_t>(kk, 1)));
            TopK t(p.k);
            int64_t found = 0;
            while (!r.empty()) {
              int64_t l = static_cast<int64_t>(r.top().second);
              if (allow(l)) {
                t.push(to_dist(r.top().first), l);
                ++found;
              }
              r.pop();
            }
            if (found >= p.k || kk >= n) {
              top = std::move(t);
              break;
            }
          }
        }
      } catch (const std::exception& e) {
        if (!failed.exchange(true)) what = e.what();
      }
      top.write(dist + i * p.k, labels + i * p.k);
    });
    if (failed) return internal_error(fmt::format("hnswlib: {}", what));
    return Status::ok();
  }

  Status save(const std::string& path) const override {
    try {
      hnsw_->saveIndex(path);
    } catch (const std::exception& e) {
      return io_error(fmt::format("{}: {}", path, e.what()));
    }
    return Status::ok();
  }

  int64_t memory_bytes() const override {
    int64_t bytes = static_cast<int64_t>(hnsw_->max_elements_ * hnsw_->size_data_per_element_);
    for (size_t i = 0; i < hnsw_->cur_element_count; ++i)
      bytes += static_cast<int64_t>(hnsw_->element_levels_[i]) * static_cast<int64_t>(hnsw_->size_links_per_element_);
    return bytes;
  }

  Json describe() const override {
    return Json{{"m", p_.m}, {"ef_construction", p_.ef_construction}, {"seed", p_.seed},
                {"max_level", hnsw_->maxlevel_}};
  }

 private:
  // hnswlib's inner-product space returns 1 - <x, q>; the interface wants -<x, q>.
  float to_dist(float d) const { return metric_ == Metric::kL2 ? d : d - 1.0f; }

  Metric metric_;
  int64_t dim_;
  BuildParams p_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_;
};

}  // namespace

Result<std::unique_ptr<Engine>> create_engine(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params) {
  if (dim <= 0) return invalid_argument(fmt::format("dimension {}", dim));
  if (kind == EngineKind::kHnsw) {
    auto e = std::make_unique<HnswEngine>(metric, dim, params);
    RETURN_IF_ERROR(e->init(1024));
    return std::unique_ptr<Engine>(std::move(e));
  }
  ASSIGN_OR_RETURN(const FaissModuleApi* faiss, faiss_module());
  return faiss->create(kind, metric, dim, params);
}

Result<std::unique_ptr<Engine>> load_engine(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params,
                                            const std::string& path) {
  if (kind == EngineKind::kHnsw) {
    auto e = std::make_unique<HnswEngine>(metric, dim, params);
    RETURN_IF_ERROR(e->load(path));
    return std::unique_ptr<Engine>(std::move(e));
  }
  ASSIGN_OR_RETURN(const FaissModuleApi* faiss, faiss_module());
  return faiss->load(kind, metric, dim, params, path);
}

}  // namespace sciflow::index
