// dxfer push / sync / pull / verify / ls: local and mounted destinations
// (io/transfer) and dxfer servers over HTTPS (net/dxfer_client).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "core/log.hpp"
#include "core/units.hpp"
#include "crypto/aead.hpp"
#include "io/file.hpp"
#include "io/transfer.hpp"
#include "net/dxfer_client.hpp"
#include "net/globus.hpp"
#include "net/tree_json.hpp"
#include "crypto/hash.hpp"
#include "term/term.hpp"
#include "tools/dxfer/commands.hpp"

namespace sciflow::dxfer {

namespace {

constexpr int kExitNothingToDo = 3;
constexpr int kExitPartial = 4;

// A local destination: a path or file://path (https://, davs://, sftp:// and
// globus:// were taken before). Any other SCHEME:// is refused, not made a
// directory named "SCHEME:".
Result<std::string> local_destination(const std::string& url) {
  if (url.rfind("file://", 0) == 0) return url.substr(7);
  const size_t colon = url.find("://");
  const bool scheme = colon != std::string::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(url[0])) &&
                      std::all_of(url.begin(), url.begin() + static_cast<ptrdiff_t>(colon), [](char ch) {
                        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '-' || ch == '.';
                      });
  if (scheme)
    return invalid_argument(fmt::format("{}: dxfer does not speak {}:// (it takes local paths, file://, https:// to dxfer "
                                   "serve, davs://, sftp:// and globus://)",
                                   url, url.substr(0, colon)));
  return url;
}

// $XDG_STATE_HOME/dxfer, else ~/.local/state/dxfer: locks and Globus submissions.
std::string state_dir() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/dxfer";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.local/state/dxfer";
}

class DestLock {
 public:
  // A local destination: DST/.dxfer/lock.
  Status acquire(const std::string& dst) {
    std::error_code ec;
    if (std::filesystem::exists(dst, ec) && !std::filesystem::is_directory(dst, ec))
      return invalid_argument(fmt::format("'{}' is a file: the destination is a directory (its files go below it)", dst));
    std::filesystem::create_directories(dst + "/.dxfer", ec);
    return take(dst + "/.dxfer/lock", dst, "writing here");
  }
  // A remote destination: a lock file per URL under this user's state directory,
  // so that two cron runs to the same place do not overlap.
  Status acquire_remote(const std::string& url) {
    std::string dir = state_dir() + "/locks";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    auto d = crypto::sha256(url);
    if (!d) return d.status();
    RETURN_IF_ERROR(take(dir + "/" + crypto::to_hex(*d).substr(0, 32) + ".lock", url, "sending there"));
    std::string line = url + "\n";
    if (::ftruncate(fd_.get(), 0) == 0) (void)!::write(fd_.get(), line.data(), line.size());
    return Status::ok();
  }

 private:
  Status take(const std::string& path, const std::string& what, const std::string& busy) {
    fd_ = io::UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd_.get() < 0) return errno_status(fmt::format("open '{}'", path), errno);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0)
      return Status(Code::kUnavailable, fmt::format("{}: another dxfer is {} (lock {})", what, busy, path));
    return Status::ok();
  }
  io::UniqueFd fd_;
};

// --bwlimit RATE in bytes per second (0: none).
Result<double> bandwidth(const std::string& text) {
  if (text.empty()) return 0.0;
  ASSIGN_OR_RETURN(double r, units::parse_rate(text));
  if (r <= 0) return invalid_argument(fmt::format("--bwlimit {}: must be above zero", text));
  return r;
}

