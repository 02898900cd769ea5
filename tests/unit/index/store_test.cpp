#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "index/store.hpp"
#include "index/vectors.hpp"
#include "io/file.hpp"

namespace fs = std::filesystem;

namespace sciflow::index {
namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sciflow-index-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

VectorSet random_set(int64_t n, int64_t dim, uint32_t seed, int64_t first_id = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  VectorSet v;
  v.rows = n;
  v.dim = dim;
  for (int64_t i = 0; i < n * dim; ++i) v.data.push_back(g(rng));
  for (int64_t i = 0; i < n; ++i) v.ids.push_back(first_id + i);
  return v;
}

// Exact nearest neighbour by a plain scan, the reference for every engine.
int64_t brute_nearest(const VectorSet& v, const float* q, Metric metric) {
  int64_t best = -1;
  double best_d = INFINITY;
  for (int64_t i = 0; i < v.rows; ++i) {
    double d = 0, dot = 0, nx = 0, nq = 0;
    for (int64_t j = 0; j < v.dim; ++j) {
      double x = v.row(i)[j], y = q[j];
      d += (x - y) * (x - y);
      dot += x * y;
      nx += x * x;
      nq += y * y;
    }
    double score = metric == Metric::kL2 ? d : metric == Metric::kIP ? -dot : -dot / std::sqrt(nx * nq);
    if (score < best_d) best_d = score, best = v.ids[static_cast<size_t>(i)];
  }
  return best;
}

TEST_CASE("engines agree with a plain scan for every metric") {
  VectorSet base = random_set(500, 12, 1);
  VectorSet queries = random_set(20, 12, 2);
  for (EngineKind e : {EngineKind::kFlat, EngineKind::kHnsw, EngineKind::kIvfFlat}) {
    for (Metric m : {Metric::kL2, Metric::kIP, Metric::kCosine}) {
      CAPTURE(engine_name(e));
      CAPTURE(metric_name(m));
      auto x = Index::create(e, m, 12, BuildParams{});
      REQUIRE(x.has_value());
      REQUIRE(x->add(base).is_ok());
      SearchParams p;
      p.k = 3;
      p.ef = 200;
      p.nprobe = 1000;
      auto r = x->search(queries.data.data(), queries.rows, p, nullptr);
      REQUIRE(r.has_value());
      int64_t agree = 0;
      for (int64_t i = 0; i < queries.rows; ++i) {
        agree += r->ids[static_cast<size_t>(i * 3)] == brute_nearest(base, queries.row(i), m);
        // Results come best first: ascending L2, descending similarity.
        float d0 = r->distances[static_cast<size_t>(i * 3)], d1 = r->distances[static_cast<size_t>(i * 3 + 1)];
        CHECK((m == Metric::kL2 ? d0 <= d1 : d0 >= d1));
      }
      CHECK(agree == queries.rows);
    }
  }
}

TEST_CASE("save, open, update in place: generations, checksums, old files removed") {
  TempDir t;
  auto x = Index::create(EngineKind::kHnsw, Metric::kL2, 8, BuildParams{});
  REQUIRE(x.has_value());
  REQUIRE(x->add(random_set(100, 8, 3)).is_ok());
  REQUIRE(x->save(t / "idx").is_ok());
  CHECK(fs::exists(t / "idx/engine-1.hnsw"));
  auto y = Index::open(t / "idx");
  REQUIRE_MESSAGE(y.has_value(), y.status().message());
  CHECK(y->live() == 100);
  REQUIRE(y->add(random_set(50, 8, 4, 100)).is_ok());
  auto removed = y->remove({0, 1, 999});
  REQUIRE(removed.has_value());
  CHECK(*removed == 2);
  REQUIRE(y->save(t / "idx").is_ok());
  CHECK(!fs::exists(t / "idx/engine-1.hnsw"));
  CHECK(fs::exists(t / "idx/engine-2.hnsw"));
  CHECK(fs::exists(t / "idx/deleted-2.bits"));
  auto z = Index::open(t / "idx");
  REQUIRE(z.has_value());
  CHECK(z->live() == 148);
  CHECK(z->labels() == 150);
  CHECK(z->manifest()["generation"] == 2);
  // A crashed writer's leftovers are ignored on open and removed by the next save.
  REQUIRE(io::write_file_atomic(t / "idx/.engine-9.hnsw.tmp", "partial").is_ok());
  REQUIRE(io::write_file_atomic(t / "idx/ids-9.i64", "partial").is_ok());
  auto w = Index::open(t / "idx");
  REQUIRE(w.has_value());
  REQUIRE(w->compact().is_ok());
  REQUIRE(w->save(t / "idx").is_ok());
  CHECK(!fs::exists(t / "idx/.engine-9.hnsw.tmp"));
  CHECK(!fs::exists(t / "idx/ids-9.i64"));
  CHECK(fs::exists(t / "idx/engine-3.hnsw"));
  auto c = Index::open(t / "idx");
  REQUIRE(c.has_value());
  CHECK(c->live() == 148);
  CHECK(c->labels() == 148);
}

TEST_CASE("a second writer is refused while the lock is held") {
  TempDir t;
  fs::create_directories(t / "idx");
  auto a = IndexLock::acquire(t / "idx");
  REQUIRE(a.has_value());
  auto b = IndexLock::acquire(t / "idx");
  REQUIRE(!b.has_value());
  CHECK(b.status().code() == Code::kUnavailable);
}

TEST_CASE("vector files: formats round-trip; shard slices keep global ids") {
  TempDir t;
  VectorSet v = random_set(10, 4, 9);
  for (const char* name : {"v.fvecs", "v.npy", "v.h5", "v.jsonl"}) {
    CAPTURE(name);
    REQUIRE(write_vectors(t / name, v).is_ok());
    auto back = read_vectors(t / name);
    REQUIRE_MESSAGE(back.has_value(), back.status().message());
    CHECK(back->rows == 10);
    CHECK(back->dim == 4);
    for (size_t i = 0; i < v.data.size(); ++i) CHECK(back->data[i] == doctest::Approx(v.data[i]).epsilon(1e-6));
    ReadVectorsOptions o;
    o.first = 3;
    o.count = 4;
    auto part = read_vectors(t / name, o);
    REQUIRE(part.has_value());
    CHECK(part->rows == 4);
    CHECK(part->ids.front() == 3);
    CHECK(part->row(0)[0] == doctest::Approx(v.row(3)[0]));
    auto shape = probe_vectors(t / name);
    REQUIRE(shape.has_value());
    CHECK(shape->rows == 10);
  }
  CHECK(parse_shard("2/8")->index == 2);
  CHECK(!parse_shard("8/8").has_value());
  CHECK(!parse_shard("x").has_value());
}

}  // namespace
}  // namespace sciflow::index
