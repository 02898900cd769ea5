#include "net/http_client.hpp"

#include <curl/curl.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "core/cancel.hpp"

namespace sciflow::net {

namespace {

std::once_flag g_curl_init;

struct Sink {
  HttpResponse* res;
  const std::function<bool(const char*, size_t)>* sink;
  bool aborted = false;
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  size_t len = size * n;
  // Error bodies (JSON messages) are kept; only a 2xx body goes to the sink.
  long code = s->res->status;
  if (s->sink && *s->sink && code >= 200 && code < 300) {
    if (!(*s->sink)(data, len)) {
      s->aborted = true;
      return 0;
    }
    return len;
  }
  s->res->body.append(data, len);
  return len;
}

size_t header_cb(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or 100-continue): reset.
    s->res->headers.clear();
    size_t sp = line.find(' ');
    s->res->status = sp == std::string_view::npos ? 0 : std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    s->res->headers[name] = std::string(v);
  }
  return size * n;
}

// The URL without any userinfo or query, for messages.
std::string shown(const std::string& url) {
  std::string u = url.substr(0, url.find('?'));
  return u;
}

}  // namespace

struct HttpClient::Impl {
  ClientOptions o;
  CURL* curl = nullptr;
  std::string auth;
  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->o = std::move(options);
  impl_->curl = curl_easy_init();
  if (!impl_->o.token.empty()) impl_->auth = "Authorization: Bearer " + impl_->o.token;
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::request(const std::string& method, const std::string& url,
                                         const std::vector<std::string>& headers, std::span<const uint8_t> body,
                                         const std::function<bool(const char*, size_t)>& sink) {
  CURL* c = impl_->curl;
  if (!c) return internal_error("libcurl: cannot create a handle");
  RETURN_IF_ERROR(cancel::check_cancelled());
  curl_easy_reset(c);  // keeps the connection cache
  HttpResponse res;
  Sink s{&res, &sink};
  char err[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, impl_->o.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, impl_->o.low_speed_timeout_s);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_TLS13_CIPHERS, kTls13Suites);
  if (!impl_->o.cacert.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, impl_->o.cacert.c_str());
  if (!impl_->o.pin.empty()) {
    curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, impl_->o.pin.c_str());
    if (impl_->o.cacert.empty()) {
      // The pin is the trust anchor: the key must match exactly, whoever signed it.
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }
  struct curl_slist* hl = nullptr;
  if (!impl_->auth.empty()) hl = curl_slist_append(hl, impl_->auth.c_str());
  for (const auto& h : headers) hl = curl_slist_append(hl, h.c_str());
  hl = curl_slist_append(hl, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    // The body goes out from our buffer (no read callback, one copy less).
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(body.data()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(hl);
  if (rc != CURLE_OK) {
    if (s.aborted) return io_error(fmt::format("{} {}: the receiving side stopped", method, shown(url)));
    std::string why = err[0] ? err : curl_easy_strerror(rc);
    Code code = Code::kUnavailable;
    if (rc == CURLE_OPERATION_TIMEDOUT) code = Code::kTimeout;
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_CACERT_BADFILE)
      code = Code::kPermissionDenied;
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) code = Code::kInvalidArgument;
    return Status(code, fmt::format("{} {}: {}", method, shown(url), why));
  }
  return res;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') out += static_cast<char>(ch);
    else out += fmt::format("%{:02X}", ch);
  }
  return out;
}

std::string url_encode_path(std::string_view path) {
  std::string out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out += url_encode(path.substr(pos, end - pos));
    if (end < path.size()) out += '/';
    pos = end + 1;
  }
  return out;
}

bool retryable(const Status& s) {
  return s.code() == Code::kUnavailable || s.code() == Code::kTimeout || s.code() == Code::kIoError;
}

bool retryable(long st) { return st == 408 || st == 429 || (st >= 500 && st != 501 && st != 507); }

Status backoff(int attempt, double base_s, double cap_s) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double ceiling = std::min(cap_s, base_s * static_cast<double>(1 << std::min(attempt - 1, 20)));
  double wait = std::uniform_real_distribution<double>(0.0, ceiling)(rng);
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
  while (std::chrono::steady_clock::now() < until) {
    RETURN_IF_ERROR(cancel::check_cancelled());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::ok();
}

Status with_retries(int retries, const std::function<Status(int attempt)>& op) {
  for (int attempt = 0;; ++attempt) {
    Status st = op(attempt);
    if (st.is_ok() || !retryable(st) || attempt >= retries) return st;
    RETURN_IF_ERROR(backoff(attempt + 1));
  }
}

}  // namespace sciflow::net
