#include <doctest/doctest.h>

#include "crypto/hash.hpp"

namespace sciflow::crypto {

TEST_CASE("sha256: FIPS 180-2 vectors, one-shot and incremental") {
  CHECK(to_hex(*sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(*sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  CHECK(to_hex(*h.finish()) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // finish() resets: the same object hashes a new message.
  h.update("a");
  h.update("bc");
  CHECK(to_hex(*h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("random bytes differ between calls") {
  std::array<uint8_t, 32> a{}, b{};
  REQUIRE(random_bytes(a).is_ok());
  REQUIRE(random_bytes(b).is_ok());
  CHECK(a != b);
}

}  // namespace sciflow::crypto
