#include "io/frames.hpp"

#include <fmt/core.h>
#include <fcntl.h>
#include <glob.h>
#include <png.h>
#include <tiffio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <mutex>
#include <cstdio>
#include <cstring>
#include <bit>
#include <deque>
#include <filesystem>
#include <memory>
#include <tuple>

#include "core/thread_pool.hpp"
#include "io/file.hpp"
#include "io/hdf5.hpp"

namespace fs = std::filesystem;

namespace sciflow::io {
namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr unsigned char kHdf5Magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
constexpr unsigned char kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// ---- .npy -------------------------------------------------------------------------

std::string npy_descr(DType t) {
  switch (t) {
    case DType::kU8: return "|u1";
    case DType::kI8: return "|i1";
    case DType::kU16: return "<u2";
    case DType::kI16: return "<i2";
    case DType::kU32: return "<u4";
    case DType::kI32: return "<i4";
    case DType::kU64: return "<u8";
    case DType::kI64: return "<i8";
    case DType::kF32: return "<f4";
    case DType::kF64: return "<f8";
  }
  return "";
}

Result<DType> parse_npy_descr(std::string_view d, std::string_view name) {
  for (auto t : {DType::kU8, DType::kI8, DType::kU16, DType::kI16, DType::kU32, DType::kI32, DType::kU64,
                 DType::kI64, DType::kF32, DType::kF64}) {
    std::string want = npy_descr(t);
    if (d == want) return t;
    if (dtype_size(t) == 1 && d.size() == 3 && d.substr(1) == std::string_view(want).substr(1)) return t;  // "<u1"
  }
  return unsupported(fmt::format("{}: unsupported .npy dtype '{}' (big-endian or complex data)", name, d));
}

// Extracts the value after `'key':` in a Python dict literal.
std::string dict_value(std::string_view header, std::string_view key) {
  std::string k = fmt::format("'{}':", key);
  size_t p = header.find(k);
  if (p == std::string_view::npos) return "";
  p += k.size();
  while (p < header.size() && header[p] == ' ') ++p;
  if (p < header.size() && header[p] == '\'') {
    size_t e = header.find('\'', p + 1);
    return std::string(header.substr(p + 1, e - p - 1));
  }
  if (p < header.size() && header[p] == '(') {
    size_t e = header.find(')', p);
    return std::string(header.substr(p + 1, e - p - 1));
  }
  size_t e = header.find_first_of(",}", p);
  return std::string(header.substr(p, e - p));
}

class StreamReader : public FrameReader {
 public:
  StreamReader(InputFile in, SeriesInfo info, std::string pending)
      : in_(std::move(in)), pending_(std::move(pending)) {
    info_ = std::move(info);
  }
  Result<int64_t> read(int64_t max_frames, uint8_t* buf) override {
    int64_t want = std::min(max_frames, info_.frames - done_);
    if (want <= 0) return int64_t{0};
    size_t bytes = static_cast<size_t>(want * info_.frame_bytes());
    size_t got = take_pending(buf, bytes);
    while (got < bytes) {
      if (bytes - got < kSmallRead) {
        // Small reads (a frame at a time of small frames) go through one read of
        // kReadAhead bytes instead of a system call each; larger ones straight
        // into `buf` (no copy).
        pending_.resize(kReadAhead);
        pos_ = 0;
        ASSIGN_OR_RETURN(size_t n, in_.read(pending_.data(), kReadAhead));
        pending_.resize(n);
        if (n == 0) break;
        got += take_pending(buf + got, bytes - got);
        continue;
      }
      ASSIGN_OR_RETURN(size_t n, in_.read(buf + got, bytes - got));
      if (n == 0) break;
      got += n;
    }
    int64_t whole = static_cast<int64_t>(got) / info_.frame_bytes();
    if (static_cast<int64_t>(got) % info_.frame_bytes() != 0 || (whole < want))
      return corrupt(fmt::format("read '{}': ends after {} of {} frames ({} bytes into frame {})", in_.name(),
                                 done_ + whole, info_.frames, static_cast<int64_t>(got) % info_.frame_bytes(),
                                 done_ + whole));
    done_ += whole;
    if (done_ == info_.frames) {  // the last frame: nothing may follow it
      uint8_t extra;
      size_t more = take_pending(&extra, 1);
      if (!more) {
        ASSIGN_OR_RETURN(more, in_.read(&extra, 1));
      }
      if (more)
        return corrupt(fmt::format("read '{}': more data after the last frame of its shape {}x{}x{}x{}", in_.name(),
                                   info_.frames, info_.height, info_.width, info_.channels));
    }
    return whole;
  }

 private:
  static constexpr size_t kReadAhead = size_t{1} << 20, kSmallRead = size_t{64} << 10;

  // Copies up to n bytes read ahead (or while sniffing the format) to `out`.
  size_t take_pending(uint8_t* out, size_t n) {
    const size_t k = std::min(n, pending_.size() - pos_);
    std::memcpy(out, pending_.data() + pos_, k);
    pos_ += k;
    return k;
  }