// A bearer token as a file or the environment holds it: surrounding white space
// (a final newline) dropped; white space or control characters inside, which no
// token has and no HTTP header may carry, refused (e.g. a file of two tokens).
Result<std::string> clean_token(std::string_view t, const std::string& source) {
  auto space = [](unsigned char c) { return c <= ' ' || c == 0x7f; };
  while (!t.empty() && space(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && space(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  if (t.empty()) return invalid_argument(fmt::format("{}: empty", source));
  if (std::any_of(t.begin(), t.end(), [&](char c) { return space(static_cast<unsigned char>(c)); }))
    return invalid_argument(fmt::format("{}: white space or control characters inside the token (one token, on one line)", source));
  return std::string(t);
}

// Each stream holds a chunk in memory (and a server as many as it receives at
// once): 1 TiB chunks ended in std::bad_alloc on a worker thread.
constexpr int64_t kMaxChunk = int64_t{1} << 30;
Status check_chunk(int64_t bytes, const std::string& text) {
  if (bytes < 4096) return invalid_argument(fmt::format("--chunk {}: at least 4 KiB", text));
  if (bytes > kMaxChunk) return invalid_argument(fmt::format("--chunk {}: at most 1 GiB", text));
  return Status::ok();
}

// Trust, keys and the token (from --token-file or DXFER_TOKEN, never from the command line).
Result<net::RemoteOptions> remote_options(const RemoteFlags& f, cli::Context& ctx, const std::string& chunk) {
  net::RemoteOptions o;
  o.client.cacert = f.cacert;
  o.client.pin = f.pin;
  if (!f.pin.empty() && f.pin.rfind("sha256//", 0) != 0 && f.pin.rfind("SHA256:", 0) != 0)
    return invalid_argument(fmt::format("--pin '{}': expected sha256//BASE64 (as dxfer serve prints it) or SHA256:BASE64 "
                                        "(as ssh-keygen -l prints a host key)", f.pin));
  if (!f.pin.empty()) {
    // SFTP: libssh2 compares the base64 SHA-256 of the host key, with its padding.
    std::string b64 = f.pin.substr(f.pin.find(f.pin[0] == 's' ? "//" : ":") + (f.pin[0] == 's' ? 2 : 1));
    while (b64.size() % 4 != 0) b64 += '=';
    o.sftp.host_pin = b64;
    if (f.pin[0] == 'S') o.client.pin = "sha256//" + b64;
  }
  o.sftp.key_file = f.ssh_key;
  o.sftp.known_hosts = f.known_hosts;
  if (!f.token_file.empty()) {
    ASSIGN_OR_RETURN(std::string t, io::read_file(f.token_file));
    ASSIGN_OR_RETURN(o.client.token, clean_token(t, "--token-file " + f.token_file));
  } else if (const char* e = std::getenv("DXFER_TOKEN"); e && *e) {
    ASSIGN_OR_RETURN(o.client.token, clean_token(e, "$DXFER_TOKEN"));
  }
  if (!f.encrypt.empty()) {
    ASSIGN_OR_RETURN(auto key, crypto::load_key(f.encrypt));
    o.key = key;
  }
  o.threads = ctx.threads();
  o.retries = f.retries;
  ASSIGN_OR_RETURN(o.chunk_bytes, units::parse_size(chunk));
  RETURN_IF_ERROR(check_chunk(o.chunk_bytes, chunk));
  return o;
}

// Bytes and files under the sources (for the progress bar).
struct Totals {
  int64_t bytes = 0, files = 0;
};
Totals totals(const std::vector<std::string>& srcs) {
  Totals t;
  for (const auto& s : srcs) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(s, ec)) {
      t.bytes += static_cast<int64_t>(std::filesystem::file_size(s, ec));
      ++t.files;
    } else {
      for (const auto& e : std::filesystem::recursive_directory_iterator(s, ec))
        if (e.is_regular_file()) {
          t.bytes += static_cast<int64_t>(e.file_size(ec));
          ++t.files;
        }
    }
  }
  return t;
}

// "3/10 files" (or "3 files" when the total is unknown) after the bar's counts.
std::function<void()> file_counter(term::ProgressBar& bar, int64_t total) {
  auto done = std::make_shared<std::atomic<int64_t>>(0);
  return [&bar, total, done] {
    int64_t d = ++*done;
    bar.set_note(total > 0 ? fmt::format("{}/{} files", d, total) : fmt::format("{} files", d));
  };
}

// Prints the per-file JSON events and the summary; sets the exit status.
Status report(const io::TransferReport& rep, bool sync, double secs, cli::Context& ctx) {
  if (ctx.json()) {
    for (const auto& f : rep.files)
      RETURN_IF_ERROR(ctx.print_json(Json{{"file", f.name}, {"action", f.action}, {"bytes", f.bytes}, {"sent", f.sent}, {"hash", f.sha256}}));
    for (const auto& f : rep.failures) RETURN_IF_ERROR(ctx.print_json(Json{{"error", f}}));
  }
  log::info("{} files, {} sent in {:.2f} s ({})", rep.files.size(), units::format_bytes(static_cast<double>(rep.bytes_sent)),
            secs, units::format_rate(secs > 0 ? static_cast<double>(rep.bytes_sent) / secs : 0));
  if (!rep.failures.empty()) {
    for (const auto& f : rep.failures) log::error("{}", f);
    if (rep.files.empty()) return io_error(fmt::format("all {} file(s) failed", rep.failures.size()));
    ctx.set_success_code(kExitPartial);
    log::error("{} file(s) failed, {} arrived: run again to retry the failed ones", rep.failures.size(), rep.files.size());
    return Status::ok();
  }
  if (sync && rep.nothing_to_do()) ctx.set_success_code(kExitNothingToDo);
  return Status::ok();
}

// globus://: one Globus task, followed to its end.
Status push_globus(const PushOptions& o, const std::vector<std::string>& srcs, const std::string& url,
                   term::ProgressBar& bar, cli::Context& ctx) {
  if (!o.remote.encrypt.empty()) return invalid_argument("--encrypt: Globus encrypts in transit itself; dxfer encrypts only to its own server");
  if (o.zstd) return invalid_argument("--zstd: only to a dxfer server (https://); Globus moves the data itself");
  ASSIGN_OR_RETURN(auto ro, remote_options(o.remote, ctx, o.chunk));
  DestLock lock;
  RETURN_IF_ERROR(lock.acquire_remote(url));
  net::GlobusOptions g;
  g.client = ro.client;
  if (const char* api = std::getenv("DXFER_GLOBUS_API"); api && *api) g.api = api;
  g.source_collection = o.globus_source;
  g.state_dir = state_dir() + "/globus";
  g.sync = o.sync;
  g.checksum = o.checksum;
  g.poll_s = o.poll;
  g.retries = o.remote.retries;
  g.label = o.sync ? "dxfer sync" : "dxfer push";
  g.progress = [&](const Json& task) {
    bar.add(task.value("bytes_transferred", int64_t{0}) - bar.done());
    bar.set_note(fmt::format("{}/{} files", task.value("files_transferred", int64_t{0}), task.value("files", int64_t{0})));
  };
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto res, net::globus_transfer(srcs, url, g));
  bar.finish();
  const Json& t = res.task;
  const int64_t files = t.value("files", int64_t{0}), moved = t.value("files_transferred", int64_t{0}),
                skipped = t.value("files_skipped", int64_t{0}), bytes = t.value("bytes_transferred", int64_t{0});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ctx.json())
    RETURN_IF_ERROR(ctx.print_json({{"globus_task", res.task_id},
                                    {"status", res.status},
                                    {"resumed", res.resumed},
                                    {"files", files},
                                    {"files_transferred", moved},
                                    {"files_skipped", skipped},
                                    {"bytes_transferred", bytes}}));
  if (res.status != "SUCCEEDED") {
    std::string why = t.contains("fatal_error") && t["fatal_error"].is_object()
                          ? t["fatal_error"].value("code", "") + ": " + t["fatal_error"].value("description", "")
                          : t.value("nice_status", "no reason given");
    return io_error(fmt::format("Globus task {} failed: {}", res.task_id, why));
  }
  log::info("Globus task {}{}: {} files, {} transferred, {} skipped, {} in {:.1f} s", res.task_id,
            res.resumed ? " (submitted by an earlier run)" : "", files, moved, skipped,
            units::format_bytes(static_cast<double>(bytes)), secs);
  if (o.sync && moved == 0) ctx.set_success_code(kExitNothingToDo);
  return Status::ok();
}

}  // namespace

