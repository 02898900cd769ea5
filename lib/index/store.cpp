#include "index/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <unordered_map>

#include "core/version.hpp"
#include "core/units.hpp"
#include "crypto/hash.hpp"

namespace sciflow::index {

namespace fs = std::filesystem;

Result<Shard> parse_shard(std::string_view text) {
  size_t slash = text.find('/');
  auto bad = [&] { return invalid_argument(fmt::format("--shard '{}': expected I/N with 0 <= I < N", text)); };
  if (slash == std::string_view::npos) return bad();
  try {
    size_t a = 0, b = 0;
    std::string is(text.substr(0, slash)), ns(text.substr(slash + 1));
    int i = std::stoi(is, &a), n = std::stoi(ns, &b);
    if (a != is.size() || b != ns.size() || n < 1 || i < 0 || i >= n) return bad();
    return Shard{i, n};
  } catch (const std::exception&) {
    return bad();
  }
}

std::string shard_dir_name(const Shard& s) { return fmt::format("shard-{}-of-{}", s.index, s.count); }

struct Index::Impl {
  EngineKind kind = EngineKind::kHnsw;
  Metric metric = Metric::kL2;
  int64_t dim = 0;
  BuildParams params;
  std::unique_ptr<Engine> engine;
  std::vector<int64_t> ids;       // per label
  std::vector<uint8_t> deleted;   // per label
  std::vector<std::string> meta;  // per label, or empty when no vector has metadata
  int64_t n_deleted = 0;
  int64_t generation = 0;
  std::string loaded_from;        // canonical directory, when opened
  std::optional<Shard> shard;
  Json manifest = Json::object();
  mutable std::unordered_map<int64_t, int64_t> by_id;  // external id -> label, for metadata_of()

