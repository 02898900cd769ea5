// net/http_client: HTTPS requests through libcurl, one kept-alive connection per
// client object, and retries with exponential backoff and jitter.
//
// TLS is verified by default: against the system CAs, or `cacert`; `pin`
// ("sha256//BASE64", as `dxfer serve` prints it) additionally requires that
// public key, and with a pin and no cacert the pin alone is the trust anchor
// (for servers with a self-signed certificate). The bearer token travels only in
// the Authorization header and never appears in messages.
// Thread safety: one HttpClient per thread; the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace sciflow::net {

// TLS 1.3 suites in dxfer's order of preference, client and server: AES-128-GCM
// first (1.3x AES-256-GCM's speed per core, and the suite every TLS 1.3 peer has).
inline constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

struct ClientOptions {
  std::string cacert;  // PEM bundle; empty: the system's
  std::string pin;     // "sha256//..."; empty: none
  std::string token;   // bearer token; empty: none
  long connect_timeout_s = 15;
  long low_speed_timeout_s = 60;  // abort when under 1 KB/s for this long
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request. `headers` are "Name: value" lines. A transport failure (refused,
  // TLS, timeout) is a Status (kUnavailable, kPermissionDenied for a certificate
  // or pin mismatch, kTimeout); any HTTP status is a response. With `sink`, the
  // body goes there instead of into HttpResponse::body (return false to abort).
  Result<HttpResponse> request(const std::string& method, const std::string& url,
                               const std::vector<std::string>& headers = {},
                               std::span<const uint8_t> body = {},
                               const std::function<bool(const char*, size_t)>& sink = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a path, keeping '/' and RFC 3986 unreserved characters.
std::string url_encode_path(std::string_view path);
std::string url_encode(std::string_view text);

// Whether a failed request is worth repeating: transport errors and 408, 429, 5xx except 501 and 507.
bool retryable(const Status& s);
bool retryable(long http_status);

// Sleeps before attempt `attempt` (1, 2, ...): base * 2^(attempt-1), capped,
// with full jitter; returns kCancelled if a signal arrives meanwhile.
Status backoff(int attempt, double base_s = 0.2, double cap_s = 10.0);

// Runs op(attempt) (0, 1, ...) until it succeeds, fails in a way retryable()
// says is final, or `retries` repeats are spent, with backoff() between tries.
Status with_retries(int retries, const std::function<Status(int attempt)>& op);

}  // namespace sciflow::net
