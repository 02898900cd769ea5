// crypto/hash: SHA-256 and secure random bytes through OpenSSL, with OpenSSL's
// error queue turned into Status. OpenSSL types stay inside hash.cpp.
//
// Thread safety: Sha256 objects belong to one thread; the free functions are
// thread-safe (OpenSSL 3 is thread-safe by default).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace sciflow::crypto {

using Digest256 = std::array<uint8_t, 32>;

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const uint8_t> data);
  void update(std::string_view data) {
    update(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  }
  // The digest of everything so far; the object is reset afterwards.
  Result<Digest256> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Result<Digest256> sha256(std::span<const uint8_t> data);
inline Result<Digest256> sha256(std::string_view data) {
  return sha256(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

// Lower-case hex SHA-256 of the whole file at `path` (memory-mapped).
Result<std::string> sha256_file_hex(std::string_view path);

// dxfer's file digest, "sha256-tree": SHA-256 over the concatenated SHA-256
// digests of the file's 1 MiB leaves (the last leaf may be shorter; an empty
// file has no leaves). Each leaf hashes on its own, so a file is verified
// chunk by chunk as it arrives and hashed on several cores, which a plain
// SHA-256 cannot do; as strong as SHA-256 (a collision in the root needs one
// in a leaf or in the list). The same construction as Dropbox's content hash.
//
// "xxh3-tree" is the same tree with XXH3-128 (xxHash) for leaves and root: ten
// times SHA-256's speed, for catching damage (disks, memory, networks), not
// tampering by someone who can choose the data. Its leaf digests take the first
// 16 bytes of a Digest256 (the rest zero).
inline constexpr size_t kTreeLeafBytes = size_t{1} << 20;
enum class TreeHash { kSha256, kXxh3 };
std::string_view tree_hash_name(TreeHash h);  // "sha256", "xxh3"
Result<TreeHash> parse_tree_hash(std::string_view name);
// A tree digest as text: lower-case hex for sha256-tree (as dxfer always wrote
// it), "xxh3:" and hex for xxh3-tree; tree_hash_of() reads which from the text.
std::string tree_text(TreeHash h, const Digest256& root);
TreeHash tree_hash_of(std::string_view tree);

// Appends the digests of the leaves of `data` (which starts on a leaf boundary).
Status hash_leaves(std::span<const uint8_t> data, std::vector<Digest256>* out, TreeHash h = TreeHash::kSha256);
Result<Digest256> tree_root(std::span<const Digest256> leaves, TreeHash h = TreeHash::kSha256);
// The tree of a stream fed in pieces of any size (the leaves are hashed
// as they fill, nothing is buffered).
class TreeHasher {
 public:
  explicit TreeHasher(TreeHash h = TreeHash::kSha256);
  void update(std::span<const uint8_t> data);
  // The root; leaves() holds every leaf afterwards.
  Result<Digest256> finish();
  const std::vector<Digest256>& leaves() const { return leaves_; }

 private:
  void end_leaf();
  TreeHash hash_;
  Sha256 leaf_;
  struct Xxh3State;  // xxHash's streaming state (hash.cpp)
  std::shared_ptr<Xxh3State> xxh3_;  // shared_ptr: the type is complete only in hash.cpp (TreeHasher is move-only)
  size_t in_leaf_ = 0;
  std::vector<Digest256> leaves_;
  Status status_;
};

// The tree of `data` as text (tree_text), its leaves hashed on `threads` threads;
// `what` names the data in errors. Stops with kCancelled once cancel::cancelled().
Result<std::string> tree_text_of(std::span<const uint8_t> data, int threads, TreeHash h, std::string_view what);
// The tree of a whole file as text (tree_text), hashed on `threads` threads.
Result<std::string> tree_file_text(std::string_view path, int threads, TreeHash h);
// The hex sha256-tree of a whole file.
inline Result<std::string> sha256_tree_file_hex(std::string_view path, int threads = 1) {
  return tree_file_text(path, threads, TreeHash::kSha256);
}
// Hex leaf digests, comma-separated, and back (kInvalidArgument on bad text).
std::string leaves_to_text(std::span<const Digest256> leaves);
Result<std::vector<Digest256>> leaves_from_text(std::string_view text);

// Fills `out` from OpenSSL's CSPRNG.
Status random_bytes(std::span<uint8_t> out);

// Lower-case hex of `bytes`.
std::string to_hex(std::span<const uint8_t> bytes);

// "OpenSSL 3.0.x ..."
std::string library_version();

}  // namespace sciflow::crypto
