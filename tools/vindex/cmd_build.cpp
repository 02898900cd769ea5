// vindex build / add / delete / compact: write and update index directories.
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/log.hpp"
#include "core/units.hpp"
#include "io/file.hpp"
#include "term/term.hpp"
#include "tools/vindex/commands.hpp"

namespace sciflow::vindex {

namespace {

Status add_with_progress(index::Index& x, const index::VectorSet& v, cli::Context& ctx) {
  term::ProgressBar bar(ctx.progress("adding", v.rows, false));
  RETURN_IF_ERROR(x.add(v, [&](int64_t done) { bar.add(done - bar.done()); }));
  bar.finish();
  return Status::ok();
}

Status report(const index::Index& x, const std::string& dir, double seconds, cli::Context& ctx) {
  const Json& man = x.manifest();
  if (ctx.json()) {
    Json j = Json::object();
    j["index"] = dir;
    j["engine"] = man["engine"];
    j["metric"] = man["metric"];
    j["dim"] = x.dim();
    j["vectors"] = x.live();
    j["generation"] = man["generation"];
    j["seconds"] = seconds;
    j["memory_bytes"] = x.memory_bytes();
    return ctx.print_json(j);
  }
  log::info("{}", fmt::format("{}: {} vectors of dimension {}, {} {}, in {:.2f} s", dir, x.live(), x.dim(),
                        man["engine"].get<std::string>(), man["metric"].get<std::string>(), seconds));
  return Status::ok();
}

}  // namespace

Status run_build(const BuildOptions& o, cli::Context& ctx) {
  auto metric = index::parse_metric(o.metric);
  auto engine = index::parse_engine(o.engine);
  if (!metric || !engine) return invalid_argument("unknown metric or engine");  // CLI11 checks the choices first
  std::string out = o.output;
  std::optional<index::Shard> shard;
  index::ReadVectorsOptions ro;
  ro.format = o.format;
  if (!o.shard.empty()) {
    ASSIGN_OR_RETURN(shard, index::parse_shard(o.shard));
    ASSIGN_OR_RETURN(auto shape, index::probe_vectors(o.input, ro));
    ro.first = shape.rows * shard->index / shard->count;
    ro.count = shape.rows * (shard->index + 1) / shard->count - ro.first;
    std::error_code ec;
    std::filesystem::create_directories(o.output, ec);
    if (ec) return io_error(fmt::format("create '{}': {}", o.output, ec.message()));
    out = o.output + "/" + index::shard_dir_name(*shard);
  }
  struct stat st;
  bool existed = ::stat(out.c_str(), &st) == 0;
  if (existed && !o.force) return Status(Code::kAlreadyExists, fmt::format("{}: exists (use -f to replace it)", out));
  // -f replaces an index, never another directory or file ("-o ~/ -f" once removed it).
  if (existed && (!S_ISDIR(st.st_mode) || ::access((out + "/manifest.json").c_str(), F_OK) != 0))
    return Status(Code::kAlreadyExists, fmt::format("{}: exists and is not a vindex index (no manifest.json); not replaced", out));
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto v, index::read_vectors(o.input, ro));
  if (v.rows == 0) return invalid_argument(fmt::format("{}: no vectors to index", o.input));
  index::BuildParams p = o.params;
  p.threads = ctx.threads();
  ASSIGN_OR_RETURN(auto x, index::Index::create(*engine, *metric, v.dim, p));
  if (shard) x.set_shard(*shard);
  RETURN_IF_ERROR(add_with_progress(x, v, ctx));
  if (existed) {
    // Build beside the old index, then swap: the old one stays usable until the rename.
    std::string fresh = out + ".new";
    std::error_code ec;
    std::filesystem::remove_all(fresh, ec);
    RETURN_IF_ERROR(x.save(fresh));
    std::string old = out + ".old";
    std::filesystem::remove_all(old, ec);
    if (::rename(out.c_str(), old.c_str()) != 0) return errno_status(fmt::format("rename '{}'", out), errno);
    if (::rename(fresh.c_str(), out.c_str()) != 0) return errno_status(fmt::format("rename '{}'", fresh), errno);
    std::filesystem::remove_all(old, ec);
  } else {
    RETURN_IF_ERROR(x.save(out));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report(x, out, secs, ctx);
}

Status run_add(const AddOptions& o, cli::Context& ctx) {
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto lock, index::IndexLock::acquire(o.index));
  ASSIGN_OR_RETURN(auto x, index::Index::open(o.index));
  index::ReadVectorsOptions ro;
  ro.format = o.format;
  ASSIGN_OR_RETURN(auto v, index::read_vectors(o.input, ro));
  if (v.dim != x.dim())
    return invalid_argument(fmt::format("{}: vectors of dimension {}, but {} has dimension {}", o.input, v.dim, o.index, x.dim()));
  if (x.manifest().contains("shard") && x.manifest()["shard"].is_object())
    log::warn("{}", fmt::format("{}: adding to one shard of a set; ids must stay unique across shards", o.index));
  x.set_threads(ctx.threads());
  RETURN_IF_ERROR(add_with_progress(x, v, ctx));
  RETURN_IF_ERROR(x.save(o.index));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report(x, o.index, secs, ctx);
}

Status run_delete(const DeleteOptions& o, cli::Context& ctx) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<int64_t> ids = o.ids;
  if (!o.ids_from.empty()) {
    ASSIGN_OR_RETURN(std::string text, io::read_file(o.ids_from));
    int line = 0;
    for (std::string_view view : io::split_lines(text)) {
      std::string s(view);
      ++line;
      if (s.find_first_not_of(" \t\r") == std::string::npos) continue;
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      while (end && (*end == ' ' || *end == '\t' || *end == '\r')) ++end;
      if (end == s.c_str() || *end != '\0')
        return invalid_argument(fmt::format("{}:{}: '{}' is not an integer id", io::display_name(o.ids_from), line, s));
      ids.push_back(v);
    }
  }
  if (ids.empty()) return invalid_argument("no ids to delete (give IDS or --ids-from FILE)");
  ASSIGN_OR_RETURN(auto lock, index::IndexLock::acquire(o.index));
  ASSIGN_OR_RETURN(auto x, index::Index::open(o.index));
  x.set_threads(ctx.threads());
  ASSIGN_OR_RETURN(int64_t found, x.remove(ids));
  if (found < static_cast<int64_t>(ids.size()))
    log::warn("{}", fmt::format("{}: {} of {} ids were not in the index", o.index, static_cast<int64_t>(ids.size()) - found,
                          ids.size()));
  if (o.compact) RETURN_IF_ERROR(x.compact());
  RETURN_IF_ERROR(x.save(o.index));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report(x, o.index, secs, ctx);
}

Status run_compact(const CompactOptions& o, cli::Context& ctx) {
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto lock, index::IndexLock::acquire(o.index));
  ASSIGN_OR_RETURN(auto x, index::Index::open(o.index));
  x.set_threads(ctx.threads());
  RETURN_IF_ERROR(x.compact());
  RETURN_IF_ERROR(x.save(o.index));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report(x, o.index, secs, ctx);
}

}  // namespace sciflow::vindex
