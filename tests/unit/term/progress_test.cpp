#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "term/term.hpp"

namespace sciflow::term {
namespace {

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}

int temp_fd() {
  char path[] = "/tmp/sciflow-progress.XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  return fd;
}

}  // namespace

TEST_CASE("progress: silent when the stream is not a tty") {
  int fd = temp_fd();
  REQUIRE(fd >= 0);
  {
    ProgressOptions o;
    o.fd = fd;
    o.total = 100;
    o.min_interval_s = 0;
    ProgressBar bar(o);
    CHECK_FALSE(bar.active());
    for (int i = 0; i < 100; ++i) bar.add(1);
    bar.finish();
    CHECK(bar.done() == 100);
  }
  CHECK(read_all(fd).empty());
  close(fd);
}

TEST_CASE("progress: silent with -q even when forced") {
  int fd = temp_fd();
  ProgressOptions o;
  o.fd = fd;
  o.quiet = true;
  o.force = true;
  {
    ProgressBar bar(o);
    CHECK_FALSE(bar.active());
    bar.add(10);
    bar.finish();
  }
  CHECK(read_all(fd).empty());
  close(fd);
}

TEST_CASE("progress: draws rate and ETA when active") {
  int fd = temp_fd();
  ProgressOptions o;
  o.fd = fd;
  o.force = true;
  o.total = 1000;
  o.min_interval_s = 0;
  o.label = "compress";
  {
    ProgressBar bar(o);
    REQUIRE(bar.active());
    bar.add(500);
    bar.add(500);
    bar.finish();
  }
  std::string out = read_all(fd);
  CHECK(out.find("compress [") != std::string::npos);
  CHECK(out.find(" 50% ") != std::string::npos);
  CHECK(out.find("100% ") != std::string::npos);
  CHECK(out.find("ETA ") != std::string::npos);
  CHECK(out.back() == '\n');
  close(fd);
}

TEST_CASE("progress: render is pure and fits the width") {
  ProgressState s{"tezip", 512 << 20, 1 << 30, true, 2.0, 100, ""};
  std::string line = render(s);
  CHECK(line.find("50%") != std::string::npos);
  CHECK(line.find("512 MiB/1.00 GiB") != std::string::npos);
  CHECK(line.find("268 MB/s") != std::string::npos);
  CHECK(line.find("ETA 0:02") != std::string::npos);
  CHECK(static_cast<int>(line.size()) < s.width);
  s.width = 30;
  CHECK(static_cast<int>(render(s).size()) <= 60);  // degrades to text without a bar
  ProgressState unknown{"files", 42, 0, false, 1.0, 80, ""};
  CHECK(render(unknown).find("42 42/s") != std::string::npos);
  ProgressState noted{"train", 3, 20, false, 1.0, 100, "loss 0.5123"};
  CHECK(render(noted).find("3/20") != std::string::npos);
  CHECK(render(noted).find("loss 0.5123") != std::string::npos);
}

TEST_CASE("color: NO_COLOR and TERM=dumb turn colour off") {
  CHECK(color_enabled(ColorMode::kAlways, 1));
  CHECK_FALSE(color_enabled(ColorMode::kNever, 1));
  setenv("NO_COLOR", "1", 1);
  CHECK_FALSE(color_enabled(ColorMode::kAuto, 1));
  unsetenv("NO_COLOR");
  setenv("TERM", "dumb", 1);
  CHECK_FALSE(color_enabled(ColorMode::kAuto, 1));
  unsetenv("TERM");
}

}  // namespace sciflow::term