  std::unordered_map<int64_t, int64_t> live_labels() const {
    std::unordered_map<int64_t, int64_t> m;
    m.reserve(ids.size());
    for (size_t l = 0; l < ids.size(); ++l)
      if (!deleted[l]) m.emplace(ids[l], static_cast<int64_t>(l));
    return m;
  }
};

Index::Index() : impl_(std::make_unique<Impl>()) {}
Index::~Index() = default;
Index::Index(Index&&) noexcept = default;
Index& Index::operator=(Index&&) noexcept = default;

int64_t Index::dim() const { return impl_->dim; }
int64_t Index::labels() const { return static_cast<int64_t>(impl_->ids.size()); }
int64_t Index::live() const { return labels() - impl_->n_deleted; }
Metric Index::metric() const { return impl_->metric; }
EngineKind Index::engine() const { return impl_->kind; }
const Json& Index::manifest() const { return impl_->manifest; }
int64_t Index::memory_bytes() const {
  int64_t b = impl_->engine->memory_bytes() + labels() * 9;
  for (const auto& m : impl_->meta) b += static_cast<int64_t>(m.size());
  return b;
}
void Index::set_shard(const Shard& s) { impl_->shard = s; }
void Index::set_threads(int threads) { impl_->params.threads = std::max(1, threads); }

Result<Index> Index::create(EngineKind engine, Metric metric, int64_t dim, const BuildParams& params) {
  Index x;
  x.impl_->kind = engine;
  x.impl_->metric = metric;
  x.impl_->dim = dim;
  x.impl_->params = params;
  ASSIGN_OR_RETURN(x.impl_->engine, create_engine(engine, metric, dim, params));
  return x;
}

Status Index::add(const VectorSet& v, const std::function<void(int64_t)>& progress) {
  Impl& m = *impl_;
  if (v.rows == 0) return Status::ok();
  if (v.dim != m.dim)
    return invalid_argument(fmt::format("vectors of dimension {} for an index of dimension {}", v.dim, m.dim));
  auto live = m.live_labels();
  for (int64_t i = 0; i < v.rows; ++i) {
    int64_t id = v.ids[static_cast<size_t>(i)];
    if (!live.emplace(id, -1).second)
      return invalid_argument(fmt::format("id {} (row {}) is already in the index or repeated in the input; delete it first",
                                          id, i));
  }
  const float* data = v.data.data();
  std::vector<float> normalised;
  if (m.metric == Metric::kCosine) {
    normalised = v.data;
    normalize_rows(normalised.data(), v.rows, v.dim);
    data = normalised.data();
  }
  // The IVF engines train on their first batch, so they get everything at once;
  // the graph grows in steps that the progress bar can show.
  const int64_t step = m.kind == EngineKind::kHnsw ? 8192 : v.rows;
  for (int64_t done = 0; done < v.rows;) {
    int64_t n = std::min(step, v.rows - done);
    RETURN_IF_ERROR(m.engine->add(data + done * m.dim, n));
    done += n;
    if (progress) progress(done);
  }
  bool had_meta = !m.meta.empty();
  m.ids.insert(m.ids.end(), v.ids.begin(), v.ids.end());
  m.deleted.resize(m.ids.size(), 0);
  if (!v.meta.empty() || had_meta) {
    m.meta.resize(m.ids.size() - static_cast<size_t>(v.rows));
    if (v.meta.empty())
      m.meta.resize(m.ids.size());
    else
      m.meta.insert(m.meta.end(), v.meta.begin(), v.meta.end());
  }
  return Status::ok();
}

Result<int64_t> Index::remove(const std::vector<int64_t>& ids) {
  Impl& m = *impl_;
  auto live = m.live_labels();
  int64_t found = 0;
  for (int64_t id : ids) {
    auto it = live.find(id);
    if (it == live.end()) continue;
    RETURN_IF_ERROR(m.engine->remove(it->second));
    m.deleted[static_cast<size_t>(it->second)] = 1;
    ++m.n_deleted;
    ++found;
    live.erase(it);
  }
  return found;
}

Status Index::compact() {
  Impl& m = *impl_;
  if (m.n_deleted == 0) return Status::ok();
  std::vector<bool> keep(m.ids.size());
  for (size_t l = 0; l < keep.size(); ++l) keep[l] = !m.deleted[l];
  RETURN_IF_ERROR(m.engine->compact(keep));
  std::vector<int64_t> ids;
  std::vector<std::string> meta;
  for (size_t l = 0; l < keep.size(); ++l) {
    if (!keep[l]) continue;
    ids.push_back(m.ids[l]);
    if (!m.meta.empty()) meta.push_back(std::move(m.meta[l]));
  }
  m.ids = std::move(ids);
  m.meta = std::move(meta);
  m.deleted.assign(m.ids.size(), 0);
  m.n_deleted = 0;
  return Status::ok();
}

// ---- files ---------------------------------------------------------------------------------

namespace {

Status fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(fmt::format("open '{}'", path), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(fmt::format("fsync '{}'", path), err);
  return Status::ok();
}

template <typename T>
std::string_view bytes_of(const std::vector<T>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)};
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

Status Index::save(const std::string& dir) {
  Impl& m = *impl_;
  std::string target = dir;
  std::string work;  // where files are written
  bool in_place = false;
  if (is_dir(dir) && exists(dir + "/manifest.json")) {
    in_place = true;
    work = dir;
    // The next generation after the one on disk (which a locked writer has read).
    ASSIGN_OR_RETURN(std::string text, io::read_file(dir + "/manifest.json"));
    ASSIGN_OR_RETURN(Json cur, parse_json(text, dir + "/manifest.json"));
    m.generation = std::max(m.generation, cur.value("generation", int64_t{0})) + 1;
  } else if (exists(dir)) {
    if (!is_dir(dir)) return invalid_argument(fmt::format("{}: exists and is not a directory", dir));
    std::error_code ec;
    if (!fs::is_empty(dir, ec)) return invalid_argument(fmt::format("{}: a directory that is not an index", dir));
    in_place = true;
    work = dir;
    m.generation = 1;
  } else {
    // A fresh directory appears whole: written under a temporary name, then renamed.
    fs::path p(dir);
    std::string parent = p.parent_path().empty() ? "." : p.parent_path().string();
    std::string tmpl = parent + "/." + p.filename().string() + ".tmp.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) return errno_status(fmt::format("create a directory beside '{}'", dir), errno);
    work = buf.data();
    ::chmod(work.c_str(), 0755);
    m.generation = 1;
  }
  auto cleanup_tmp = [&] {
    if (!in_place) {
      std::error_code ec;
      fs::remove_all(work, ec);
    }
  };
  Status st = [&]() -> Status {
    int64_t g = m.generation;
    Json files = Json::object();
    auto record = [&](const std::string& key, const std::string& name) -> Status {
      std::string path = work + "/" + name;
      RETURN_IF_ERROR(fsync_path(path));
      ASSIGN_OR_RETURN(std::string sum, crypto::sha256_file_hex(path));
      files[key] = Json{{"name", name}, {"bytes", static_cast<int64_t>(fs::file_size(path))}, {"sha256", sum}};
      return Status::ok();
    };
    std::string ext = m.kind == EngineKind::kHnsw ? "hnsw" : "faiss";
    std::string engine_name_g = fmt::format("engine-{}.{}", g, ext);
    std::string tmp = work + "/." + engine_name_g + ".tmp";
    RETURN_IF_ERROR(m.engine->save(tmp));
    if (::rename(tmp.c_str(), (work + "/" + engine_name_g).c_str()) != 0)
      return errno_status(fmt::format("rename '{}'", tmp), errno);
    RETURN_IF_ERROR(record("engine", engine_name_g));
    std::string ids_name = fmt::format("ids-{}.i64", g);
    RETURN_IF_ERROR(io::write_file_atomic(work + "/" + ids_name, bytes_of(m.ids)));
    RETURN_IF_ERROR(record("ids", ids_name));
    if (m.n_deleted > 0) {
      std::string del_name = fmt::format("deleted-{}.bits", g);
      RETURN_IF_ERROR(io::write_file_atomic(work + "/" + del_name, bytes_of(m.deleted)));
      RETURN_IF_ERROR(record("deleted", del_name));
    }
    if (!m.meta.empty()) {
      std::string meta_name = fmt::format("meta-{}.jsonl", g);
      std::string text;
      for (const auto& line : m.meta) {
        text += line;
        text += '\n';
      }
      RETURN_IF_ERROR(io::write_file_atomic(work + "/" + meta_name, text));
      RETURN_IF_ERROR(record("meta", meta_name));
    }
    Json man = Json::object();
    man["format"] = "sciflow-vindex";
    man["version"] = kFormatVersion;
    man["engine"] = engine_name(m.kind);
    man["metric"] = metric_name(m.metric);
    man["dim"] = m.dim;
    man["labels"] = labels();
    man["live"] = live();
    man["generation"] = g;
    man["params"] = m.params.to_json();
    man["engine_params"] = m.engine->describe();
    man["shard"] = m.shard ? Json{{"index", m.shard->index}, {"count", m.shard->count}} : Json(nullptr);
    man["files"] = files;
    man["created_by"] = std::string("vindex ") + kVersion;
    man["updated"] = units::format_utc(static_cast<double>(std::time(nullptr)));
    RETURN_IF_ERROR(io::write_file_atomic(work + "/manifest.json", man.dump(2) + "\n"));
    m.manifest = man;
    // Files of older generations (and temporaries of a crashed writer) go last.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(work, ec)) {
      std::string name = e.path().filename().string();
      if (name == "manifest.json" || name == ".lock") continue;
      bool current = false;
      for (const auto& [k, f] : files.items()) current |= f["name"].get<std::string>() == name;
      if (!current) fs::remove(e.path(), ec);
    }
    return Status::ok();
  }();
  if (!st.is_ok()) {
    cleanup_tmp();
    return st;
  }
  if (!in_place && ::rename(work.c_str(), target.c_str()) != 0) {
    int err = errno;
    cleanup_tmp();
    return errno_status(fmt::format("rename '{}' to '{}'", work, target), err);
  }
  impl_->loaded_from = target;
  return Status::ok();
}