  InputFile in_;
  std::string pending_;  // bytes read while sniffing the format, then read ahead
  size_t pos_ = 0;       // the next of them to hand out
  int64_t done_ = 0;
};

Status shape_to_info(const std::vector<int64_t>& shape, SeriesInfo* info, std::string_view name) {
  if (shape.size() == 2) {
    info->frames = 1;
    info->height = shape[0];
    info->width = shape[1];
  } else if (shape.size() == 3 || shape.size() == 4) {
    info->frames = shape[0];
    info->height = shape[1];
    info->width = shape[2];
    info->channels = shape.size() == 4 ? shape[3] : 1;
  } else {
    return invalid_argument(fmt::format("{}: expected 2, 3 or 4 dimensions (frames, height, width[, channels]), found {}",
                                        name, shape.size()));
  }
  for (int64_t d : shape)
    if (d <= 0) return invalid_argument(fmt::format("{}: empty dimension in shape", name));
  if (info->channels > 4) return unsupported(fmt::format("{}: {} channels (at most 4)", name, info->channels));
  // Sizes that no buffer could hold (or whose product overflows) fail here, not in an allocation.
  int64_t frame = 0, total = 0;
  if (__builtin_mul_overflow(info->height, info->width, &frame) || __builtin_mul_overflow(frame, info->channels, &frame) ||
      frame > (int64_t{1} << 32) || __builtin_mul_overflow(frame, info->frames, &total) || total > (int64_t{1} << 56))
    return invalid_argument(fmt::format("{}: {}x{}x{}x{} is too large (at most 2^32 samples a frame, 2^56 in all)",
                                        name, info->frames, info->height, info->width, info->channels));
  return Status::ok();
}

// A regular file's size against its shape, before the data are read: `buffered`
// bytes of data were read already (while sniffing the format), the rest lie from
// the file's offset to its end. (A pipe's end is checked as it is read.)
Status check_data_size(const InputFile& in, const SeriesInfo& info, int64_t buffered, std::string_view hint) {
  struct stat st;
  if (::fstat(in.fd(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::ok();
  const off_t at = ::lseek(in.fd(), 0, SEEK_CUR);
  if (at < 0) return Status::ok();
  const int64_t have = static_cast<int64_t>(st.st_size - at) + buffered, need = info.frames * info.frame_bytes();
  if (have == need) return Status::ok();
  return corrupt(fmt::format("'{}': {} bytes of data, but its shape {}x{}x{}x{} of {} is {} bytes{}", in.name(), have,
                             info.frames, info.height, info.width, info.channels, dtype_name(info.dtype), need, hint));
}

Result<std::unique_ptr<FrameReader>> open_npy(InputFile in, std::string sniffed) {
  std::string name = in.name();
  // Header: magic(6) major(1) minor(1) len(2 or 4) dict
  while (sniffed.size() < 12) {
    char b[64];
    ASSIGN_OR_RETURN(size_t n, in.read(b, sizeof b));
    if (n == 0) return corrupt(fmt::format("{}: truncated .npy header", name));
    sniffed.append(b, n);
  }
  int major = static_cast<uint8_t>(sniffed[6]);
  size_t hlen, hstart;
  if (major == 1) {
    hlen = static_cast<uint8_t>(sniffed[8]) | (static_cast<size_t>(static_cast<uint8_t>(sniffed[9])) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<size_t>(static_cast<uint8_t>(sniffed[8 + i])) << (8 * i);
    hstart = 12;
  } else {
    return unsupported(fmt::format("{}: .npy format version {}", name, major));
  }
  if (hlen > (1 << 20)) return corrupt(fmt::format("{}: .npy header of {} bytes", name, hlen));
  while (sniffed.size() < hstart + hlen) {
    char b[4096];
    ASSIGN_OR_RETURN(size_t n, in.read(b, sizeof b));
    if (n == 0) return corrupt(fmt::format("{}: truncated .npy header", name));
    sniffed.append(b, n);
  }
  std::string header = sniffed.substr(hstart, hlen);
  SeriesInfo info;
  info.format = "npy";
  ASSIGN_OR_RETURN(info.dtype, parse_npy_descr(dict_value(header, "descr"), name));
  if (dict_value(header, "fortran_order") == "True")
    return unsupported(fmt::format("{}: Fortran-ordered .npy arrays", name));
  std::vector<int64_t> shape;
  std::string s = dict_value(header, "shape");
  for (size_t p = 0; p < s.size();) {
    while (p < s.size() && (s[p] == ' ' || s[p] == ',')) ++p;
    if (p >= s.size()) break;
    char* end;
    long long v = std::strtoll(s.c_str() + p, &end, 10);
    if (end == s.c_str() + p) return corrupt(fmt::format("{}: bad shape '{}' in .npy header", name, s));
    shape.push_back(v);
    p = static_cast<size_t>(end - s.c_str());
  }
  RETURN_IF_ERROR(shape_to_info(shape, &info, name));
  RETURN_IF_ERROR(check_data_size(in, info, static_cast<int64_t>(sniffed.size() - (hstart + hlen)), ""));
  return std::unique_ptr<FrameReader>(new StreamReader(std::move(in), std::move(info), sniffed.substr(hstart + hlen)));
}

// ---- HDF5 -------------------------------------------------------------------------

class Hdf5Reader : public FrameReader {
 public:
  // image: a 2-D dataset, one frame whose rows are the dataset's first dimension.
  Hdf5Reader(h5::File f, SeriesInfo info, std::string spool, bool image)
      : file_(std::move(f)), spool_(std::move(spool)), image_(image) {
    info_ = std::move(info);
  }
  ~Hdf5Reader() override {
    if (!spool_.empty()) ::unlink(spool_.c_str());
  }
  Result<int64_t> read(int64_t max_frames, uint8_t* buf) override {
    int64_t n = std::min(max_frames, info_.frames - done_);
    if (n <= 0) return int64_t{0};
    if (image_) RETURN_IF_ERROR(file_.read(info_.dataset, info_.dtype, buf, info_.frame_bytes(), 0, -1));
    else RETURN_IF_ERROR(file_.read(info_.dataset, info_.dtype, buf, n * info_.frame_bytes(), done_, n));
    done_ += n;
    return n;
  }

 private:
  h5::File file_;
  std::string spool_;
  bool image_;
  int64_t done_ = 0;
};

Result<std::unique_ptr<FrameReader>> open_hdf5(const std::string& path, std::string dataset, std::string spool) {
  ASSIGN_OR_RETURN(h5::File f, h5::File::open(path));
  std::string shown = spool.empty() ? path : "<stdin>";
  if (dataset.empty()) {
    ASSIGN_OR_RETURN(auto all, f.list_datasets());
    std::vector<std::string> candidates;
    for (const auto& d : all)
      if (d.shape.size() == 3 || d.shape.size() == 4) candidates.push_back(d.path);
    if (candidates.size() != 1) {
      std::string list;
      for (const auto& c : candidates) list += " " + c;
      return invalid_argument(
          candidates.empty()
              ? fmt::format("'{}': no dataset with 3 or 4 dimensions; name one as FILE:/path", shown)
              : fmt::format("'{}': several datasets could be frames ({} ); name one as FILE:/path", shown, list));
    }
    dataset = candidates[0];
  }
  ASSIGN_OR_RETURN(h5::DatasetInfo di, f.info(dataset));
  SeriesInfo info;
  info.format = "hdf5";
  info.dataset = di.path;
  info.dtype = di.dtype;
  RETURN_IF_ERROR(shape_to_info(di.shape, &info, fmt::format("'{}:{}'", shown, dataset)));
  if (auto attrs = f.attributes(dataset)) info.attributes = std::move(*attrs);
  const bool image = di.shape.size() == 2;
  return std::unique_ptr<FrameReader>(new Hdf5Reader(std::move(f), std::move(info), std::move(spool), image));
}

// Copies stdin (already partly read into `head`) to a temporary file that HDF5 can open.
Result<std::string> spool_stdin(InputFile& in, const std::string& head) {
  std::string dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  OutputOptions named;
  named.named_temp = true;  // linked to a second name below, for HDF5 to open
  ASSIGN_OR_RETURN(AtomicOutput out, AtomicOutput::create(dir + "/tezip-stdin.h5", named));
  std::string tmp = out.temp_path();
  RETURN_IF_ERROR(out.write(head));
  char buf[1 << 16];
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, in.read(buf, sizeof buf));
    if (n == 0) break;
    RETURN_IF_ERROR(out.write(std::string_view(buf, n)));
  }
  // Keep the temp file (the reader unlinks it): detach it from the AtomicOutput.
  std::string keep = tmp + ".h5";
  if (::link(tmp.c_str(), keep.c_str()) != 0) return errno_status(fmt::format("link '{}'", keep), errno);
  return keep;
}

// ---- PNG ----------------------------------------------------------------------------

struct PngImage {
  int64_t width = 0, height = 0, channels = 0;
  int bit_depth = 8;
  std::vector<uint8_t> pixels;  // native-endian samples
};

void png_error_fn(png_structp png, png_const_charp msg) {
  auto* err = static_cast<std::string*>(png_get_error_ptr(png));
  *err = msg;
  png_longjmp(png, 1);
}
void png_warn_fn(png_structp, png_const_charp) {}

Result<PngImage> read_png(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> fp(std::fopen(path.c_str(), "rbe"), std::fclose);
  if (!fp) return errno_status(fmt::format("open '{}'", path), errno);
  std::string err;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, png_error_fn, png_warn_fn);
  png_infop pinfo = png ? png_create_info_struct(png) : nullptr;
  PngImage img;
  if (!png || !pinfo) return Status(Code::kResourceExhausted, "libpng: out of memory");
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &pinfo, nullptr);
    return corrupt(fmt::format("read '{}': {}", path, err.empty() ? "invalid PNG" : err));
  }
  png_init_io(png, fp.get());
  int transforms = PNG_TRANSFORM_PACKING | PNG_TRANSFORM_EXPAND;
  if (std::endian::native == std::endian::little) transforms |= PNG_TRANSFORM_SWAP_ENDIAN;
  png_read_png(png, pinfo, transforms, nullptr);
  img.width = png_get_image_width(png, pinfo);
  img.height = png_get_image_height(png, pinfo);
  img.channels = png_get_channels(png, pinfo);
  img.bit_depth = png_get_bit_depth(png, pinfo);
  png_bytepp rows = png_get_rows(png, pinfo);
  size_t row_bytes = static_cast<size_t>(img.width * img.channels * (img.bit_depth / 8));
  img.pixels.resize(row_bytes * static_cast<size_t>(img.height));
  for (int64_t y = 0; y < img.height; ++y) std::memcpy(&img.pixels[static_cast<size_t>(y) * row_bytes], rows[y], row_bytes);
  png_destroy_read_struct(&png, &pinfo, nullptr);
  return img;
}

