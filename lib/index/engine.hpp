// index/engine: approximate nearest-neighbour engines behind one interface.
//
//   hnsw      hnswlib (header-only, compiled with our flags): graph search, the
//             fastest at high recall; vectors kept in full.
//   ivf-flat  FAISS IndexIVFFlat: k-means lists, exact distances inside them.
//   ivf-pq    FAISS IndexIVFPQ: lists of product-quantised codes (dim/4 bytes
//             per vector by default): the smallest index, approximate distances.
//   flat      FAISS IndexFlat: exact search (BLAS for batches).
//
// Vectors carry dense labels 0, 1, 2, ... in insertion order. Distances are
// "smaller is closer" everywhere in this interface: squared L2, or the negated
// inner product (for ip and cosine; cosine vectors are normalised by the caller).
// Third-party types stay in engine.cpp.
//
// Thread safety: search() is const and runs its own threads; add(), remove(),
// compact() and save() need exclusive access.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"

namespace sciflow::index {

enum class Metric { kL2, kIP, kCosine };
std::optional<Metric> parse_metric(std::string_view s);
std::string_view metric_name(Metric m);

enum class EngineKind { kHnsw, kIvfFlat, kIvfPq, kFlat };
std::optional<EngineKind> parse_engine(std::string_view s);
std::string_view engine_name(EngineKind e);

struct BuildParams {
  int m = 32;                // hnsw: graph degree
  int ef_construction = 200; // hnsw: candidate list while building
  int nlist = 0;             // ivf: lists (0: ~4 sqrt(n), at most n/39)
  int pq_m = 0;              // ivf-pq: sub-quantisers (0: dim/4, or the largest divisor of dim below it)
  int pq_bits = 8;           // ivf-pq: bits per code (lowered for small training sets)
  uint64_t seed = 100;       // level generator (hnsw), sampling and k-means (ivf)
  int threads = 1;           // threads for building (1: reproducible)
  Json to_json() const;
  static BuildParams from_json(const Json& j);
};

struct SearchParams {
  int64_t k = 10;
  int ef = 0;      // hnsw: candidate list (0: max(k, 64))
  int nprobe = 0;  // ivf: lists visited (0: 16, at most nlist)
  int threads = 1;
  // How many labels `allow` admits, when known (-1: unknown). Few enough, and the
  // engines search exhaustively among them, so selective filters lose no recall.
  int64_t allowed = -1;
};

// Which labels may be returned; null means all.
using Allow = std::function<bool(int64_t label)>;

class Engine {
 public:
  virtual ~Engine() = default;
  virtual EngineKind kind() const = 0;
  virtual int64_t dim() const = 0;
  // Labels in the engine, including removed-but-not-compacted ones.
  virtual int64_t size() const = 0;
  // IVF engines train on the first batch they are given (a sample of at most
  // 256 points per list); later batches only add.
  virtual Status add(const float* x, int64_t n) = 0;
  // Hides `label` from search (hnsw marks it deleted; the others filter it).
  virtual Status remove(int64_t label) = 0;
  // Drops removed labels for good; `keep[label]` says which survive. Surviving
  // labels are renumbered densely in their old order.
  virtual Status compact(const std::vector<bool>& keep) = 0;
  // `nq` queries; writes k results per query into dist/labels (label -1: none).
  // `allow` (may be null) is consulted for every candidate.
  virtual Status search(const float* q, int64_t nq, const SearchParams& p, const Allow& allow, float* dist,
                        int64_t* labels) const = 0;
  virtual Status save(const std::string& path) const = 0;
  // Bytes the engine holds in memory (an estimate from its structures).
  virtual int64_t memory_bytes() const = 0;
  // Parameters in effect (after defaults), for the manifest and `vindex info`.
  virtual Json describe() const = 0;
};

Result<std::unique_ptr<Engine>> create_engine(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params);
Result<std::unique_ptr<Engine>> load_engine(EngineKind kind, Metric metric, int64_t dim, const BuildParams& params,
                                            const std::string& path);

// Versions of the engine libraries, for `--version` style reports.
std::string engine_versions();

}  // namespace sciflow::index
