#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "io/file.hpp"
#include "io/frames.hpp"

namespace fs = std::filesystem;

namespace sciflow::io {
namespace {

// A raw series of `frames` frames of 10 x 50 u16 (1,000 bytes: reads of one frame
// at a time cross the reader's 1 MiB read-ahead at unaligned places).
std::string raw_series(int64_t frames) {
  std::string s(static_cast<size_t>(frames * 1000), '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 131) ^ (i >> 10));
  return s;
}

std::string temp_path(const char* name) {
  return (fs::temp_directory_path() / (std::string("sciflow-frames-") + std::to_string(::getpid()) + name)).string();
}

TEST_CASE("raw frames read one at a time equal the file, across read-ahead boundaries") {
  const int64_t n = 3000;  // 3 MB
  const std::string data = raw_series(n), p = temp_path("-ok.raw");
  REQUIRE(write_file_atomic(p, data).is_ok());
  ReadOptions o;
  o.format = "raw";
  o.shape = {n, 10, 50};
  o.dtype = DType::kU16;
  auto r = open_frames(p, o);
  REQUIRE(r);
  std::vector<uint8_t> buf(1000 * 7);
  size_t at = 0;
  for (int64_t want : {int64_t{1}, int64_t{7}, int64_t{1}}) {  // mixed sizes, then one at a time
    auto got = (*r)->read(want, buf.data());
    REQUIRE(got);
    REQUIRE(*got == want);
    CHECK(std::string(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(want) * 1000) == data.substr(at, static_cast<size_t>(want) * 1000));
    at += static_cast<size_t>(want) * 1000;
  }
  bool same = true;
  while (at < data.size()) {
    auto got = (*r)->read(1, buf.data());
    REQUIRE(got);
    REQUIRE(*got == 1);
    same = same && std::memcmp(buf.data(), data.data() + at, 1000) == 0;
    at += 1000;
  }
  CHECK(same);
  auto end = (*r)->read(1, buf.data());
  REQUIRE(end);
  CHECK(*end == 0);
  fs::remove(p);
}

TEST_CASE("raw data of the wrong size: a file is refused at open, a pipe where it ends or runs over") {
  const std::string data = raw_series(1500), p = temp_path("-short.raw");
  ReadOptions o;
  o.format = "raw";
  o.shape = {1500, 10, 50};
  o.dtype = DType::kU16;
  // A regular file: its size against the shape, before any frame is read.
  for (size_t size : {size_t{1400 * 1000 + 300}, data.size() + 1}) {
    REQUIRE(write_file_atomic(p, data.substr(0, std::min(size, data.size())) + std::string(size > data.size(), 'x')).is_ok());
    auto r = open_frames(p, o);
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == Code::kCorrupt);
    CHECK(r.status().message().find(fmt::format("{} bytes of data, but its shape 1500x10x50x1 of u16 is 1500000 bytes", size)) !=
          std::string::npos);
  }
  fs::remove(p);
  // A pipe (a FIFO here): frame by frame until the data end inside a frame, or
  // until data follow the last frame.
  const std::string fifo = temp_path("-raw.fifo");
  for (bool longer : {false, true}) {
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&] {
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return;
      const std::string part = longer ? data + "x" : data.substr(0, 1400 * 1000 + 300);
      (void)write_all(fd, part, "fifo");
      ::close(fd);
    });
    auto r = open_frames(fifo, o);
    REQUIRE(r);
    std::vector<uint8_t> buf(1000);
    Status st;
    int64_t read = 0;
    for (;;) {
      auto got = (*r)->read(1, buf.data());
      if (!got) {
        st = got.status();
        break;
      }
      if (*got == 0) break;
      ++read;
    }
    r->reset();
    writer.join();
    ::unlink(fifo.c_str());
    CHECK(st.code() == Code::kCorrupt);
    if (longer) {
      CHECK(read == 1499);  // the last frame's read is the one that finds more data
      CHECK(st.message().find("more data after the last frame of its shape 1500x10x50x1") != std::string::npos);
    } else {
      CHECK(read == 1400);
      CHECK(st.message().find("ends after 1400 of 1500 frames (300 bytes into frame 1400)") != std::string::npos);
    }
  }
}

}  // namespace
}  // namespace sciflow::io

#include "io/hdf5.hpp"

namespace sciflow::io {

// A 2-D dataset is one frame: all its rows, not the first one as a frame of one
// row (which failed with "buffer holds 128 bytes, selection needs 16").
TEST_CASE("hdf5 frames: a 2-D dataset reads as one whole frame; output names its dataset") {
  std::string dir = (fs::temp_directory_path() / "sciflow-frames-h5.XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()));
  std::vector<uint16_t> img(6 * 5);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint16_t>(i * 37 + 1);
  {
    auto f = h5::File::create(dir + "/one.h5");
    REQUIRE(f);
    REQUIRE(f->write("/entry/image", DType::kU16, {6, 5}, img.data()).is_ok());
    REQUIRE(f->close().is_ok());
  }
  auto r = open_frames(dir + "/one.h5:/entry/image", ReadOptions{});
  REQUIRE(r);
  const SeriesInfo& info = (*r)->info();
  CHECK(info.frames == 1);
  CHECK(info.height == 6);
  CHECK(info.width == 5);
  std::vector<uint16_t> got(img.size(), 0);
  auto n = (*r)->read(1, reinterpret_cast<uint8_t*>(got.data()));
  REQUIRE(n);
  CHECK(*n == 1);
  CHECK(got == img);
  CHECK(*(*r)->read(1, reinterpret_cast<uint8_t*>(got.data())) == 0);

  // "OUT.h5:/path" names the output dataset; the file need not exist.
  CHECK(split_output_spec(dir + "/new.h5:/exchange/data") == std::pair<std::string, std::string>{dir + "/new.h5", "/exchange/data"});
  CHECK(split_output_spec(dir + "/new.NXS:/e") == std::pair<std::string, std::string>{dir + "/new.NXS", "/e"});
  CHECK(split_output_spec(dir + "/new.npy:/e").second.empty());
  CHECK(split_output_spec(dir + "/new.h5").second.empty());
  SeriesInfo out = info;
  out.dataset = "/entry/image";
  auto w = create_frames(dir + "/copy.h5:/exchange/data", out, WriteOptions{});
  REQUIRE(w);
  REQUIRE((*w)->write(1, reinterpret_cast<const uint8_t*>(img.data())).is_ok());
  REQUIRE((*w)->commit().is_ok());
  auto back = h5::File::open(dir + "/copy.h5");
  REQUIRE(back);
  auto di = back->info("/exchange/data");
  REQUIRE(di);
  CHECK(di->shape == std::vector<int64_t>{1, 6, 5});
  fs::remove_all(dir);
}

}  // namespace sciflow::io