Status write_png(const std::string& path, const uint8_t* data, int64_t h, int64_t w, int64_t c, int depth) {
  std::unique_ptr<FILE, int (*)(FILE*)> fp(std::fopen(path.c_str(), "wbe"), std::fclose);
  if (!fp) return errno_status(fmt::format("create '{}'", path), errno);
  std::string err;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, png_error_fn, png_warn_fn);
  png_infop pinfo = png ? png_create_info_struct(png) : nullptr;
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  if (!png || !pinfo) return Status(Code::kResourceExhausted, "libpng: out of memory");
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &pinfo);
    return io_error(fmt::format("write '{}': {}", path, err));
  }
  png_init_io(png, fp.get());
  static constexpr int kColor[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                    PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_IHDR(png, pinfo, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), depth, kColor[c],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 1);
  size_t row_bytes = static_cast<size_t>(w * c * (depth / 8));
  for (int64_t y = 0; y < h; ++y) rows[static_cast<size_t>(y)] = const_cast<png_bytep>(data + static_cast<size_t>(y) * row_bytes);
  png_set_rows(png, pinfo, rows.data());
  int transforms = depth == 16 && std::endian::native == std::endian::little ? PNG_TRANSFORM_SWAP_ENDIAN : 0;
  png_write_png(png, pinfo, transforms, nullptr);
  png_destroy_write_struct(&png, &pinfo);
  if (std::fclose(fp.release()) != 0) return errno_status(fmt::format("write '{}'", path), errno);
  return Status::ok();
}

// Decodes the files after the one being read on the ThreadPool, `ahead` at once
// (ReadOptions::threads), so that with -j2 a sequence is read twice as fast and
// while the frames before it are coded.
class PngSequenceReader : public FrameReader {
 public:
  PngSequenceReader(std::vector<std::string> files, SeriesInfo info, bool drop_alpha, int64_t source_channels,
                    PngImage first, int ahead)
      : files_(std::move(files)),
        drop_alpha_(drop_alpha),
        source_channels_(source_channels),
        first_(std::move(first)),
        ahead_(std::max(1, ahead)) {
    info_ = std::move(info);
  }
  Result<int64_t> read(int64_t max_frames, uint8_t* buf) override {
    int64_t n = 0;
    for (; n < max_frames && next_ < static_cast<int64_t>(files_.size()); ++n, ++next_) {
      PngImage img;
      if (next_ == 0) {
        img = std::move(first_);
      } else {
        auto decoded = decoding_.front().get();  // file next_ (launched in order, below)
        decoding_.pop_front();
        if (!decoded) return decoded.status();
        img = std::move(*decoded);
      }
      launch(next_ + 1 + ahead_);  // the `ahead` files after this one
      if (img.width != info_.width || img.height != info_.height || img.channels != source_channels_ ||
          img.bit_depth != dtype_size(info_.dtype) * 8)
        return invalid_argument(fmt::format("'{}': {}x{}, {} channels, {}-bit; the first frame was {}x{}, {}, {}-bit",
                                            files_[static_cast<size_t>(next_)], img.width, img.height, img.channels,
                                            img.bit_depth, info_.width, info_.height, source_channels_,
                                            dtype_size(info_.dtype) * 8));
      uint8_t* dst = buf + n * info_.frame_bytes();
      if (!drop_alpha_ || source_channels_ == info_.channels) {
        std::memcpy(dst, img.pixels.data(), static_cast<size_t>(info_.frame_bytes()));
      } else {
        const int64_t es = dtype_size(info_.dtype), px = info_.height * info_.width;
        for (int64_t i = 0; i < px; ++i)
          std::memcpy(dst + i * info_.channels * es, img.pixels.data() + i * source_channels_ * es,
                      static_cast<size_t>(info_.channels * es));
      }
    }
    return n;
  }

