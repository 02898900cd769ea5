// codec/zstd: the zstd adapter: one-shot compression of buffers with errors as
// Status. Thread safety: the functions are reentrant; each call uses its own context.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace sciflow::codec::zstd {

// Compresses `src` at `level` (1..22, negative for fast modes) into a zstd frame
// that records its content size.
Result<std::vector<uint8_t>> compress(std::span<const uint8_t> src, int level = 3);

// Decompresses one or more zstd frames. The content size must be recorded in the
// frame header or `max_size` bounds it; output above `max_size` is kCorrupt, so a
// hostile header cannot make us allocate without limit.
Result<std::vector<uint8_t>> decompress(std::span<const uint8_t> src, size_t max_size);

// "zstd 1.5.4"
std::string library_version();

}  // namespace sciflow::codec::zstd
