#include "io/transfer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/rate_limit.hpp"
#include "crypto/hash.hpp"
#include "io/file.hpp"

namespace sciflow::io {

namespace fs = std::filesystem;

bool TransferReport::nothing_to_do() const {
  return std::all_of(files.begin(), files.end(), [](const FileReport& f) { return f.action == "skipped"; });
}

namespace {

std::string journal_path(const std::string& dst, const std::string& name) {
  std::string flat;
  for (char c : name) flat += c == '/' ? '%' : c;
  return dst + "/.dxfer/journal/" + flat + ".json";
}

std::string partial_path(const std::string& dst, const std::string& name) {
  std::string flat;
  for (char c : name) flat += c == '/' ? '%' : c;
  return dst + "/.dxfer/partial/" + flat;
}

using Fd = io::UniqueFd;

}  // namespace

bool stays_below(std::string_view name) {
  return !name.empty() && name.front() != '/' && name != ".." && !name.starts_with("../") &&
         name.find("/../") == std::string_view::npos && !name.ends_with("/..");
}

Result<std::vector<SourceFile>> enumerate_sources(const std::vector<std::string>& sources) {
  std::vector<SourceFile> out;
  for (const auto& src : sources) {
    std::error_code ec;
    fs::path p(src);
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return not_found(fmt::format("{}: no such file or directory", src));
    auto add = [&](const fs::path& file, const std::string& name) -> Status {
      struct stat s;
      if (::stat(file.c_str(), &s) != 0) return errno_status(fmt::format("stat '{}'", file.string()), errno);
      out.push_back({file.string(), name, static_cast<int64_t>(s.st_size),
                     static_cast<int64_t>(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec});
      return Status::ok();
    };
    std::string base = p.lexically_normal().filename().string();
    if (base.empty() || base == ".") base = fs::absolute(p).lexically_normal().parent_path().filename().string();
    if (fs::is_regular_file(st)) {
      RETURN_IF_ERROR(add(p, base));
    } else if (fs::is_directory(st)) {
      // Regular files only. A symbolic link inside the tree is not followed: its
      // target may lie anywhere (outside the tree, or a file sent under its own
      // name already), and naming the copy after the target once put files outside
      // the destination. FIFOs, sockets and devices have no contents to send.
      std::vector<fs::path> files;
      std::vector<std::string> skipped;
      for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ek;
        if (it->is_symlink(ek))
          skipped.push_back(fmt::format("{}: a symbolic link, not sent (give its target as a source to send it)",
                                        it->path().string()));
        else if (it->is_regular_file(ek))
          files.push_back(it->path());
        else if (!it->is_directory(ek))
          skipped.push_back(fmt::format("{}: not a regular file, not sent", it->path().string()));
      }
      if (ec) return io_error(fmt::format("{}: {}", src, ec.message()));
      std::sort(skipped.begin(), skipped.end());
      for (const auto& w : skipped) log::warn("{}", w);
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        // Named by its path below the source, as written (fs::relative would resolve links).
        const std::string rel = f.lexically_relative(p).generic_string();
        if (!stays_below(rel))
          return internal_error(fmt::format("{}: cannot name it below '{}'", f.string(), src));
        RETURN_IF_ERROR(add(f, base + "/" + rel));
      }
    } else {
      return invalid_argument(fmt::format("{}: not a regular file or directory", src));
    }
  }
  return out;
}

Result<Json> read_manifest(const std::string& dst) {
  std::string path = dst + "/.dxfer-manifest.json";
  if (::access(path.c_str(), F_OK) != 0) return Json::object();
  ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_json(text, path);
}

