// io::h5::File: forwards to libsciflow_hdf5.so, loaded on first use.
#include "io/hdf5.hpp"

#include <fmt/core.h>

#include <utility>

#include "core/plugin.hpp"
#include "io/hdf5_module.hpp"

namespace sciflow::io::h5 {
namespace {

// The module, loaded and initialised once, on the first File::open() or create().
const Result<const detail::Module*>& module() {
  static const Result<const detail::Module*> m = [] {
    auto r = load_module<detail::Module>(detail::kModuleFile, detail::kModuleEnv, "the HDF5 module", detail::kModuleSymbol);
    if (r) (*r)->init(log::level(), log::program());
    return r;
  }();
  return m;
}

Status closed(const std::string& path) {
  return Status(Code::kInternal, fmt::format("'{}': HDF5 file used after close", path));
}

}  // namespace

File::File(std::unique_ptr<detail::FileImpl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}
File::~File() { (void)close(); }
File::File(File&& o) noexcept : impl_(std::move(o.impl_)), path_(std::move(o.path_)) {}
File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    (void)close();
    impl_ = std::move(o.impl_);
    path_ = std::move(o.path_);
  }
  return *this;
}

Result<File> File::open(std::string_view path, bool writable) {
  const auto& m = module();
  if (!m) return Status(m.status().code(), fmt::format("open '{}': {}", path, m.status().message()));
  ASSIGN_OR_RETURN(auto impl, (*m)->open(path, writable));
  return File(std::move(impl), std::string(path));
}

Result<File> File::create(std::string_view path) {
  const auto& m = module();
  if (!m) return Status(m.status().code(), fmt::format("create '{}': {}", path, m.status().message()));
  ASSIGN_OR_RETURN(auto impl, (*m)->create(path));
  return File(std::move(impl), std::string(path));
}

Status File::close() {
  if (!impl_) return Status::ok();
  Status s = impl_->close();
  impl_.reset();
  return s;
}

Result<std::vector<DatasetInfo>> File::list_datasets() {
  if (!impl_) return closed(path_);
  return impl_->list_datasets();
}

Result<DatasetInfo> File::info(std::string_view dataset) {
  if (!impl_) return closed(path_);
  return impl_->info(dataset);
}

Status File::read(std::string_view dataset, DType dtype, void* out, int64_t bytes, int64_t first, int64_t count) {
  if (!impl_) return closed(path_);
  return impl_->read(dataset, dtype, out, bytes, first, count);
}

Status File::write(std::string_view dataset, DType dtype, const std::vector<int64_t>& shape, const void* data,
                   const std::vector<int64_t>& chunks) {
  RETURN_IF_ERROR(create_dataset(dataset, dtype, shape, chunks));
  return write_rows(dataset, dtype, 0, shape.empty() ? 0 : shape[0], data);
}

Status File::create_dataset(std::string_view dataset, DType dtype, const std::vector<int64_t>& shape,
                            const std::vector<int64_t>& chunks, int filter_id, const std::vector<unsigned>& cd_values) {
  if (!impl_) return closed(path_);
  return impl_->create_dataset(dataset, dtype, shape, chunks, filter_id, cd_values);
}

Status File::write_rows(std::string_view dataset, DType dtype, int64_t first, int64_t count, const void* data) {
  if (!impl_) return closed(path_);
  return impl_->write_rows(dataset, dtype, first, count, data);
}

Result<std::vector<std::pair<std::string, std::string>>> File::attributes(std::string_view object) {
  if (!impl_) return closed(path_);
  return impl_->attributes(object);
}

Status File::set_attribute(std::string_view object, std::string_view name, std::string_view value) {
  if (!impl_) return closed(path_);
  return impl_->set_attribute(object, name, value);
}

Result<std::string> File::attribute(std::string_view object, std::string_view name) {
  if (!impl_) return closed(path_);
  return impl_->attribute(object, name);
}

std::string library_version() {
  const auto& m = module();
  return m ? (*m)->library_version() : "HDF5 (module not found)";
}

}  // namespace sciflow::io::h5