 private:
  // Starts decoding files [launched_, end).
  void launch(int64_t end) {
    end = std::min<int64_t>(end, static_cast<int64_t>(files_.size()));
    for (; launched_ < end; ++launched_)
      decoding_.push_back(ThreadPool::shared().run([path = files_[static_cast<size_t>(launched_)]] { return read_png(path); }));
  }

  std::vector<std::string> files_;
  bool drop_alpha_;
  int64_t source_channels_;
  PngImage first_;
  int ahead_;
  int64_t next_ = 0;
  int64_t launched_ = 1;  // files [max(next_, 1), launched_) are decoding (the first was decoded when opening)
  std::deque<TaskResult<Result<PngImage>>> decoding_;  // in file order; dropped ones are waited for
};

Result<std::unique_ptr<FrameReader>> open_png_sequence(std::vector<std::string> files, std::string_view spec,
                                                       bool drop_alpha, int threads) {
  if (files.empty()) return not_found(fmt::format("'{}': no PNG files", spec));
  std::sort(files.begin(), files.end());
  ASSIGN_OR_RETURN(PngImage first, read_png(files[0]));
  SeriesInfo info;
  info.format = "png";
  info.frames = static_cast<int64_t>(files.size());
  info.height = first.height;
  info.width = first.width;
  info.dtype = first.bit_depth == 16 ? DType::kU16 : DType::kU8;
  int64_t src_channels = first.channels;
  info.channels = drop_alpha && (src_channels == 2 || src_channels == 4) ? src_channels - 1 : src_channels;
  return std::unique_ptr<FrameReader>(
      new PngSequenceReader(std::move(files), std::move(info), drop_alpha, src_channels, std::move(first), threads));
}

// ---- TIFF ---------------------------------------------------------------------------

// libtiff reports through global handlers; keep the last message for our Status.
thread_local std::string g_tiff_error;
void tiff_error(const char* module, const char* fmt_str, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt_str, ap);
  g_tiff_error = module ? fmt::format("{}: {}", module, buf) : std::string(buf);
}
void tiff_quiet(const char*, const char*, va_list) {}
void install_tiff_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(tiff_error);
    TIFFSetWarningHandler(tiff_quiet);
  });
}

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

struct TiffPage {
  int64_t width = 0, height = 0, channels = 0;
  DType dtype = DType::kU8;
};

Result<TiffPage> tiff_page(TIFF* t, const std::string& path) {
  uint32_t w = 0, h = 0;
  uint16_t bits = 8, spp = 1, fmt_code = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt_code);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
  if (TIFFIsTiled(t)) return unsupported(fmt::format("'{}': tiled TIFF (only strips are read)", path));
  if (planar != PLANARCONFIG_CONTIG && spp > 1)
    return unsupported(fmt::format("'{}': planar-separate TIFF", path));
  TiffPage p;
  p.width = w;
  p.height = h;
  p.channels = spp;
  std::optional<DType> dt;
  if (fmt_code == SAMPLEFORMAT_IEEEFP && bits == 32) dt = DType::kF32;
  else if (fmt_code == SAMPLEFORMAT_INT) dt = bits == 8 ? DType::kI8 : bits == 16 ? DType::kI16 : bits == 32 ? DType::kI32 : std::optional<DType>();
  else if (fmt_code == SAMPLEFORMAT_UINT) dt = bits == 8 ? DType::kU8 : bits == 16 ? DType::kU16 : bits == 32 ? DType::kU32 : std::optional<DType>();
  if (!dt) return unsupported(fmt::format("'{}': {}-bit TIFF samples of format {}", path, bits, fmt_code));
  if (w == 0 || h == 0 || spp < 1 || spp > 4) return corrupt(fmt::format("'{}': bad TIFF dimensions", path));
  p.dtype = *dt;
  return p;
}

Result<TiffPtr> tiff_open(const std::string& path, const char* mode) {
  install_tiff_handlers();
  g_tiff_error.clear();
  TIFF* t = TIFFOpen(path.c_str(), mode);
  if (!t) {
    if (::access(path.c_str(), F_OK) != 0) return errno_status(fmt::format("open '{}'", path), errno);
    return corrupt(fmt::format("open '{}': {}", path, g_tiff_error.empty() ? "not a TIFF file" : g_tiff_error));
  }
  return TiffPtr(t);
}

// Frames from a list of TIFF files, each with one or more pages (multi-page TIFF).
class TiffSequenceReader : public FrameReader {
 public:
  TiffSequenceReader(std::vector<std::string> files, SeriesInfo info, int64_t src_channels)
      : files_(std::move(files)), src_channels_(src_channels) {
    info_ = std::move(info);
  }
  Result<int64_t> read(int64_t max_frames, uint8_t* buf) override {
    int64_t n = 0;
    const int64_t es = dtype_size(info_.dtype);
    std::vector<uint8_t> row(static_cast<size_t>(info_.width * src_channels_ * es));
    while (n < max_frames) {
      if (!tif_) {
        if (next_file_ >= files_.size()) break;
        ASSIGN_OR_RETURN(tif_, tiff_open(files_[next_file_], "r"));
        path_ = files_[next_file_++];
        page_ = 0;
      } else if (!TIFFReadDirectory(tif_.get())) {
        tif_.reset();
        continue;
      }
      ASSIGN_OR_RETURN(TiffPage p, tiff_page(tif_.get(), path_));
      if (p.width != info_.width || p.height != info_.height || p.channels != src_channels_ || p.dtype != info_.dtype)
        return invalid_argument(fmt::format("'{}' page {}: {}x{}x{} {}, the first frame was {}x{}x{} {}", path_, page_,
                                            p.width, p.height, p.channels, dtype_name(p.dtype), info_.width,
                                            info_.height, src_channels_, dtype_name(info_.dtype)));
      uint8_t* dst = buf + n * info_.frame_bytes();
      for (int64_t y = 0; y < info_.height; ++y) {
        g_tiff_error.clear();
        if (TIFFReadScanline(tif_.get(), row.data(), static_cast<uint32_t>(y), 0) < 0)
          return corrupt(fmt::format("read '{}' page {} row {}: {}", path_, page_, y, g_tiff_error));
        uint8_t* out = dst + y * info_.width * info_.channels * es;
        if (src_channels_ == info_.channels) {
          std::memcpy(out, row.data(), row.size());
        } else {
          for (int64_t x = 0; x < info_.width; ++x)
            std::memcpy(out + x * info_.channels * es, row.data() + x * src_channels_ * es,
                        static_cast<size_t>(info_.channels * es));
        }
      }
      ++page_;
      ++n;
    }
    return n;
  }

