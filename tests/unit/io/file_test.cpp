#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "io/file.hpp"

namespace fs = std::filesystem;

namespace sciflow::io {
namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sciflow-io.XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& e : fs::directory_iterator(path)) n.push_back(e.path().filename().string());
    return n;
  }
};

// Forks a child that runs body(ready) and exits with what it returns; body writes
// one byte to `ready` once it is where the test wants it. Returns the child's pid
// once that byte has arrived.
pid_t fork_until_ready(const std::function<int(int ready)>& body) {
  int p[2];
  REQUIRE(pipe(p) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    _exit(body(p[1]));
  }
  close(p[1]);
  char c;
  REQUIRE(read(p[0], &c, 1) == 1);
  close(p[0]);
  return pid;
}

}  // namespace

TEST_CASE("atomic output: invisible until commit, then complete") {
  TempDir d;
  std::string target = (d.path / "out.tez").string();
  auto out = AtomicOutput::create(target);
  REQUIRE(out);
  REQUIRE(out->write("hello ").is_ok());
  CHECK_FALSE(fs::exists(target));
  // Nameless (O_TMPFILE) until commit: nothing in the directory at all.
  CHECK(out->temp_path().empty());
  CHECK(d.names().empty());
  REQUIRE(out->write("world").is_ok());
  REQUIRE(out->commit().is_ok());
  CHECK(*read_file(target) == "hello world");
  CHECK(d.names() == std::vector<std::string>{"out.tez"});
  CHECK((fs::status(target).permissions() & fs::perms::owner_read) != fs::perms::none);
}

TEST_CASE("atomic output: a named temporary file for writers that open it by name") {
  TempDir d;
  std::string target = (d.path / "out.h5").string();
  OutputOptions o;
  o.named_temp = true;
  auto out = AtomicOutput::create(target, o);
  REQUIRE(out);
  REQUIRE(out->write("data").is_ok());
  CHECK(fs::exists(out->temp_path()));
  CHECK(fs::path(out->temp_path()).filename().string().find(".out.h5.tmp.") == 0);
  CHECK_FALSE(fs::exists(target));
  REQUIRE(out->commit().is_ok());
  CHECK(*read_file(target) == "data");
  CHECK(d.names() == std::vector<std::string>{"out.h5"});
}

