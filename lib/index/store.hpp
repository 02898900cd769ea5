// index/store: a vector index as a directory of files.
//
//   INDEX/manifest.json     format, version, engine, metric, dim, counts, build
//                           parameters, shard, and for every file its size and SHA-256
//   INDEX/engine-G.hnsw     the engine's own file (.faiss for the FAISS engines)
//   INDEX/ids-G.i64         external id of each label (little-endian int64)
//   INDEX/deleted-G.bits    one byte per label: 1 = deleted (only after a delete)
//   INDEX/meta-G.jsonl      one JSON object (or empty line) per label (only with metadata)
//
// G is the generation. An update writes generation G+1 beside G, then replaces
// manifest.json atomically (rename), then removes generation G: a crash at any
// point leaves a manifest that names complete, checksummed files. Writers hold
// an exclusive lock on INDEX/.lock; a second writer is refused.
// open() checks every file's size and (unless told not to) its SHA-256 before the
// engine reads it.
//
// A shard set is a directory of shard indexes "shard-I-of-N" written by
// `vindex build --shard I/N`; IndexSet searches all N and merges the top k.
// Thread safety: search() is const and may run concurrently; updates are exclusive.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "index/engine.hpp"
#include "index/filter.hpp"
#include "index/vectors.hpp"
#include "io/file.hpp"

namespace sciflow::index {

inline constexpr int kFormatVersion = 1;

struct Shard {
  int index = 0, count = 1;  // shard `index` of `count` (0-based)
};
// "2/8" -> {2, 8}; kInvalidArgument otherwise.
Result<Shard> parse_shard(std::string_view text);
std::string shard_dir_name(const Shard& s);  // "shard-2-of-8"

struct SearchResults {
  int64_t queries = 0, k = 0;
  std::vector<float> distances;  // queries x k; for ip/cosine the similarity (larger is closer)
  std::vector<int64_t> ids;      // external ids; -1 where fewer than k were found
};

class Index {
 public:
  Index();
  ~Index();
  Index(Index&&) noexcept;
  Index& operator=(Index&&) noexcept;

  // An empty index in memory.
  static Result<Index> create(EngineKind engine, Metric metric, int64_t dim, const BuildParams& params);
  // Loads `dir`. With `verify`, every file's SHA-256 is checked first.
  static Result<Index> open(const std::string& dir, bool verify = true);

  // Appends `v` (ids must not already be live in the index; metadata kept).
  // `progress` (may be null) hears the number of vectors added so far.
  Status add(const VectorSet& v, const std::function<void(int64_t)>& progress = {});
  // Marks the labels of these external ids deleted; returns how many were found.
  Result<int64_t> remove(const std::vector<int64_t>& ids);
  // Rebuilds without deleted vectors.
  Status compact();

  // Writes the index to `dir` (see the file comment): atomically as a new
  // generation when `dir` holds this index, else as a new directory.
  Status save(const std::string& dir);

  Result<SearchResults> search(const float* queries, int64_t nq, const SearchParams& p, const Filter* where) const;

  // The metadata (a JSON object's text) of the live vector with external id
  // `id`; "" when it has none or the id is not here. Not thread-safe (builds an
  // id map on first use).
  std::string metadata_of(int64_t id) const;

  int64_t dim() const;
  int64_t live() const;    // vectors that searches can return
  int64_t labels() const;  // including deleted ones not yet compacted
  Metric metric() const;
  EngineKind engine() const;
  const Json& manifest() const;
  int64_t memory_bytes() const;
  void set_shard(const Shard& s);
  void set_threads(int threads);  // for add() and compact()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Holds the lock of an index directory (for add/delete/compact).
class IndexLock {
 public:
  IndexLock() = default;
  ~IndexLock();
  IndexLock(IndexLock&& o) noexcept;
  IndexLock& operator=(IndexLock&& o) noexcept;
  static Result<IndexLock> acquire(const std::string& dir);

 private:
  int fd_ = -1;
};

// One index or a shard set, searched as one.
class IndexSet {
 public:
  static Result<IndexSet> open(const std::string& path, bool verify = true);
  Result<SearchResults> search(const float* queries, int64_t nq, const SearchParams& p, const Filter* where) const;
  const std::vector<Index>& parts() const { return parts_; }
  std::string metadata_of(int64_t id) const;
  int64_t dim() const { return parts_.front().dim(); }
  Metric metric() const { return parts_.front().metric(); }

 private:
  std::vector<Index> parts_;
};

}  // namespace sciflow::index