 private:
  std::vector<std::string> files_;
  int64_t src_channels_;  // in the files; info_.channels drops alpha when asked
  size_t next_file_ = 0;
  TiffPtr tif_;
  std::string path_;
  int64_t page_ = 0;
};

Result<std::unique_ptr<FrameReader>> open_tiff_sequence(std::vector<std::string> files, std::string_view spec,
                                                        bool drop_alpha) {
  if (files.empty()) return not_found(fmt::format("'{}': no TIFF files", spec));
  std::sort(files.begin(), files.end());
  SeriesInfo info;
  info.format = "tiff";
  int64_t pages = 0, src_channels = 0;
  for (const auto& f : files) {
    ASSIGN_OR_RETURN(TiffPtr t, tiff_open(f, "r"));
    if (pages == 0) {
      ASSIGN_OR_RETURN(TiffPage p, tiff_page(t.get(), f));
      info.width = p.width;
      info.height = p.height;
      info.dtype = p.dtype;
      src_channels = p.channels;
    }
    pages += TIFFNumberOfDirectories(t.get());
  }
  info.frames = pages;
  info.channels = drop_alpha && (src_channels == 2 || src_channels == 4) ? src_channels - 1 : src_channels;
  return std::unique_ptr<FrameReader>(new TiffSequenceReader(std::move(files), std::move(info), src_channels));
}

// ".TIF" -> ".tif"
std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool has_magic(const std::string& head, const unsigned char* magic, size_t n) {
  return head.size() >= n && std::memcmp(head.data(), magic, n) == 0;
}

Result<std::string> sniff(InputFile& in, size_t n) {
  std::string head;
  while (head.size() < n) {
    char b[16];
    ASSIGN_OR_RETURN(size_t got, in.read(b, std::min(sizeof b, n - head.size())));
    if (got == 0) break;
    head.append(b, got);
  }
  return head;
}

Result<std::unique_ptr<FrameReader>> open_raw(InputFile in, std::string head, const ReadOptions& o) {
  std::string name = in.name();
  if (o.shape.empty() || !o.dtype)
    return invalid_argument(fmt::format("'{}': raw input needs --shape T,H,W[,C] and --dtype", name));
  SeriesInfo info;
  info.format = "raw";
  info.dtype = *o.dtype;
  RETURN_IF_ERROR(shape_to_info(o.shape, &info, "--shape"));
  RETURN_IF_ERROR(check_data_size(in, info, static_cast<int64_t>(head.size()), " (check --shape and --dtype)"));
  return std::unique_ptr<FrameReader>(new StreamReader(std::move(in), std::move(info), std::move(head)));
}

}  // namespace

Result<std::vector<int64_t>> parse_shape(std::string_view text) {
  std::vector<int64_t> out;
  std::string s(text);
  size_t p = 0;
  while (p <= s.size()) {
    size_t e = s.find_first_of(",x", p);
    std::string part = s.substr(p, e == std::string::npos ? std::string::npos : e - p);
    char* end = nullptr;
    long long v = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v <= 0)
      return invalid_argument(fmt::format("invalid shape '{}': expected positive numbers like 100,512,512", text));
    out.push_back(v);
    if (e == std::string::npos) break;
    p = e + 1;
  }
  if (out.size() < 3 || out.size() > 4)
    return invalid_argument(fmt::format("invalid shape '{}': expected T,H,W or T,H,W,C", text));
  return out;
}

std::pair<std::string, std::string> split_frames_spec(std::string_view spec_view) {
  std::string spec(spec_view);
  struct stat st;
  if (spec != "-" && ::stat(spec.c_str(), &st) != 0) {
    const size_t colon = spec.rfind(":/");
    if (colon != std::string::npos && ::stat(spec.substr(0, colon).c_str(), &st) == 0)
      return {spec.substr(0, colon), spec.substr(colon + 1)};
  }
  return {spec, ""};
}

std::pair<std::string, std::string> split_output_spec(std::string_view spec_view) {
  std::string spec(spec_view);
  const size_t colon = spec.find(":/");
  if (colon == std::string::npos || spec.size() == colon + 2) return {spec, ""};
  std::string file = spec.substr(0, colon), ext = lower_extension(file);
  if (ext != ".h5" && ext != ".hdf5" && ext != ".hdf" && ext != ".nxs" && ext != ".nx5") return {spec, ""};
  std::error_code ec;
  if (fs::is_directory(file, ec)) return {spec, ""};
  return {file, spec.substr(colon + 1)};
}