// SIGKILL cannot be caught: a nameless temporary file goes with the process.
TEST_CASE("atomic output: SIGKILL mid-write leaves nothing behind") {
  TempDir d;
  std::string target = (d.path / "frames.tez").string();
  pid_t pid = fork_until_ready([&](int ready) {
    auto out = AtomicOutput::create(target);
    if (!out) return 21;
    std::string block(1 << 20, 'x');
    if (!out->write(block).is_ok()) return 22;
    (void)!write(ready, "r", 1);
    for (;;) pause();
  });
  CHECK(d.names().empty());
  REQUIRE(kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(d.names().empty());
}

TEST_CASE("atomic output: an error path removes the temp file and keeps the old file") {
  TempDir d;
  std::string target = (d.path / "out.tez").string();
  REQUIRE(write_file_atomic(target, "previous").is_ok());
  {
    auto out = AtomicOutput::create(target);
    REQUIRE(out);
    REQUIRE(out->write("partial").is_ok());
    // Dropped without commit, as on any early return.
  }
  CHECK(*read_file(target) == "previous");
  CHECK(d.names() == std::vector<std::string>{"out.tez"});
}

TEST_CASE("atomic output: refuses to overwrite when asked") {
  TempDir d;
  std::string target = (d.path / "x").string();
  REQUIRE(write_file_atomic(target, "a").is_ok());
  OutputOptions o;
  o.overwrite = false;
  auto out = AtomicOutput::create(target, o);
  REQUIRE_FALSE(out);
  CHECK(out.status().code() == Code::kAlreadyExists);
  CHECK(out.status().message() == "'" + target + "' already exists (use -f to overwrite)");
}

TEST_CASE("atomic output: missing directory is named in the error") {
  auto out = AtomicOutput::create("/nonexistent-dir-sciflow/out.bin");
  REQUIRE_FALSE(out);
  CHECK(out.status().code() == Code::kNotFound);
  CHECK(out.status().message().find("'/nonexistent-dir-sciflow'") != std::string::npos);
}

TEST_CASE("atomic output: SIGTERM mid-write leaves nothing behind") {
  TempDir d;
  std::string target = (d.path / "frames.tez").string();
  pid_t pid = fork_until_ready([&](int ready) {
    cancel::reset();
    cancel::install_signal_handlers();
    int rc = 20;
    {
      OutputOptions named;
      named.named_temp = true;  // so that the file is there to see until the signal
      auto out = AtomicOutput::create(target, named);
      if (!out) return 21;
      std::string block(4096, 'x');
      bool told = false;
      for (int i = 0; i < 100000; ++i) {
        Status s = out->write(block);
        if (!s.is_ok()) {
          rc = s.code() == Code::kCancelled ? 0 : 22;
          break;
        }
        if (!told) {
          (void)!write(ready, "r", 1);
          told = true;
        }
        usleep(1000);
      }
    }  // destructor removes the temp file
    if (rc == 0) cancel::reraise_if_signalled();
    return rc;
  });
  CHECK(d.names().size() == 1);  // the temp file exists while writing
  CHECK(d.names()[0].find(".frames.tez.tmp.") == 0);
  REQUIRE(kill(pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(d.names().empty());
}

TEST_CASE("atomic output: devices are written in place") {
  auto out = AtomicOutput::create("/dev/null");
  REQUIRE(out);
  CHECK(out->temp_path().empty());
  REQUIRE(out->write("discarded").is_ok());
  REQUIRE(out->commit().is_ok());
  CHECK(fs::exists("/dev/null"));
}

TEST_CASE("input: '-' is stdin, missing files are named") {
  auto in = InputFile::open("-");
  REQUIRE(in);
  CHECK(in->fd() == 0);
  CHECK(in->name() == "<stdin>");
  auto missing = read_file("/no/such/file.h5");
  REQUIRE_FALSE(missing);
  CHECK(missing.status().message() == "open '/no/such/file.h5': No such file or directory");
  auto dir = read_file("/tmp");
  REQUIRE_FALSE(dir);
  CHECK(dir.status().message() == "open '/tmp': Is a directory");
}

TEST_CASE("input: read_exact reports truncation") {
  TempDir d;
  std::string p = (d.path / "short").string();
  REQUIRE(write_file_atomic(p, "abc").is_ok());
  auto in = InputFile::open(p);
  REQUIRE(in);
  char buf[8];
  Status s = in->read_exact(buf, 8);
  CHECK(s.code() == Code::kCorrupt);
  CHECK(s.message() == "read '" + p + "': unexpected end of file (3 of 8 bytes)");
}

TEST_CASE("mapped file: maps contents") {
  TempDir d;
  std::string p = (d.path / "m").string();
  REQUIRE(write_file_atomic(p, "mapped").is_ok());
  auto m = MappedFile::open(p);
  REQUIRE(m);
  CHECK(std::string(reinterpret_cast<const char*>(m->data().data()), m->data().size()) == "mapped");
}

}  // namespace sciflow::io

namespace sciflow::io {

TEST_CASE("mapped range: any offset, exact bytes; a file that ended early is an I/O error") {
  const fs::path d = fs::temp_directory_path() / ("sciflow-range-" + std::to_string(::getpid()));
  fs::create_directories(d);
  const std::string p = (d / "r").string();
  std::string content(3 * 4096 + 123, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + i / 4096);
  REQUIRE(write_file_atomic(p, content).is_ok());
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  for (int64_t off : {int64_t{0}, int64_t{1}, int64_t{4095}, int64_t{4096}, int64_t{5000}}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{4096}, content.size() - static_cast<size_t>(off)}) {
      auto m = MappedFile::open_range(fd, off, n, p);
      REQUIRE(m);
      CHECK(m->data().size() == n);
      CHECK(std::string(reinterpret_cast<const char*>(m->data().data()), n) == content.substr(static_cast<size_t>(off), n));
    }
  }
  auto past = MappedFile::open_range(fd, 4096, content.size(), p);
  REQUIRE(!past);
  CHECK(past.status().code() == Code::kIoError);
  CHECK(past.status().message().find("'" + p + "'") != std::string::npos);
  // Moved-from and moved-to maps keep the range.
  auto a = MappedFile::open_range(fd, 10, 20, p);
  REQUIRE(a);
  MappedFile b = std::move(*a);
  CHECK(std::string(reinterpret_cast<const char*>(b.data().data()), 20) == content.substr(10, 20));
  ::close(fd);
  fs::remove_all(d);
}

}  // namespace sciflow::io
