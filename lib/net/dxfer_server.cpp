#include "net/dxfer_server.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// cpp-httplib stays inside this file (docs/ARCHITECTURE.md: one adapter per
// third-party library). Debian builds it as a shared library; its pkg-config
// flags (CPPHTTPLIB_*_SUPPORT) come from CMake so that the ABI matches.
#include <httplib.h>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "codec/zstd.hpp"
#include "core/cancel.hpp"
#include "core/json.hpp"
#include "core/thread_pool.hpp"
#include "core/units.hpp"
#include "crypto/aead.hpp"
#include "crypto/cert.hpp"
#include "crypto/hash.hpp"
#include "io/file.hpp"
#include "net/http_client.hpp"
#include "net/tree_json.hpp"

namespace sciflow::net {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxChunk = int64_t{64} << 20;
constexpr const char* kApi = "/_dxfer/v1/";

using Fd = io::UniqueFd;

// An HTTP error: status code and a message for the JSON body and the audit log.
struct HttpError {
  int status = 500;
  std::string message;
};

int http_status(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kPermissionDenied: return 403;
    case Code::kCorrupt: return 422;
    case Code::kResourceExhausted: return 507;
    case Code::kAlreadyExists: return 409;
    case Code::kUnavailable: return 503;
    default: return 500;
  }
}

// "/a/b.h5" -> "a/b.h5"; refuses traversal, empty and reserved components.
Result<std::string> relative_path(std::string_view url_path, bool allow_root = false) {
  if (url_path.empty() || url_path.front() != '/')
    return Status(Code::kPermissionDenied, fmt::format("path '{}' must start with /", url_path));
  std::string rel;
  size_t pos = 1;
  while (pos <= url_path.size()) {
    size_t end = url_path.find('/', pos);
    if (end == std::string_view::npos) end = url_path.size();
    std::string_view comp = url_path.substr(pos, end - pos);
    pos = end + 1;
    if (comp.empty() && end == url_path.size()) break;  // trailing slash
    if (comp.empty() || comp == "." || comp == ".." || comp.find('\0') != std::string_view::npos)
      return Status(Code::kPermissionDenied, fmt::format("path '{}': '{}' components are not allowed", url_path, comp));
    if (rel.empty() && (comp == ".dxfer" || comp == "_dxfer"))
      return Status(Code::kPermissionDenied, fmt::format("path '{}': /{} is reserved for dxfer itself", url_path, comp));
    if (!rel.empty()) rel += '/';
    rel += comp;
  }
  if (rel.empty() && !allow_root) return Status(Code::kPermissionDenied, "the root itself is not a file");
  return rel;
}

struct ManifestEntry {
  int64_t size = 0, mtime_ns = 0;
  std::string tree;
  Json meta;  // the client's own description (e.g. how it encrypted the file); opaque here
};

constexpr size_t kMaxMeta = 4096;

Json entry_json(const ManifestEntry& e) {
  Json j{{"size", e.size}, {"mtime_ns", e.mtime_ns}};
  put_tree(j, e.tree);
  if (e.meta.is_object() && !e.meta.empty()) j["meta"] = e.meta;
  return j;
}

// An upload in progress: the partial file and which chunks are in, verified.
struct Upload {
  std::string id, path;  // path: "/a/b"
  int64_t size = 0, mtime_ns = 0, chunk = 0, nchunks = 0;
  crypto::TreeHash hash = crypto::TreeHash::kSha256;  // of the leaves and the tree
  Json meta;
  Fd part, journal;
  Fd direct;  // the partial file opened O_DIRECT, where the file system allows it
  std::vector<char> have;
  std::vector<char> checked;  // read back and found intact at `checked_at`
  std::chrono::steady_clock::time_point checked_at;
  std::vector<std::vector<crypto::Digest256>> leaves;  // per chunk
  std::mutex mu;
  std::condition_variable written;  // signalled as queued writes complete
  int pending = 0;                  // chunks verified and queued, not yet written
  Status write_error;               // the first failed write since the last finish
};

