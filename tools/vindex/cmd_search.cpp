// vindex search / eval / info: query an index or a shard set.
#include <fmt/core.h>
#include <time.h>

#include <chrono>
#include <unordered_set>

#include "core/units.hpp"
#include "io/file.hpp"
#include "tools/vindex/commands.hpp"

namespace sciflow::vindex {

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Result<index::VectorSet> read_queries(const std::string& spec, const std::string& format, const index::IndexSet& set) {
  index::ReadVectorsOptions ro;
  ro.format = format;
  ASSIGN_OR_RETURN(auto q, index::read_vectors(spec, ro));
  if (q.dim != set.dim())
    return invalid_argument(fmt::format("{}: queries of dimension {}, but the index has dimension {}",
                                        io::display_name(spec), q.dim, set.dim()));
  return q;
}

index::SearchParams params_of(int64_t k, int ef, int nprobe, cli::Context& ctx) {
  index::SearchParams p;
  p.k = k;
  p.ef = ef;
  p.nprobe = nprobe;
  p.threads = ctx.threads();
  return p;
}

}  // namespace

Status run_search(const SearchOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(auto set, index::IndexSet::open(o.index, !o.no_verify));
  std::optional<index::Filter> where;
  if (!o.where.empty()) {
    ASSIGN_OR_RETURN(where, index::Filter::parse(o.where));
  }
  ASSIGN_OR_RETURN(auto q, read_queries(o.queries, o.format, set));
  auto p = params_of(o.k, o.ef, o.nprobe, ctx);
  ASSIGN_OR_RETURN(auto r, set.search(q.data.data(), q.rows, p, where ? &*where : nullptr));
  if (o.output.ends_with(".ivecs")) return index::write_ivecs(o.output, r.ids, r.k);
  ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(o.output));
  std::string buf;
  for (int64_t i = 0; i < r.queries; ++i) {
    buf += fmt::format("{{\"query\":{},\"ids\":[", q.ids[static_cast<size_t>(i)]);
    int64_t n = 0;
    for (int64_t j = 0; j < r.k; ++j)
      if (r.ids[static_cast<size_t>(i * r.k + j)] >= 0) buf += fmt::format("{}{}", n++ ? "," : "", r.ids[static_cast<size_t>(i * r.k + j)]);
    buf += "],\"distances\":[";
    n = 0;
    for (int64_t j = 0; j < r.k; ++j)
      if (r.ids[static_cast<size_t>(i * r.k + j)] >= 0)
        buf += fmt::format("{}{:.7g}", n++ ? "," : "", r.distances[static_cast<size_t>(i * r.k + j)]);
    buf += "]";
    if (o.with_metadata) {
      buf += ",\"metadata\":[";
      n = 0;
      for (int64_t j = 0; j < r.k; ++j) {
        int64_t id = r.ids[static_cast<size_t>(i * r.k + j)];
        if (id < 0) continue;
        std::string m = set.metadata_of(id);
        buf += (n++ ? "," : "") + (m.empty() ? std::string("null") : m);
      }
      buf += "]";
    }
    buf += "}\n";
    if (buf.size() > (1 << 20)) {
      RETURN_IF_ERROR(out.write(buf));
      buf.clear();
    }
  }
  RETURN_IF_ERROR(out.write(buf));
  return out.commit();
}