void add_remote_flags(cli::Definition& def, CLI::App* c, RemoteFlags& f, bool with_encrypt) {
  if (with_encrypt)
    def.value_kind(c->add_option("--encrypt", f.encrypt,
                                 "End-to-end encryption with this key (dxfer keygen): AES-256-GCM per chunk; the server "
                                 "stores only ciphertext")
                       ->type_name("KEYFILE"),
                   cli::ValueKind::kFile);
  def.value_kind(c->add_option("--cacert", f.cacert, "CA certificate(s) to trust for https:// (PEM)")->type_name("FILE"),
                 cli::ValueKind::kFile);
  def.value_kind(c->add_option("--ssh-key", f.ssh_key, "sftp://: private key (default: ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa)")
                     ->type_name("FILE"),
                 cli::ValueKind::kFile);
  def.value_kind(c->add_option("--known-hosts", f.known_hosts, "sftp://: known host keys (default: ~/.ssh/known_hosts)")
                     ->type_name("FILE"),
                 cli::ValueKind::kFile);
  def.value_kind(c->add_option("--pin", f.pin,
                               "Trust exactly this server key: sha256//BASE64 as dxfer serve prints it, or an SSH host "
                               "key's SHA256:BASE64")
                     ->type_name("PIN"),
                 cli::ValueKind::kNone);
  def.value_kind(c->add_option("--token-file", f.token_file, "File holding the bearer token (else $DXFER_TOKEN)")->type_name("FILE"),
                 cli::ValueKind::kFile);
  def.value_kind(c->add_option("--retries", f.retries, "Attempts per request beyond the first (backoff with jitter)")
                     ->capture_default_str()
                     ->check(cli::whole_number(0, 100)),
                 cli::ValueKind::kNone);
}