// Verified chunks are written behind the reply: the handler queues the write and
// answers at once, so receiving the next chunk overlaps the disk write (an
// 8 MiB O_DIRECT write takes 10-20 ms here). A chunk enters the upload's
// journal only once written, so a crash loses at most queued chunks, which the
// client then sends again. A fixed pool of page-aligned buffers bounds memory
// and slows senders down when the disk falls behind.
class ChunkWriter {
 public:
  struct Job {
    std::shared_ptr<Upload> upload;
    int64_t k = 0, off = 0, n = 0;
    uint8_t* buf = nullptr;
    std::vector<crypto::Digest256> leaves;
  };
  ChunkWriter(int threads, int buffers) : free_(static_cast<size_t>(buffers), nullptr), caps_(static_cast<size_t>(buffers), 0) {
    for (int i = 0; i < buffers; ++i) slots_.push_back(i);
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { loop(); });
  }
  ~ChunkWriter() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    for (auto* b : free_) std::free(b);
  }
  // A buffer of at least `n` bytes (blocks while all are in use); nullptr when out of memory.
  uint8_t* acquire(size_t n, int* slot) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !slots_.empty(); });
    *slot = slots_.back();
    slots_.pop_back();
    auto i = static_cast<size_t>(*slot);
    if (caps_[i] < n) {
      std::free(free_[i]);
      void* p = nullptr;
      free_[i] = ::posix_memalign(&p, 4096, n) == 0 ? static_cast<uint8_t*>(p) : nullptr;
      caps_[i] = free_[i] ? n : 0;
    }
    if (!free_[i]) {
      slots_.push_back(*slot);
      return nullptr;
    }
    return free_[i];
  }
  void release(int slot) {
    {
      std::lock_guard<std::mutex> l(mu_);
      slots_.push_back(slot);
    }
    cv_.notify_all();
  }
  void submit(Job job, int slot) {
    {
      std::lock_guard<std::mutex> l(mu_);
      jobs_.push_back({std::move(job), slot});
    }
    cv_.notify_all();
  }

 private:
  void loop() {
    for (;;) {
      std::pair<Job, int> item;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        item = std::move(jobs_.front());
        jobs_.pop_front();
      }
      write(item.first);
      release(item.second);
    }
  }
  static void write(Job& j) {
    Upload& up = *j.upload;
    std::span<const uint8_t> data(j.buf, static_cast<size_t>(j.n));
    Status st;
    bool done = false;
    if (up.direct.get() >= 0 && j.n % 4096 == 0) {
      st = io::pwrite_all(up.direct.get(), data, j.off, up.path);
      done = st.is_ok() || st.code() == Code::kResourceExhausted;
    }
    if (!done) {
      st = io::pwrite_all(up.part.get(), data, j.off, up.path);
      // Start writing it to disk now, so that the fsync at the end has little left to do.
      if (st.is_ok()) ::sync_file_range(up.part.get(), j.off, j.n, SYNC_FILE_RANGE_WRITE);
    }
    std::lock_guard<std::mutex> l(up.mu);
    if (st.is_ok()) st = io::write_all(up.journal.get(), fmt::format("{} {}\n", j.k, crypto::leaves_to_text(j.leaves)), up.path + " journal");
    if (st.is_ok()) {
      up.have[static_cast<size_t>(j.k)] = 1;
      up.leaves[static_cast<size_t>(j.k)] = std::move(j.leaves);
    } else if (up.write_error.is_ok()) {
      up.write_error = st;
    }
    --up.pending;
    up.written.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t*> free_;
  std::vector<size_t> caps_;
  std::vector<int> slots_;
  std::deque<std::pair<Job, int>> jobs_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

class Server {
 public:
  explicit Server(const ServeOptions& o) : o_(o) {}
  Status run();

 private:
  // Request plumbing.
  Result<std::string> authenticate(const httplib::Request& req, crypto::Access access, const std::string& path);
  void audit(const httplib::Request& req, const std::string& who, const std::string& path, int status, int64_t bytes);
  // An audit line for something the server did by itself (remote "-", who "dxfer serve").
  void audit_event(const std::string& method, const std::string& path, int status, int64_t bytes);
  // Removes unfinished uploads idle for longer than the TTL; returns how many.
  int expire_uploads();
  template <typename F>
  void handle(const httplib::Request& req, httplib::Response& res, crypto::Access access, const std::string& path, F&& f);
  static void fail(httplib::Response& res, int status, const std::string& message);

  // Files under the root.
  Result<Fd> open_beneath(const std::string& rel, int flags, mode_t mode = 0);
  Result<Fd> make_parent_dirs(const std::string& rel);
  Status finalise(int fd, const std::string& tmp_dir_rel_name, int tmp_dir_fd, const std::string& path,
                  const ManifestEntry& entry, bool sync);

  // Manifest.
  Status load_manifest();
  Status record(const std::string& path, const ManifestEntry& e);

  // Handlers.
  void get_file(const httplib::Request& req, httplib::Response& res);
  void put_file(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void create_upload(const httplib::Request& req, httplib::Response& res);
  void put_chunk(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void finish_upload(const httplib::Request& req, httplib::Response& res);
  void batch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void manifest(const httplib::Request& req, httplib::Response& res);
  void rehash(const httplib::Request& req, httplib::Response& res);
  Result<std::shared_ptr<Upload>> find_upload(const std::string& id);
  // Forgets upload `id` and removes its files (those still there).
  void discard_upload(const std::string& id);

  ServeOptions o_;
  std::string state_;  // ROOT/.dxfer
  Fd root_fd_, uploads_fd_;
  std::mutex tokens_mu_;
  std::optional<crypto::TokenSet> tokens_;
  struct timespec tokens_mtime_ {};
  ino_t tokens_ino_ = 0;  // 0: not read yet (no file has inode 0); tokens_ empty after: it did not parse
  std::string tokens_problem_;  // what on_problem was last told (told once)
  std::mutex manifest_mu_;
  std::map<std::string, ManifestEntry> manifest_;
  Fd manifest_fd_;
  std::mutex audit_mu_;
  Fd audit_fd_;
  std::mutex uploads_mu_;
  std::map<std::string, std::shared_ptr<Upload>> uploads_;
  std::unique_ptr<ChunkWriter> writer_;
};

void Server::fail(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(to_json_line(Json{{"error", message}}) + "\n", "application/json");
}

Result<std::string> Server::authenticate(const httplib::Request& req, crypto::Access access, const std::string& path) {
  std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) != 0) return Status(Code::kNotFound, "no bearer token (Authorization: Bearer TOKEN)");
  std::lock_guard<std::mutex> l(tokens_mu_);
  // Read again whenever the file changed (or went). One that cannot be read or
  // parsed refuses everyone (a revocation with a typo must not leave the revoked
  // token working) and is reported to the operator once; the client is not told
  // the server's paths.
  struct stat st {};
  const bool present = ::stat(o_.tokens.c_str(), &st) == 0;
  const int stat_errno = errno;
  if (!present || st.st_ino != tokens_ino_ || st.st_mtim.tv_sec != tokens_mtime_.tv_sec ||
      st.st_mtim.tv_nsec != tokens_mtime_.tv_nsec) {
    auto read = [&]() -> Result<crypto::TokenSet> {
      if (!present) return errno_status(fmt::format("token file '{}'", o_.tokens), stat_errno);
      ASSIGN_OR_RETURN(std::string text, io::read_file(o_.tokens));
      return crypto::TokenSet::parse(text, o_.tokens);
    };
    Result<crypto::TokenSet> set = read();
    if (set) {
      tokens_ = std::move(*set);
      tokens_problem_.clear();
    } else {
      tokens_.reset();
      if (set.status().message() != tokens_problem_ && o_.on_problem) o_.on_problem(set.status());
      tokens_problem_ = set.status().message();
    }
    tokens_mtime_ = st.st_mtim;
    tokens_ino_ = st.st_ino;
  }
  if (!tokens_) return Status(Code::kUnavailable, "the server cannot read its token file (its operator has been told)");
  return tokens_->authorize(std::string_view(auth).substr(7), access, path);
}

void Server::audit(const httplib::Request& req, const std::string& who, const std::string& path, int status,
                   int64_t bytes) {
  Json j{{"time", units::format_utc(static_cast<double>(std::time(nullptr)))},
         {"remote", req.remote_addr}, {"who", who}, {"method", req.method}, {"path", path},
         {"status", status}, {"bytes", bytes}};
  std::string line = to_json_line(j) + "\n";
  std::lock_guard<std::mutex> l(audit_mu_);
  (void)io::write_all(audit_fd_.get(), line, "audit log");
}

void Server::audit_event(const std::string& method, const std::string& path, int status, int64_t bytes) {
  Json j{{"time", units::format_utc(static_cast<double>(std::time(nullptr)))},
         {"remote", "-"}, {"who", "dxfer serve"}, {"method", method}, {"path", path},
         {"status", status}, {"bytes", bytes}};
  std::string line = to_json_line(j) + "\n";
  std::lock_guard<std::mutex> l(audit_mu_);
  (void)io::write_all(audit_fd_.get(), line, "audit log");
}

int Server::expire_uploads() {
  if (o_.upload_ttl_s <= 0) return 0;
  std::error_code ec;
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(state_ + "/uploads", ec))
    if (e.path().extension() == ".json") ids.push_back(e.path().stem().string());
  const double now = static_cast<double>(std::time(nullptr));
  int removed = 0;
  for (const auto& id : ids) {
    // Last activity: the newest of its files (the journal grows with every chunk written).
    double last = 0;
    for (const char* ext : {".json", ".leaves", ".part"}) {
      struct stat st;
      if (::fstatat(uploads_fd_.get(), (id + ext).c_str(), &st, 0) == 0)
        last = std::max(last, static_cast<double>(st.st_mtim.tv_sec));
    }
    if (now - last < o_.upload_ttl_s) continue;
    std::string path;
    {
      std::lock_guard<std::mutex> l(uploads_mu_);
      auto it = uploads_.find(id);
      if (it != uploads_.end()) {
        std::lock_guard<std::mutex> ul(it->second->mu);
        if (it->second->pending > 0) continue;  // chunks on their way to disk: not idle
        path = it->second->path;
        uploads_.erase(it);
      }
      if (path.empty())
        if (auto text = io::read_file(state_ + "/uploads/" + id + ".json"))
          if (auto j = parse_json(*text, id); j && j->is_object()) path = j->value("path", "");
      for (const char* ext : {".part", ".leaves", ".json"}) ::unlinkat(uploads_fd_.get(), (id + ext).c_str(), 0);
    }
    audit_event("EXPIRE", path, 410, 0);
    ++removed;
  }
  return removed;
}

