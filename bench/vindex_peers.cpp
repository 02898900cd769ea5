// The peers of vindex, measured the way `vindex eval -j1` measures itself:
// hnswlib used directly and FAISS IndexHNSWFlat, built and searched in this
// process. bench/vindex-bench.sh compiles it with vindex's flags for the engine
// code (-O3 -march=native) and runs it beside vindex on the same files.
//
//   vindex_peers hnswlib|faiss-hnsw BASE.fvecs QUERY.fvecs GT.ivecs M EFC EF...
//       one JSON line per ef: recall@10, queries per CPU-second (one query per
//       call, one thread, repeated for >= 1 s), build CPU-seconds, max RSS
//   vindex_peers hnswlib-load ENGINE.hnsw QUERY.fvecs GT.ivecs EF...
//       searches the very graph vindex built (its engine file is an hnswlib
//       index) with plain hnswlib: the same graph, only the code path differs
//   vindex_peers gen N DIM CLUSTERS SEED OUT.fvecs
//       N points of a fixed mixture of CLUSTERS Gaussians (the "generated 1M x 128" set)
#include <faiss/IndexHNSW.h>
#include <hnswlib/hnswlib.h>
#include <sys/resource.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

template <typename T>
std::vector<T> read_xvecs(const char* path, int* dim, size_t* rows) {
  FILE* f = std::fopen(path, "rb");
  if (!f) {
    std::perror(path);
    std::exit(1);
  }
  std::fseek(f, 0, SEEK_END);
  long bytes = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  int d = 0;
  if (std::fread(&d, 4, 1, f) != 1) std::exit(1);
  std::fseek(f, 0, SEEK_SET);
  size_t n = static_cast<size_t>(bytes) / (4 + 4 * static_cast<size_t>(d));
  std::vector<T> out(n * static_cast<size_t>(d));
  for (size_t i = 0; i < n; ++i) {
    int di;
    if (std::fread(&di, 4, 1, f) != 1 || std::fread(out.data() + i * d, 4, d, f) != static_cast<size_t>(d)) std::exit(1);
  }
  std::fclose(f);
  *dim = d;
  *rows = n;
  return out;
}

int gen(int argc, char** argv) {
  if (argc != 7) return 2;
  size_t n = std::stoul(argv[2]);
  int d = std::stoi(argv[3]);
  int clusters = std::stoi(argv[4]);
  // The mixture (its centres) is fixed; SEED picks the points, so base and
  // queries drawn with two seeds come from the same distribution.
  std::mt19937_64 crng(12345);
  std::uniform_real_distribution<float> centre(0, 100);
  std::vector<float> centres(static_cast<size_t>(clusters) * d);
  for (auto& c : centres) c = centre(crng);
  std::mt19937_64 rng(std::stoull(argv[5]));
  std::normal_distribution<float> noise(0, 6);
  FILE* f = std::fopen(argv[6], "wb");
  if (!f) return 1;
  std::vector<float> v(static_cast<size_t>(d));
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  for (size_t i = 0; i < n; ++i) {
    const float* c = centres.data() + static_cast<size_t>(pick(rng)) * d;
    for (int j = 0; j < d; ++j) v[static_cast<size_t>(j)] = c[j] + noise(rng);
    std::fwrite(&d, 4, 1, f);
    std::fwrite(v.data(), 4, static_cast<size_t>(d), f);
  }
  return std::fclose(f) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "gen") return gen(argc, argv);
  bool load = argc >= 2 && std::string(argv[1]) == "hnswlib-load";
  if (load && argc < 6) {
    std::fprintf(stderr, "usage: vindex_peers hnswlib-load ENGINE QUERY GT EF...\n");
    return 2;
  }
  if (!load && argc < 8) {
    std::fprintf(stderr, "usage: vindex_peers hnswlib|faiss-hnsw BASE QUERY GT M EFC EF...\n");
    return 2;
  }
  std::string engine = argv[1];
  int d = 0, dq, k_gt;
  size_t n = 0, nq, ngt;
  std::vector<float> base;
  if (!load) base = read_xvecs<float>(argv[2], &d, &n);
  auto query = read_xvecs<float>(argv[3], &dq, &nq);
  auto gt = read_xvecs<int>(argv[4], &k_gt, &ngt);
  int m = load ? 0 : std::stoi(argv[5]), efc = load ? 0 : std::stoi(argv[6]);
  int first_ef = load ? 5 : 7;
  const int k = 10;
  long rss0 = max_rss_kib();

  std::unique_ptr<hnswlib::L2Space> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
  std::unique_ptr<faiss::IndexHNSWFlat> fh;
  double c0 = cpu_seconds();
  if (load) {
    d = dq;
    space = std::make_unique<hnswlib::L2Space>(d);
    hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(space.get(), argv[2]);
    n = hnsw->cur_element_count;
  } else if (engine == "hnswlib") {
    space = std::make_unique<hnswlib::L2Space>(d);
    hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(space.get(), n, m, efc, 100);
    for (size_t i = 0; i < n; ++i) hnsw->addPoint(base.data() + i * d, i);
  } else {
    fh = std::make_unique<faiss::IndexHNSWFlat>(d, m);
    fh->hnsw.efConstruction = efc;
    fh->add(static_cast<faiss::Index::idx_t>(n), base.data());
  }
  double build_cpu = cpu_seconds() - c0;
  long rss = max_rss_kib();

  for (int a = first_ef; a < argc; ++a) {
    int ef = std::stoi(argv[a]);
    std::vector<long> found(nq * k);
    size_t passes = 0;
    double s0 = cpu_seconds(), elapsed = 0;
    do {
      for (size_t q = 0; q < nq; ++q) {
        const float* x = query.data() + q * dq;
        if (hnsw) {
          hnsw->setEf(ef);
          auto r = hnsw->searchKnn(x, k);
          for (int j = k - 1; j >= 0 && !r.empty(); --j, r.pop()) found[q * k + j] = static_cast<long>(r.top().second);
        } else {
          fh->hnsw.efSearch = ef;  // FAISS 1.7.3 ignores SearchParametersHNSW here
          float dist[k];
          faiss::Index::idx_t lab[k];
          fh->search(1, x, k, dist, lab);
          for (int j = 0; j < k; ++j) found[q * k + j] = lab[j];
        }
      }
      ++passes;
      elapsed = cpu_seconds() - s0;
    } while (elapsed < 1.0);
    long hits = 0;
    for (size_t q = 0; q < nq; ++q) {
      std::unordered_set<long> truth(gt.begin() + q * k_gt, gt.begin() + q * k_gt + k);
      for (int j = 0; j < k; ++j) hits += truth.count(found[q * k + j]);
    }
    std::printf("{\"engine\":\"%s\",\"ef\":%d,\"recall\":%.4f,\"qps_per_cpu_second\":%.0f,\"build_cpu_seconds\":%.2f,"
                "\"max_rss_bytes\":%ld,\"rss_growth_per_vector\":%.0f}\n",
                engine.c_str(), ef, static_cast<double>(hits) / static_cast<double>(nq * k),
                static_cast<double>(nq * passes) / elapsed, build_cpu, rss * 1024,
                static_cast<double>(rss - rss0) * 1024.0 / static_cast<double>(n));
    std::fflush(stdout);
  }
  return 0;
}