Result<TransferReport> transfer(const std::vector<std::string>& sources, const std::string& dst,
                                const TransferOptions& o) {
  ASSIGN_OR_RETURN(auto files, enumerate_sources(sources));
  std::error_code ec;
  fs::create_directories(dst + "/.dxfer/journal", ec);
  fs::create_directories(dst + "/.dxfer/partial", ec);
  if (ec) return io_error(fmt::format("create '{}': {}", dst, ec.message()));
  ASSIGN_OR_RETURN(Json manifest, read_manifest(dst));
  if (!manifest.contains("files")) manifest["files"] = Json::object();
  TransferReport report;
  std::atomic<int64_t> done_bytes{0};
  RateLimiter limiter(o.bwlimit);
  const int64_t cb = std::max<int64_t>(o.chunk_bytes, 4096);
  // One file; an error fails that file only (the others still go), except a signal.
  auto copy_file = [&](const SourceFile& f) -> Status {
    FileReport fr;
    fr.name = f.name;
    fr.bytes = f.size;
    std::string final_path = dst + "/" + f.name;
    // Up to date?
    if (o.sync && manifest["files"].contains(f.name) && ::access(final_path.c_str(), F_OK) == 0) {
      const Json& m = manifest["files"][f.name];
      bool same = m.value("size", int64_t{-1}) == f.size && static_cast<int64_t>(fs::file_size(final_path, ec)) == f.size;
      if (same && o.checksum) {
        // Both sides' contents, not the manifest: a copy damaged since it was
        // written must be sent again.
        ASSIGN_OR_RETURN(std::string h, crypto::sha256_file_hex(f.path));
        ASSIGN_OR_RETURN(std::string hd, crypto::sha256_file_hex(final_path));
        same = h == hd;
      } else if (same) {
        same = m.value("mtime_ns", int64_t{-1}) == f.mtime_ns;
      }
      if (same) {
        fr.action = "skipped";
        fr.sha256 = m.value("sha256", "");
        done_bytes += f.size;
        if (o.progress) o.progress(done_bytes);
        report.files.push_back(fr);
        if (o.file_done) o.file_done();
        return Status::ok();
      }
    }
    // The source first: one that has gone since it was listed leaves nothing behind.
    Fd src{::open(f.path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (src.get() < 0) return errno_status(fmt::format("open '{}'", f.path), errno);
    // Resume from the journal when it describes this very source.
    int64_t nchunks = f.size == 0 ? 0 : (f.size + cb - 1) / cb;
    std::string jpath = journal_path(dst, f.name), ppath = partial_path(dst, f.name);
    std::vector<std::string> hashes(static_cast<size_t>(nchunks));
    std::vector<bool> have(static_cast<size_t>(nchunks), false);
    bool resumed = false;
    if (::access(jpath.c_str(), F_OK) == 0 && ::access(ppath.c_str(), F_OK) == 0) {
      auto text = read_file(jpath);
      auto j = text ? parse_json(*text, jpath) : Result<Json>(text.status());
      if (j && j->value("size", int64_t{-1}) == f.size && j->value("mtime_ns", int64_t{-1}) == f.mtime_ns &&
          j->value("chunk_bytes", int64_t{-1}) == cb && static_cast<int64_t>(fs::file_size(ppath, ec)) == f.size) {
        Fd pf{::open(ppath.c_str(), O_RDONLY | O_CLOEXEC)};
        std::vector<uint8_t> buf(static_cast<size_t>(cb));
        for (const auto& [k, v] : (*j)["chunks"].items()) {
          int64_t c = std::stoll(k);
          if (c < 0 || c >= nchunks || pf.get() < 0) continue;
          size_t n = static_cast<size_t>(std::min(cb, f.size - c * cb));
          if (!pread_all(pf.get(), std::span(buf.data(), n), c * cb, ppath).is_ok()) continue;
          auto d = crypto::sha256(std::span(buf.data(), n));
          if (d && crypto::to_hex(*d) == v.get<std::string>()) {
            have[static_cast<size_t>(c)] = true;
            hashes[static_cast<size_t>(c)] = v.get<std::string>();
            resumed = true;
          }
        }
      }
    }
    if (!resumed) {
      Fd pf{::open(ppath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
      if (pf.get() < 0) return errno_status(fmt::format("create '{}'", ppath), errno);
      if (::ftruncate(pf.get(), f.size) != 0) return errno_status(fmt::format("size '{}'", ppath), errno);
    }
    for (int64_t c = 0; c < nchunks; ++c)
      if (have[static_cast<size_t>(c)]) done_bytes += std::min(cb, f.size - c * cb);
    // Send the missing chunks on several threads; the journal follows every chunk.
    Fd part{::open(ppath.c_str(), O_WRONLY | O_CLOEXEC)};
    if (part.get() < 0) return errno_status(fmt::format("open '{}'", ppath), errno);
    std::mutex mu;
    Status failure;
    std::atomic<int64_t> next{0}, sent{0};
    auto write_journal = [&]() -> Status {  // caller holds mu
      Json chunks = Json::object();
      for (int64_t c = 0; c < nchunks; ++c)
        if (have[static_cast<size_t>(c)]) chunks[std::to_string(c)] = hashes[static_cast<size_t>(c)];
      Json j{{"source", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns}, {"chunk_bytes", cb}, {"chunks", chunks}};
      return write_file_atomic(jpath, j.dump());
    };
    {
      std::lock_guard<std::mutex> l(mu);
      RETURN_IF_ERROR(write_journal());
    }
    auto worker = [&]() {
      std::vector<uint8_t> buf(static_cast<size_t>(cb));
      for (;;) {
        int64_t c = next.fetch_add(1);
        if (c >= nchunks) return;
        if (have[static_cast<size_t>(c)]) continue;
        {
          std::lock_guard<std::mutex> l(mu);
          if (!failure.is_ok()) return;
        }
        if (cancel::cancelled()) {
          std::lock_guard<std::mutex> l(mu);
          if (failure.is_ok()) failure = cancel::check_cancelled();
          return;
        }
        size_t n = static_cast<size_t>(std::min(cb, f.size - c * cb));
        Status st = limiter.take(static_cast<int64_t>(n));
        if (st.is_ok()) st = pread_all(src.get(), std::span(buf.data(), n), c * cb, f.path);
        std::string h;
        if (st.is_ok()) {
          auto d = crypto::sha256(std::span(buf.data(), n));
          if (d) h = crypto::to_hex(*d);
          else st = d.status();
        }
        if (st.is_ok()) st = pwrite_all(part.get(), std::span<const uint8_t>(buf.data(), n), c * cb, ppath);
        std::lock_guard<std::mutex> l(mu);
        if (!st.is_ok()) {
          if (failure.is_ok()) failure = st;
          return;
        }
        hashes[static_cast<size_t>(c)] = h;
        have[static_cast<size_t>(c)] = true;
        Status js = write_journal();
        if (!js.is_ok() && failure.is_ok()) failure = js;
        sent += static_cast<int64_t>(n);
        done_bytes += static_cast<int64_t>(n);
        if (o.progress) o.progress(done_bytes);
      }
    };
    std::vector<std::thread> pool;
    int nt = static_cast<int>(std::clamp<int64_t>(o.threads, 1, std::max<int64_t>(1, nchunks)));
    for (int t = 0; t < nt; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    RETURN_IF_ERROR(failure);
    if (::fsync(part.get()) != 0) return errno_status(fmt::format("fsync '{}'", ppath), errno);
    // Read back: every chunk must hash as the source's did; the whole-file hash comes from the copy.
    crypto::Sha256 whole;
    {
      Fd rb{::open(ppath.c_str(), O_RDONLY | O_CLOEXEC)};
      if (rb.get() < 0) return errno_status(fmt::format("open '{}'", ppath), errno);
      std::vector<uint8_t> buf(static_cast<size_t>(cb));
      for (int64_t c = 0; c < nchunks; ++c) {
        size_t n = static_cast<size_t>(std::min(cb, f.size - c * cb));
        RETURN_IF_ERROR(pread_all(rb.get(), std::span(buf.data(), n), c * cb, ppath));
        ASSIGN_OR_RETURN(auto d, crypto::sha256(std::span(buf.data(), n)));
        if (crypto::to_hex(d) != hashes[static_cast<size_t>(c)]) {
          // The chunk is dropped from the journal so that a rerun sends it again.
          std::lock_guard<std::mutex> l(mu);
          have[static_cast<size_t>(c)] = false;
          (void)write_journal();
          return corrupt(fmt::format("{}: chunk {} reads back differently from what was written (disk or memory "
                                     "error); run again to resend it", final_path, c));
        }
        whole.update(std::span(buf.data(), n));
      }
    }
    ASSIGN_OR_RETURN(auto wd, whole.finish());
    fr.sha256 = crypto::to_hex(wd);
    fs::create_directories(fs::path(final_path).parent_path(), ec);
    if (::rename(ppath.c_str(), final_path.c_str()) != 0)
      return errno_status(fmt::format("rename '{}' to '{}'", ppath, final_path), errno);
    // The copy keeps the source's mtime, so that size+mtime comparisons work both ways.
    struct timespec times[2] = {{0, UTIME_OMIT}, {f.mtime_ns / 1000000000, f.mtime_ns % 1000000000}};
    ::utimensat(AT_FDCWD, final_path.c_str(), times, 0);
    ::unlink(jpath.c_str());
    manifest["files"][f.name] = Json{{"size", f.size}, {"mtime_ns", f.mtime_ns}, {"sha256", fr.sha256}};
    RETURN_IF_ERROR(write_file_atomic(dst + "/.dxfer-manifest.json", manifest.dump(1) + "\n"));
    fr.action = resumed ? "resumed" : "sent";
    fr.sent = sent;
    report.bytes_sent += sent;
    report.files.push_back(fr);
    if (o.file_done) o.file_done();
    return Status::ok();
  };
  for (const auto& f : files) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    Status st = copy_file(f);
    if (st.code() == Code::kCancelled) return st;
    if (!st.is_ok()) report.failures.push_back(st.message());
  }
  return report;
}

Result<std::vector<std::string>> verify_transfer(const std::vector<std::string>& sources, const std::string& dst) {
  ASSIGN_OR_RETURN(auto files, enumerate_sources(sources));
  ASSIGN_OR_RETURN(Json manifest, read_manifest(dst));
  std::vector<std::string> problems;
  for (const auto& f : files) {
    std::string d = dst + "/" + f.name;
    struct stat st;
    if (::stat(d.c_str(), &st) != 0) {
      problems.push_back(fmt::format("{}: missing at the destination", f.name));
      continue;
    }
    if (st.st_size != f.size) {
      problems.push_back(fmt::format("{}: {} bytes here, {} at the destination", f.name, f.size, static_cast<int64_t>(st.st_size)));
      continue;
    }
    ASSIGN_OR_RETURN(std::string hs, crypto::sha256_file_hex(f.path));
    ASSIGN_OR_RETURN(std::string hd, crypto::sha256_file_hex(d));
    if (hs != hd) {
      problems.push_back(fmt::format("{}: SHA-256 differs (source {}, destination {})", f.name, hs.substr(0, 16), hd.substr(0, 16)));
      continue;
    }
    std::string hm = manifest.contains("files") && manifest["files"].contains(f.name)
                         ? manifest["files"][f.name].value("sha256", "")
                         : "";
    if (hm != hs) problems.push_back(fmt::format("{}: not in the destination's manifest, or recorded with another SHA-256", f.name));
  }
  return problems;
}

}  // namespace sciflow::io
