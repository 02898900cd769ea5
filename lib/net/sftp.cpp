#include "net/sftp.hpp"

#include <curl/curl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/cancel.hpp"
#include "net/http_client.hpp"

namespace sciflow::net {

namespace {

std::once_flag g_init;

std::string home_file(const char* rel) {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/" + rel : std::string();
}

// A path for a libcurl SFTP quote command: double-quoted, with " and \ escaped.
std::string quoted(const std::string& path) {
  std::string out = "\"";
  for (char c : path) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

struct Reader {
  std::span<const uint8_t> data;
  size_t pos = 0;
  const std::function<Status(size_t)>* pace = nullptr;
  Status stopped;
};

size_t read_cb(char* buf, size_t size, size_t n, void* user) {
  auto* r = static_cast<Reader*>(user);
  size_t len = std::min(size * n, r->data.size() - r->pos);
  if (r->pace && *r->pace && len > 0) {
    r->stopped = (*r->pace)(len);
    if (!r->stopped.is_ok()) return CURL_READFUNC_ABORT;
  }
  std::memcpy(buf, r->data.data() + r->pos, len);
  r->pos += len;
  return len;
}

struct Writer {
  const std::function<bool(const char*, size_t)>* sink;
  bool stopped = false;
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  auto* w = static_cast<Writer*>(user);
  if (!(*w->sink)(data, size * n)) {
    w->stopped = true;
    return 0;
  }
  return size * n;
}

size_t discard_cb(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

bool is_sftp(const std::string& url) { return url.rfind("sftp://", 0) == 0; }

Result<SftpUrl> parse_sftp(const std::string& url) {
  if (!is_sftp(url)) return invalid_argument(fmt::format("{}: not an sftp:// URL", url));
  size_t slash = url.find('/', 7);
  if (slash == std::string::npos || slash == 7)
    return invalid_argument(fmt::format("{}: expected sftp://[USER@]HOST[:PORT]/PATH/", url));
  SftpUrl u{url.substr(0, slash), url.substr(slash)};
  if (u.prefix.find("/../") != std::string::npos || u.prefix.find("/./") != std::string::npos)
    return invalid_argument(fmt::format("{}: '.' and '..' are not allowed in the path", url));
  if (u.prefix.back() != '/') u.prefix += '/';
  return u;
}

struct SftpClient::Impl {
  std::string base;
  SftpOptions o;
  CURL* curl = nullptr;
  std::string key, known;

  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }

  // Common options for one operation on `path`; returns the error buffer's owner.
  void setup(const std::string& path, char* err) {
    curl_easy_reset(curl);  // keeps the SSH connection
    std::string url = base + url_encode_path(path);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "sftp");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, o.low_speed_timeout_s);
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
    long auth = CURLSSH_AUTH_PUBLICKEY;
    if (o.key_file.empty()) auth |= CURLSSH_AUTH_AGENT;
    curl_easy_setopt(curl, CURLOPT_SSH_AUTH_TYPES, auth);
    if (!key.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSH_PRIVATE_KEYFILE, key.c_str());
      curl_easy_setopt(curl, CURLOPT_SSH_PUBLIC_KEYFILE, "");  // derived from the private key
    }
    if (!o.host_pin.empty()) curl_easy_setopt(curl, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, o.host_pin.c_str());
    else curl_easy_setopt(curl, CURLOPT_SSH_KNOWNHOSTS, known.c_str());  // no callback: only a match passes
  }

  Status fail(CURLcode rc, const char* err, const std::string& what) {
    std::string why = err[0] ? err : curl_easy_strerror(rc);
    Code code = Code::kUnavailable;
    switch (rc) {
      case CURLE_REMOTE_FILE_NOT_FOUND: code = Code::kNotFound; break;
      case CURLE_LOGIN_DENIED:
      case CURLE_REMOTE_ACCESS_DENIED:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSH: code = Code::kPermissionDenied; break;
      case CURLE_REMOTE_DISK_FULL: code = Code::kResourceExhausted; break;
      case CURLE_OPERATION_TIMEDOUT: code = Code::kTimeout; break;
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL: code = Code::kInvalidArgument; break;
      default: break;
    }
    // libssh2 reports a host key that known_hosts lacks or contradicts as a generic SSH error.
    if (rc == CURLE_PEER_FAILED_VERIFICATION || why.find("host key") != std::string::npos ||
        why.find("known_hosts") != std::string::npos)
      why += o.host_pin.empty() ? fmt::format(" (host keys are checked against {}; add the server's key there, or --pin it)", known)
                                : " (the host key does not match --pin)";
    return Status(code, fmt::format("{}{}: {}", base, what, why));
  }
};

