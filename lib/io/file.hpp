// io/file: files and standard streams by name, where "-" means stdin/stdout,
// and atomic output (temp file + rename) so a partial output never survives an
// error or a signal.
//
// Thread safety: objects are not shared; each belongs to one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace sciflow::io {

// The name to show in messages: "<stdin>"/"<stdout>" for "-", else the path.
std::string display_name(std::string_view path, bool output = false);

// Reads all of `path` ("-": stdin). Errors name the file: "read 'x': Is a directory".
Result<std::string> read_file(std::string_view path);

// The lines of `text` without their '\n' (a last line without one included; no
// empty line after a final '\n'). The views point into `text`.
std::vector<std::string_view> split_lines(std::string_view text);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status write_all(int fd, std::span<const uint8_t> data, std::string_view name);
inline Status write_all(int fd, std::string_view data, std::string_view name) {
  return write_all(fd, std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()), name);
}

// Owns a file descriptor: closed on destruction; movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset();

 private:
  int fd_ = -1;
};

// Positional I/O of exactly `data.size()` bytes at `offset`, retrying short
// transfers and EINTR; pread_all reports a file shorter than asked as kCorrupt.
Status pwrite_all(int fd, std::span<const uint8_t> data, int64_t offset, std::string_view name);
Status pread_all(int fd, std::span<uint8_t> data, int64_t offset, std::string_view name);

// A readable file or stdin.
class InputFile {
 public:
  InputFile() = default;
  ~InputFile();
  InputFile(InputFile&& o) noexcept;
  InputFile& operator=(InputFile&& o) noexcept;

  // Opens `path` ("-": stdin, not closed by this object).
  static Result<InputFile> open(std::string_view path);

  // Reads up to `n` bytes; 0 at end of file.
  Result<size_t> read(void* buf, size_t n);
  // Reads exactly `n` bytes; kCorrupt "unexpected end of file" when short.
  Status read_exact(void* buf, size_t n);
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::string name_;
};

// An error when `output` names the same file as `input` (the same inode, by any
// path or link): writing it would destroy what is being read. "-" and paths
// that do not exist yet pass.
Status check_distinct(std::string_view input, std::string_view output);

struct OutputOptions {
  bool overwrite = true;       // false: refuse when the target exists
  bool allow_tty = false;      // true: binary data may go to a terminal ("-f")
  mode_t mode = 0644;          // permissions of the final file (before umask)
  // The writer opens the temporary file by its name (HDF5, libtiff, libpng):
  // give it one from the start. Otherwise, where the file system allows, the
  // temporary file has no name until commit() (O_TMPFILE), so that even SIGKILL
  // leaves nothing behind.
  bool named_temp = false;
};

// An output that appears under its final name only after commit().
// For "-" it writes straight to stdout, and to an existing device or FIFO
// (-o /dev/null) straight to it: neither can be renamed into place.
// The temp file lives in the target's directory so that rename(2) is atomic:
// nameless (O_TMPFILE) until commit() links it as ".<name>.tmp.XXXXXX" and renames
// that into place, or (named_temp, or a file system without O_TMPFILE) under that
// name from the start. It is removed on abort(), on destruction without commit(),
// and so on every error path and on SIGINT/SIGTERM (which unwind); a nameless one
// also on SIGKILL.
class AtomicOutput {
 public:
  AtomicOutput() = default;
  ~AtomicOutput();
  AtomicOutput(AtomicOutput&& o) noexcept;
  AtomicOutput& operator=(AtomicOutput&& o) noexcept;

  static Result<AtomicOutput> create(std::string_view path, const OutputOptions& options = {});

  Status write(std::span<const uint8_t> data);
  Status write(std::string_view data) {
    return write(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  }
  // fsyncs and renames into place (for stdout: nothing to do). Idempotent.
  Status commit();
  // Removes the temp file. Idempotent.
  void abort();

  int fd() const { return fd_; }
  bool is_stdout() const { return is_stdout_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  int64_t bytes_written() const { return written_; }

 private:
  int fd_ = -1;
  bool is_stdout_ = false;
  bool committed_ = false;
  bool direct_ = false;  // a device or FIFO, written in place
  bool nameless_ = false;  // O_TMPFILE: temp_ is empty until commit() links it
  std::string dir_, base_;  // the target's directory and name (for that link)
  mode_t mode_ = 0644;
  int64_t written_ = 0;
  int64_t started_ = 0;  // bytes whose writeback has been started (sync_file_range)
  static constexpr int64_t kWritebackBytes = 8 << 20;
  Status link_nameless();
  std::string path_;
  std::string temp_;
};

// Writes `data` to `path` atomically in one call.
Status write_file_atomic(std::string_view path, std::string_view data, const OutputOptions& options = {});

// A read-only memory map of a whole file (empty files map to an empty span).
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  static Result<MappedFile> open(std::string_view path);
  // Bytes [offset, offset + n) of the open file `fd` (`path` names it in errors),
  // its pages read in now (MAP_POPULATE): the read without pread's copy. kIoError
  // when the file is shorter than offset + n.
  static Result<MappedFile> open_range(int fd, int64_t offset, size_t n, std::string_view path);
  std::span<const uint8_t> data() const { return {static_cast<const uint8_t*>(addr_) + skip_, size_ - skip_}; }

 private:
  // Maps n bytes from `offset` (any offset: the mapping starts at its page).
  static Result<MappedFile> map(int fd, int64_t offset, size_t n, int flags, std::string_view path);

  void* addr_ = nullptr;
  size_t size_ = 0;  // of the mapping
  size_t skip_ = 0;  // from the page boundary it starts at to the first byte asked for
};

}  // namespace sciflow::io
