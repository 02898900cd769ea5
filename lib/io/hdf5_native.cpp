// libsciflow_hdf5.so: every HDF5 call of the library (io/hdf5_module.hpp).
#include "io/hdf5_native.hpp"

#include <fmt/core.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

#include "codec/h5filter.hpp"
#include "io/hdf5_module.hpp"

namespace sciflow::io::h5 {
namespace {

herr_t collect(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  (void)n;
  if (e->desc && *e->desc) out->emplace_back(e->desc);
  return 0;
}

// "<what>: <innermost cause>" from the current error stack, which it clears.
Status stack_status(Code code, std::string_view what) {
  std::vector<std::string> msgs;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &msgs);
  H5Eclear2(H5E_DEFAULT);
  std::string cause = msgs.empty() ? "HDF5 call failed" : msgs.front();
  return Status(code, fmt::format("{}: {}", what, cause));
}

// RAII for hid_t with the right close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer c) : id_(id), close_(c) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer close_;
};

hid_t native_type(DType t) {
  switch (t) {
    case DType::kU8: return H5T_NATIVE_UINT8;
    case DType::kU16: return H5T_NATIVE_UINT16;
    case DType::kU32: return H5T_NATIVE_UINT32;
    case DType::kU64: return H5T_NATIVE_UINT64;
    case DType::kI8: return H5T_NATIVE_INT8;
    case DType::kI16: return H5T_NATIVE_INT16;
    case DType::kI32: return H5T_NATIVE_INT32;
    case DType::kI64: return H5T_NATIVE_INT64;
    case DType::kF32: return H5T_NATIVE_FLOAT;
    case DType::kF64: return H5T_NATIVE_DOUBLE;
  }
  return H5T_NATIVE_UINT8;
}

}  // namespace

Result<DType> dtype_of_type(int64_t type_id, std::string_view what) {
  const hid_t type = static_cast<hid_t>(type_id);
  H5T_class_t cls = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (cls == H5T_INTEGER) {
    bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    switch (size) {
      case 1: return is_signed ? DType::kI8 : DType::kU8;
      case 2: return is_signed ? DType::kI16 : DType::kU16;
      case 4: return is_signed ? DType::kI32 : DType::kU32;
      case 8: return is_signed ? DType::kI64 : DType::kU64;
      default: break;
    }
  } else if (cls == H5T_FLOAT) {
    if (size == 4) return DType::kF32;
    if (size == 8) return DType::kF64;
  }
  static constexpr const char* kClass[] = {"integers", "floats", "times", "strings", "bit fields", "opaque data",
                                            "compound records", "references", "enums", "variable-length data", "arrays"};
  const int c = static_cast<int>(cls);
  return unsupported(fmt::format("{}: {} of {} bytes, not integers or floats", what,
                                 c >= 0 && c < 11 ? kClass[c] : "unknown elements", size));
}

namespace {

struct Walk {
  hid_t file;
  std::string file_name;  // this file's, as H5Fget_name gives it
  std::vector<std::string> paths;
  std::set<std::pair<std::string, haddr_t>> seen;  // the same dataset reached by two links counts once
};

std::string file_name_of(hid_t obj) {
  char buf[4096];
  ssize_t n = H5Fget_name(obj, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(std::min<ssize_t>(n, sizeof buf - 1))) : std::string();
}

// Visits links (not objects) so that external links (NeXus files) are followed.
herr_t visit(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto* w = static_cast<Walk*>(data);
  H5O_info_t oi;
  // The basic fields (type, address) only: all of them read each object's header
  // and count its attributes, which was most of the time listing a NeXus file.
  if (H5Oget_info_by_name2(group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);  // a dangling external link: not a dataset we can read
    return 0;
  }
  if (oi.type != H5O_TYPE_DATASET) return 0;
  // Identify the object by the file it lives in and its address there. A hard
  // link's object is in this file; another link's may be in another file, which
  // two external links open twice (fileno alone would differ): ask its name.
  std::string file_name = w->file_name;
  if (info->type != H5L_TYPE_HARD) {
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj >= 0) {
      file_name = file_name_of(obj);
      H5Oclose(obj);
    }
    H5Eclear2(H5E_DEFAULT);
  }
  if (!w->seen.insert({file_name, oi.addr}).second) return 0;
  w->paths.push_back(std::string("/") + name);
  return 0;
}