SftpClient::SftpClient(std::string base, SftpOptions options) : impl_(std::make_unique<Impl>()) {
  std::call_once(g_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->base = std::move(base);
  impl_->o = std::move(options);
  impl_->curl = curl_easy_init();
  impl_->known = impl_->o.known_hosts.empty() ? home_file(".ssh/known_hosts") : impl_->o.known_hosts;
  impl_->key = impl_->o.key_file;
  if (impl_->key.empty())
    for (const char* k : {".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_rsa"})
      if (std::string p = home_file(k); !p.empty() && ::access(p.c_str(), R_OK) == 0) {
        impl_->key = p;
        break;
      }
}

SftpClient::~SftpClient() = default;

Result<int64_t> SftpClient::size(const std::string& path) {
  RETURN_IF_ERROR(cancel::check_cancelled());
  char err[CURL_ERROR_SIZE] = "";
  impl_->setup(path, err);
  CURL* c = impl_->curl;
  curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return impl_->fail(rc, err, path);
  curl_off_t len = -1;
  curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
  if (len < 0) return Status(Code::kUnavailable, fmt::format("{}{}: the server did not report a size", impl_->base, path));
  return static_cast<int64_t>(len);
}

Status SftpClient::get(const std::string& path, const std::function<bool(const char*, size_t)>& sink, int64_t off,
                       int64_t n) {
  RETURN_IF_ERROR(cancel::check_cancelled());
  char err[CURL_ERROR_SIZE] = "";
  impl_->setup(path, err);
  std::string range;
  if (n >= 0) {
    if (n == 0) return Status::ok();
    range = fmt::format("{}-{}", off, off + n - 1);
    curl_easy_setopt(impl_->curl, CURLOPT_RANGE, range.c_str());
  }
  Writer w{&sink};
  curl_easy_setopt(impl_->curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(impl_->curl, CURLOPT_WRITEDATA, &w);
  CURLcode rc = curl_easy_perform(impl_->curl);
  if (rc != CURLE_OK) {
    if (w.stopped) return io_error(fmt::format("{}{}: the receiving side stopped", impl_->base, path));
    return impl_->fail(rc, err, path);
  }
  return Status::ok();
}

Status SftpClient::put(const std::string& path, std::span<const uint8_t> data, const std::string& tag, int64_t* resumed,
                       const std::function<Status(size_t)>& pace) {
  RETURN_IF_ERROR(cancel::check_cancelled());
  size_t slash = path.rfind('/');
  std::string tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".dxfer-" + tag;
  int64_t have = 0;
  if (auto s = size(tmp)) have = *s <= static_cast<int64_t>(data.size()) ? *s : 0;
  else if (s.status().code() != Code::kNotFound) return s.status();
  if (have > 0) {
    // Resuming: the temporary file must still hold the start of this file (it may
    // have been damaged since); it is read back and compared, else written afresh.
    size_t at = 0;
    const size_t want = static_cast<size_t>(have);
    Status back = get(tmp, [&](const char* d, size_t n) {
      if (n > want - at || std::memcmp(d, data.data() + at, n) != 0) return false;
      at += n;
      return true;
    }, 0, have);
    RETURN_IF_ERROR(cancel::check_cancelled());
    if (!back.is_ok() || at != want) have = 0;
  }
  char err[CURL_ERROR_SIZE] = "";
  impl_->setup(tmp, err);
  CURL* c = impl_->curl;
  Reader r{data, static_cast<size_t>(have), &pace, Status::ok()};
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &r);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size() - static_cast<size_t>(have)));
  if (have > 0) curl_easy_setopt(c, CURLOPT_APPEND, 1L);
  curl_easy_setopt(c, CURLOPT_FTP_CREATE_MISSING_DIRS, static_cast<long>(CURLFTP_CREATE_DIR_RETRY));
  // Into place once complete. SFTP v3 (OpenSSH) cannot rename over a file, so the
  // old version is removed first ('*': no error when there is none): a reader may
  // see no file for a moment, never a partial one.
  struct curl_slist* post = nullptr;
  std::string rm = "*rm " + quoted(path), mv = "rename " + quoted(tmp) + " " + quoted(path);
  post = curl_slist_append(post, rm.c_str());
  post = curl_slist_append(post, mv.c_str());
  curl_easy_setopt(c, CURLOPT_POSTQUOTE, post);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(post);
  if (!r.stopped.is_ok()) return r.stopped;
  if (rc != CURLE_OK) return impl_->fail(rc, err, path);
  if (resumed) *resumed = have;
  return Status::ok();
}

}  // namespace sciflow::net
