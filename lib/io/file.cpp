#include "io/file.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <random>
#include <utility>

#include "core/cancel.hpp"

namespace sciflow::io {
namespace {

std::string quoted(std::string_view verb, std::string_view name) {
  return fmt::format("{} '{}'", verb, name);
}

}  // namespace

std::string display_name(std::string_view path, bool output) {
  if (path == "-") return output ? "<stdout>" : "<stdin>";
  return std::string(path);
}

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status pwrite_all(int fd, std::span<const uint8_t> data, int64_t offset, std::string_view name) {
  size_t put = 0;
  while (put < data.size()) {
    ssize_t r = ::pwrite(fd, data.data() + put, data.size() - put, offset + static_cast<int64_t>(put));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno_status(quoted("write", name), errno);
    put += static_cast<size_t>(r);
  }
  return Status::ok();
}

Status pread_all(int fd, std::span<uint8_t> data, int64_t offset, std::string_view name) {
  size_t got = 0;
  while (got < data.size()) {
    ssize_t r = ::pread(fd, data.data() + got, data.size() - got, offset + static_cast<int64_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno_status(quoted("read", name), errno);
    if (r == 0) return corrupt(fmt::format("'{}': shorter than expected (changed while being read?)", name));
    got += static_cast<size_t>(r);
  }
  return Status::ok();
}

Status write_all(int fd, std::span<const uint8_t> data, std::string_view name) {
  const uint8_t* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        RETURN_IF_ERROR(cancel::check_cancelled());
        continue;
      }
      return errno_status(quoted("write", name), errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::ok();
}

// ---- InputFile -------------------------------------------------------------

InputFile::~InputFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}
InputFile::InputFile(InputFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), owned_(std::exchange(o.owned_, false)), name_(std::move(o.name_)) {}
InputFile& InputFile::operator=(InputFile&& o) noexcept {
  if (this != &o) {
    if (owned_ && fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    owned_ = std::exchange(o.owned_, false);
    name_ = std::move(o.name_);
  }
  return *this;
}

Result<InputFile> InputFile::open(std::string_view path) {
  InputFile f;
  f.name_ = display_name(path);
  if (path == "-") {
    f.fd_ = STDIN_FILENO;
    return f;
  }
  std::string p(path);
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(quoted("open", path), errno);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return errno_status(quoted("open", path), EISDIR);
  }
  f.fd_ = fd;
  f.owned_ = true;
  return f;
}

Result<size_t> InputFile::read(void* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd_, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno == EINTR) {
      RETURN_IF_ERROR(cancel::check_cancelled());
      continue;
    }
    return errno_status(quoted("read", name_), errno);
  }
}