Result<std::unique_ptr<FrameReader>> open_frames(std::string_view spec_view, const ReadOptions& o) {
  std::string spec(spec_view);
  const std::string& fmtname = o.format;
  if (fmtname != "auto" && fmtname != "hdf5" && fmtname != "npy" && fmtname != "raw" && fmtname != "png" &&
      fmtname != "tiff")
    return invalid_argument(fmt::format("unknown input format '{}' (auto, hdf5, npy, raw, png, tiff)", fmtname));

  // Image sequences: a directory or a glob.
  struct stat st {};
  bool is_dir = spec != "-" && ::stat(spec.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (is_dir || (spec.find_first_of("*?[") != std::string::npos && ::stat(spec.c_str(), &st) != 0)) {
    std::vector<std::string> files;
    if (is_dir) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(spec, ec)) {
        std::string ext = lower_extension(e.path());
        if (ext == ".png" || ext == ".tif" || ext == ".tiff") files.push_back(e.path().string());
      }
      if (ec) return errno_status(fmt::format("read directory '{}'", spec), ec.value());
    } else {
      glob_t g{};
      int rc = ::glob(spec.c_str(), 0, nullptr, &g);
      if (rc == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
      globfree(&g);
      if (rc == GLOB_NOMATCH) return not_found(fmt::format("'{}': no files match", spec));
    }
    if (files.empty()) return not_found(fmt::format("'{}': no PNG or TIFF files", spec));
    auto is_tiff = [](const std::string& f) {
      std::string ext = lower_extension(f);
      return ext == ".tif" || ext == ".tiff";
    };
    size_t tiffs = static_cast<size_t>(std::count_if(files.begin(), files.end(), is_tiff));
    if (tiffs != 0 && tiffs != files.size())
      return invalid_argument(fmt::format("'{}': mixes PNG and TIFF files", spec));
    if (tiffs) return open_tiff_sequence(std::move(files), spec, o.drop_alpha);
    return open_png_sequence(std::move(files), spec, o.drop_alpha, o.threads);
  }

  // FILE:/dataset for HDF5.
  std::string dataset;
  std::tie(spec, dataset) = split_frames_spec(spec);
  ASSIGN_OR_RETURN(InputFile in, InputFile::open(spec));
  ASSIGN_OR_RETURN(std::string head, sniff(in, 8));
  std::string kind = fmtname;
  if (kind == "auto") {
    if (has_magic(head, kHdf5Magic, 8)) kind = "hdf5";
    else if (head.size() >= 4 && (head.compare(0, 4, "II*\0", 4) == 0 || head.compare(0, 4, "MM\0*", 4) == 0 ||
                                  head.compare(0, 4, "II+\0", 4) == 0 || head.compare(0, 4, "MM\0+", 4) == 0))
      kind = "tiff";
    else if (head.rfind(kNpyMagic, 0) == 0) kind = "npy";
    else if (has_magic(head, kPngMagic, 8)) kind = "png";
    else kind = "raw";
  }
  if (!dataset.empty() && kind != "hdf5")
    return invalid_argument(fmt::format("'{}' is not an HDF5 file, so ':{}' names no dataset", spec, dataset));
  if (kind == "hdf5") {
    if (spec == "-") {
      ASSIGN_OR_RETURN(std::string tmp, spool_stdin(in, head));
      return open_hdf5(tmp, dataset, tmp);
    }
    return open_hdf5(spec, dataset, "");
  }
  if (kind == "npy") return open_npy(std::move(in), std::move(head));
  if (kind == "png") {
    if (spec == "-") return unsupported("PNG from stdin: give the file or directory");
    return open_png_sequence({spec}, spec, o.drop_alpha, o.threads);
  }
  if (kind == "tiff") {
    if (spec == "-") return unsupported("TIFF from stdin: give the file or directory");
    return open_tiff_sequence({spec}, spec, o.drop_alpha);
  }
  return open_raw(std::move(in), std::move(head), o);
}

// ---- writers ---------------------------------------------------------------------------

namespace {

class StreamWriter : public FrameWriter {
 public:
  StreamWriter(AtomicOutput out, SeriesInfo info) : out_(std::move(out)), info_(std::move(info)) {}
  Status write(int64_t frames, const uint8_t* buf) override {
    done_ += frames;
    return out_.write(std::span(buf, static_cast<size_t>(frames * info_.frame_bytes())));
  }
  Status commit() override {
    if (done_ != info_.frames)
      return internal_error(fmt::format("'{}': {} of {} frames written", out_.path(), done_, info_.frames));
    return out_.commit();
  }

 private:
  AtomicOutput out_;
  SeriesInfo info_;
  int64_t done_ = 0;
};

class Hdf5Writer : public FrameWriter {
 public:
  Hdf5Writer(AtomicOutput out, h5::File f, SeriesInfo info)
      : out_(std::move(out)), file_(std::move(f)), info_(std::move(info)) {}
  Status write(int64_t frames, const uint8_t* buf) override {
    RETURN_IF_ERROR(file_.write_rows(info_.dataset, info_.dtype, done_, frames, buf));
    done_ += frames;
    return Status::ok();
  }
  Status commit() override {
    if (done_ != info_.frames)
      return internal_error(fmt::format("'{}': {} of {} frames written", out_.path(), done_, info_.frames));
    for (const auto& [k, v] : info_.attributes) RETURN_IF_ERROR(file_.set_attribute(info_.dataset, k, v));
    RETURN_IF_ERROR(file_.close());
    return out_.commit();
  }

 private:
  AtomicOutput out_;  // owns the temporary name; HDF5 writes through its own handle
  h5::File file_;
  SeriesInfo info_;
  int64_t done_ = 0;
};

// A PNG directory replaces an existing one (-f) only when that holds nothing but
// frame_NNNNNN.png files, as tezip writes them: "-o ~/ -f" must not empty a home
// directory.
Status check_replaceable_png_dir(const std::string& dir) {
  std::error_code ec;
  const auto st = fs::symlink_status(dir, ec);
  if (ec || !fs::exists(st)) return Status::ok();
  if (!fs::is_directory(st))
    return Status(Code::kAlreadyExists, fmt::format("'{}' exists and is not a directory of PNG frames; not replaced", dir));
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool frame = name.size() == 16 && name.starts_with("frame_") && name.ends_with(".png") &&
                       std::all_of(name.begin() + 6, name.begin() + 12, [](char c) { return c >= '0' && c <= '9'; });
    std::error_code ek;
    if (!frame || !it->is_regular_file(ek) || it->is_symlink(ek))
      return Status(Code::kAlreadyExists, fmt::format("'{}' holds other files than tezip's frame_NNNNNN.png (such as '{}'); "
                                                      "not replaced: give a new or empty directory",
                                                      dir, name));
  }
  if (ec) return errno_status(fmt::format("read directory '{}'", dir), ec.value());
  return Status::ok();
}

