#include <doctest/doctest.h>
#include <fmt/core.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "crypto/aead.hpp"
#include "crypto/cert.hpp"
#include "core/cancel.hpp"
#include "crypto/hash.hpp"
#include "io/file.hpp"

namespace fs = std::filesystem;

namespace sciflow::crypto {
namespace {

std::string temp_dir(const char* name) {
  std::string d = (fs::temp_directory_path() / fmt::format("sciflow-{}-{}", name, ::getpid())).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST_CASE("sha256-tree: SHA-256 over the leaf digests, the same on any thread count") {
  // Known answer: one leaf "abc" -> sha256(sha256("abc")), computed independently.
  std::vector<Digest256> leaves;
  std::string abc = "abc";
  REQUIRE(hash_leaves(std::span(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()), &leaves).is_ok());
  REQUIRE(leaves.size() == 1);
  CHECK(to_hex(*tree_root(leaves)) == "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358");
  // Empty file: no leaves, the SHA-256 of nothing.
  CHECK(to_hex(*tree_root({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  // 2.5 MiB: three leaves (1, 1, 0.5 MiB); the file hash equals the hand-made tree.
  std::string d = temp_dir("tree");
  std::string data(5 * kTreeLeafBytes / 2, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  REQUIRE(io::write_file_atomic(d + "/f.bin", data).is_ok());
  std::vector<Digest256> by_hand;
  for (size_t off = 0; off < data.size(); off += kTreeLeafBytes)
    by_hand.push_back(*sha256(std::string_view(data).substr(off, kTreeLeafBytes)));
  CHECK(by_hand.size() == 3);
  std::string concat;
  for (const auto& l : by_hand) concat.append(reinterpret_cast<const char*>(l.data()), l.size());
  std::string want = to_hex(*sha256(concat));
  CHECK(*sha256_tree_file_hex(d + "/f.bin", 1) == want);
  CHECK(*sha256_tree_file_hex(d + "/f.bin", 3) == want);
  std::vector<Digest256> streamed;
  REQUIRE(hash_leaves(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()), &streamed).is_ok());
  CHECK(streamed == by_hand);
  // One byte changed: another root.
  data[kTreeLeafBytes + 7] ^= 1;
  REQUIRE(io::write_file_atomic(d + "/f.bin", data).is_ok());
  CHECK(*sha256_tree_file_hex(d + "/f.bin", 2) != want);
  fs::remove_all(d);
}

TEST_CASE("xxh3-tree: XXH3-128 leaves and root, tagged in its text, the same on any thread count and in any pieces") {
  // Known answers from xxhsum -H2 (xxHash's own tool): XXH128("abc"), then XXH128
  // of that 16-byte digest (the root of a one-leaf tree), and XXH128 of nothing.
  std::vector<Digest256> leaves;
  std::string abc = "abc";
  REQUIRE(hash_leaves(std::span(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()), &leaves, TreeHash::kXxh3).is_ok());
  REQUIRE(leaves.size() == 1);
  CHECK(to_hex(std::span<const uint8_t>(leaves[0].data(), 16)) == "06b05ab6733a618578af5f94892f3950");
  CHECK(std::all_of(leaves[0].begin() + 16, leaves[0].end(), [](uint8_t b) { return b == 0; }));
  CHECK(tree_text(TreeHash::kXxh3, *tree_root(leaves, TreeHash::kXxh3)) == "xxh3:f758394eebabb2bb51ee911f78f31836");
  CHECK(tree_text(TreeHash::kXxh3, *tree_root({}, TreeHash::kXxh3)) == "xxh3:99aa06d3014798d86001c324468d497f");
  CHECK(tree_hash_of("xxh3:f758394eebabb2bb51ee911f78f31836") == TreeHash::kXxh3);
  CHECK(tree_hash_of("4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358") == TreeHash::kSha256);
  CHECK(*parse_tree_hash("xxh3") == TreeHash::kXxh3);
  CHECK(parse_tree_hash("md5").status().code() == Code::kInvalidArgument);

  std::string d = temp_dir("xxtree");
  std::string data(5 * kTreeLeafBytes / 2 + 123, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 11);
  REQUIRE(io::write_file_atomic(d + "/f.bin", data).is_ok());
  const std::string one = *tree_file_text(d + "/f.bin", 1, TreeHash::kXxh3);
  CHECK(one.starts_with("xxh3:"));
  CHECK(one.size() == 5 + 32);
  CHECK(*tree_file_text(d + "/f.bin", 3, TreeHash::kXxh3) == one);
  CHECK(*sha256_tree_file_hex(d + "/f.bin") != one.substr(5));
  // Streamed in uneven pieces, across leaf boundaries.
  TreeHasher h(TreeHash::kXxh3);
  for (size_t off = 0; off < data.size(); off += 333331)
    h.update(std::span(reinterpret_cast<const uint8_t*>(data.data()) + off, std::min<size_t>(333331, data.size() - off)));
  auto root = h.finish();
  REQUIRE(root);
  CHECK(tree_text(TreeHash::kXxh3, *root) == one);
  CHECK(h.leaves().size() == 3);
  data[2 * kTreeLeafBytes + 5] ^= 4;
  REQUIRE(io::write_file_atomic(d + "/f.bin", data).is_ok());
  CHECK(*tree_file_text(d + "/f.bin", 2, TreeHash::kXxh3) != one);
  fs::remove_all(d);
}

TEST_CASE("tree of a buffer: the file's tree of the same bytes; a signal stops it with kCancelled") {
  std::string data(3 * kTreeLeafBytes + 123, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 40503u) >> 7);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  std::string d = temp_dir("tree-text");
  REQUIRE(io::write_file_atomic(d + "/f.bin", data).is_ok());
  for (TreeHash h : {TreeHash::kSha256, TreeHash::kXxh3}) {
    auto from_buffer = tree_text_of(bytes, 2, h, "buffer");
    REQUIRE(from_buffer);
    CHECK(*from_buffer == *tree_file_text(d + "/f.bin", 1, h));
  }
  cancel::request();
  auto stopped = tree_text_of(bytes, 1, TreeHash::kSha256, "buffer");
  cancel::reset();
  REQUIRE_FALSE(stopped);
  CHECK(stopped.status().code() == Code::kCancelled);
  CHECK(tree_text_of(bytes, 1, TreeHash::kSha256, "buffer").has_value());
  fs::remove_all(d);
}

TEST_CASE("leaf digests travel as comma-separated lower-case hex and come back the same") {
  std::vector<Digest256> leaves{*sha256(std::string_view("a")), *sha256(std::string_view("b"))};
  std::string text = leaves_to_text(leaves);
  CHECK(text.size() == 64 * 2 + 1);
  CHECK(*leaves_from_text(text) == leaves);
  CHECK(leaves_from_text("").value().empty());
  CHECK(leaves_from_text(text.substr(0, 63)).status().code() == Code::kInvalidArgument);
  std::string upper = text;
  upper[0] = 'A';
  CHECK(leaves_from_text(upper).status().code() == Code::kInvalidArgument);
}

TEST_CASE("self-signed certificates: private key mode 600, a stable pin per key, a new pin per new key") {
  std::string d = temp_dir("cert");
  REQUIRE(make_self_signed(d + "/c.pem", d + "/k.pem", {"127.0.0.1", "localhost"}).is_ok());
  struct stat st;
  REQUIRE(::stat((d + "/k.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto pin = public_key_pin(d + "/c.pem");
  REQUIRE(pin.has_value());
  CHECK(pin->rfind("sha256//", 0) == 0);
  CHECK(pin->size() == 8 + 44);
  CHECK(*public_key_pin(d + "/c.pem") == *pin);
  REQUIRE(make_self_signed(d + "/c2.pem", d + "/k2.pem", {"127.0.0.1"}).is_ok());
  CHECK(*public_key_pin(d + "/c2.pem") != *pin);
  REQUIRE(io::write_file_atomic(d + "/bad.pem", "not a certificate").is_ok());
  CHECK(public_key_pin(d + "/bad.pem").status().code() == Code::kCorrupt);
  fs::remove_all(d);
}

TEST_CASE("token sets: an empty path asks only whether the token is known") {
  std::string d = temp_dir("tokset");
  auto t = create_token(d + "/t.jsonl", "beamline", {"rw:/runs"});
  REQUIRE(t.has_value());
  auto text = io::read_file(d + "/t.jsonl");
  auto set = TokenSet::parse(*text, d + "/t.jsonl");
  REQUIRE(set.has_value());
  CHECK(*set->authorize(*t, Access::kWrite, "") == "beamline");
  CHECK(*set->authorize(*t, Access::kWrite, "/runs/a") == "beamline");
  CHECK(set->authorize(*t, Access::kWrite, "/other").status().code() == Code::kPermissionDenied);
  CHECK(set->authorize("dxf_unknown", Access::kRead, "").status().code() == Code::kNotFound);
  CHECK(TokenSet::parse("{\"name\":\"x\",\"sha256\":\"ab\",\"scopes\":[\"rw:nope\"]}\n", "t").status().code() ==
        Code::kInvalidArgument);
  fs::remove_all(d);
}

}  // namespace
}  // namespace sciflow::crypto