// One open file: what io::h5::File forwards to.
class NativeFile final : public detail::FileImpl {
 public:
  NativeFile(hid_t id, std::string path) : id_(id), path_(std::move(path)) {}
  ~NativeFile() override { (void)close(); }
  NativeFile(const NativeFile&) = delete;
  NativeFile& operator=(const NativeFile&) = delete;

  Result<std::vector<DatasetInfo>> list_datasets() override;
  Result<DatasetInfo> info(std::string_view dataset) override;
  Status read(std::string_view dataset, DType dtype, void* out, int64_t bytes, int64_t first,
              int64_t count) override;
  Status create_dataset(std::string_view dataset, DType dtype, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& chunks, int filter_id,
                        const std::vector<unsigned>& cd_values) override;
  Status write_rows(std::string_view dataset, DType dtype, int64_t first, int64_t count, const void* data) override;
  Result<std::vector<std::pair<std::string, std::string>>> attributes(std::string_view object) override;
  Status set_attribute(std::string_view object, std::string_view name, std::string_view value) override;
  Result<std::string> attribute(std::string_view object, std::string_view name) override;
  Status close() override;

 private:
  void forget_read_dataset();
  // info() of the dataset `d` (negative: the open failed) named `dataset`.
  Result<DatasetInfo> describe(hid_t d, std::string_view dataset);

  hid_t id_ = -1;
  std::string path_;
  hid_t read_id_ = -1;  // the dataset read() keeps open, and its name and info
  std::string read_name_;
  DatasetInfo read_info_;
};

}  // namespace

void NativeFile::forget_read_dataset() {
  if (read_id_ >= 0) H5Dclose(std::exchange(read_id_, -1));
  read_name_.clear();
}

Status NativeFile::close() {
  forget_read_dataset();
  if (id_ < 0) return Status::ok();
  hid_t id = std::exchange(id_, -1);
  if (H5Fclose(id) < 0) return stack_status(Code::kIoError, fmt::format("close '{}'", path_));
  return Status::ok();
}

Result<std::vector<DatasetInfo>> NativeFile::list_datasets() {
  Walk w{id_, file_name_of(id_), {}, {}};
  if (H5Lvisit(id_, H5_INDEX_NAME, H5_ITER_INC, visit, &w) < 0)
    return stack_status(Code::kCorrupt, fmt::format("list datasets in '{}'", path_));
  std::vector<DatasetInfo> out;
  for (const auto& p : w.paths) {
    auto i = info(p);
    if (!i && i.status().code() == Code::kUnsupported) continue;  // strings, compounds: not arrays we read
    if (!i) return i.status();
    out.push_back(std::move(*i));
  }
  return out;
}

Result<DatasetInfo> NativeFile::info(std::string_view dataset) {
  std::string name(dataset);
  Handle d(H5Dopen2(id_, name.c_str(), H5P_DEFAULT), H5Dclose);
  return describe(d.get(), dataset);
}

Result<DatasetInfo> NativeFile::describe(hid_t d, std::string_view dataset) {
  std::string what = fmt::format("dataset '{}:{}'", path_, dataset);
  if (d < 0) {
    H5Eclear2(H5E_DEFAULT);
    return not_found(fmt::format("{}: no such dataset", what));
  }
  Handle type(H5Dget_type(d), H5Tclose);
  Handle space(H5Dget_space(d), H5Sclose);
  if (!type.ok() || !space.ok()) return stack_status(Code::kCorrupt, what);
  DatasetInfo out;
  out.path = std::string(dataset);
  ASSIGN_OR_RETURN(out.dtype, dtype_of_type(type.get(), what));
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) return stack_status(Code::kCorrupt, what);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  out.shape.assign(dims.begin(), dims.end());
  Handle plist(H5Dget_create_plist(d), H5Pclose);
  if (plist.ok() && H5Pget_layout(plist.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> ch(static_cast<size_t>(rank));
    H5Pget_chunk(plist.get(), rank, ch.data());
    out.chunks.assign(ch.begin(), ch.end());
  }
  return out;
}

