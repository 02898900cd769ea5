#include "codec/zstd.hpp"

#include <fmt/core.h>
#include <zstd.h>

#include <memory>

namespace sciflow::codec::zstd {

Result<std::vector<uint8_t>> compress(std::span<const uint8_t> src, int level) {
  if (level > ZSTD_maxCLevel() || level < ZSTD_minCLevel())
    return invalid_argument(fmt::format("zstd level {} outside {}..{}", level, ZSTD_minCLevel(), ZSTD_maxCLevel()));
  std::vector<uint8_t> out(ZSTD_compressBound(src.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), src.data(), src.size(), level);
  if (ZSTD_isError(n)) return internal_error(fmt::format("zstd compress: {}", ZSTD_getErrorName(n)));
  out.resize(n);
  return out;
}

Result<std::vector<uint8_t>> decompress(std::span<const uint8_t> src, size_t max_size) {
  unsigned long long size = ZSTD_getFrameContentSize(src.data(), src.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) return corrupt("zstd decompress: not a zstd frame");
  std::vector<uint8_t> out;
  if (size != ZSTD_CONTENTSIZE_UNKNOWN && ZSTD_findFrameCompressedSize(src.data(), src.size()) == src.size()) {
    if (size > max_size)
      return corrupt(fmt::format("zstd decompress: content size {} exceeds the limit {}", size, max_size));
    out.resize(size);
    size_t n = ZSTD_decompress(out.data(), out.size(), src.data(), src.size());
    if (ZSTD_isError(n)) return corrupt(fmt::format("zstd decompress: {}", ZSTD_getErrorName(n)));
    if (n != size) return corrupt(fmt::format("zstd decompress: {} bytes, header said {}", n, size));
    return out;
  }
  // Unknown size or several frames: stream, growing up to max_size.
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) return Status(Code::kResourceExhausted, "zstd decompress: out of memory");
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  std::vector<uint8_t> chunk(ZSTD_DStreamOutSize());
  size_t last = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(last)) return corrupt(fmt::format("zstd decompress: {}", ZSTD_getErrorName(last)));
    if (out.size() + o.pos > max_size)
      return corrupt(fmt::format("zstd decompress: output exceeds the limit {}", max_size));
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(o.pos));
    if (o.pos == 0 && last != 0 && in.pos == in.size) break;
  }
  for (;;) {  // flush what the decoder still holds
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(last)) return corrupt(fmt::format("zstd decompress: {}", ZSTD_getErrorName(last)));
    if (out.size() + o.pos > max_size)
      return corrupt(fmt::format("zstd decompress: output exceeds the limit {}", max_size));
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(o.pos));
    if (o.pos < chunk.size()) break;
  }
  if (last != 0) return corrupt("zstd decompress: truncated input");
  return out;
}

std::string library_version() { return fmt::format("zstd {}", ZSTD_versionString()); }

}  // namespace sciflow::codec::zstd