class PngDirWriter : public FrameWriter {
 public:
  PngDirWriter(std::string final_dir, std::string tmp_dir, SeriesInfo info, int threads)
      : final_(std::move(final_dir)), tmp_(std::move(tmp_dir)), info_(std::move(info)), threads_(std::max(1, threads)) {}
  ~PngDirWriter() override {
    if (!committed_) {
      std::error_code ec;
      fs::remove_all(tmp_, ec);
    }
  }
  // The frames are split among up to `threads` encoders (this thread one of them),
  // all done before it returns: `buf` is the caller's again after.
  Status write(int64_t frames, const uint8_t* buf) override {
    auto encode = [this, buf](int64_t first, int64_t k0, int64_t k1) -> Status {
      for (int64_t k = k0; k < k1; ++k) {
        std::string path = fmt::format("{}/frame_{:06}.png", tmp_, first + k);
        RETURN_IF_ERROR(write_png(path, buf + k * info_.frame_bytes(), info_.height, info_.width, info_.channels,
                                  dtype_size(info_.dtype) * 8));
      }
      return Status::ok();
    };
    if (frames <= 0) return Status::ok();
    const int64_t parts = std::min<int64_t>(threads_, frames);
    std::vector<TaskResult<Status>> others;
    for (int64_t p = 1; p < parts; ++p)
      others.push_back(ThreadPool::shared().run(
          [&encode, first = done_, k0 = frames * p / parts, k1 = frames * (p + 1) / parts] { return encode(first, k0, k1); }));
    Status s = encode(done_, 0, frames / parts);
    for (auto& r : others) {
      Status o = r.get();
      if (s.is_ok()) s = o;
    }
    RETURN_IF_ERROR(s);
    done_ += frames;
    return Status::ok();
  }
  Status commit() override {
    if (done_ != info_.frames)
      return internal_error(fmt::format("'{}': {} of {} frames written", final_, done_, info_.frames));
    // The files and their names on disk before the directory is renamed into place,
    // as AtomicOutput's files are. All of them written first, then each synced: the
    // first fsync commits the journal transaction that holds the others' metadata
    // too, so the rest wait for their own data only (an fsync as each file was
    // written cost a commit per file: +25% for bright-field's 50 PNGs; syncfs would
    // also wait for every other writer on the file system).
    auto sync_path = [](const std::string& path, int flags) -> Status {
      const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
      if (fd < 0 || ::fsync(fd) != 0) {
        const int e = errno;
        if (fd >= 0) ::close(fd);
        return errno_status(fmt::format("sync '{}'", path), e);
      }
      ::close(fd);
      return Status::ok();
    };
    for (int64_t k = 0; k < done_; ++k) RETURN_IF_ERROR(sync_path(fmt::format("{}/frame_{:06}.png", tmp_, k), O_RDONLY));
    RETURN_IF_ERROR(sync_path(tmp_, O_RDONLY | O_DIRECTORY));
    RETURN_IF_ERROR(check_replaceable_png_dir(final_));  // again: it may have changed since create_frames
    std::error_code ec;
    if (fs::exists(fs::symlink_status(final_, ec))) {
      fs::remove_all(final_, ec);
      if (ec) return io_error(fmt::format("replace '{}': {}", final_, ec.message()));
    }
    if (::rename(tmp_.c_str(), final_.c_str()) != 0)
      return errno_status(fmt::format("rename '{}' to '{}'", tmp_, final_), errno);
    committed_ = true;
    return Status::ok();
  }

 private:
  std::string final_, tmp_;
  SeriesInfo info_;
  int threads_;
  int64_t done_ = 0;
  bool committed_ = false;
};

// One frame as one PNG file (a name ending in .png).
class PngFileWriter : public FrameWriter {
 public:
  PngFileWriter(AtomicOutput out, SeriesInfo info) : out_(std::move(out)), info_(std::move(info)) {}
  Status write(int64_t frames, const uint8_t* buf) override {
    if (frames <= 0) return Status::ok();
    if (done_ + frames > 1) return internal_error(fmt::format("'{}': one PNG file holds one frame", out_.path()));
    RETURN_IF_ERROR(write_png(out_.temp_path(), buf, info_.height, info_.width, info_.channels, dtype_size(info_.dtype) * 8));
    done_ = 1;
    return Status::ok();
  }
  Status commit() override {
    if (done_ != 1) return internal_error(fmt::format("'{}': no frame written", out_.path()));
    return out_.commit();
  }

 private:
  AtomicOutput out_;
  SeriesInfo info_;
  int64_t done_ = 0;
};

class TiffWriter : public FrameWriter {
 public:
  TiffWriter(AtomicOutput out, TiffPtr tif, SeriesInfo info)
      : out_(std::move(out)), tif_(std::move(tif)), info_(std::move(info)) {}
  Status write(int64_t frames, const uint8_t* buf) override {
    const int64_t es = dtype_size(info_.dtype);
    const uint16_t fmt_code = dtype_is_float(info_.dtype) ? SAMPLEFORMAT_IEEEFP
                              : dtype_is_signed(info_.dtype) ? SAMPLEFORMAT_INT
                                                             : SAMPLEFORMAT_UINT;
    for (int64_t k = 0; k < frames; ++k, ++done_) {
      TIFF* t = tif_.get();
      TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(info_.width));
      TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(info_.height));
      TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, static_cast<uint16_t>(es * 8));
      TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, static_cast<uint16_t>(info_.channels));
      TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, fmt_code);
      TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
      TIFFSetField(t, TIFFTAG_PHOTOMETRIC, info_.channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
      if (info_.channels == 2 || info_.channels == 4) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &extra);
      }
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
      TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
      const uint8_t* frame = buf + k * info_.frame_bytes();
      const int64_t row_bytes = info_.width * info_.channels * es;
      for (int64_t y = 0; y < info_.height; ++y) {
        g_tiff_error.clear();
        if (TIFFWriteScanline(t, const_cast<uint8_t*>(frame + y * row_bytes), static_cast<uint32_t>(y), 0) < 0)
          return io_error(fmt::format("write '{}': {}", out_.path(), g_tiff_error));
      }
      if (!TIFFWriteDirectory(t)) return io_error(fmt::format("write '{}': {}", out_.path(), g_tiff_error));
    }
    return Status::ok();
  }
  Status commit() override {
    if (done_ != info_.frames)
      return internal_error(fmt::format("'{}': {} of {} frames written", out_.path(), done_, info_.frames));
    TIFFClose(tif_.release());
    return out_.commit();
  }

 private:
  AtomicOutput out_;
  TiffPtr tif_;
  SeriesInfo info_;
  int64_t done_ = 0;
};

