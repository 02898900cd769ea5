// net/sftp: files on an OpenSSH server over SFTP, through libcurl (libssh2).
//
// sftp://[USER@]HOST[:PORT]/ABSOLUTE/PATH/ (sftp://HOST/~/dir/ for the home
// directory). Authentication by key only: `key_file`, else the ssh-agent, else
// ~/.ssh/id_ed25519, id_ecdsa or id_rsa. The server's host key is verified
// against `known_hosts` (default ~/.ssh/known_hosts) or, with `host_pin`, must
// have exactly that SHA-256 (base64, as `ssh-keygen -lf KEY.pub -E sha256`
// prints it after "SHA256:"); an unknown or changed host key is refused.
// Uploads go to a temporary name beside the target and are renamed into place
// when complete; a temporary file left by an interrupted upload of the same
// source (size and mtime are in its name) is continued, not restarted.
// Thread safety: one SftpClient per thread (each holds one SSH connection).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/status.hpp"

namespace sciflow::net {

struct SftpOptions {
  std::string key_file;     // private key; empty: agent and ~/.ssh defaults
  std::string known_hosts;  // empty: ~/.ssh/known_hosts
  std::string host_pin;     // base64 SHA-256 of the host key; empty: known_hosts decides
  long connect_timeout_s = 15;
  long low_speed_timeout_s = 60;
};

bool is_sftp(const std::string& url);
// "sftp://u@h:22/a/b" -> base "sftp://u@h:22", prefix "/a/b/".
struct SftpUrl {
  std::string base, prefix;
};
Result<SftpUrl> parse_sftp(const std::string& url);

class SftpClient {
 public:
  SftpClient(std::string base, SftpOptions options);
  ~SftpClient();
  SftpClient(const SftpClient&) = delete;
  SftpClient& operator=(const SftpClient&) = delete;

  // Size of `path` (absolute, unencoded); kNotFound when it does not exist.
  Result<int64_t> size(const std::string& path);
  // Streams `path` (bytes [off, off + n), n < 0: to the end) to `sink` (return false
  // to stop); kNotFound when absent.
  Status get(const std::string& path, const std::function<bool(const char*, size_t)>& sink, int64_t off = 0,
             int64_t n = -1);
  // Writes `data` as `path`, creating missing directories: to a temporary name
  // (tagged with `tag`, e.g. the source's size and mtime), continuing one that an
  // earlier attempt left, then renamed over `path`. *resumed = bytes not sent again.
  // `pace(n)`, if given, runs before each block of n bytes goes out (a bandwidth
  // limit); a non-ok Status stops the upload with it.
  Status put(const std::string& path, std::span<const uint8_t> data, const std::string& tag, int64_t* resumed,
             const std::function<Status(size_t)>& pace = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sciflow::net
