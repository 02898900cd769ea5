// io/hdf5: the HDF5 adapter. Opens files, lists, reads and writes datasets and
// string attributes, and turns HDF5's error stack into Status messages that name
// the file and the dataset ("open dataset 'a.h5:/entry/data': object not found").
// Every HDF5 call is in libsciflow_hdf5.so (io/hdf5_native.cpp), which the first
// File::open() or create() loads (io/hdf5_module.hpp): a tool run that never
// touches an HDF5 file does not load HDF5. The module also registers the tezip
// filter, so every File reads and writes tezip-compressed datasets. Without the
// module, open() and create() return kUnavailable naming where it was looked for.
//
// Thread safety: Debian's HDF5 is built without thread safety; use one File from
// one thread, and do not use the HDF5 library from two threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.hpp"
#include "core/status.hpp"

namespace sciflow::io::h5 {

namespace detail {
class FileImpl;
}

struct DatasetInfo {
  std::string path;             // "/entry/data/data"
  DType dtype = DType::kU8;
  std::vector<int64_t> shape;   // row-major, slowest dimension first
  std::vector<int64_t> chunks;  // empty when contiguous
};

class File {
 public:
  File() = default;
  ~File();
  File(File&& o) noexcept;
  File& operator=(File&& o) noexcept;

  // Opens an existing file read-only (or read-write). kNotFound if missing,
  // kCorrupt if it is not an HDF5 file.
  static Result<File> open(std::string_view path, bool writable = false);
  // Creates (truncates) a file. Callers that need atomicity create it under a
  // temporary name and rename it (see io::AtomicOutput::temp_path()).
  static Result<File> create(std::string_view path);

  // Every dataset of numeric type in the file, in name order, following soft and external links
  // (links whose target cannot be opened are skipped).
  Result<std::vector<DatasetInfo>> list_datasets();
  Result<DatasetInfo> info(std::string_view dataset);

  // Reads `count` entries along the first dimension starting at `first` (the whole
  // dataset with count = -1) into `out`, converting to `dtype`. `bytes` is the size
  // of `out` and must match exactly. The dataset stays open for the next read of the
  // same dataset (a series read frame by frame: opening it again for every frame
  // re-traverses NeXus external links, which opens their file again each time) until
  // another dataset is read, anything is written, or the file closes.
  Status read(std::string_view dataset, DType dtype, void* out, int64_t bytes,
              int64_t first = 0, int64_t count = -1);

  // Creates `dataset` (and missing parent groups) with `shape` and writes `data`.
  // `chunks` empty: contiguous. `zstd`-style filters are not applied here.
  Status write(std::string_view dataset, DType dtype, const std::vector<int64_t>& shape,
               const void* data, const std::vector<int64_t>& chunks = {});

  // Creates `dataset` (and parent groups) without writing data, for write_rows().
  // With `filter_id` > 0 the chunks go through that (registered) filter with `cd_values`.
  Status create_dataset(std::string_view dataset, DType dtype, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& chunks, int filter_id = 0,
                        const std::vector<unsigned>& cd_values = {});
  // Writes `count` entries along the first dimension starting at `first`.
  Status write_rows(std::string_view dataset, DType dtype, int64_t first, int64_t count, const void* data);

  // All string attributes of `object` (other attribute types are skipped).
  Result<std::vector<std::pair<std::string, std::string>>> attributes(std::string_view object);

  Status set_attribute(std::string_view object, std::string_view name, std::string_view value);
  Result<std::string> attribute(std::string_view object, std::string_view name);

  Status close();
  const std::string& path() const { return path_; }

 private:
  explicit File(std::unique_ptr<detail::FileImpl> impl, std::string path);
  std::unique_ptr<detail::FileImpl> impl_;  // null once closed or moved from
  std::string path_;
};

// "HDF5 1.10.8" (loads the module; "HDF5 (module not found)" without it).
std::string library_version();

}  // namespace sciflow::io::h5