Status run_push(const PushOptions& o, cli::Context& ctx) {
  if (o.sources.size() < 2) return invalid_argument("give at least one source and a destination");
  std::vector<std::string> srcs(o.sources.begin(), o.sources.end() - 1);
  const std::string& url = o.sources.back();
  ASSIGN_OR_RETURN(int64_t chunk, units::parse_size(o.chunk));
  RETURN_IF_ERROR(check_chunk(chunk, o.chunk));
  const Totals t = totals(srcs);
  term::ProgressBar bar(ctx.progress("dxfer", t.bytes, true));
  auto t0 = std::chrono::steady_clock::now();
  auto secs = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  if (o.hash != "sha256" && !net::is_file_store(url) && !net::is_remote(url))
    return invalid_argument(fmt::format("--hash {}: for https://, davs:// and sftp:// destinations (local copies and Globus use their own checksums)", o.hash));
  if (net::is_globus(url)) return push_globus(o, srcs, url, bar, ctx);
  if (net::is_file_store(url) || net::is_remote(url)) {
    DestLock lock;
    RETURN_IF_ERROR(lock.acquire_remote(url));
    bool dav = net::is_file_store(url);
    ASSIGN_OR_RETURN(auto ro, remote_options(o.remote, ctx, o.chunk));
    if (!dav && chunk % (1 << 20) != 0)
      return invalid_argument(fmt::format("--chunk {}: to a dxfer server, a multiple of 1 MiB", o.chunk));
    ro.sync = o.sync;
    ro.checksum = o.checksum;
    ASSIGN_OR_RETURN(ro.hash, crypto::parse_tree_hash(o.hash));
    if (o.zstd) {
      if (dav) return invalid_argument("--zstd: only to a dxfer server (https://); WebDAV and SFTP servers store what they receive");
      if (ro.key) return invalid_argument("--zstd with --encrypt: encrypted chunks do not compress (compress the files first)");
      ro.zstd_level = 1;
    }
    ASSIGN_OR_RETURN(ro.bwlimit, bandwidth(o.bwlimit));
    ro.progress = [&](int64_t done) { bar.add(done - bar.done()); };
    ro.file_done = file_counter(bar, t.files);
    ASSIGN_OR_RETURN(auto rep, dav ? net::push_store(srcs, url, ro) : net::push(srcs, url, ro));
    bar.finish();
    if (rep.wire_bytes >= 0)
      log::info("zstd on the wire: {} of file data went as {}", units::format_bytes(static_cast<double>(rep.transfer.bytes_sent)),
                units::format_bytes(static_cast<double>(rep.wire_bytes)));
    return report(rep.transfer, o.sync, secs(), ctx);
  }
  ASSIGN_OR_RETURN(std::string dst, local_destination(url));
  if (!o.remote.encrypt.empty())
    return invalid_argument("--encrypt protects data on a server that must not read it: give an https:// destination");
  if (o.zstd) return invalid_argument("--zstd: only to a dxfer server (https://); a local copy has no wire to save");
  DestLock lock;
  RETURN_IF_ERROR(lock.acquire(dst));
  io::TransferOptions to;
  to.chunk_bytes = chunk;
  to.threads = ctx.threads();
  to.sync = o.sync;
  to.checksum = o.checksum;
  ASSIGN_OR_RETURN(to.bwlimit, bandwidth(o.bwlimit));
  to.progress = [&](int64_t done) { bar.add(done - bar.done()); };
  to.file_done = file_counter(bar, t.files);
  ASSIGN_OR_RETURN(auto rep, io::transfer(srcs, dst, to));
  bar.finish();
  return report(rep, o.sync, secs(), ctx);
}

