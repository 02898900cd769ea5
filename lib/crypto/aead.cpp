#include "crypto/aead.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fmt/core.h>

#include <ctime>
#include <memory>

#include "core/json.hpp"
#include "core/units.hpp"
#include "crypto/hash.hpp"
#include "io/file.hpp"

namespace sciflow::crypto {

namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

Status openssl_error(const char* what) { return internal_error(fmt::format("AES-256-GCM: {} failed", what)); }

std::string base64url(std::span<const uint8_t> b) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string o;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t x : b) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 6) {
      o += tbl[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) o += tbl[(acc << (6 - bits)) & 63];
  return o;
}

bool path_under(std::string_view path, std::string_view prefix) {
  if (prefix == "/" || prefix.empty()) return true;
  std::string p(prefix);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/');
}

}  // namespace

Result<std::vector<uint8_t>> seal(const Key256& key, std::span<const uint8_t> aad, std::span<const uint8_t> plain) {
  std::vector<uint8_t> out(kNonceBytes + plain.size() + kTagBytes);
  RETURN_IF_ERROR(random_bytes(std::span(out.data(), kNonceBytes)));
  Ctx c(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1)
    return openssl_error("init");
  if (!aad.empty() && EVP_EncryptUpdate(c.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return openssl_error("aad");
  if (!plain.empty() &&
      EVP_EncryptUpdate(c.get(), out.data() + kNonceBytes, &len, plain.data(), static_cast<int>(plain.size())) != 1)
    return openssl_error("encrypt");
  if (EVP_EncryptFinal_ex(c.get(), out.data() + kNonceBytes + plain.size(), &len) != 1) return openssl_error("final");
  if (EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, out.data() + kNonceBytes + plain.size()) != 1)
    return openssl_error("tag");
  return out;
}

Result<std::vector<uint8_t>> open_sealed(const Key256& key, std::span<const uint8_t> aad, std::span<const uint8_t> sealed) {
  if (sealed.size() < kNonceBytes + kTagBytes)
    return corrupt(fmt::format("encrypted chunk of {} bytes is shorter than nonce and tag", sealed.size()));
  size_t n = sealed.size() - kNonceBytes - kTagBytes;
  std::vector<uint8_t> out(n);
  Ctx c(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!c || EVP_DecryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) != 1)
    return openssl_error("init");
  if (!aad.empty() && EVP_DecryptUpdate(c.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return openssl_error("aad");
  if (n > 0 && EVP_DecryptUpdate(c.get(), out.data(), &len, sealed.data() + kNonceBytes, static_cast<int>(n)) != 1)
    return openssl_error("decrypt");
  std::array<uint8_t, kTagBytes> tag;
  std::copy(sealed.end() - kTagBytes, sealed.end(), tag.begin());
  if (EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) return openssl_error("tag");
  if (EVP_DecryptFinal_ex(c.get(), out.data() + n, &len) != 1)
    return corrupt("encrypted chunk: authentication failed (wrong key, or the data was altered or moved)");
  return out;
}

Result<Key256> generate_key() {
  Key256 k;
  RETURN_IF_ERROR(random_bytes(k));
  return k;
}

Status write_key_file(const std::string& path, const Key256& key) {
  io::OutputOptions oo;
  oo.overwrite = false;
  oo.mode = 0600;
  return io::write_file_atomic(path, "dxfer-key-v1 " + to_hex(key) + "\n", oo);
}

Result<Key256> load_key(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_status(fmt::format("key file '{}'", path), errno);
  if (st.st_mode & 077)
    return Status(Code::kPermissionDenied,
                  fmt::format("key file '{}' is readable by group or others (mode {:o}); chmod 600 it", path, st.st_mode & 0777));
  ASSIGN_OR_RETURN(std::string text, io::read_file(path));
  const std::string magic = "dxfer-key-v1 ";
  if (text.rfind(magic, 0) != 0 || text.size() < magic.size() + 64)
    return corrupt(fmt::format("key file '{}': not a dxfer key (make one with dxfer keygen)", path));
  Key256 k;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v;
    if (std::sscanf(text.c_str() + magic.size() + 2 * i, "%2x", &v) != 1)
      return corrupt(fmt::format("key file '{}': bad hex digits", path));
    k[i] = static_cast<uint8_t>(v);
  }
  return k;
}

Result<TokenScope> parse_scope(std::string_view text) {
  size_t colon = text.find(':');
  auto bad = [&] { return invalid_argument(fmt::format("scope '{}': expected r:/PREFIX, w:/PREFIX or rw:/PREFIX", text)); };
  if (colon == std::string_view::npos) return bad();
  std::string_view mode = text.substr(0, colon), prefix = text.substr(colon + 1);
  TokenScope s;
  if (mode == "r") s.read = true;
  else if (mode == "w") s.write = true;
  else if (mode == "rw" || mode == "wr") s.read = s.write = true;
  else return bad();
  if (prefix.empty() || prefix.front() != '/' || prefix.find("..") != std::string_view::npos) return bad();
  s.prefix = std::string(prefix);
  return s;
}

Result<std::string> create_token(const std::string& tokens_file, const std::string& name,
                                 const std::vector<std::string>& scopes) {
  if (scopes.empty()) return invalid_argument("a token needs at least one --scope");
  for (const auto& s : scopes) RETURN_IF_ERROR(parse_scope(s).status());
  std::string existing;
  struct stat st;
  if (::stat(tokens_file.c_str(), &st) == 0) {
    ASSIGN_OR_RETURN(existing, io::read_file(tokens_file));
    if (!existing.empty() && existing.back() != '\n') existing += '\n';
  }
  std::array<uint8_t, 32> raw;
  RETURN_IF_ERROR(random_bytes(raw));
  std::string token = "dxf_" + base64url(raw);
  ASSIGN_OR_RETURN(auto h, sha256(token));
  Json line{{"name", name}, {"sha256", to_hex(h)}, {"scopes", scopes},
            {"created", units::format_utc(static_cast<double>(std::time(nullptr)))}};
  io::OutputOptions oo;
  oo.mode = 0600;
  RETURN_IF_ERROR(io::write_file_atomic(tokens_file, existing + to_json_line(line) + "\n", oo));
  return token;
}

Result<TokenSet> TokenSet::parse(std::string_view text, const std::string& file) {
  TokenSet set;
  int lineno = 0;
  for (std::string_view line : io::split_lines(text)) {
    ++lineno;
    if (line.empty()) continue;
    ASSIGN_OR_RETURN(Json j, parse_json(line, file, lineno));
    Entry e;
    e.name = j.value("name", std::string("?"));
    e.sha256 = j.value("sha256", std::string());
    for (const auto& sj : j.value("scopes", Json::array())) {
      auto sc = parse_scope(sj.is_string() ? sj.get<std::string>() : "");
      if (!sc) return invalid_argument(fmt::format("{}:{}: {}", file, lineno, sc.status().message()));
      e.scopes.push_back(*sc);
    }
    set.entries_.push_back(std::move(e));
  }
  return set;
}

Result<std::string> TokenSet::authorize(std::string_view token, Access access, std::string_view path) const {
  ASSIGN_OR_RETURN(auto h, sha256(token));
  std::string want = to_hex(h);
  for (const auto& e : entries_) {
    if (CRYPTO_memcmp(e.sha256.data(), want.data(), std::min(e.sha256.size(), want.size())) != 0 ||
        e.sha256.size() != want.size())
      continue;
    if (path.empty()) return e.name;
    for (const auto& s : e.scopes) {
      bool ok = access == Access::kRead ? s.read : s.write;
      if (ok && path_under(path, s.prefix)) return e.name;
    }
    return Status(Code::kPermissionDenied,
                  fmt::format("token '{}' may not {} {}", e.name, access == Access::kRead ? "read" : "write", path));
  }
  return Status(Code::kNotFound, "unknown token");
}

Result<std::string> authorize(const std::string& tokens_file, std::string_view token, Access access,
                              std::string_view path) {
  ASSIGN_OR_RETURN(std::string text, io::read_file(tokens_file));
  ASSIGN_OR_RETURN(TokenSet set, TokenSet::parse(text, tokens_file));
  return set.authorize(token, access, path);
}

Status check_token(const std::string& tokens_file, std::string_view token, Access access, std::string_view path) {
  auto r = authorize(tokens_file, token, access, path);
  if (r) return Status::ok();
  if (r.status().code() == Code::kNotFound) return Status(Code::kPermissionDenied, r.status().message());
  return r.status();
}

}  // namespace sciflow::crypto