Status run_eval(const EvalOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(auto set, index::IndexSet::open(o.index, !o.no_verify));
  ASSIGN_OR_RETURN(auto q, read_queries(o.queries, "auto", set));
  ASSIGN_OR_RETURN(auto gt, index::read_neighbors(o.groundtruth));
  if (static_cast<int64_t>(gt.size()) < q.rows)
    return invalid_argument(fmt::format("{}: {} rows of ground truth for {} queries", o.groundtruth, gt.size(), q.rows));
  for (size_t i = 0; i < static_cast<size_t>(q.rows); ++i)
    if (static_cast<int64_t>(gt[i].size()) < o.k)
      return invalid_argument(fmt::format("{}: row {} has {} neighbours, fewer than -k {}", o.groundtruth, i, gt[i].size(), o.k));
  auto p = params_of(o.k, o.ef, o.nprobe, ctx);
  // The whole query set is searched repeatedly until at least --min-time has
  // passed, so that small sets give stable rates; recall is from the first pass.
  double c0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto r, set.search(q.data.data(), q.rows, p, nullptr));
  int64_t passes = 1;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  while (wall < o.min_time) {
    ASSIGN_OR_RETURN(auto again, set.search(q.data.data(), q.rows, p, nullptr));
    ++passes;
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  double cpu = cpu_seconds() - c0;
  int64_t hits = 0;
  for (int64_t i = 0; i < q.rows; ++i) {
    std::unordered_set<int64_t> truth(gt[static_cast<size_t>(i)].begin(), gt[static_cast<size_t>(i)].begin() + o.k);
    for (int64_t j = 0; j < o.k; ++j) hits += truth.count(r.ids[static_cast<size_t>(i * o.k + j)]) ? 1 : 0;
  }
  double recall = static_cast<double>(hits) / static_cast<double>(q.rows * o.k);
  double searched = static_cast<double>(q.rows * passes);
  double qps = wall > 0 ? searched / wall : 0;
  double qpc = cpu > 0 ? searched / cpu : 0;
  if (ctx.json()) {
    Json j = Json::object();
    j["recall"] = recall;
    j["qps"] = qps;
    j["qps_per_cpu_second"] = qpc;
    j["k"] = o.k;
    j["queries"] = q.rows;
    j["ef"] = o.ef;
    j["nprobe"] = o.nprobe;
    j["threads"] = p.threads;
    j["passes"] = passes;
    j["seconds"] = wall;
    j["cpu_seconds"] = cpu;
    return ctx.print_json(j);
  }
  return ctx.print(fmt::format("recall@{} {:.4f}\nqueries   {} x {} passes in {:.3f} s ({:.0f} queries/s, {:.0f} per CPU-second, {} threads)\n",
                               o.k, recall, q.rows, passes, wall, qps, qpc, p.threads));
}

Status run_info(const InfoOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(auto set, index::IndexSet::open(o.index, !o.no_verify));
  int64_t live = 0, labels = 0, mem = 0, disk = 0;
  for (const auto& part : set.parts()) {
    live += part.live();
    labels += part.labels();
    mem += part.memory_bytes();
    for (const auto& [k, f] : part.manifest()["files"].items()) disk += f.value("bytes", int64_t{0});
  }
  const Json& man = set.parts().front().manifest();
  if (ctx.json()) {
    Json j = Json::object();
    j["index"] = o.index;
    j["shards"] = set.parts().size();
    j["engine"] = man["engine"];
    j["metric"] = man["metric"];
    j["dim"] = set.dim();
    j["vectors"] = live;
    j["deleted"] = labels - live;
    j["disk_bytes"] = disk;
    j["memory_bytes"] = mem;
    j["params"] = man["params"];
    j["engine_params"] = man["engine_params"];
    j["generation"] = man["generation"];
    j["verified"] = !o.no_verify;
    j["created_by"] = man["created_by"];
    j["updated"] = man["updated"];
    return ctx.print_json(j);
  }
  std::string t;
  t += fmt::format("index       {}{}\n", o.index,
                   set.parts().size() > 1 ? fmt::format(" ({} shards)", set.parts().size()) : "");
  t += fmt::format("engine      {} ({})\n", man["engine"].get<std::string>(), man["engine_params"].dump());
  t += fmt::format("metric      {}, dimension {}\n", man["metric"].get<std::string>(), set.dim());
  t += fmt::format("vectors     {} ({} deleted, not yet compacted)\n", live, labels - live);
  t += fmt::format("size        {} on disk, ~{} in memory ({:.0f} bytes per vector)\n",
                   units::format_bytes(static_cast<double>(disk)), units::format_bytes(static_cast<double>(mem)),
                   live ? static_cast<double>(mem) / static_cast<double>(live) : 0.0);
  t += fmt::format("checksums   {}\n", o.no_verify ? "sizes checked (SHA-256 skipped)" : "all files match manifest.json");
  t += fmt::format("updated     {} by {}\n", man.value("updated", ""), man.value("created_by", ""));
  return ctx.print(t);
}

}  // namespace sciflow::vindex
