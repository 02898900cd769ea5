#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "codec/samples.hpp"
#include "codec/tez.hpp"

namespace sciflow::codec::tez {
namespace {

constexpr int64_t kT = 12, kH = 48, kW = 40;

// RGB u8 frames. `subsampled`: as decoded from video with 4:2:0 chroma (R - G and
// B - G constant over aligned 2x2 pixels, G a moving pattern with noise); otherwise
// three independent noisy patterns, where differences between channels only add noise.
// With `channels` 4 an alpha channel of 255 follows.
std::vector<uint8_t> frames(bool subsampled, uint32_t seed, int64_t channels = 3) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> raw(static_cast<size_t>(kT * kH * kW * channels));
  auto pattern = [](int64_t t, int64_t y, int64_t x, int k) {
    return 120.0 + 40.0 * std::sin(0.21 * (x + t) + k) * std::cos(0.17 * y - 0.5 * k);
  };
  for (int64_t t = 0; t < kT; ++t)
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x) {
        uint8_t* p = raw.data() + ((t * kH + y) * kW + x) * channels;
        if (channels == 4) p[3] = 255;
        const int noise = static_cast<int>(rng() % 5) - 2;
        if (subsampled) {
          const int64_t by = y / 2 * 2, bx = x / 2 * 2;
          const int dr = static_cast<int>(std::lround(10 * std::sin(0.3 * bx + 0.2 * by + 0.1 * t)));
          const int db = static_cast<int>(std::lround(-30 + 12 * std::cos(0.25 * bx - 0.15 * by)));
          const int g = static_cast<int>(std::lround(pattern(t, y, x, 0))) + noise;
          p[0] = static_cast<uint8_t>(g + dr);
          p[1] = static_cast<uint8_t>(g);
          p[2] = static_cast<uint8_t>(g + db);
        } else {
          for (int k = 0; k < 3; ++k)
            p[k] = static_cast<uint8_t>(std::lround(pattern(t, y, x, k)) + static_cast<int>(rng() % 5) - 2);
        }
      }
  return raw;
}

Header header(const std::string& effort, int64_t channels = 3) {
  Header h;
  h.dtype = DType::kU8;
  h.frames = kT;
  h.height = kH;
  h.width = kW;
  h.channels = channels;
  h.effort = effort;
  choose_layout(&h, 6);
  h.colour_transform = colour_transform_fits(h);
  return h;
}

struct Decoded {
  std::vector<uint8_t> raw;
  int groups = 0, colour_groups = 0;
  uint16_t version = 0;
};

Decoded decode_all(const std::vector<uint8_t>& file) {
  Decoded d;
  auto reader = Reader::open_memory(file, "test.tez");
  REQUIRE(reader);
  const Header& h = reader->header();
  d.version = h.format_major;
  d.raw.resize(static_cast<size_t>(h.frames * h.frame_bytes()));
  for (;;) {
    std::vector<uint8_t> payload;
    auto g = reader->next(&payload);
    REQUIRE(g);
    if (!*g) break;
    ++d.groups;
    d.colour_groups += ((*g)->flags & kFlagColour) != 0;
    REQUIRE(decode_group_record(h, **g, payload, d.raw.data() + (*g)->first_frame * h.frame_bytes(), 1).is_ok());
  }
  return d;
}

// encode_buffer, then decode_all.
Decoded round_trip(const Header& h, const std::vector<uint8_t>& raw) {
  auto file = encode_buffer(h, raw.data(), 1);
  REQUIRE(file);
  return decode_all(*file);
}

}  // namespace

TEST_CASE("tez: lossless RGB decoded from 4:2:0 video codes channel differences, smaller and exact, in both tiers") {
  const std::vector<uint8_t> raw = frames(true, 1);
  for (const char* effort : {"fast", "best"}) {
    CAPTURE(effort);
    Header h = header(effort);
    REQUIRE(h.colour_transform);
    CHECK(colour_transform_pays(h, raw.data(), kT));
    auto with = encode_buffer(h, raw.data(), 2);
    REQUIRE(with);
    Header plain = h;
    plain.colour_transform = false;
    auto without = encode_buffer(plain, raw.data(), 2);
    REQUIRE(without);
    MESSAGE(std::string(effort) << ": " << with->size() << " bytes with the transform, " << without->size() << " without");
    CHECK(with->size() * 5 < without->size() * 4);  // at least 20% smaller
    const Decoded d = decode_all(*with);
    CHECK(d.version == (std::string(effort) == "fast" ? 5 : 7));
    CHECK(d.groups == 2);
    CHECK(d.colour_groups == 2);
    CHECK(d.raw == raw);
    const Decoded p = decode_all(*without);
    CHECK(p.version == (std::string(effort) == "fast" ? 5 : 7));
    CHECK(p.colour_groups == 0);
    CHECK(p.raw == raw);
  }
}

TEST_CASE("tez: RGBA keeps its alpha channel and codes colour differences too") {
  const std::vector<uint8_t> raw = frames(true, 4, 4);
  Header h = header("fast", 4);
  REQUIRE(h.colour_transform);
  const Decoded d = round_trip(h, raw);
  CHECK(d.colour_groups == 2);
  CHECK(d.raw == raw);
}

TEST_CASE("tez: channels that differences would only make noisier keep their values") {
  const std::vector<uint8_t> raw = frames(false, 2);
  Header h = header("fast");
  CHECK_FALSE(colour_transform_pays(h, raw.data(), kT));
  const Decoded d = round_trip(h, raw);
  CHECK(d.colour_groups == 0);
  CHECK(d.raw == raw);
}

TEST_CASE("tez: the transform applies only where it is exact and allowed") {
  Header h = header("fast");
  CHECK(colour_transform_fits(h));
  Header lossy = h;
  lossy.mode = "abs";
  lossy.bound = 2;
  CHECK_FALSE(colour_transform_fits(lossy));  // a bound on differences is not a bound on the channels
  Header grey = h;
  grey.channels = 1;
  CHECK_FALSE(colour_transform_fits(grey));
  Header floats = h;
  floats.dtype = DType::kF32;
  CHECK_FALSE(colour_transform_fits(floats));

  // A group that used the transform, in a file whose header does not allow it: an
  // error naming the frames, not wrong data.
  const std::vector<uint8_t> raw = frames(true, 3);
  GroupInfo info;
  auto rec = encode_group_record(h, 0, 6, raw.data(), 1, &info);
  REQUIRE(rec);
  REQUIRE((info.flags & kFlagColour) != 0);
  Header plain = h;
  plain.colour_transform = false;
  plain.frames = 6;
  std::vector<uint8_t> file;
  Writer w([&file](std::span<const uint8_t> b) {
    file.insert(file.end(), b.begin(), b.end());
    return Status::ok();
  });
  REQUIRE(w.write_header(plain).is_ok());
  REQUIRE(w.write_group(*rec, info).is_ok());
  REQUIRE(w.finish().is_ok());
  auto reader = Reader::open_memory(file, "mixed.tez");
  REQUIRE(reader);
  std::vector<uint8_t> payload;
  auto g = reader->next(&payload);
  REQUIRE_FALSE(g);
  CHECK(g.status().message().find("frames 0-5: unknown or inconsistent flags 0x2") != std::string::npos);
}

}  // namespace sciflow::codec::tez
