// libsciflow_faiss.so: the FAISS engines (flat, ivf-flat, ivf-pq) of index::Engine,
// with FAISS and the libraries it pulls in (OpenBLAS, LAPACK, gfortran, OpenMP).
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <fmt/core.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "index/faiss_module.hpp"

namespace sciflow::index {
namespace {

// OpenBLAS (under FAISS) keeps its own thread pool, whose idle threads spin for a
// while and would steal CPU from -j1 searches. It has no header in our build
// path (libblas.so.3 is an alternative), so the setter is looked up at run time.
void set_blas_threads(int threads) {
  using SetFn = void (*)(int);
  static SetFn fn = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (fn) fn(std::max(1, threads));
  omp_set_num_threads(std::max(1, threads));
}

// ---- FAISS (flat, ivf-flat, ivf-pq) ------------------------------------------------------

struct AllowSelector : faiss::IDSelector {
  explicit AllowSelector(const Allow& a) : allow(a) {}
  bool is_member(idx_t id) const override { return allow(id); }
  const Allow& allow;
};

struct KeepSelector : faiss::IDSelector {
  explicit KeepSelector(const std::vector<bool>& k) : keep(k) {}
  bool is_member(idx_t id) const override { return id >= 0 && static_cast<size_t>(id) < keep.size() && !keep[static_cast<size_t>(id)]; }
  const std::vector<bool>& keep;
};

class FaissEngine : public Engine {
 public:
  FaissEngine(EngineKind kind, Metric metric, int64_t dim, BuildParams p) : kind_(kind), metric_(metric), dim_(dim), p_(p) {}

  Status init() {
    faiss::MetricType mt = metric_ == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
    try {
      if (kind_ == EngineKind::kFlat) index_ = std::make_unique<faiss::IndexFlat>(dim_, mt);
    } catch (const std::exception& e) {
      return internal_error(fmt::format("FAISS: {}", e.what()));
    }
    return Status::ok();
  }

  Status load(const std::string& path) {
    try {
      index_.reset(faiss::read_index(path.c_str()));
    } catch (const std::exception& e) {
      return corrupt(fmt::format("{}: FAISS cannot load it: {}", path, e.what()));
    }
    if (index_->d != dim_)
      return corrupt(fmt::format("{}: index of dimension {} where the manifest says {}", path, index_->d, dim_));
    return Status::ok();
  }

  EngineKind kind() const override { return kind_; }
  int64_t dim() const override { return dim_; }
  int64_t size() const override { return index_ ? index_->ntotal : 0; }

  Status add(const float* x, int64_t n) override {
    set_blas_threads(p_.threads);
    try {
      if (!index_) RETURN_IF_ERROR(train(x, n));
      index_->add(n, x);
    } catch (const std::exception& e) {
      return internal_error(fmt::format("FAISS: {}", e.what()));
    }
    return Status::ok();
  }

  Status remove(int64_t) override { return Status::ok(); }  // filtered at search until compact()

  Status compact(const std::vector<bool>& keep) override {
    try {
      KeepSelector drop(keep);
      index_->remove_ids(drop);
      if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) {
        // IVF lists keep their labels: renumber them densely in the old order.
        std::vector<int64_t> renum(keep.size(), -1);
        int64_t next = 0;
        for (size_t l = 0; l < keep.size(); ++l)
          if (keep[l]) renum[l] = next++;
        auto* lists = dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists);
        if (!lists) return unsupported("FAISS: compaction of on-disk inverted lists");
        for (auto& ids : lists->ids)
          for (auto& id : ids) id = renum[static_cast<size_t>(id)];
      }
    } catch (const std::exception& e) {
      return internal_error(fmt::format("FAISS: {}", e.what()));
    }
    return Status::ok();
  }

