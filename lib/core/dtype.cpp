#include "core/dtype.hpp"

#include <cstring>
#include <string>

namespace sciflow {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kU8: return "u8";
    case DType::kU16: return "u16";
    case DType::kU32: return "u32";
    case DType::kU64: return "u64";
    case DType::kI8: return "i8";
    case DType::kI16: return "i16";
    case DType::kI32: return "i32";
    case DType::kI64: return "i64";
    case DType::kF32: return "f32";
    case DType::kF64: return "f64";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  static constexpr struct { std::string_view a, b; DType t; } kNames[] = {
      {"u8", "uint8", DType::kU8},     {"u16", "uint16", DType::kU16}, {"u32", "uint32", DType::kU32},
      {"u64", "uint64", DType::kU64},  {"i8", "int8", DType::kI8},     {"i16", "int16", DType::kI16},
      {"i32", "int32", DType::kI32},   {"i64", "int64", DType::kI64},  {"f32", "float32", DType::kF32},
      {"f64", "float64", DType::kF64},
  };
  for (const auto& n : kNames)
    if (name == n.a || name == n.b) return n.t;
  return std::nullopt;
}

void to_float(DType t, const uint8_t* src, int64_t n, float* out) {
  auto conv = [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < n; ++i) {
      T x;
      std::memcpy(&x, src + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
      out[i] = static_cast<float>(x);
    }
  };
  switch (t) {
    case DType::kU8: conv(uint8_t{}); break;
    case DType::kI8: conv(int8_t{}); break;
    case DType::kU16: conv(uint16_t{}); break;
    case DType::kI16: conv(int16_t{}); break;
    case DType::kU32: conv(uint32_t{}); break;
    case DType::kI32: conv(int32_t{}); break;
    case DType::kU64: conv(uint64_t{}); break;
    case DType::kI64: conv(int64_t{}); break;
    case DType::kF32: conv(float{}); break;
    case DType::kF64: conv(double{}); break;
  }
}

int dtype_size(DType t) {
  switch (t) {
    case DType::kU8: case DType::kI8: return 1;
    case DType::kU16: case DType::kI16: return 2;
    case DType::kU32: case DType::kI32: case DType::kF32: return 4;
    case DType::kU64: case DType::kI64: case DType::kF64: return 8;
  }
  return 0;
}

bool dtype_is_float(DType t) { return t == DType::kF32 || t == DType::kF64; }
bool dtype_is_signed(DType t) {
  return t == DType::kI8 || t == DType::kI16 || t == DType::kI32 || t == DType::kI64 || dtype_is_float(t);
}

}  // namespace sciflow
