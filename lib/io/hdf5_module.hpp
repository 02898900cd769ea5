// io/hdf5_module: the boundary between the library and libsciflow_hdf5.so, the
// module that holds every HDF5 call (io/hdf5_native.cpp) and the tezip filter
// (codec/h5filter.cpp). io::h5::File dlopens it on first use, so that tools and
// commands that never touch an HDF5 file do not load HDF5 and the libraries it
// links (see core/plugin.hpp). Both sides are built together by this project: the
// interface is plain C++ (same compiler, same libstdc++, same Status).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "io/hdf5.hpp"

namespace sciflow::io::h5::detail {

// One open HDF5 file; io::h5::File forwards to it (see io/hdf5.hpp for each call).
class FileImpl {
 public:
  virtual ~FileImpl() = default;
  virtual Result<std::vector<DatasetInfo>> list_datasets() = 0;
  virtual Result<DatasetInfo> info(std::string_view dataset) = 0;
  virtual Status read(std::string_view dataset, DType dtype, void* out, int64_t bytes, int64_t first,
                      int64_t count) = 0;
  virtual Status create_dataset(std::string_view dataset, DType dtype, const std::vector<int64_t>& shape,
                                const std::vector<int64_t>& chunks, int filter_id,
                                const std::vector<unsigned>& cd_values) = 0;
  virtual Status write_rows(std::string_view dataset, DType dtype, int64_t first, int64_t count,
                            const void* data) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> attributes(std::string_view object) = 0;
  virtual Status set_attribute(std::string_view object, std::string_view name, std::string_view value) = 0;
  virtual Result<std::string> attribute(std::string_view object, std::string_view name) = 0;
  virtual Status close() = 0;
};

// What the module's entry point returns. init() runs once, before anything else:
// it silences HDF5's error printing, registers the tezip filter, and gives the
// module's copy of the library the tool's log settings (its filter logs errors).
struct Module {
  void (*init)(log::Level level, const std::string& program);
  Result<std::unique_ptr<FileImpl>> (*open)(std::string_view path, bool writable);
  Result<std::unique_ptr<FileImpl>> (*create)(std::string_view path);
  std::string (*library_version)();
};

inline constexpr const char* kModuleFile = "libsciflow_hdf5.so";
inline constexpr const char* kModuleEnv = "SCIFLOW_HDF5_MODULE";
// extern "C" const Module* sciflow_hdf5_module_v1(); bump with any change above.
inline constexpr const char* kModuleSymbol = "sciflow_hdf5_module_v1";

}  // namespace sciflow::io::h5::detail