Status run_pull(const PullOptions& o, cli::Context& ctx) {
  if (!net::is_remote(o.url) && !net::is_file_store(o.url))
    return invalid_argument(fmt::format("{}: pull takes an https://, davs:// or sftp:// URL (for local copies use push)", o.url));
  ASSIGN_OR_RETURN(auto ro, remote_options(o.remote, ctx, o.chunk));
  if (ro.chunk_bytes <= 0 || ro.chunk_bytes % (1 << 20) != 0) return invalid_argument(fmt::format("--chunk {}: a multiple of 1 MiB", o.chunk));
  ro.sync = o.sync;
  ro.checksum = o.checksum;
  ASSIGN_OR_RETURN(ro.bwlimit, bandwidth(o.bwlimit));
  DestLock lock;
  RETURN_IF_ERROR(lock.acquire(o.dst));
  term::ProgressBar bar(ctx.progress("dxfer", 0, true));
  ro.progress = [&](int64_t done) { bar.add(done - bar.done()); };
  ro.file_done = file_counter(bar, 0);
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto rep, net::pull(o.url, o.dst, ro));
  bar.finish();
  return report(rep.transfer, o.sync, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), ctx);
}

Status run_verify(const VerifyOptions& o, cli::Context& ctx) {
  if (o.sources.size() < 2) return invalid_argument("give at least one source and a destination");
  std::vector<std::string> srcs(o.sources.begin(), o.sources.end() - 1);
  std::vector<std::string> problems;
  if (net::is_file_store(o.sources.back())) {
    ASSIGN_OR_RETURN(auto ro, remote_options(o.remote, ctx, "8MiB"));
    ASSIGN_OR_RETURN(problems, net::verify_store(srcs, o.sources.back(), ro));
  } else if (net::is_remote(o.sources.back())) {
    ASSIGN_OR_RETURN(auto ro, remote_options(o.remote, ctx, "8MiB"));
    ASSIGN_OR_RETURN(problems, net::verify(srcs, o.sources.back(), ro));
  } else {
    ASSIGN_OR_RETURN(std::string dst, local_destination(o.sources.back()));
    if (!o.remote.encrypt.empty()) return invalid_argument("--encrypt: only for https:// destinations");
    ASSIGN_OR_RETURN(problems, io::verify_transfer(srcs, dst));
  }
  std::string text;
  for (const auto& p : problems) text += p + "\n";
  RETURN_IF_ERROR(ctx.print(text));
  if (!problems.empty()) return Status(Code::kCorrupt, fmt::format("{} file(s) differ between source and destination", problems.size()));
  return Status::ok();
}

Status run_ls(const LsOptions& o, cli::Context& ctx) {
  Json m;
  if (net::is_file_store(o.dst)) {
    ASSIGN_OR_RETURN(auto ro, remote_options(o.remote, ctx, "8MiB"));
    ASSIGN_OR_RETURN(m, net::store_manifest(o.dst, ro));
  } else if (net::is_remote(o.dst)) {
    ASSIGN_OR_RETURN(auto ro, remote_options(o.remote, ctx, "8MiB"));
    ASSIGN_OR_RETURN(m, net::remote_manifest(o.dst, ro));
  } else {
    ASSIGN_OR_RETURN(std::string dst, local_destination(o.dst));
    ASSIGN_OR_RETURN(m, io::read_manifest(dst));
  }
  const Json files = m.contains("files") ? m["files"] : Json::object();
  // As for pull: a mistyped path must not pass for an empty listing.
  if (files.empty())
    return not_found(fmt::format("{}: no files there or under it (nothing has been pushed there)", o.dst));
  if (ctx.json()) return ctx.print_json(m);
  std::string text;
  for (const auto& [name, f] : files.items()) {
    std::string h = f.contains("sha256") ? f.value("sha256", "") : net::tree_from(f);
    text += fmt::format("{:>12}  {}  {}\n", f.value("size", int64_t{0}), h.substr(0, 16), name);
  }
  return ctx.print(text);
}

}  // namespace sciflow::dxfer