Result<Index> Index::open(const std::string& dir, bool verify) {
  std::string mpath = dir + "/manifest.json";
  if (!is_dir(dir)) return not_found(fmt::format("{}: no such index directory", dir));
  if (!exists(mpath)) return not_found(fmt::format("{}: not an index (no manifest.json)", dir));
  ASSIGN_OR_RETURN(std::string text, io::read_file(mpath));
  ASSIGN_OR_RETURN(Json man, parse_json(text, mpath));
  auto field = [&](const char* key) -> Result<const Json*> {
    auto it = man.find(key);
    if (it == man.end()) return corrupt(fmt::format("{}: no \"{}\"", mpath, key));
    return &*it;
  };
  if (man.value("format", "") != "sciflow-vindex") return corrupt(fmt::format("{}: not a vindex manifest", mpath));
  int version = man.value("version", 0);
  if (version > kFormatVersion)
    return unsupported(fmt::format("{}: format version {} (this vindex reads up to {}): upgrade vindex", mpath, version,
                                   kFormatVersion));
  Index x;
  Impl& m = *x.impl_;
  try {
    ASSIGN_OR_RETURN(const Json* e, field("engine"));
    ASSIGN_OR_RETURN(const Json* me, field("metric"));
    auto kind = parse_engine(e->get<std::string>());
    auto metric = parse_metric(me->get<std::string>());
    if (!kind || !metric) return corrupt(fmt::format("{}: unknown engine or metric", mpath));
    m.kind = *kind;
    m.metric = *metric;
    ASSIGN_OR_RETURN(const Json* d, field("dim"));
    m.dim = d->get<int64_t>();
    m.generation = man.value("generation", int64_t{0});
    m.params = BuildParams::from_json(man.value("params", Json::object()));
    if (man.contains("shard") && man["shard"].is_object())
      m.shard = Shard{man["shard"].value("index", 0), man["shard"].value("count", 1)};
    ASSIGN_OR_RETURN(const Json* files, field("files"));
    auto path_of = [&](const char* key) -> Result<std::string> {
      if (!files->contains(key)) return std::string();
      const Json& f = (*files)[key];
      std::string name = f.value("name", "");
      if (name.empty() || name.find('/') != std::string::npos) return corrupt(fmt::format("{}: bad file name for {}", mpath, key));
      std::string p = dir + "/" + name;
      struct stat st;
      if (::stat(p.c_str(), &st) != 0) return corrupt(fmt::format("{}: missing (named in manifest.json)", p));
      int64_t want = f.value("bytes", int64_t{-1});
      if (st.st_size != want)
        return corrupt(fmt::format("{}: {} bytes where manifest.json says {}: truncated or replaced", p,
                                   static_cast<int64_t>(st.st_size), want));
      if (verify) {
        ASSIGN_OR_RETURN(std::string sum, crypto::sha256_file_hex(p));
        if (sum != f.value("sha256", ""))
          return corrupt(fmt::format("{}: SHA-256 differs from manifest.json: the file is damaged", p));
      }
      return p;
    };
    ASSIGN_OR_RETURN(std::string engine_path, path_of("engine"));
    ASSIGN_OR_RETURN(std::string ids_path, path_of("ids"));
    ASSIGN_OR_RETURN(std::string del_path, path_of("deleted"));
    ASSIGN_OR_RETURN(std::string meta_path, path_of("meta"));
    if (engine_path.empty() || ids_path.empty()) return corrupt(fmt::format("{}: no engine or ids file", mpath));
    int64_t nlabels = man.value("labels", int64_t{-1});
    {
      ASSIGN_OR_RETURN(auto map, io::MappedFile::open(ids_path));
      if (static_cast<int64_t>(map.data().size()) != nlabels * 8)
        return corrupt(fmt::format("{}: {} bytes for {} labels", ids_path, map.data().size(), nlabels));
      m.ids.resize(static_cast<size_t>(nlabels));
      if (nlabels > 0) std::memcpy(m.ids.data(), map.data().data(), map.data().size());
    }
    m.deleted.assign(static_cast<size_t>(nlabels), 0);
    if (!del_path.empty()) {
      ASSIGN_OR_RETURN(auto map, io::MappedFile::open(del_path));
      if (static_cast<int64_t>(map.data().size()) != nlabels)
        return corrupt(fmt::format("{}: {} bytes for {} labels", del_path, map.data().size(), nlabels));
      std::memcpy(m.deleted.data(), map.data().data(), map.data().size());
      m.n_deleted = std::count(m.deleted.begin(), m.deleted.end(), 1);
    }
    if (!meta_path.empty()) {
      ASSIGN_OR_RETURN(std::string mt, io::read_file(meta_path));
      for (std::string_view line : io::split_lines(mt)) m.meta.emplace_back(line);
      if (static_cast<int64_t>(m.meta.size()) != nlabels)
        return corrupt(fmt::format("{}: {} lines for {} labels", meta_path, m.meta.size(), nlabels));
    }
    ASSIGN_OR_RETURN(m.engine, load_engine(m.kind, m.metric, m.dim, m.params, engine_path));
    if (m.engine->size() != nlabels)
      return corrupt(fmt::format("{}: {} vectors where manifest.json says {}", engine_path, m.engine->size(), nlabels));
  } catch (const Json::exception& e) {
    return corrupt(fmt::format("{}: {}", mpath, e.what()));
  }
  m.manifest = std::move(man);
  m.loaded_from = dir;
  return x;
}

