#include "crypto/hash.hpp"

#include "core/cancel.hpp"
#include "io/file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <xxhash.h>

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

std::string_view tree_hash_name(TreeHash h) { return h == TreeHash::kXxh3 ? "xxh3" : "sha256"; }

Result<TreeHash> parse_tree_hash(std::string_view name) {
  if (name == "sha256") return TreeHash::kSha256;
  if (name == "xxh3") return TreeHash::kXxh3;
  return invalid_argument(fmt::format("hash '{}': expected sha256 or xxh3", name));
}

std::string tree_text(TreeHash h, const Digest256& root) {
  if (h == TreeHash::kXxh3) return "xxh3:" + to_hex(std::span<const uint8_t>(root.data(), 16));
  return to_hex(root);
}

TreeHash tree_hash_of(std::string_view tree) { return tree.starts_with("xxh3:") ? TreeHash::kXxh3 : TreeHash::kSha256; }

namespace {

Digest256 xxh3_digest(std::span<const uint8_t> data) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(data.data(), data.size()));
  Digest256 d{};
  std::memcpy(d.data(), c.digest, sizeof c.digest);
  return d;
}

Result<Digest256> leaf_digest(std::span<const uint8_t> data, TreeHash h) {
  if (h == TreeHash::kXxh3) return xxh3_digest(data);
  return sha256(data);
}

}  // namespace

Status hash_leaves(std::span<const uint8_t> data, std::vector<Digest256>* out, TreeHash h) {
  for (size_t off = 0; off < data.size(); off += kTreeLeafBytes) {
    ASSIGN_OR_RETURN(auto d, leaf_digest(data.subspan(off, std::min(kTreeLeafBytes, data.size() - off)), h));
    out->push_back(d);
  }
  return Status::ok();
}

Result<Digest256> tree_root(std::span<const Digest256> leaves, TreeHash h) {
  if (h == TreeHash::kXxh3) {
    std::vector<uint8_t> cat;
    cat.reserve(leaves.size() * 16);
    for (const auto& l : leaves) cat.insert(cat.end(), l.begin(), l.begin() + 16);
    return xxh3_digest(cat);
  }
  Sha256 s;
  for (const auto& l : leaves) s.update(std::span<const uint8_t>(l));
  return s.finish();
}

struct TreeHasher::Xxh3State {
  XXH3_state_t* st = XXH3_createState();
  ~Xxh3State() { XXH3_freeState(st); }
};

TreeHasher::TreeHasher(TreeHash h) : hash_(h) {
  if (h == TreeHash::kXxh3) {
    xxh3_ = std::make_shared<Xxh3State>();
    if (!xxh3_->st || XXH3_128bits_reset(xxh3_->st) != XXH_OK) status_ = internal_error("XXH3: no memory for its state");
  }
}

void TreeHasher::end_leaf() {
  Result<Digest256> d = Digest256{};
  if (hash_ == TreeHash::kXxh3) {
    if (xxh3_->st) {
      XXH128_canonical_t c;
      XXH128_canonicalFromHash(&c, XXH3_128bits_digest(xxh3_->st));
      Digest256 out{};
      std::memcpy(out.data(), c.digest, sizeof c.digest);
      d = out;
      XXH3_128bits_reset(xxh3_->st);
    }
  } else {
    d = leaf_.finish();
  }
  if (d) leaves_.push_back(*d);
  else if (status_.is_ok()) status_ = d.status();
  in_leaf_ = 0;
}

void TreeHasher::update(std::span<const uint8_t> data) {
  while (!data.empty()) {
    size_t take = std::min(data.size(), kTreeLeafBytes - in_leaf_);
    if (hash_ != TreeHash::kXxh3) leaf_.update(data.first(take));
    else if (xxh3_->st) XXH3_128bits_update(xxh3_->st, data.data(), take);
    data = data.subspan(take);
    in_leaf_ += take;
    if (in_leaf_ == kTreeLeafBytes) end_leaf();
  }
}

Result<Digest256> TreeHasher::finish() {
  if (in_leaf_ > 0) end_leaf();
  RETURN_IF_ERROR(status_);
  return tree_root(leaves_, hash_);
}

Result<std::string> tree_file_text(std::string_view path, int threads, TreeHash h) {
  ASSIGN_OR_RETURN(auto map, io::MappedFile::open(path));
  return tree_text_of(map.data(), threads, h, path);
}

Result<std::string> tree_text_of(std::span<const uint8_t> data, int threads, TreeHash h, std::string_view what) {
  size_t n = (data.size() + kTreeLeafBytes - 1) / kTreeLeafBytes;
  std::vector<Digest256> leaves(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      if (cancel::cancelled()) return;  // a signal: stop within a leaf (checked below)
      auto d = leaf_digest(data.subspan(i * kTreeLeafBytes, std::min(kTreeLeafBytes, data.size() - i * kTreeLeafBytes)), h);
      if (!d) failed = true;
      else leaves[i] = *d;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(threads, static_cast<int>(n)); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  RETURN_IF_ERROR(cancel::check_cancelled());
  if (failed) return internal_error(fmt::format("{}: hashing failed", what));
  ASSIGN_OR_RETURN(auto root, tree_root(leaves, h));
  return tree_text(h, root);
}

std::string leaves_to_text(std::span<const Digest256> leaves) {
  std::string s;
  for (const auto& l : leaves) {
    if (!s.empty()) s += ',';
    s += to_hex(l);
  }
  return s;
}

Result<std::vector<Digest256>> leaves_from_text(std::string_view text) {
  std::vector<Digest256> out;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view h = text.substr(pos, end - pos);
    if (h.size() != 64) return invalid_argument(fmt::format("leaf digest '{}': expected 64 hex digits", h.substr(0, 80)));
    Digest256 d{};
    for (size_t i = 0; i < 32; ++i) {
      int a = nib(h[2 * i]), b = nib(h[2 * i + 1]);
      if (a < 0 || b < 0) return invalid_argument(fmt::format("leaf digest '{}': not lower-case hex", h));
      d[i] = static_cast<uint8_t>(a << 4 | b);
    }
    out.push_back(d);
    pos = end + 1;
  }
  return out;
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
