// core/dtype: element types of arrays (detector frames, vectors, tensors).
// Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sciflow {

enum class DType : uint8_t { kU8 = 1, kU16, kU32, kI16, kI32, kF32, kF64, kI8, kU64, kI64 };

// "u8", "u16", ..., "f64".
std::string_view dtype_name(DType t);
// Parses the names above (also "uint16", "float32", "int32" spellings); nullopt if unknown.
std::optional<DType> parse_dtype(std::string_view name);
// Bytes per element.
int dtype_size(DType t);
bool dtype_is_float(DType t);
// Converts `n` elements of type `t` at `src` (native byte order, any alignment) to float.
void to_float(DType t, const uint8_t* src, int64_t n, float* out);
bool dtype_is_signed(DType t);

}  // namespace sciflow