std::string format_for_name(const std::string& spec, const std::string& fallback) {
  auto ends = [&](std::string_view s) { return spec.size() >= s.size() && spec.compare(spec.size() - s.size(), s.size(), s) == 0; };
  if (ends(".h5") || ends(".hdf5") || ends(".nxs") || ends(".hdf")) return "hdf5";
  if (ends(".npy")) return "npy";
  if (ends(".tif") || ends(".tiff")) return "tiff";
  if (ends(".raw") || ends(".bin")) return "raw";
  if (ends("/") || lower_extension(spec) == ".png") return "png";
  return fallback.empty() ? "raw" : fallback;
}

}  // namespace

Result<std::unique_ptr<FrameWriter>> create_frames(std::string_view spec_view, const SeriesInfo& info_in,
                                                   const WriteOptions& o) {
  std::string spec, dataset;
  std::tie(spec, dataset) = split_output_spec(spec_view);
  SeriesInfo info = info_in;
  if (!dataset.empty()) {
    if (o.format != "auto" && o.format != "hdf5")
      return invalid_argument(fmt::format("'{}': a dataset path is for HDF5 output, not {}", spec_view, o.format));
    info.dataset = dataset;
  }
  std::string kind = o.format == "auto" ? (spec == "-" && (info.format == "hdf5" || info.format == "png" ||
                                                             info.format == "tiff")
                                               ? std::string("npy")
                                               : format_for_name(spec, info.format))
                                        : o.format;
  if (kind != "hdf5" && kind != "npy" && kind != "raw" && kind != "png" && kind != "tiff")
    return invalid_argument(fmt::format("unknown output format '{}' (hdf5, npy, raw, png, tiff)", kind));
  OutputOptions oo;
  oo.overwrite = o.overwrite;
  oo.allow_tty = o.allow_tty;
  if (kind == "raw" || kind == "npy") {
    ASSIGN_OR_RETURN(AtomicOutput out, AtomicOutput::create(spec, oo));
    if (kind == "npy") {
      std::string shape = info.channels > 1 ? fmt::format("({}, {}, {}, {})", info.frames, info.height, info.width, info.channels)
                                            : fmt::format("({}, {}, {})", info.frames, info.height, info.width);
      std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", npy_descr(info.dtype), shape);
      size_t total = 10 + dict.size() + 1;
      dict.append((64 - total % 64) % 64, ' ');
      dict += '\n';
      std::string header = std::string(kNpyMagic, 6) + std::string("\x01\x00", 2);
      header += static_cast<char>(dict.size() & 0xFF);
      header += static_cast<char>(dict.size() >> 8);
      header += dict;
      RETURN_IF_ERROR(out.write(header));
    }
    info.format = kind;
    return std::unique_ptr<FrameWriter>(new StreamWriter(std::move(out), std::move(info)));
  }
  if (spec == "-") return unsupported(fmt::format("{} output to stdout: give a file name (or use -F npy)", kind));
  oo.named_temp = true;  // libtiff, HDF5 and libpng open the file by its name
  if (kind == "tiff") {
    ASSIGN_OR_RETURN(AtomicOutput out, AtomicOutput::create(spec, oo));
    if (out.temp_path().empty()) return unsupported(fmt::format("TIFF output to '{}': give a regular file", spec));
    const bool big = info.frames * info.frame_bytes() > (int64_t{3} << 30);
    ASSIGN_OR_RETURN(TiffPtr t, tiff_open(out.temp_path(), big ? "w8" : "w"));
    return std::unique_ptr<FrameWriter>(new TiffWriter(std::move(out), std::move(t), std::move(info)));
  }
  if (kind == "hdf5") {
    ASSIGN_OR_RETURN(AtomicOutput out, AtomicOutput::create(spec, oo));
    if (out.temp_path().empty()) return unsupported(fmt::format("HDF5 output to '{}': give a regular file", spec));
    ASSIGN_OR_RETURN(h5::File f, h5::File::create(out.temp_path()));
    if (info.dataset.empty()) info.dataset = "/data";
    std::vector<int64_t> shape = {info.frames, info.height, info.width};
    if (info.channels > 1) shape.push_back(info.channels);
    std::vector<int64_t> chunks = shape;
    chunks[0] = 1;
    RETURN_IF_ERROR(f.create_dataset(info.dataset, info.dtype, shape, chunks));
    return std::unique_ptr<FrameWriter>(new Hdf5Writer(std::move(out), std::move(f), std::move(info)));
  }
  if (info.dtype != DType::kU8 && info.dtype != DType::kU16)
    return unsupported(fmt::format("PNG output of {} data (only u8 and u16)", dtype_name(info.dtype)));
  if (lower_extension(spec) == ".png") {  // one PNG file
    if (info.frames != 1)
      return invalid_argument(fmt::format("'{}' is one PNG file, for one frame, but there are {}: give a directory "
                                          "('{}/') or one frame (--frames K:K+1)",
                                          spec, info.frames, spec.substr(0, spec.size() - 4)));
    ASSIGN_OR_RETURN(AtomicOutput out, AtomicOutput::create(spec, oo));
    if (out.temp_path().empty()) return unsupported(fmt::format("PNG output to '{}': give a regular file", spec));
    return std::unique_ptr<FrameWriter>(new PngFileWriter(std::move(out), std::move(info)));
  }
  // PNG directory.
  while (spec.size() > 1 && spec.back() == '/') spec.pop_back();
  if (!o.overwrite && fs::exists(spec))
    return Status(Code::kAlreadyExists, fmt::format("'{}' already exists (use -f to overwrite)", spec));
  RETURN_IF_ERROR(check_replaceable_png_dir(spec));
  fs::path p(spec);
  std::string tmpl = (p.parent_path().empty() ? fs::path(".") : p.parent_path()).string() + "/." +
                     p.filename().string() + ".tmp.XXXXXX";
  if (!::mkdtemp(tmpl.data())) return errno_status(fmt::format("create directory for '{}'", spec), errno);
  return std::unique_ptr<FrameWriter>(new PngDirWriter(spec, tmpl, std::move(info), o.threads));
}

}  // namespace sciflow::io
