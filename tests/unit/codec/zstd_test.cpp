#include <doctest/doctest.h>

#include <random>

#include "codec/zstd.hpp"

namespace sciflow::codec::zstd {

TEST_CASE("zstd: round trip and limits") {
  std::vector<uint8_t> data(100000);
  std::mt19937 rng(1);
  for (auto& b : data) b = static_cast<uint8_t>(rng() % 16);
  auto packed = compress(data, 3);
  REQUIRE(packed);
  CHECK(packed->size() < data.size());
  auto back = decompress(*packed, data.size());
  REQUIRE(back);
  CHECK(*back == data);
  auto limited = decompress(*packed, data.size() - 1);
  REQUIRE_FALSE(limited);
  CHECK(limited.status().code() == Code::kCorrupt);
  CHECK(limited.status().message().find("exceeds the limit") != std::string::npos);
}

TEST_CASE("zstd: corrupt and truncated input") {
  std::vector<uint8_t> junk = {1, 2, 3, 4, 5, 6, 7, 8};
  auto r = decompress(junk, 1000);
  REQUIRE_FALSE(r);
  CHECK(r.status().code() == Code::kCorrupt);
  std::vector<uint8_t> data(5000, 7);
  auto packed = compress(data, 1);
  REQUIRE(packed);
  packed->resize(packed->size() - 3);
  auto t = decompress(*packed, data.size());
  REQUIRE_FALSE(t);
  CHECK(t.status().code() == Code::kCorrupt);
  CHECK(compress(data, 99).status().code() == Code::kInvalidArgument);
}

}  // namespace sciflow::codec::zstd