Result<SearchResults> Index::search(const float* queries, int64_t nq, const SearchParams& p, const Filter* where) const {
  const Impl& m = *impl_;
  SearchResults r;
  r.queries = nq;
  r.k = p.k;
  const float* q = queries;
  std::vector<float> normalised;
  if (m.metric == Metric::kCosine) {
    normalised.assign(queries, queries + nq * m.dim);
    normalize_rows(normalised.data(), nq, m.dim);
    q = normalised.data();
  }
  std::vector<uint8_t> allowed;
  Allow allow;
  if (where) {
    if (m.meta.empty()) return invalid_argument("--where: this index has no metadata (build it from JSONL with fields)");
    allowed.assign(m.ids.size(), 0);
    for (size_t l = 0; l < m.ids.size(); ++l) {
      if (m.deleted[l] || m.meta[l].empty()) continue;
      auto j = parse_json(m.meta[l], "metadata");
      if (j && where->match(*j)) allowed[l] = 1;
    }
    allow = [&allowed](int64_t l) { return l >= 0 && static_cast<size_t>(l) < allowed.size() && allowed[static_cast<size_t>(l)]; };
  } else if (m.n_deleted > 0 && m.kind != EngineKind::kHnsw) {  // hnswlib skips its deleted labels itself
    allow = [&m](int64_t l) { return l >= 0 && static_cast<size_t>(l) < m.deleted.size() && !m.deleted[static_cast<size_t>(l)]; };
  }
  SearchParams sp = p;
  if (where) sp.allowed = std::count(allowed.begin(), allowed.end(), 1);
  std::vector<int64_t> labels(static_cast<size_t>(nq * p.k));
  r.distances.resize(static_cast<size_t>(nq * p.k));
  RETURN_IF_ERROR(m.engine->search(q, nq, sp, allow, r.distances.data(), labels.data()));
  r.ids.resize(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    int64_t l = labels[i];
    r.ids[i] = l >= 0 && static_cast<size_t>(l) < m.ids.size() ? m.ids[static_cast<size_t>(l)] : -1;
    if (r.ids[i] >= 0 && m.metric != Metric::kL2) r.distances[i] = -r.distances[i];
  }
  return r;
}

