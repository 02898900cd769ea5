// codec/range_coder: an adaptive binary range coder (LZMA-style carry handling)
// with 16-bit probabilities whose adaptation rate slows as a model sees more
// bits. Integer-only, so encoder and decoder agree bit for bit on every machine.
//
// The decoder never reads past its buffer: reads beyond the end return zeros and
// set overrun(), which callers turn into a "truncated" error.
// Thread safety: each coder and each model belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sciflow::codec {

// Probability that the next bit is 0, in 1/65536 units, and how many bits it has seen.
struct BitModel {
  uint16_t p = 32768;
  uint8_t n = 0;

  void update(int bit) {
    // Fast adaptation at first, then a window of ~2^7 bits.
    static constexpr uint8_t kShift[24] = {1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4,
                                           4, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    int shift = n < 24 ? kShift[n] : (n < 64 ? 6 : 7);
    if (n < 255) ++n;
    if (bit) p = static_cast<uint16_t>(p - (p >> shift));
    else p = static_cast<uint16_t>(p + ((65536 - p) >> shift));
    if (p < 48) p = 48;
    if (p > 65536 - 48) p = 65536 - 48;
  }
};

class RangeEncoder {
 public:
  explicit RangeEncoder(std::vector<uint8_t>* out) : out_(out) {}

  void encode(BitModel& m, int bit) {
    uint32_t bound = (range_ >> 16) * m.p;
    if (!bit) {
      range_ = bound;
    } else {
      low_ += bound;
      range_ -= bound;
    }
    m.update(bit);
    while (range_ < kTop) {
      range_ <<= 8;
      shift_low();
    }
  }

  // `count` bits of `value`, most significant first, each with probability 1/2.
  void encode_direct(uint64_t value, int count) {
    for (int i = count - 1; i >= 0; --i) {
      range_ >>= 1;
      if ((value >> i) & 1) low_ += range_;
      while (range_ < kTop) {
        range_ <<= 8;
        shift_low();
      }
    }
  }

  // Flushes the final bytes. Call once.
  void finish() {
    for (int i = 0; i < 5; ++i) shift_low();
  }

 private:
  static constexpr uint32_t kTop = 1u << 24;

  void shift_low() {
    if (static_cast<uint32_t>(low_) < 0xFF000000u || (low_ >> 32) != 0) {
      uint8_t carry = static_cast<uint8_t>(low_ >> 32);
      if (have_cache_) out_->push_back(static_cast<uint8_t>(cache_ + carry));
      for (; pending_ > 0; --pending_) out_->push_back(static_cast<uint8_t>(0xFF + carry));
      cache_ = static_cast<uint8_t>(low_ >> 24);
      have_cache_ = true;
    } else {
      ++pending_;
    }
    low_ = (low_ & 0x00FFFFFFu) << 8;
  }

  std::vector<uint8_t>* out_;
  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;
  bool have_cache_ = false;
  uint64_t pending_ = 0;
};

class RangeDecoder {
 public:
  RangeDecoder(const uint8_t* data, size_t size) : p_(data), end_(data + size) {
    for (int i = 0; i < 4; ++i) code_ = (code_ << 8) | next();
  }

  int decode(BitModel& m) {
    uint32_t bound = (range_ >> 16) * m.p;
    int bit;
    if (code_ < bound) {
      range_ = bound;
      bit = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      bit = 1;
    }
    m.update(bit);
    while (range_ < kTop) {
      range_ <<= 8;
      code_ = (code_ << 8) | next();
    }
    return bit;
  }

  uint64_t decode_direct(int count) {
    uint64_t v = 0;
    for (int i = 0; i < count; ++i) {
      range_ >>= 1;
      uint32_t bit = code_ >= range_ ? 1 : 0;
      if (bit) code_ -= range_;
      v = (v << 1) | bit;
      while (range_ < kTop) {
        range_ <<= 8;
        code_ = (code_ << 8) | next();
      }
    }
    return v;
  }

  // True if the decoder needed bytes beyond the end of its input.
  bool overrun() const { return overrun_ > 4; }

 private:
  static constexpr uint32_t kTop = 1u << 24;
  uint32_t next() {
    if (p_ < end_) return *p_++;
    ++overrun_;
    return 0;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  uint32_t code_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  int overrun_ = 0;
};

}  // namespace sciflow::codec
