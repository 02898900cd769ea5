#include "crypto/hash.hpp"

#include "io/file.hpp"

#include <fmt/core.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace sciflow::crypto {
namespace {

// "<what>: <reason from OpenSSL's error queue>", clearing the queue.
Status openssl_status(std::string_view what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown OpenSSL error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return internal_error(fmt::format("{}: {}", what, buf));
}

}  // namespace

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  bool failed = false;
  ~Impl() { EVP_MD_CTX_free(ctx); }
  void init() { failed = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1; }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx) impl_->init();
  else impl_->failed = true;
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const uint8_t> data) {
  if (impl_->failed) return;
  if (EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1) impl_->failed = true;
}

Result<Digest256> Sha256::finish() {
  Digest256 d{};
  unsigned int n = 0;
  if (impl_->failed || EVP_DigestFinal_ex(impl_->ctx, d.data(), &n) != 1 || n != d.size()) {
    Status s = openssl_status("SHA-256");
    if (impl_->ctx) impl_->init();
    return s;
  }
  impl_->init();
  return d;
}

Result<std::string> sha256_file_hex(std::string_view path) {
  ASSIGN_OR_RETURN(auto map, io::MappedFile::open(path));
  ASSIGN_OR_RETURN(auto d, sha256(map.data()));
  return to_hex(d);
}

Result<Digest256> sha256(std::span<const uint8_t> data) {
  Digest256 d{};
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_sha256(), nullptr) != 1)
    return openssl_status("SHA-256");
  return d;
}

Status random_bytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) return openssl_status("random bytes");
  return Status::ok();
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

std::string library_version() { return OpenSSL_version(OPENSSL_VERSION); }

}  // namespace sciflow::crypto