std::string Index::metadata_of(int64_t id) const {
  const Impl& m = *impl_;
  if (m.meta.empty()) return {};
  if (m.by_id.empty()) m.by_id = m.live_labels();
  auto it = m.by_id.find(id);
  return it == m.by_id.end() ? std::string() : m.meta[static_cast<size_t>(it->second)];
}

// ---- lock ---------------------------------------------------------------------------------

IndexLock::~IndexLock() {
  if (fd_ >= 0) ::close(fd_);
}
IndexLock::IndexLock(IndexLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
IndexLock& IndexLock::operator=(IndexLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Result<IndexLock> IndexLock::acquire(const std::string& dir) {
  std::string path = dir + "/.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(fmt::format("open '{}'", path), errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return Status(Code::kUnavailable, fmt::format("{}: another vindex is updating this index (lock {} held)", dir, path));
    return errno_status(fmt::format("lock '{}'", path), err);
  }
  IndexLock l;
  l.fd_ = fd;
  return l;
}

// ---- shard sets ---------------------------------------------------------------------------

Result<IndexSet> IndexSet::open(const std::string& path, bool verify) {
  IndexSet set;
  if (exists(path + "/manifest.json")) {
    ASSIGN_OR_RETURN(Index x, Index::open(path, verify));
    set.parts_.push_back(std::move(x));
    return set;
  }
  if (!is_dir(path)) return not_found(fmt::format("{}: no such index directory", path));
  std::vector<std::pair<int, std::string>> shards;
  int count = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    int i, n;
    char tail;
    std::string name = e.path().filename().string();
    if (std::sscanf(name.c_str(), "shard-%d-of-%d%c", &i, &n, &tail) != 2) continue;
    if (count != 0 && n != count)
      return invalid_argument(fmt::format("{}: shards of two different splits ({} and {})", path, count, n));
    count = n;
    shards.emplace_back(i, e.path().string());
  }
  if (shards.empty()) return not_found(fmt::format("{}: not an index (no manifest.json) and no shard-I-of-N directories", path));
  std::sort(shards.begin(), shards.end());
  for (int i = 0; i < count; ++i)
    if (i >= static_cast<int>(shards.size()) || shards[static_cast<size_t>(i)].first != i)
      return not_found(fmt::format("{}: shard {} of {} is missing ({})", path, i, count, shard_dir_name({i, count})));
  for (const auto& [i, p] : shards) {
    ASSIGN_OR_RETURN(Index x, Index::open(p, verify));
    if (!set.parts_.empty() && (x.dim() != set.parts_[0].dim() || x.metric() != set.parts_[0].metric()))
      return invalid_argument(fmt::format("{}: dimension or metric differs from shard 0", p));
    set.parts_.push_back(std::move(x));
  }
  return set;
}