// Authenticates, runs f (which returns the bytes moved or an HttpError), audits.
template <typename F>
void Server::handle(const httplib::Request& req, httplib::Response& res, crypto::Access access, const std::string& path,
                    F&& f) {
  auto who = authenticate(req, access, path);
  if (!who) {
    const Code c = who.status().code();
    int status = c == Code::kNotFound ? 401 : c == Code::kPermissionDenied ? 403 : c == Code::kUnavailable ? 503 : 500;
    if (status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"dxfer\"");
    fail(res, status, who.status().message());
    audit(req, "-", path, status, 0);
    return;
  }
  Result<int64_t> r = f(*who);
  if (!r) {
    fail(res, http_status(r.status()), r.status().message());
    audit(req, *who, path, res.status, 0);
    return;
  }
  if (res.status <= 0) res.status = 200;
  audit(req, *who, path, res.status, *r);
}

Result<Fd> Server::open_beneath(const std::string& rel, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd_.get(), rel.c_str(), &how, sizeof how);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == EXDEV) return Status(Code::kPermissionDenied, fmt::format("/{}: leads outside the root", rel));
    return errno_status(fmt::format("/{}", rel), errno);
  }
}

// Creates the directories above `rel` (beneath the root) and returns the parent.
Result<Fd> Server::make_parent_dirs(const std::string& rel) {
  size_t slash = rel.rfind('/');
  if (slash == std::string::npos) return open_beneath(".", O_DIRECTORY | O_RDONLY);
  std::string dir = rel.substr(0, slash);
  auto d = open_beneath(dir, O_DIRECTORY | O_RDONLY);
  if (d || d.status().code() != Code::kNotFound) return d;
  size_t pos = 0;
  while (pos <= dir.size()) {
    size_t end = dir.find('/', pos);
    if (end == std::string::npos) end = dir.size();
    std::string prefix = dir.substr(0, end);
    auto p = open_beneath(prefix, O_DIRECTORY | O_RDONLY);
    if (!p) {
      if (p.status().code() != Code::kNotFound) return p.status();
      size_t ps = prefix.rfind('/');
      ASSIGN_OR_RETURN(Fd parent, open_beneath(ps == std::string::npos ? "." : prefix.substr(0, ps), O_DIRECTORY | O_RDONLY));
      std::string base = ps == std::string::npos ? prefix : prefix.substr(ps + 1);
      if (::mkdirat(parent.get(), base.c_str(), 0755) != 0 && errno != EEXIST)
        return errno_status(fmt::format("mkdir /{}", prefix), errno);
    }
    pos = end + 1;
  }
  return open_beneath(dir, O_DIRECTORY | O_RDONLY);
}