Status NativeFile::read(std::string_view dataset, DType dtype, void* out, int64_t bytes, int64_t first,
                  int64_t count) {
  if (read_id_ < 0 || read_name_ != dataset) {
    forget_read_dataset();
    std::string name(dataset);
    const hid_t d = H5Dopen2(id_, name.c_str(), H5P_DEFAULT);
    auto described = describe(d, dataset);
    if (!described) {
      if (d >= 0) H5Dclose(d);
      return described.status();
    }
    read_id_ = d;
    read_name_ = std::move(name);
    read_info_ = std::move(*described);
  }
  const DatasetInfo& info = read_info_;
  std::string what = fmt::format("read '{}:{}'", path_, dataset);
  if (info.shape.empty()) return unsupported(fmt::format("{}: scalar dataset", what));
  int64_t n0 = info.shape[0];
  if (count < 0) count = n0 - first;
  if (first < 0 || count < 0 || first + count > n0)
    return invalid_argument(fmt::format("{}: rows {}..{} outside 0..{}", what, first, first + count, n0));
  int64_t elems = count;
  for (size_t i = 1; i < info.shape.size(); ++i) elems *= info.shape[i];
  if (elems * dtype_size(dtype) != bytes)
    return internal_error(fmt::format("{}: buffer holds {} bytes, selection needs {}", what, bytes,
                                      elems * dtype_size(dtype)));
  const hid_t d = read_id_;
  Handle fspace(H5Dget_space(d), H5Sclose);
  std::vector<hsize_t> start(info.shape.size(), 0), cnt(info.shape.begin(), info.shape.end());
  start[0] = static_cast<hsize_t>(first);
  cnt[0] = static_cast<hsize_t>(count);
  if (H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr) < 0)
    return stack_status(Code::kInternal, what);
  Handle mspace(H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr), H5Sclose);
  if (H5Dread(d, native_type(dtype), mspace.get(), fspace.get(), H5P_DEFAULT, out) < 0)
    return stack_status(Code::kCorrupt, what);
  return Status::ok();
}

