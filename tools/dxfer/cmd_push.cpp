// dxfer push / sync / verify / ls for local and mounted destinations.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/core.h>

#include <filesystem>

#include "core/log.hpp"
#include "core/units.hpp"
#include "io/transfer.hpp"
#include "term/term.hpp"
#include "tools/dxfer/commands.hpp"

namespace sciflow::dxfer {

namespace {

constexpr int kExitNothingToDo = 3;

// A local destination: a path or file://path. Remote ends are not built yet.
Result<std::string> local_destination(const std::string& url) {
  if (url.rfind("file://", 0) == 0) return url.substr(7);
  for (const char* scheme : {"https://", "http://", "davs://", "dav://", "sftp://", "globus://"})
    if (url.rfind(scheme, 0) == 0)
      return unsupported(fmt::format("{}: {} destinations are not built yet (local paths and file:// are)", url,
                                     std::string(scheme).substr(0, std::string(scheme).size() - 3)));
  return url;
}

class DestLock {
 public:
  ~DestLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status acquire(const std::string& dst) {
    std::error_code ec;
    std::filesystem::create_directories(dst + "/.dxfer", ec);
    std::string p = dst + "/.dxfer/lock";
    fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return errno_status(fmt::format("open '{}'", p), errno);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      return Status(Code::kUnavailable, fmt::format("{}: another dxfer is writing here (lock {})", dst, p));
    return Status::ok();
  }

 private:
  int fd_ = -1;
};

}  // namespace

Status run_push(const PushOptions& o, cli::Context& ctx) {
  if (o.sources.size() < 2) return invalid_argument("give at least one source and a destination");
  std::vector<std::string> srcs(o.sources.begin(), o.sources.end() - 1);
  ASSIGN_OR_RETURN(std::string dst, local_destination(o.sources.back()));
  ASSIGN_OR_RETURN(int64_t chunk, units::parse_size(o.chunk));
  if (chunk < 4096) return invalid_argument(fmt::format("--chunk {}: at least 4 KiB", o.chunk));
  DestLock lock;
  RETURN_IF_ERROR(lock.acquire(dst));
  int64_t total = 0;
  for (const auto& s : srcs) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(s, ec)) total += static_cast<int64_t>(std::filesystem::file_size(s, ec));
    else
      for (const auto& e : std::filesystem::recursive_directory_iterator(s, ec))
        if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size(ec));
  }
  term::ProgressBar bar(ctx.progress("dxfer", total, true));
  io::TransferOptions to;
  to.chunk_bytes = chunk;
  to.threads = ctx.threads();
  to.sync = o.sync;
  to.checksum = o.checksum;
  to.progress = [&](int64_t done) { bar.add(done - bar.done()); };
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto rep, io::transfer(srcs, dst, to));
  bar.finish();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ctx.json()) {
    for (const auto& f : rep.files)
      RETURN_IF_ERROR(ctx.print_json(Json{{"file", f.name}, {"action", f.action}, {"bytes", f.bytes}, {"sent", f.sent}, {"sha256", f.sha256}}));
  }
  log::info("{} files, {} sent in {:.2f} s ({})", rep.files.size(), units::format_bytes(static_cast<double>(rep.bytes_sent)),
            secs, units::format_rate(secs > 0 ? static_cast<double>(rep.bytes_sent) / secs : 0));
  if (o.sync && rep.nothing_to_do()) ctx.set_success_code(kExitNothingToDo);
  return Status::ok();
}

Status run_verify(const VerifyOptions& o, cli::Context& ctx) {
  if (o.sources.size() < 2) return invalid_argument("give at least one source and a destination");
  std::vector<std::string> srcs(o.sources.begin(), o.sources.end() - 1);
  ASSIGN_OR_RETURN(std::string dst, local_destination(o.sources.back()));
  ASSIGN_OR_RETURN(auto problems, io::verify_transfer(srcs, dst));
  std::string text;
  for (const auto& p : problems) text += p + "\n";
  RETURN_IF_ERROR(ctx.print(text));
  if (!problems.empty()) return Status(Code::kCorrupt, fmt::format("{} file(s) differ between source and destination", problems.size()));
  return Status::ok();
}

Status run_ls(const LsOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(std::string dst, local_destination(o.dst));
  ASSIGN_OR_RETURN(Json m, io::read_manifest(dst));
  if (ctx.json()) return ctx.print_json(m);
  std::string text;
  const Json files = m.contains("files") ? m["files"] : Json::object();
  for (const auto& [name, f] : files.items())
    text += fmt::format("{:>12}  {}  {}\n", f.value("size", int64_t{0}), f.value("sha256", "").substr(0, 16), name);
  return ctx.print(text);
}

}  // namespace sciflow::dxfer