// Puts the verified temp file (name `tmp_name` in directory `tmp_dir_fd`) in
// place as `path`: mtime, fsync, rename, directory fsync, manifest.
Status Server::finalise(int fd, const std::string& tmp_name, int tmp_dir_fd, const std::string& path,
                        const ManifestEntry& entry, bool sync) {
  const int64_t mtime_ns = entry.mtime_ns;
  ASSIGN_OR_RETURN(std::string rel, relative_path(path));
  struct timespec times[2] = {{0, UTIME_OMIT}, {mtime_ns / 1000000000, mtime_ns % 1000000000}};
  if (mtime_ns > 0) ::futimens(fd, times);
  if (sync && ::fdatasync(fd) != 0) return errno_status(fmt::format("fsync {}", path), errno);
  ASSIGN_OR_RETURN(Fd parent, make_parent_dirs(rel));
  std::string base = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
  struct stat st;
  if (::fstatat(parent.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
    return Status(Code::kAlreadyExists, fmt::format("{}: is a directory on the server", path));
  if (::renameat(tmp_dir_fd, tmp_name.c_str(), parent.get(), base.c_str()) != 0)
    return errno_status(fmt::format("rename into {}", path), errno);
  if (sync) ::fsync(parent.get());
  return record(path, entry);
}

Status Server::load_manifest() {
  std::string path = state_ + "/manifest.jsonl";
  if (::access(path.c_str(), F_OK) == 0) {
    ASSIGN_OR_RETURN(std::string text, io::read_file(path));
    for (std::string_view line : io::split_lines(text)) {
      if (line.empty()) continue;
      auto j = parse_json(line, path);
      if (!j) continue;  // a line cut short by a crash: the file it named is verified again by the next sync
      manifest_[j->value("path", "")] = {j->value("size", int64_t{0}), j->value("mtime_ns", int64_t{0}),
                                          tree_from(*j), j->value("meta", Json::object())};
    }
  }
  // Compact: only entries whose file still exists, one line each.
  std::string text;
  for (auto it = manifest_.begin(); it != manifest_.end();) {
    auto rel = relative_path(it->first);
    struct stat st;
    if (!rel || ::fstatat(root_fd_.get(), rel->c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_size != it->second.size) {
      it = manifest_.erase(it);
      continue;
    }
    Json line = entry_json(it->second);
    line["path"] = it->first;
    text += to_json_line(line) + "\n";
    ++it;
  }
  RETURN_IF_ERROR(io::write_file_atomic(path, text));
  manifest_fd_ = Fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (manifest_fd_.get() < 0) return errno_status(fmt::format("open '{}'", path), errno);
  return Status::ok();
}

Status Server::record(const std::string& path, const ManifestEntry& e) {
  Json j = entry_json(e);
  j["path"] = path;
  std::string line = to_json_line(j) + "\n";
  std::lock_guard<std::mutex> l(manifest_mu_);
  manifest_[path] = e;
  return io::write_all(manifest_fd_.get(), line, state_ + "/manifest.jsonl");
}

void Server::get_file(const httplib::Request& req, httplib::Response& res) {
  const std::string& path = req.path;
  handle(req, res, crypto::Access::kRead, path, [&](const std::string&) -> Result<int64_t> {
    ASSIGN_OR_RETURN(std::string rel, relative_path(path));
    ASSIGN_OR_RETURN(Fd f, open_beneath(rel, O_RDONLY));
    struct stat st;
    if (::fstat(f.get(), &st) != 0) return errno_status(path, errno);
    if (!S_ISREG(st.st_mode)) return invalid_argument(fmt::format("{}: not a file (list with {}manifest)", path, kApi));
    auto shared = std::make_shared<Fd>(std::move(f));
    {
      std::lock_guard<std::mutex> l(manifest_mu_);
      auto it = manifest_.find(path);
      if (it != manifest_.end() && it->second.size == st.st_size) res.set_header("X-Dxfer-Tree", it->second.tree);
    }
    int64_t bytes = st.st_size;
    if (!req.ranges.empty()) {
      // httplib 0.11 serves a range as written and answers 200: a last byte past the
      // end (990-2000 of 1000 bytes) promised more than the file and cut the
      // response short, and one starting past the end sent nothing. As RFC 9110
      // 14 has it: the last byte is clamped to the end, a range that starts past
      // it (or an empty suffix) gets 416 with the size, and a part gets 206.
      auto& ranges = const_cast<httplib::Ranges&>(req.ranges);
      const ssize_t size = static_cast<ssize_t>(st.st_size);
      for (auto& r : ranges) {
        const bool suffix = r.first < 0;
        if ((suffix && r.second <= 0) || (!suffix && r.first >= size) || size == 0) {
          res.status = 416;
          res.set_header("Content-Range", fmt::format("bytes */{}", size));
          return int64_t{0};
        }
        if (!suffix && (r.second < 0 || r.second >= size)) r.second = size - 1;
      }
      res.status = 206;
      ssize_t sent = 0;  // for the audit line
      for (const auto& r : ranges) sent += r.first < 0 ? std::min(r.second, size) : r.second - r.first + 1;
      bytes = sent;
    }
    res.set_content_provider(static_cast<size_t>(st.st_size), "application/octet-stream",
                             [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::vector<char> buf(std::min<size_t>(length, 1 << 20));
                               while (length > 0) {
                                 ssize_t n = ::pread(shared->get(), buf.data(), std::min(length, buf.size()),
                                                     static_cast<off_t>(offset));
                                 if (n <= 0) return false;
                                 if (!sink.write(buf.data(), static_cast<size_t>(n))) return false;
                                 offset += static_cast<size_t>(n);
                                 length -= static_cast<size_t>(n);
                               }
                               return true;
                             });
    return bytes;
  });
}

// Hashes a body as it arrives and writes it to `fd` in 1 MiB pieces.
struct TreeWriter {
  int fd = -1;
  std::string name;
  int64_t offset = 0;
  std::vector<uint8_t> pending;
  crypto::TreeHasher hasher;
  Status status;

  bool add(const char* data, size_t n) {
    auto piece = std::span(reinterpret_cast<const uint8_t*>(data), n);
    hasher.update(piece);
    pending.insert(pending.end(), piece.begin(), piece.end());
    return pending.size() < crypto::kTreeLeafBytes || flush();
  }
  bool flush() {
    if (status.is_ok()) status = io::pwrite_all(fd, pending, offset, name);
    offset += static_cast<int64_t>(pending.size());
    pending.clear();
    return status.is_ok();
  }
};

void Server::put_file(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const std::string& path = req.path;
  handle(req, res, crypto::Access::kWrite, path, [&](const std::string&) -> Result<int64_t> {
    ASSIGN_OR_RETURN(std::string rel, relative_path(path));
    Fd f(::openat(uploads_fd_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
    if (f.get() < 0) return errno_status(fmt::format("{}: temp file", path), errno);
    TreeWriter w;
    w.fd = f.get();
    w.name = path;
    w.pending.reserve(crypto::kTreeLeafBytes + 65536);
    bool ok = reader([&](const char* data, size_t n) { return w.add(data, n); });
    if (ok) w.flush();
    RETURN_IF_ERROR(w.status);
    if (!ok) return invalid_argument(fmt::format("{}: the body ended early", path));
    ASSIGN_OR_RETURN(auto root, w.hasher.finish());
    std::string tree = crypto::to_hex(root);
    std::string want = req.get_header_value("X-Dxfer-Tree");
    if (!want.empty() && want != tree)
      return corrupt(fmt::format("{}: sha256-tree of what arrived ({}) differs from X-Dxfer-Tree (plain PUT takes sha256-tree)", path, tree));
    // An O_TMPFILE has no name: give it one in uploads/, then rename it into place.
    std::string tmp = fmt::format("put-{}-{}.tmp", ::getpid(), reinterpret_cast<uintptr_t>(&w));
    std::string proc = fmt::format("/proc/self/fd/{}", f.get());
    if (::linkat(AT_FDCWD, proc.c_str(), uploads_fd_.get(), tmp.c_str(), AT_SYMLINK_FOLLOW) != 0)
      return errno_status(fmt::format("{}: name temp file", path), errno);
    int64_t mtime_ns = 0;
    if (req.has_header("X-Dxfer-Mtime")) mtime_ns = std::strtoll(req.get_header_value("X-Dxfer-Mtime").c_str(), nullptr, 10);
    if (mtime_ns <= 0) {
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      mtime_ns = now.tv_sec * 1000000000LL + now.tv_nsec;
    }
    Status st = finalise(f.get(), tmp, uploads_fd_.get(), path, ManifestEntry{w.offset, mtime_ns, tree, Json::object()}, true);
    if (!st.is_ok()) {
      ::unlinkat(uploads_fd_.get(), tmp.c_str(), 0);
      return st;
    }
    res.status = 201;
    res.set_header("X-Dxfer-Tree", tree);
    res.set_content(to_json_line(Json{{"path", path}, {"size", w.offset}, {"sha256tree", tree}}) + "\n", "application/json");
    return w.offset;
  });
}

// Reads back every chunk `up` holds, on up to 8 threads, and forgets those whose
// leaves no longer match (the client sends them again); returns their bytes.
// Chunks found intact in the last two minutes are not read again, so that a
// client that gave up waiting for a large upload's check (its low-speed timeout)
// and asks again finds the work done. Called with up.mu held and no writes pending.
Result<int64_t> recheck_chunks(Upload& up) {
  if (std::chrono::steady_clock::now() - up.checked_at > std::chrono::minutes(2))
    std::fill(up.checked.begin(), up.checked.end(), 0);
  std::vector<int64_t> unchecked;
  for (int64_t k = 0; k < up.nchunks; ++k)
    if (up.have[static_cast<size_t>(k)] && !up.checked[static_cast<size_t>(k)]) unchecked.push_back(k);
  std::atomic<size_t> next{0};
  std::atomic<int64_t> damaged{0};
  std::mutex err_mu;
  Status err;
  auto work = [&] {
    std::vector<uint8_t> buf;
    std::vector<crypto::Digest256> leaves;
    for (size_t i; (i = next.fetch_add(1)) < unchecked.size();) {
      const int64_t k = unchecked[i], off = k * up.chunk, n = std::min(up.chunk, up.size - off);
      buf.resize(static_cast<size_t>(n));
      leaves.clear();  // (hash_leaves appends)
      Status st = io::pread_all(up.part.get(), buf, off, up.path + " (partial upload)");
      if (st.is_ok()) st = crypto::hash_leaves(buf, &leaves, up.hash);
      if (!st.is_ok()) {
        std::lock_guard<std::mutex> l(err_mu);
        if (err.is_ok()) err = st;
        return;
      }
      if (leaves != up.leaves[static_cast<size_t>(k)]) {  // each k is one thread's alone
        up.have[static_cast<size_t>(k)] = 0;
        up.leaves[static_cast<size_t>(k)].clear();
        damaged += n;
      } else {
        up.checked[static_cast<size_t>(k)] = 1;
      }
    }
  };
  const size_t nt = std::min<size_t>({unchecked.size(), 8, std::max(1u, std::thread::hardware_concurrency())});
  std::vector<TaskResult<void>> helpers;
  for (size_t t = 1; t < nt; ++t) helpers.push_back(ThreadPool::shared().run(work));
  work();
  helpers.clear();  // waits for them
  up.checked_at = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(err);
  return damaged.load();
}

void Server::discard_upload(const std::string& id) {
  std::lock_guard<std::mutex> l(uploads_mu_);
  uploads_.erase(id);
  for (const char* ext : {".part", ".leaves", ".json"}) ::unlinkat(uploads_fd_.get(), (id + ext).c_str(), 0);
}

Result<std::shared_ptr<Upload>> Server::find_upload(const std::string& id) {
  for (char c : id)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return invalid_argument("bad upload id");
  std::lock_guard<std::mutex> l(uploads_mu_);
  auto it = uploads_.find(id);
  if (it != uploads_.end()) return it->second;
  // A server restarted since: rebuild the upload from its files.
  std::string meta_path = state_ + "/uploads/" + id + ".json";
  if (::access(meta_path.c_str(), F_OK) != 0) return not_found(fmt::format("upload {}: unknown (start it again)", id));
  // The state is written atomically, so damage here is the disk's or a person's:
  // kCorrupt, which create_upload answers by starting the upload afresh. (The
  // message names the upload, not the server's paths: it goes to the client.)
  ASSIGN_OR_RETURN(std::string text, io::read_file(meta_path));
  auto damaged = [&id](std::string_view why) { return corrupt(fmt::format("upload {}: damaged state on the server ({})", id, why)); };
  auto parsed = parse_json(text, "its record");
  if (!parsed) return damaged(parsed.status().message());
  const Json& m = *parsed;
  auto u = std::make_shared<Upload>();
  u->id = id;
  try {
    u->path = m.at("path").get<std::string>();
    u->size = m.at("size").get<int64_t>();
    u->mtime_ns = m.value("mtime_ns", int64_t{0});
    u->chunk = m.at("chunk").get<int64_t>();
    u->meta = m.value("meta", Json::object());
    u->hash = m.value("hash", "sha256") == "xxh3" ? crypto::TreeHash::kXxh3 : crypto::TreeHash::kSha256;
  } catch (const Json::exception& e) {
    return damaged(e.what());
  }
  if (u->path.empty() || u->size < 0 || u->chunk <= 0 || u->chunk > kMaxChunk ||
      u->chunk % static_cast<int64_t>(crypto::kTreeLeafBytes) != 0 || !u->meta.is_object())
    return damaged("bad path, size or chunk");
  u->nchunks = u->size == 0 ? 0 : (u->size + u->chunk - 1) / u->chunk;
  u->have.assign(static_cast<size_t>(u->nchunks), 0);
  u->checked.assign(static_cast<size_t>(u->nchunks), 0);
  u->leaves.resize(static_cast<size_t>(u->nchunks));
  u->part = Fd(::openat(uploads_fd_.get(), (id + ".part").c_str(), O_RDWR | O_CLOEXEC));
  // Chunks are written around the page cache: ext4's buffered write costs a
  // core-second per 1.5 GB here, and the data is not read again.
  u->direct = Fd(::openat(uploads_fd_.get(), (id + ".part").c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
  if (u->part.get() < 0) return not_found(fmt::format("upload {}: partial file gone (start it again)", id));
  std::string jpath = state_ + "/uploads/" + id + ".leaves";
  if (::access(jpath.c_str(), F_OK) == 0) {
    ASSIGN_OR_RETURN(std::string jt, io::read_file(jpath));
    for (std::string_view line : io::split_lines(jt)) {
      size_t sp = line.find(' ');
      if (sp == std::string_view::npos) continue;  // cut short by a crash
      int64_t k = std::strtoll(std::string(line.substr(0, sp)).c_str(), nullptr, 10);
      auto lv = crypto::leaves_from_text(line.substr(sp + 1));
      int64_t n = std::min(u->chunk, u->size - k * u->chunk);
      if (k < 0 || k >= u->nchunks || !lv ||
          lv->size() != static_cast<size_t>((n + static_cast<int64_t>(crypto::kTreeLeafBytes) - 1) /
                                            static_cast<int64_t>(crypto::kTreeLeafBytes)))
        continue;
      u->have[static_cast<size_t>(k)] = 1;
      u->leaves[static_cast<size_t>(k)] = std::move(*lv);
    }
  }
  u->journal = Fd(::open(jpath.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (u->journal.get() < 0) return errno_status(fmt::format("open '{}'", jpath), errno);
  uploads_[id] = u;
  return u;
}

void Server::create_upload(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json(req.body, "upload request");
  std::string path = body ? body->value("path", "") : "";
  handle(req, res, crypto::Access::kWrite, path, [&](const std::string& who) -> Result<int64_t> {
    if (!body) return invalid_argument(body.status().message());
    ASSIGN_OR_RETURN(std::string rel, relative_path(path));
    int64_t size = body->value("size", int64_t{-1}), mtime_ns = body->value("mtime_ns", int64_t{0}),
            chunk = body->value("chunk", int64_t{0});
    Json meta = body->value("meta", Json::object());
    ASSIGN_OR_RETURN(crypto::TreeHash hash, crypto::parse_tree_hash(body->value("hash", "sha256")));
    if (!meta.is_object() || meta.dump().size() > kMaxMeta) return invalid_argument(fmt::format("{}: meta must be a JSON object of at most 4 KiB", path));
    if (size < 0 || chunk <= 0 || chunk > kMaxChunk || chunk % static_cast<int64_t>(crypto::kTreeLeafBytes) != 0)
      return invalid_argument(fmt::format("{}: size >= 0 and a chunk size that is a multiple of 1 MiB up to 64 MiB", path));
    // The same file sent again with the same settings resumes the same upload.
    std::string key = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", who, path, size, mtime_ns, chunk, meta.dump());
    if (hash != crypto::TreeHash::kSha256) key += "\n" + std::string(crypto::tree_hash_name(hash));
    ASSIGN_OR_RETURN(auto idd, crypto::sha256(key));
    std::string id = crypto::to_hex(idd).substr(0, 32);
    std::string meta_path = state_ + "/uploads/" + id + ".json";
    if (::access(meta_path.c_str(), F_OK) == 0 && ::faccessat(uploads_fd_.get(), (id + ".part").c_str(), F_OK, 0) != 0)
      discard_upload(id);  // killed between the rename into place and the cleanup: start afresh
    if (::access(meta_path.c_str(), F_OK) == 0) {
      // Resuming: a record damaged on disk (not by us: it is written atomically)
      // would fail every rerun; start afresh instead, and say so in the audit log.
      auto old = find_upload(id);
      if (!old && old.status().code() == Code::kCorrupt) {
        discard_upload(id);
        audit_event("RESTART", path, 409, 0);
      }
    }
    if (::access(meta_path.c_str(), F_OK) != 0) {
      Fd part(::openat(uploads_fd_.get(), (id + ".part").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (part.get() < 0) return errno_status(fmt::format("{}: partial file", path), errno);
      // Reserve the space now: a full disk fails here, before any byte is sent.
      if (size > 0) {
        int e = ::posix_fallocate(part.get(), 0, size);
        if (e != 0) {
          ::unlinkat(uploads_fd_.get(), (id + ".part").c_str(), 0);
          return errno_status(fmt::format("{}: reserve {} on the server", path, units::format_bytes(static_cast<double>(size))), e);
        }
      }
      RETURN_IF_ERROR(io::write_file_atomic(meta_path, to_json_line(Json{{"path", path}, {"size", size}, {"mtime_ns", mtime_ns},
                                                                          {"chunk", chunk}, {"who", who}, {"meta", meta},
                                                                          {"hash", crypto::tree_hash_name(hash)}})));
    }
    ASSIGN_OR_RETURN(auto u, find_upload(id));
    Json have = Json::array(), leaves = Json::object();
    {
      std::unique_lock<std::mutex> l(u->mu);
      u->written.wait(l, [&] { return u->pending == 0; });
      // Resuming: the chunks it holds are read back and checked first, so that
      // one damaged on disk since it was written is sent again, not kept.
      ASSIGN_OR_RETURN(int64_t damaged, recheck_chunks(*u));
      if (damaged > 0) audit_event("DAMAGED", path, 409, damaged);
      for (int64_t k = 0; k < u->nchunks; ++k)
        if (u->have[static_cast<size_t>(k)]) {
          have.push_back(k);
          leaves[std::to_string(k)] = crypto::leaves_to_text(u->leaves[static_cast<size_t>(k)]);
        }
    }
    res.set_content(to_json_line(Json{{"id", id}, {"have", have}, {"leaves", leaves}}) + "\n", "application/json");
    return 0;
  });
}

void Server::put_chunk(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  std::string id = req.matches[1], path;
  int64_t k = std::strtoll(req.matches[2].str().c_str(), nullptr, 10);
  auto u = find_upload(id);
  if (u) path = (*u)->path;
  handle(req, res, crypto::Access::kWrite, path, [&](const std::string&) -> Result<int64_t> {
    if (!u) return u.status();
    Upload& up = **u;
    if (k < 0 || k >= up.nchunks) return invalid_argument(fmt::format("{}: no chunk {}", up.path, k));
    int64_t off = k * up.chunk, n = std::min(up.chunk, up.size - off);
    ASSIGN_OR_RETURN(auto want, crypto::leaves_from_text(req.get_header_value("X-Dxfer-Leaves")));
    int slot = -1;
    uint8_t* mem = writer_->acquire(static_cast<size_t>(n), &slot);
    if (!mem) return Status(Code::kResourceExhausted, fmt::format("{}: no memory for a chunk of {} bytes", up.path, n));
    bool queued = false;
    auto give_back = [&] {
      if (!queued) writer_->release(slot);
    };
    std::span<uint8_t> buf(mem, static_cast<size_t>(n));
    size_t received = 0;
    const std::string encoding = req.get_header_value("X-Dxfer-Encoding");
    if (!encoding.empty() && encoding != "zstd") {
      give_back();
      return unsupported(fmt::format("{}: chunk {}: encoding '{}' (this server takes zstd)", up.path, k, encoding));
    }
    bool ok;
    if (encoding == "zstd") {
      // zstd on the wire: the leaves are of the decompressed bytes, which must be
      // exactly the chunk (a damaged frame fails here or at the leaves: 422).
      std::vector<uint8_t> packed;
      ok = reader([&](const char* d, size_t len) {
        if (packed.size() + len > buf.size() + 4096) return false;
        packed.insert(packed.end(), d, d + len);
        return true;
      });
      auto plain = ok ? codec::zstd::decompress(packed, buf.size()) : Result<std::vector<uint8_t>>(Status(Code::kCorrupt, ""));
      if (ok && (!plain || plain->size() != buf.size())) {
        give_back();
        return corrupt(fmt::format("{}: chunk {}: its zstd frame does not decode to {} bytes (damaged on the way); send it "
                                   "again", up.path, k, n));
      }
      if (ok) {
        std::memcpy(buf.data(), plain->data(), buf.size());
        received = packed.size();
      }
    } else {
      ok = reader([&](const char* d, size_t len) {
        if (received + len > buf.size()) return false;
        std::memcpy(buf.data() + received, d, len);
        received += len;
        return true;
      });
      ok = ok && received == buf.size();
    }
    if (!ok) {
      give_back();
      return invalid_argument(fmt::format("{}: chunk {} must be {} bytes", up.path, k, n));
    }
    std::vector<crypto::Digest256> got;
    Status hs = crypto::hash_leaves(buf, &got, up.hash);
    if (!hs.is_ok() || got != want) {
      give_back();
      if (!hs.is_ok()) return hs;
      return corrupt(fmt::format("{}: chunk {} arrived with other {} leaf digests than were sent (damaged on the way); send it again",
                                 up.path, k, crypto::tree_hash_name(up.hash)));
    }
    {
      std::lock_guard<std::mutex> l(up.mu);
      ++up.pending;
    }
    writer_->submit(ChunkWriter::Job{*u, k, off, n, mem, std::move(got)}, slot);
    queued = true;
    res.set_content("{}\n", "application/json");
    return static_cast<int64_t>(received);  // the audit log counts bytes on the wire
  });
}

void Server::finish_upload(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.matches[1], path;
  auto u = find_upload(id);
  if (u) path = (*u)->path;
  handle(req, res, crypto::Access::kWrite, path, [&](const std::string&) -> Result<int64_t> {
    if (!u) return u.status();
    Upload& up = **u;
    std::unique_lock<std::mutex> l(up.mu);
    up.written.wait(l, [&] { return up.pending == 0; });
    if (!up.write_error.is_ok()) {
      Status st = up.write_error;
      up.write_error = Status::ok();  // the chunks it lost are missing: a retry sends them
      return st;
    }
    std::vector<crypto::Digest256> all;
    for (int64_t k = 0; k < up.nchunks; ++k) {
      if (!up.have[static_cast<size_t>(k)]) return invalid_argument(fmt::format("{}: chunk {} has not arrived", up.path, k));
      const auto& lv = up.leaves[static_cast<size_t>(k)];
      all.insert(all.end(), lv.begin(), lv.end());
    }
    ASSIGN_OR_RETURN(auto root, crypto::tree_root(all, up.hash));
    std::string tree = crypto::tree_text(up.hash, root);
    if (req.get_header_value("X-Dxfer-Tree") != tree)
      return corrupt(fmt::format("{}: whole-file {}-tree {} differs from the sender's", up.path, crypto::tree_hash_name(up.hash), tree));
    RETURN_IF_ERROR(finalise(up.part.get(), id + ".part", uploads_fd_.get(), up.path, ManifestEntry{up.size, up.mtime_ns, tree, up.meta}, true));
    ::unlinkat(uploads_fd_.get(), (id + ".leaves").c_str(), 0);
    ::unlinkat(uploads_fd_.get(), (id + ".json").c_str(), 0);
    {
      std::lock_guard<std::mutex> ul(uploads_mu_);
      uploads_.erase(id);
    }
    Json done{{"path", up.path}, {"size", up.size}};
    put_tree(done, tree);
    res.set_content(to_json_line(done) + "\n", "application/json");
    return up.size;
  });
}

// Body: records of one JSON line {path,size,mtime_ns,sha256tree or xxh3tree} and `size` bytes.
void Server::batch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  handle(req, res, crypto::Access::kWrite, "", [&](const std::string& who) -> Result<int64_t> {
    // Authorised per file below; "" only asks that the token is known.
    (void)who;
    std::string body;
    bool ok = reader([&](const char* d, size_t n) {
      if (body.size() + n > static_cast<size_t>(kMaxChunk)) return false;
      body.append(d, n);
      return true;
    });
    if (!ok) return invalid_argument("batch body too large (64 MiB at most)");
    struct Item {
      std::string path, tmp, tree, error;
      int64_t size = 0, mtime_ns = 0;
      Json meta;
      Fd fd;
    };
    std::vector<Item> items;
    size_t pos = 0;
    int64_t bytes = 0;
    while (pos < body.size()) {
      size_t nl = body.find('\n', pos);
      if (nl == std::string::npos) return invalid_argument("batch: record header without a newline");
      ASSIGN_OR_RETURN(Json h, parse_json(std::string_view(body).substr(pos, nl - pos), "batch record"));
      Item it;
      it.path = h.value("path", "");
      it.size = h.value("size", int64_t{-1});
      it.mtime_ns = h.value("mtime_ns", int64_t{0});
      it.tree = tree_from(h);
      it.meta = h.value("meta", Json::object());
      if (!it.meta.is_object() || it.meta.dump().size() > kMaxMeta) return invalid_argument(fmt::format("batch: {}: meta too large", it.path));
      pos = nl + 1;
      if (it.size < 0 || pos + static_cast<size_t>(it.size) > body.size())
        return invalid_argument(fmt::format("batch: record {} is cut short", it.path));
      std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(body.data()) + pos, static_cast<size_t>(it.size));
      pos += static_cast<size_t>(it.size);
      auto rel = relative_path(it.path);
      auto perm = rel ? authenticate(req, crypto::Access::kWrite, it.path) : Result<std::string>(rel.status());
      if (!perm) {
        it.error = perm.status().message();
        audit(req, who, it.path, 403, 0);
        items.push_back(std::move(it));
        continue;
      }
      const crypto::TreeHash th = crypto::tree_hash_of(it.tree);
      std::vector<crypto::Digest256> leaves;
      RETURN_IF_ERROR(crypto::hash_leaves(data, &leaves, th));
      ASSIGN_OR_RETURN(auto root, crypto::tree_root(leaves, th));
      if (crypto::tree_text(th, root) != it.tree) {
        it.error = fmt::format("{}-tree of what arrived differs from the sender's (damaged on the way)", crypto::tree_hash_name(th));
        items.push_back(std::move(it));
        continue;
      }
      it.tmp = fmt::format("batch-{}-{}-{}.tmp", ::gettid(), items.size(), reinterpret_cast<uintptr_t>(&body) & 0xffff);
      it.fd = Fd(::openat(uploads_fd_.get(), it.tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      Status st = it.fd.get() < 0 ? errno_status(it.path, errno) : io::pwrite_all(it.fd.get(), data, 0, it.path);
      if (!st.is_ok()) {
        ::unlinkat(uploads_fd_.get(), it.tmp.c_str(), 0);
        return st;  // a full disk fails the whole batch; nothing of it is in place
      }
      bytes += it.size;
      items.push_back(std::move(it));
    }
    // One syncfs for the whole batch instead of one fsync per small file.
    if (::syncfs(uploads_fd_.get()) != 0) return errno_status("sync the batch", errno);
    Json out = Json::array();
    for (auto& it : items) {
      if (it.error.empty()) {
        Status st = finalise(it.fd.get(), it.tmp, uploads_fd_.get(), it.path, ManifestEntry{it.size, it.mtime_ns, it.tree, it.meta}, false);
        if (!st.is_ok()) {
          ::unlinkat(uploads_fd_.get(), it.tmp.c_str(), 0);
          it.error = st.message();
        }
      }
      out.push_back(it.error.empty() ? Json{{"path", it.path}, {"ok", true}} : Json{{"path", it.path}, {"error", it.error}});
    }
    res.set_content(to_json_line(Json{{"files", out}}) + "\n", "application/json");
    return bytes;
  });
}

void Server::manifest(const httplib::Request& req, httplib::Response& res) {
  std::string prefix = req.has_param("prefix") ? req.get_param_value("prefix") : "/";
  handle(req, res, crypto::Access::kRead, prefix, [&](const std::string&) -> Result<int64_t> {
    ASSIGN_OR_RETURN(std::string rel, relative_path(prefix, true));
    std::string p = rel.empty() ? "/" : "/" + rel;
    Json files = Json::object();
    std::lock_guard<std::mutex> l(manifest_mu_);
    for (auto it = manifest_.lower_bound(p); it != manifest_.end() && it->first.rfind(p, 0) == 0; ++it) {
      if (p != "/" && it->first.size() > p.size() && it->first[p.size()] != '/' && p.back() != '/') continue;
      files[it->first] = entry_json(it->second);
    }
    res.set_content(Json{{"files", files}}.dump() + "\n", "application/json");
    return 0;
  });
}

void Server::rehash(const httplib::Request& req, httplib::Response& res) {
  std::string path = req.get_param_value("path");
  handle(req, res, crypto::Access::kRead, path, [&](const std::string&) -> Result<int64_t> {
    ASSIGN_OR_RETURN(std::string rel, relative_path(path));
    ASSIGN_OR_RETURN(Fd f, open_beneath(rel, O_RDONLY));
    std::string proc = fmt::format("/proc/self/fd/{}", f.get());
    struct stat st;
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) return invalid_argument(fmt::format("{}: not a file", path));
    ASSIGN_OR_RETURN(crypto::TreeHash th, crypto::parse_tree_hash(req.has_param("hash") ? req.get_param_value("hash") : "sha256"));
    ASSIGN_OR_RETURN(std::string tree, crypto::tree_file_text(proc, 2, th));
    Json out{{"path", path}, {"size", static_cast<int64_t>(st.st_size)}};
    put_tree(out, tree);
    res.set_content(to_json_line(out) + "\n", "application/json");
    return 0;
  });
}

Status Server::run() {
  if (o_.root.empty()) return invalid_argument("--root is required");
  if (o_.tokens.empty()) return invalid_argument("--tokens is required (make one with: dxfer token create)");
  if (::access(o_.tokens.c_str(), R_OK) != 0) return errno_status(fmt::format("token file '{}'", o_.tokens), errno);
  {
    ASSIGN_OR_RETURN(std::string text, io::read_file(o_.tokens));
    RETURN_IF_ERROR(crypto::TokenSet::parse(text, o_.tokens).status());
  }
  std::error_code ec;
  fs::create_directories(o_.root, ec);
  state_ = o_.root + "/.dxfer";
  fs::create_directories(state_ + "/uploads", ec);
  if (ec) return io_error(fmt::format("create '{}': {}", state_, ec.message()));
  root_fd_ = Fd(::open(o_.root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  uploads_fd_ = Fd(::open((state_ + "/uploads").c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (root_fd_.get() < 0 || uploads_fd_.get() < 0) return errno_status(fmt::format("open '{}'", o_.root), errno);
  // Leftovers of whole-file PUTs and batches cut short by a crash.
  for (const auto& e : fs::directory_iterator(state_ + "/uploads", ec))
    if (e.path().extension() == ".tmp") fs::remove(e.path(), ec);
  RETURN_IF_ERROR(load_manifest());
  audit_fd_ = Fd(::open((state_ + "/audit.log").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (audit_fd_.get() < 0) return errno_status(fmt::format("open '{}/audit.log'", state_), errno);
  expire_uploads();

  std::string cert = o_.tls_cert, key = o_.tls_key;
  if (o_.self_signed) {
    cert = state_ + "/tls/cert.pem";
    key = state_ + "/tls/key.pem";
    if (::access(cert.c_str(), R_OK) != 0 || ::access(key.c_str(), R_OK) != 0) {
      fs::create_directories(state_ + "/tls", ec);
      std::vector<std::string> hosts{o_.host};
      if (o_.host != "localhost") hosts.push_back("localhost");
      RETURN_IF_ERROR(crypto::make_self_signed(cert, key, hosts));
    }
  }
  if (cert.empty() || key.empty()) return invalid_argument("give --tls-cert and --tls-key, or --self-signed");
  ASSIGN_OR_RETURN(std::string pin, crypto::public_key_pin(cert));
  httplib::SSLServer svr(cert.c_str(), key.c_str());
  if (!svr.is_valid()) return invalid_argument(fmt::format("TLS certificate '{}' or key '{}' could not be loaded", cert, key));
  // AES-128-GCM first, whatever the client prefers (kTls13Suites).
  SSL_CTX_set_ciphersuites(svr.ssl_context(), kTls13Suites);
  SSL_CTX_set_options(svr.ssl_context(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  int threads = std::max(1, o_.threads);
  writer_ = std::make_unique<ChunkWriter>(2, 6);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_tcp_nodelay(true);  // else a response waits for a delayed ACK (40 ms a chunk)
  svr.set_keep_alive_max_count(1000000);
  svr.set_keep_alive_timeout(30);
  svr.set_read_timeout(60);
  svr.set_write_timeout(60);

  std::string api = kApi;
  svr.Post(api + "upload", [this](const httplib::Request& q, httplib::Response& r) { create_upload(q, r); });
  svr.Put(api + R"(upload/([0-9a-f]+)/([0-9]+))",
          [this](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& rd) { put_chunk(q, r, rd); });
  svr.Post(api + R"(upload/([0-9a-f]+)/finish)", [this](const httplib::Request& q, httplib::Response& r) { finish_upload(q, r); });
  svr.Post(api + "batch",
           [this](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& rd) { batch(q, r, rd); });
  svr.Get(api + "manifest", [this](const httplib::Request& q, httplib::Response& r) { manifest(q, r); });
  svr.Get(api + "hash", [this](const httplib::Request& q, httplib::Response& r) { rehash(q, r); });
  // Any path ([\s\S]: '.' stops at a newline, which a file name may hold).
  svr.Get(R"(/[\s\S]*)", [this](const httplib::Request& q, httplib::Response& r) { get_file(q, r); });
  svr.Put(R"(/[\s\S]*)", [this](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& rd) { put_file(q, r, rd); });

  int port = o_.port;
  if (port == 0) port = svr.bind_to_any_port(o_.host);
  else if (!svr.bind_to_port(o_.host, port)) port = -1;
  if (port <= 0) return Status(Code::kUnavailable, fmt::format("cannot listen on {}:{} (in use, or not an address here)", o_.host, o_.port));
  std::string host = o_.host.find(':') != std::string::npos ? "[" + o_.host + "]" : o_.host;
  if (o_.on_ready) o_.on_ready(fmt::format("https://{}:{}", host, port), pin);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const auto period = std::chrono::duration<double>(std::clamp(o_.upload_ttl_s / 4, 1.0, 3600.0));
    auto next = std::chrono::steady_clock::now() + period;
    while (!done && !cancel::cancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (o_.upload_ttl_s > 0 && std::chrono::steady_clock::now() >= next) {
        expire_uploads();
        next = std::chrono::steady_clock::now() + period;
      }
    }
    svr.stop();
  });
  svr.listen_after_bind();
  done = true;
  watcher.join();
  return Status::ok();
}

}  // namespace

Status serve(const ServeOptions& options) {
  Server s(options);
  return s.run();
}

}  // namespace sciflow::net