Status NativeFile::create_dataset(std::string_view dataset, DType dtype, const std::vector<int64_t>& shape,
                            const std::vector<int64_t>& chunks, int filter_id,
                            const std::vector<unsigned>& cd_values) {
  forget_read_dataset();  // a write may change what read() keeps open
  std::string what = fmt::format("create dataset '{}:{}'", path_, dataset);
  std::string name(dataset);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (!chunks.empty()) {
    std::vector<hsize_t> ch(chunks.begin(), chunks.end());
    if (H5Pset_chunk(dcpl.get(), static_cast<int>(ch.size()), ch.data()) < 0)
      return stack_status(Code::kInvalidArgument, what);
  }
  if (filter_id > 0 &&
      H5Pset_filter(dcpl.get(), static_cast<H5Z_filter_t>(filter_id), H5Z_FLAG_MANDATORY, cd_values.size(),
                    cd_values.data()) < 0)
    return stack_status(Code::kInvalidArgument, what);
  Handle d(H5Dcreate2(id_, name.c_str(), native_type(dtype), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
           H5Dclose);
  if (!d.ok()) return stack_status(Code::kIoError, what);
  return Status::ok();
}

Status NativeFile::write_rows(std::string_view dataset, DType dtype, int64_t first, int64_t count, const void* data) {
  forget_read_dataset();  // a write may change what read() keeps open
  std::string what = fmt::format("write '{}:{}'", path_, dataset);
  std::string name(dataset);
  Handle d(H5Dopen2(id_, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.ok()) return stack_status(Code::kNotFound, what);
  Handle fspace(H5Dget_space(d.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(fspace.get());
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(fspace.get(), dims.data(), nullptr);
  std::vector<hsize_t> start(dims.size(), 0), cnt = dims;
  start[0] = static_cast<hsize_t>(first);
  cnt[0] = static_cast<hsize_t>(count);
  if (H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr) < 0)
    return stack_status(Code::kInvalidArgument, what);
  Handle mspace(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  if (H5Dwrite(d.get(), native_type(dtype), mspace.get(), fspace.get(), H5P_DEFAULT, data) < 0)
    return stack_status(Code::kIoError, what);
  return Status::ok();
}

namespace {
herr_t collect_attr(hid_t loc, const char* name, const H5A_info_t* info, void* data) {
  (void)info;
  (void)loc;
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> NativeFile::attributes(std::string_view object) {
  std::string obj(object);
  std::vector<std::string> names;
  if (H5Aiterate_by_name(id_, obj.c_str(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr, &names,
                         H5P_DEFAULT) < 0)
    return stack_status(Code::kCorrupt, fmt::format("attributes of '{}:{}'", path_, object));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& n : names) {
    auto v = attribute(object, n);
    if (v) out.emplace_back(n, *v);
  }
  return out;
}

Status NativeFile::set_attribute(std::string_view object, std::string_view name, std::string_view value) {
  forget_read_dataset();  // a write may change what read() keeps open
  std::string what = fmt::format("set attribute '{}' on '{}:{}'", name, path_, object);
  std::string obj(object), n(name);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<size_t>(1, value.size()));
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists_by_name(id_, obj.c_str(), n.c_str(), H5P_DEFAULT) > 0)
    H5Adelete_by_name(id_, obj.c_str(), n.c_str(), H5P_DEFAULT);
  Handle a(H5Acreate_by_name(id_, obj.c_str(), n.c_str(), type.get(), space.get(), H5P_DEFAULT,
                             H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  if (!a.ok()) return stack_status(Code::kIoError, what);
  std::string buf(value);
  if (buf.empty()) buf.push_back('\0');
  if (H5Awrite(a.get(), type.get(), buf.data()) < 0) return stack_status(Code::kIoError, what);
  return Status::ok();
}

Result<std::string> NativeFile::attribute(std::string_view object, std::string_view name) {
  std::string what = fmt::format("attribute '{}' of '{}:{}'", name, path_, object);
  std::string obj(object), n(name);
  if (H5Aexists_by_name(id_, obj.c_str(), n.c_str(), H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return not_found(what + ": not found");
  }
  Handle a(H5Aopen_by_name(id_, obj.c_str(), n.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) return unsupported(what + ": not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    char* s = nullptr;
    Handle mem(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
    if (H5Aread(a.get(), mem.get(), &s) < 0) return stack_status(Code::kCorrupt, what);
    std::string out = s ? s : "";
    H5free_memory(s);
    return out;
  }
  size_t size = H5Tget_size(type.get());
  std::string buf(size, '\0');
  if (H5Aread(a.get(), type.get(), buf.data()) < 0) return stack_status(Code::kCorrupt, what);
  if (auto z = buf.find('\0'); z != std::string::npos) buf.resize(z);
  return buf;
}

namespace {

Result<std::unique_ptr<detail::FileImpl>> open_file(std::string_view path, bool writable) {
  std::string p(path);
  if (::access(p.c_str(), writable ? (R_OK | W_OK) : R_OK) != 0)
    return errno_status(fmt::format("open '{}'", path), errno);
  htri_t is = H5Fis_hdf5(p.c_str());
  if (is <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return corrupt(fmt::format("open '{}': not an HDF5 file", path));
  }
  hid_t id = H5Fopen(p.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) return stack_status(Code::kIoError, fmt::format("open '{}'", path));
  return std::unique_ptr<detail::FileImpl>(std::make_unique<NativeFile>(id, p));
}

Result<std::unique_ptr<detail::FileImpl>> create_file(std::string_view path) {
  std::string p(path);
  hid_t id = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) {
    int e = errno;
    if (e == ENOENT || e == EACCES || e == ENOSPC) return errno_status(fmt::format("create '{}'", path), e);
    return stack_status(Code::kIoError, fmt::format("create '{}'", path));
  }
  return std::unique_ptr<detail::FileImpl>(std::make_unique<NativeFile>(id, p));
}

std::string native_library_version() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return fmt::format("HDF5 {}.{}.{}", maj, min, rel);
}

void init(log::Level level, const std::string& program) {
  log::set_level(level);
  log::set_program(program);
  // HDF5 prints its error stack to stderr by default; the library never prints.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  // Every file this module opens reads and writes tezip-compressed datasets.
  Status s = codec::h5filter::register_filter();
  if (!s.is_ok()) log::warn("{}", s.message());
}

}  // namespace

}  // namespace sciflow::io::h5

extern "C" __attribute__((visibility("default"))) const sciflow::io::h5::detail::Module* sciflow_hdf5_module_v1() {
  using namespace sciflow::io::h5;
  static const detail::Module m{init, open_file, create_file, native_library_version};
  return &m;
}