Status InputFile::read_exact(void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t got = 0;
  while (got < n) {
    ASSIGN_OR_RETURN(size_t r, read(p + got, n - got));
    if (r == 0)
      return corrupt(fmt::format("read '{}': unexpected end of file ({} of {} bytes)", name_, got, n));
    got += r;
  }
  return Status::ok();
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

Result<std::string> read_file(std::string_view path) {
  ASSIGN_OR_RETURN(InputFile f, InputFile::open(path));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, f.read(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

// ---- AtomicOutput ----------------------------------------------------------

AtomicOutput::~AtomicOutput() { abort(); }

AtomicOutput::AtomicOutput(AtomicOutput&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      is_stdout_(o.is_stdout_),
      committed_(std::exchange(o.committed_, true)),
      direct_(o.direct_),
      nameless_(o.nameless_),
      dir_(std::move(o.dir_)),
      base_(std::move(o.base_)),
      mode_(o.mode_),
      written_(o.written_),
      started_(o.started_),
      path_(std::move(o.path_)),
      temp_(std::move(o.temp_)) {}

AtomicOutput& AtomicOutput::operator=(AtomicOutput&& o) noexcept {
  if (this != &o) {
    abort();
    fd_ = std::exchange(o.fd_, -1);
    is_stdout_ = o.is_stdout_;
    committed_ = std::exchange(o.committed_, true);
    direct_ = o.direct_;
    nameless_ = o.nameless_;
    dir_ = std::move(o.dir_);
    base_ = std::move(o.base_);
    mode_ = o.mode_;
    written_ = o.written_;
    started_ = o.started_;
    path_ = std::move(o.path_);
    temp_ = std::move(o.temp_);
  }
  return *this;
}

Result<AtomicOutput> AtomicOutput::create(std::string_view path, const OutputOptions& options) {
  AtomicOutput out;
  out.path_ = std::string(path);
  out.mode_ = options.mode;
  if (path == "-") {
    if (!options.allow_tty && ::isatty(STDOUT_FILENO) == 1)
      return invalid_argument("refusing to write binary data to a terminal (use -o FILE, a pipe, or -f)");
    out.fd_ = STDOUT_FILENO;
    out.is_stdout_ = true;
    return out;
  }
  if (path.empty()) return invalid_argument("output path is empty");
  struct stat st {};
  if (::stat(out.path_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return errno_status(quoted("create", path), EISDIR);
    if (!S_ISREG(st.st_mode)) {
      // A device or a FIFO (-o /dev/null, a named pipe): nothing to rename, write to it directly.
      int fd = ::open(out.path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return errno_status(quoted("open", path), errno);
      out.fd_ = fd;
      out.direct_ = true;
      return out;
    }
    if (!options.overwrite)
      return Status(Code::kAlreadyExists, fmt::format("'{}' already exists (use -f to overwrite)", path));
  }
  std::string dir = ".", base = out.path_;
  if (auto slash = out.path_.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : out.path_.substr(0, slash);
    base = out.path_.substr(slash + 1);
  }
  // A nameless file is named at commit through /proc/self/fd (without /proc only
  // root may link it): where /proc is missing, a named temporary file instead.
  static const bool can_link = ::access("/proc/self/fd", F_OK) == 0 || ::geteuid() == 0;
  if (!options.named_temp && can_link) {
    int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      out.fd_ = fd;
      out.nameless_ = true;
      out.dir_ = std::move(dir);
      out.base_ = std::move(base);
      return out;
    }
    // EOPNOTSUPP, EISDIR, EINVAL: no O_TMPFILE here; a named temporary file then.
    if (errno == ENOENT || errno == EACCES || errno == EROFS || errno == ENOSPC || errno == EDQUOT)
      return errno_status(quoted("create temporary file in", dir), errno);
  }
  std::string tmpl = (dir == "/" ? "" : dir) + "/." + base + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return errno_status(quoted("create temporary file in", dir), errno);
  out.fd_ = fd;
  out.temp_ = std::move(tmpl);
  return out;
}

Status AtomicOutput::write(std::span<const uint8_t> data) {
  if (fd_ < 0 || committed_) return internal_error(fmt::format("write '{}': output is closed", path_));
  RETURN_IF_ERROR(cancel::check_cancelled());
  RETURN_IF_ERROR(write_all(fd_, data, is_stdout_ ? "<stdout>" : path_));
  written_ += static_cast<int64_t>(data.size());
  // Start writing what is done to disk now, while the caller computes the rest, so
  // that the fsync in commit() has little left to wait for (bulk-water decompress,
  // 244 MB: fsync 0.42 s otherwise). Advisory: commit()'s fsync reports errors.
  if (!is_stdout_ && !direct_ && written_ - started_ >= kWritebackBytes) {
    ::sync_file_range(fd_, started_, written_ - started_, SYNC_FILE_RANGE_WRITE);
    started_ = written_;
  }
  return Status::ok();
}

Status AtomicOutput::commit() {
  if (committed_) return Status::ok();
  if (fd_ < 0) return internal_error(fmt::format("commit '{}': output is closed", path_));
  RETURN_IF_ERROR(cancel::check_cancelled());
  if (is_stdout_) {
    committed_ = true;
    fd_ = -1;
    return Status::ok();
  }
  if (direct_) {
    committed_ = true;
    if (::close(std::exchange(fd_, -1)) != 0) return errno_status(quoted("close", path_), errno);
    return Status::ok();
  }
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd_, mode_ & ~mask) != 0) return errno_status(quoted("chmod", temp_), errno);
  if (::fsync(fd_) != 0) return errno_status(quoted("sync", path_), errno);
  if (nameless_) RETURN_IF_ERROR(link_nameless());
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(temp_.c_str());
    committed_ = true;
    return errno_status(quoted("close", path_), e);
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    ::unlink(temp_.c_str());
    committed_ = true;
    return errno_status(fmt::format("rename '{}' to '{}'", temp_, path_), e);
  }
  committed_ = true;
  return Status::ok();
}

// Gives the nameless temporary file the name ".<base>.tmp.XXXXXX" (linkat cannot
// replace the target, so commit() renames it into place as for a named one).
Status AtomicOutput::link_nameless() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  const std::string proc = fmt::format("/proc/self/fd/{}", fd_);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = (dir_ == "/" ? "" : dir_) + "/." + base_ + ".tmp.";
    for (int i = 0; i < 6; ++i) name += kChars[rng() % (sizeof kChars - 1)];
    int rc = ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW);
    if (rc != 0 && errno == ENOENT) rc = ::linkat(fd_, "", AT_FDCWD, name.c_str(), AT_EMPTY_PATH);  // no /proc
    if (rc == 0) {
      temp_ = std::move(name);
      nameless_ = false;
      return Status::ok();
    }
    if (errno != EEXIST) return errno_status(quoted("link temporary file for", path_), errno);
  }
  return errno_status(quoted("link temporary file for", path_), EEXIST);
}

