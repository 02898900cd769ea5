// crypto/aead: AES-256-GCM for end-to-end encrypted chunks (dxfer --encrypt),
// key files, and hashed bearer tokens with path scopes (dxfer serve --tokens).
//
// A sealed chunk is nonce(12) || ciphertext || tag(16); the nonce is random per
// chunk, and the associated data binds the chunk to its place (file, index,
// size), so a chunk moved, swapped or truncated fails authentication.
// Key file: one line "dxfer-key-v1 <64 hex digits>", mode 0600; load_key()
// refuses a key file that group or others can read.
// Token file: JSON lines {"name","sha256","scopes":["rw:/prefix",...],"created"};
// only the SHA-256 of a token is stored. Tokens look like "dxf_" + 43 base64url
// characters (256 random bits).
// Thread safety: free functions, thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace sciflow::crypto {

using Key256 = std::array<uint8_t, 32>;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;

// Encrypts `plain`; the result is kNonceBytes + plain.size() + kTagBytes long.
Result<std::vector<uint8_t>> seal(const Key256& key, std::span<const uint8_t> aad, std::span<const uint8_t> plain);
// Decrypts what seal() made; kCorrupt "authentication failed" when the key, the
// associated data or any byte differs.
Result<std::vector<uint8_t>> open_sealed(const Key256& key, std::span<const uint8_t> aad, std::span<const uint8_t> sealed);

Result<Key256> generate_key();
// Writes a new key file (mode 0600, atomically; refuses to overwrite).
Status write_key_file(const std::string& path, const Key256& key);
Result<Key256> load_key(const std::string& path);

struct TokenScope {
  bool read = false, write = false;
  std::string prefix;  // "/runs/"; "/" for everything
};
// "rw:/runs" -> {read, write, "/runs"}; kInvalidArgument otherwise.
Result<TokenScope> parse_scope(std::string_view text);

// Creates a token with `scopes` under `name`, appends its hash to `tokens_file`
// (created with mode 0600 if missing; rewritten atomically), and returns the
// token, which exists nowhere else afterwards.
Result<std::string> create_token(const std::string& tokens_file, const std::string& name,
                                 const std::vector<std::string>& scopes);

enum class Access { kRead, kWrite };
// Checks `token` against `tokens_file` for `access` to `path` (normalised, under
// the server root). kPermissionDenied names the reason (unknown token, or no scope
// covers the path) without echoing the token.
Status check_token(const std::string& tokens_file, std::string_view token, Access access, std::string_view path);
// The same check, returning the token's name (for audit logs). An unknown token
// is kNotFound "unknown token"; a known one without a covering scope kPermissionDenied.
Result<std::string> authorize(const std::string& tokens_file, std::string_view token, Access access,
                              std::string_view path);

// A parsed token file, for servers that check many requests against it.
class TokenSet {
 public:
  static Result<TokenSet> parse(std::string_view text, const std::string& file);
  // As authorize() above; an empty `path` asks only whether the token is known.
  Result<std::string> authorize(std::string_view token, Access access, std::string_view path) const;

 private:
  struct Entry {
    std::string name, sha256;
    std::vector<TokenScope> scopes;
  };
  std::vector<Entry> entries_;
};


}  // namespace sciflow::crypto