std::string IndexSet::metadata_of(int64_t id) const {
  for (const auto& part : parts_) {
    std::string m = part.metadata_of(id);
    if (!m.empty()) return m;
  }
  return {};
}

Result<SearchResults> IndexSet::search(const float* queries, int64_t nq, const SearchParams& p, const Filter* where) const {
  if (parts_.size() == 1) return parts_[0].search(queries, nq, p, where);
  std::vector<SearchResults> each;
  for (const auto& part : parts_) {
    ASSIGN_OR_RETURN(auto r, part.search(queries, nq, p, where));
    each.push_back(std::move(r));
  }
  bool larger_closer = metric() != Metric::kL2;
  SearchResults out;
  out.queries = nq;
  out.k = p.k;
  out.ids.assign(static_cast<size_t>(nq * p.k), -1);
  out.distances.assign(static_cast<size_t>(nq * p.k), INFINITY);
  std::vector<std::pair<float, int64_t>> cand;
  for (int64_t qi = 0; qi < nq; ++qi) {
    cand.clear();
    for (const auto& r : each)
      for (int64_t j = 0; j < p.k; ++j) {
        size_t at = static_cast<size_t>(qi * p.k + j);
        if (r.ids[at] >= 0) cand.emplace_back(larger_closer ? -r.distances[at] : r.distances[at], r.ids[at]);
      }
    std::sort(cand.begin(), cand.end());
    for (size_t j = 0; j < cand.size() && static_cast<int64_t>(j) < p.k; ++j) {
      size_t at = static_cast<size_t>(qi * p.k) + j;
      out.ids[at] = cand[j].second;
      out.distances[at] = larger_closer ? -cand[j].first : cand[j].first;
    }
  }
  return out;
}

}  // namespace sciflow::index