void AtomicOutput::abort() {
  if (committed_) return;
  committed_ = true;
  if (is_stdout_) {
    fd_ = -1;
    return;
  }
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!temp_.empty() && !direct_) ::unlink(temp_.c_str());
}

Status check_distinct(std::string_view input, std::string_view output) {
  if (input == "-" || output == "-") return Status::ok();
  struct stat a, b;
  if (::stat(std::string(input).c_str(), &a) != 0 || ::stat(std::string(output).c_str(), &b) != 0) return Status::ok();
  if (a.st_dev != b.st_dev || a.st_ino != b.st_ino || !S_ISREG(b.st_mode)) return Status::ok();
  return invalid_argument(fmt::format("'{}' is the input '{}': writing it would destroy what is being read; give another output",
                                      output, input));
}

Status write_file_atomic(std::string_view path, std::string_view data, const OutputOptions& options) {
  ASSIGN_OR_RETURN(AtomicOutput out, AtomicOutput::create(path, options));
  RETURN_IF_ERROR(out.write(data));
  return out.commit();
}

// ---- MappedFile ------------------------------------------------------------

MappedFile::~MappedFile() {
  if (addr_) ::munmap(addr_, size_);
}
MappedFile::MappedFile(MappedFile&& o) noexcept
    : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)), skip_(std::exchange(o.skip_, 0)) {}
MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (addr_) ::munmap(addr_, size_);
    addr_ = std::exchange(o.addr_, nullptr);
    size_ = std::exchange(o.size_, 0);
    skip_ = std::exchange(o.skip_, 0);
  }
  return *this;
}

Result<MappedFile> MappedFile::map(int fd, int64_t offset, size_t n, int flags, std::string_view path) {
  MappedFile m;
  if (n == 0) return m;
  static const int64_t page = ::sysconf(_SC_PAGESIZE);
  const int64_t start = offset / page * page;
  m.skip_ = static_cast<size_t>(offset - start);
  m.size_ = m.skip_ + n;
  void* a = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE | flags, fd, start);
  if (a == MAP_FAILED) {
    m.size_ = m.skip_ = 0;
    return errno_status(quoted("map", path), errno);
  }
  m.addr_ = a;
  return m;
}

Result<MappedFile> MappedFile::open_range(int fd, int64_t offset, size_t n, std::string_view path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_status(quoted("stat", path), errno);
  if (offset < 0 || st.st_size < offset || static_cast<uint64_t>(st.st_size - offset) < n)
    return io_error(fmt::format("read '{}': file ended before byte {} (it changed while being read?)", path,
                                static_cast<uint64_t>(offset) + n));
  return map(fd, offset, n, MAP_POPULATE, path);
}

Result<MappedFile> MappedFile::open(std::string_view path) {
  std::string p(path);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status(quoted("open", path), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_status(quoted("stat", path), errno);
  if (!S_ISREG(st.st_mode)) return invalid_argument(fmt::format("map '{}': not a regular file", path));
  return map(fd.get(), 0, static_cast<size_t>(st.st_size), 0, path);  // pages on first touch: files can be large
}

}  // namespace sciflow::io