  Status search(const float* q, int64_t nq, const SearchParams& p, const Allow& allow, float* dist,
                int64_t* labels) const override {
    set_blas_threads(p.threads);
    try {
      AllowSelector sel(allow);
      if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) {
        faiss::SearchParametersIVF sp;
        sp.nprobe = static_cast<size_t>(std::min<int64_t>(p.nprobe > 0 ? p.nprobe : 16, static_cast<int64_t>(ivf->nlist)));
        // A selective filter: visit every list, so that its few matches are all seen.
        if (allow && p.allowed >= 0 && p.allowed <= std::max<int64_t>(1024, ivf->ntotal / 50)) sp.nprobe = ivf->nlist;
        if (allow) sp.sel = &sel;
        index_->search(nq, q, p.k, dist, labels, &sp);
      } else {
        faiss::SearchParameters sp;
        if (allow) sp.sel = &sel;
        index_->search(nq, q, p.k, dist, labels, allow ? &sp : nullptr);
      }
    } catch (const std::exception& e) {
      return internal_error(fmt::format("FAISS: {}", e.what()));
    }
    // FAISS reports inner products as "larger is closer"; the interface wants smaller.
    for (int64_t i = 0; i < nq * p.k; ++i) {
      if (labels[i] < 0) dist[i] = INFINITY;
      else if (metric_ != Metric::kL2) dist[i] = -dist[i];
    }
    return Status::ok();
  }

  Status save(const std::string& path) const override {
    try {
      faiss::write_index(index_.get(), path.c_str());
    } catch (const std::exception& e) {
      return io_error(fmt::format("{}: {}", path, e.what()));
    }
    return Status::ok();
  }

  int64_t memory_bytes() const override {
    if (!index_) return 0;
    if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index_.get())) {
      int64_t b = ivf->quantizer->ntotal * dim_ * 4;
      for (size_t l = 0; l < ivf->nlist; ++l)
        b += static_cast<int64_t>(ivf->invlists->list_size(l) * (ivf->code_size + sizeof(faiss::Index::idx_t)));
      return b;
    }
    return index_->ntotal * dim_ * 4;
  }

  Json describe() const override {
    Json j = Json::object();
    if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index_.get())) j["nlist"] = ivf->nlist;
    if (auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(index_.get())) {
      j["pq_m"] = pq->pq.M;
      j["pq_bits"] = pq->pq.nbits;
    }
    j["seed"] = p_.seed;
    return j;
  }

 private:
  // The IVF engines train their quantisers on the first batch.
  Status train(const float* x, int64_t n) {
    faiss::MetricType mt = metric_ == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
    int64_t nlist = p_.nlist > 0 ? p_.nlist
                                 : std::clamp<int64_t>(static_cast<int64_t>(4 * std::sqrt(static_cast<double>(n))), 1,
                                                       std::max<int64_t>(1, n / 39));
    if (nlist > n)
      return invalid_argument(fmt::format("--nlist {}: more lists than the {} vectors to train them on", nlist, n));
    quantizer_ = std::make_unique<faiss::IndexFlat>(dim_, mt);
    if (kind_ == EngineKind::kIvfFlat) {
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer_.get(), dim_, static_cast<size_t>(nlist), mt);
      ivf->cp.seed = static_cast<int>(p_.seed);
      ivf->train(n, x);
      index_ = std::move(ivf);
    } else {
      int64_t m = p_.pq_m;
      if (m <= 0) {
        m = std::max<int64_t>(1, dim_ / 4);
        while (dim_ % m != 0) --m;
      }
      if (dim_ % m != 0) return invalid_argument(fmt::format("--pq-m {} does not divide the dimension {}", m, dim_));
      int bits = p_.pq_bits;
      // FAISS's k-means wants 39 training points per centroid: fewer bits for small sets.
      while (bits > 1 && 39 * (int64_t{1} << bits) > n) --bits;
      auto ivf = std::make_unique<faiss::IndexIVFPQ>(quantizer_.get(), dim_, static_cast<size_t>(nlist),
                                                     static_cast<size_t>(m), static_cast<size_t>(bits), mt);
      ivf->cp.seed = static_cast<int>(p_.seed);
      ivf->pq.cp.seed = static_cast<int>(p_.seed);
      ivf->train(n, x);
      index_ = std::move(ivf);
    }
    // The IVF index owns its quantiser from here on (also after write/read).
    static_cast<faiss::IndexIVF*>(index_.get())->own_fields = true;
    quantizer_.release();
    return Status::ok();
  }

  EngineKind kind_;
  Metric metric_;
  int64_t dim_;
  BuildParams p_;
  std::unique_ptr<faiss::IndexFlat> quantizer_;
  std::unique_ptr<faiss::Index> index_;
};

Result<std::unique_ptr<Engine>> create(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params) {
  auto e = std::make_unique<FaissEngine>(kind, metric, dim, params);
  RETURN_IF_ERROR(e->init());
  return std::unique_ptr<Engine>(std::move(e));
}

Result<std::unique_ptr<Engine>> load(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params,
                                     const std::string& path) {
  auto e = std::make_unique<FaissEngine>(kind, metric, dim, params);
  RETURN_IF_ERROR(e->load(path));
  return std::unique_ptr<Engine>(std::move(e));
}

std::string version() { return fmt::format("FAISS {}.{}.{}", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH); }

}  // namespace
}  // namespace sciflow::index

extern "C" __attribute__((visibility("default"))) const sciflow::index::FaissModuleApi* sciflow_faiss_module_v1() {
  static const sciflow::index::FaissModuleApi api{sciflow::index::create, sciflow::index::load, sciflow::index::version};
  return &api;
}
