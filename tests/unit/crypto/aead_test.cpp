#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "crypto/aead.hpp"
#include "io/file.hpp"

namespace fs = std::filesystem;

namespace sciflow::crypto {
namespace {

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST_CASE("aead: a sealed chunk opens only with the same key and associated data, unaltered") {
  auto key = generate_key();
  REQUIRE(key.has_value());
  auto sealed = seal(*key, bytes("run.tez#0"), bytes("detector frames"));
  REQUIRE(sealed.has_value());
  CHECK(sealed->size() == kNonceBytes + 15 + kTagBytes);
  auto back = open_sealed(*key, bytes("run.tez#0"), *sealed);
  REQUIRE(back.has_value());
  CHECK(std::string(back->begin(), back->end()) == "detector frames");
  // Same plaintext twice: different nonces, different bytes.
  auto again = seal(*key, bytes("run.tez#0"), bytes("detector frames"));
  CHECK(*again != *sealed);
  // A chunk moved to another place, a flipped bit, another key, a truncation: all refused.
  CHECK(open_sealed(*key, bytes("run.tez#1"), *sealed).status().code() == Code::kCorrupt);
  auto flipped = *sealed;
  flipped[kNonceBytes + 3] ^= 1;
  CHECK(open_sealed(*key, bytes("run.tez#0"), flipped).status().code() == Code::kCorrupt);
  auto other = generate_key();
  CHECK(open_sealed(*other, bytes("run.tez#0"), *sealed).status().code() == Code::kCorrupt);
  CHECK(open_sealed(*key, bytes("run.tez#0"), std::span(sealed->data(), 20)).status().code() == Code::kCorrupt);
  // The empty chunk round-trips too.
  auto empty = seal(*key, {}, {});
  REQUIRE(empty.has_value());
  CHECK(open_sealed(*key, {}, *empty)->empty());
}

TEST_CASE("key files: mode 600, no overwrite, refused when others can read them") {
  std::string dir = (fs::temp_directory_path() / "sciflow-aead-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()));
  std::string path = dir + "/k";
  auto key = generate_key();
  REQUIRE(write_key_file(path, *key).is_ok());
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(!write_key_file(path, *key).is_ok());
  auto loaded = load_key(path);
  REQUIRE(loaded.has_value());
  CHECK(*loaded == *key);
  ::chmod(path.c_str(), 0644);
  CHECK(load_key(path).status().code() == Code::kPermissionDenied);
  fs::remove_all(dir);
}

TEST_CASE("tokens: stored hashed, scoped by access and path prefix") {
  std::string dir = (fs::temp_directory_path() / "sciflow-tok-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()));
  std::string file = dir + "/tokens";
  auto t1 = create_token(file, "beamline", {"rw:/runs"});
  auto t2 = create_token(file, "reader", {"r:/"});
  REQUIRE(t1.has_value());
  REQUIRE(t2.has_value());
  CHECK(t1->rfind("dxf_", 0) == 0);
  CHECK(t1->size() == 4 + 43);
  auto text = io::read_file(file);
  CHECK(text->find(*t1) == std::string::npos);  // only the hash is stored
  CHECK(check_token(file, *t1, Access::kWrite, "/runs/42/scan.tez").is_ok());
  CHECK(check_token(file, *t1, Access::kRead, "/runs").is_ok());
  CHECK(check_token(file, *t1, Access::kWrite, "/runs2/x").code() == Code::kPermissionDenied);
  CHECK(check_token(file, *t1, Access::kWrite, "/other").code() == Code::kPermissionDenied);
  CHECK(check_token(file, *t2, Access::kRead, "/anything/at/all").is_ok());
  CHECK(check_token(file, *t2, Access::kWrite, "/runs/x").code() == Code::kPermissionDenied);
  auto unknown = check_token(file, "dxf_nope", Access::kRead, "/");
  CHECK(unknown.code() == Code::kPermissionDenied);
  CHECK(unknown.message() == "unknown token");
  CHECK(!parse_scope("rw:runs").has_value());
  CHECK(!parse_scope("x:/runs").has_value());
  CHECK(!parse_scope("r:/a/../b").has_value());
  CHECK(!create_token(file, "n", {}).has_value());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sciflow::crypto
