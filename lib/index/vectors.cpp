#include "index/vectors.hpp"

#include <fmt/core.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "core/json.hpp"
#include "io/file.hpp"
#include "io/frames.hpp"
#include "io/hdf5.hpp"

namespace sciflow::index {
namespace {

// "file.h5:/dataset" -> {"file.h5", "/dataset"}; anything else -> {spec, ""}.
std::pair<std::string, std::string> split_dataset(std::string_view spec) {
  size_t colon = spec.find(":/");
  if (colon == std::string_view::npos) return {std::string(spec), ""};
  return {std::string(spec.substr(0, colon)), std::string(spec.substr(colon + 1))};
}

Result<std::string> detect_format(std::string_view spec, const ReadVectorsOptions& o) {
  if (o.format != "auto") {
    for (const char* f : {"fvecs", "bvecs", "ivecs", "npy", "hdf5", "jsonl"})
      if (o.format == f) return o.format;
    return invalid_argument(fmt::format("unknown vector format '{}' (fvecs, bvecs, ivecs, npy, hdf5, jsonl)", o.format));
  }
  if (spec == "-") return std::string("jsonl");
  std::string path = split_dataset(spec).first;
  for (const char* f : {"fvecs", "bvecs", "ivecs", "npy"})
    if (path.ends_with(std::string(".") + f)) return std::string(f);
  if (path.ends_with(".jsonl") || path.ends_with(".json") || path.ends_with(".ndjson")) return std::string("jsonl");
  if (path.ends_with(".h5") || path.ends_with(".hdf5") || path.ends_with(".nxs") || path.ends_with(".hdf"))
    return std::string("hdf5");
  return invalid_argument(fmt::format(
      "{}: cannot tell the vector format from the name (.fvecs, .bvecs, .ivecs, .npy, .h5, .jsonl); give --format",
      spec));
}

// Checks [first, first+count) against `rows`; returns the count.
Result<int64_t> slice(int64_t rows, const ReadVectorsOptions& o, std::string_view name) {
  if (o.first < 0 || o.first > rows)
    return invalid_argument(fmt::format("{}: first row {} is beyond its {} rows", name, o.first, rows));
  int64_t n = o.count < 0 ? rows - o.first : std::min(o.count, rows - o.first);
  return n;
}

// Refuses non-finite elements (naming the row of the whole file) and gives the
// rows their default ids: their row numbers in the whole file.
Status finish_rows(VectorSet& v, int64_t first, std::string_view name) {
  for (int64_t i = 0; i < v.rows * v.dim; ++i)
    if (!std::isfinite(v.data[static_cast<size_t>(i)]))
      return corrupt(fmt::format("{}: row {}: element {} is not a finite number", name, first + i / v.dim, i % v.dim));
  v.ids.resize(static_cast<size_t>(v.rows));
  std::iota(v.ids.begin(), v.ids.end(), first);
  return Status::ok();
}

// TEXMEX records: int32 dim, then dim elements of `elem` bytes.
Result<VectorSet> read_xvecs(std::string_view path, int elem, bool integer, const ReadVectorsOptions& o,
                             bool shape_only, VectorShape* shape) {
  ASSIGN_OR_RETURN(auto map, io::MappedFile::open(path));
  auto bytes = map.data();
  if (bytes.size() < 4) return corrupt(fmt::format("{}: empty or truncated vector file ({} bytes)", path, bytes.size()));
  int32_t d;
  std::memcpy(&d, bytes.data(), 4);
  if (d <= 0 || d > (1 << 24)) return corrupt(fmt::format("{}: record 0: bad dimension {}", path, d));
  size_t rec = 4 + static_cast<size_t>(d) * static_cast<size_t>(elem);
  if (bytes.size() % rec != 0)
    return corrupt(fmt::format("{}: {} bytes is not a whole number of {}-byte records (dimension {}): truncated at record {}",
                               path, bytes.size(), rec, d, bytes.size() / rec));
  int64_t rows = static_cast<int64_t>(bytes.size() / rec);
  if (shape) *shape = {rows, d};
  VectorSet v;
  if (shape_only) return v;
  ASSIGN_OR_RETURN(int64_t n, slice(rows, o, path));
  v.rows = n;
  v.dim = d;
  v.data.resize(static_cast<size_t>(n * d));
  v.ids.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = bytes.data() + static_cast<size_t>(o.first + i) * rec;
    int32_t di;
    std::memcpy(&di, r, 4);
    if (di != d)
      return corrupt(fmt::format("{}: record {}: dimension {} where record 0 has {}", path, o.first + i, di, d));
    float* out = v.data.data() + i * d;
    const uint8_t* e = r + 4;
    if (elem == 1) {
      for (int32_t j = 0; j < d; ++j) out[j] = e[j];
    } else if (integer) {
      for (int32_t j = 0; j < d; ++j) {
        int32_t x;
        std::memcpy(&x, e + 4 * j, 4);
        out[j] = static_cast<float>(x);
      }
    } else {
      std::memcpy(out, e, static_cast<size_t>(d) * 4);
      for (int32_t j = 0; j < d; ++j)
        if (!std::isfinite(out[j]))
          return corrupt(fmt::format("{}: record {}: element {} is not a finite number", path, o.first + i, j));
    }
    v.ids[static_cast<size_t>(i)] = o.first + i;
  }
  return v;
}

// .npy through the frame reader: a 2-D array arrives as one frame of rows x dim;
// a 3-D or 4-D array as frames, each flattened to one vector.
Result<VectorSet> read_npy(std::string_view path, const ReadVectorsOptions& o, bool shape_only, VectorShape* shape) {
  io::ReadOptions ro;
  ro.format = "npy";
  ASSIGN_OR_RETURN(auto reader, io::open_frames(path, ro));
  const io::SeriesInfo& info = reader->info();
  bool matrix = info.frames == 1;
  int64_t rows = matrix ? info.height : info.frames;
  int64_t dim = matrix ? info.width * info.channels : info.frame_elements();
  if (shape) *shape = {rows, dim};
  VectorSet v;
  if (shape_only) return v;
  ASSIGN_OR_RETURN(int64_t n, slice(rows, o, path));
  std::vector<uint8_t> raw(static_cast<size_t>(info.frames * info.frame_bytes()));
  int64_t got = 0;
  while (got < info.frames) {
    ASSIGN_OR_RETURN(int64_t r, reader->read(info.frames - got, raw.data() + got * info.frame_bytes()));
    if (r == 0) return corrupt(fmt::format("{}: truncated: {} of {} rows", path, got, info.frames));
    got += r;
  }
  v.rows = n;
  v.dim = dim;
  v.data.resize(static_cast<size_t>(n * dim));
  int es = dtype_size(info.dtype);
  to_float(info.dtype, raw.data() + o.first * dim * es, n * dim, v.data.data());
  RETURN_IF_ERROR(finish_rows(v, o.first, path));
  return v;
}

Result<VectorSet> read_hdf5(std::string_view spec, const ReadVectorsOptions& o, bool shape_only, VectorShape* shape) {
  auto [path, dataset] = split_dataset(spec);
  ASSIGN_OR_RETURN(auto file, io::h5::File::open(path));
  if (dataset.empty()) {
    ASSIGN_OR_RETURN(auto all, file.list_datasets());
    std::vector<std::string> names;
    for (const auto& d : all)
      if (d.shape.size() == 2) names.push_back(d.path);
    if (names.size() != 1) {
      std::string list;
      for (const auto& n : names) list += " " + n;
      return invalid_argument(fmt::format("{}: {} two-dimensional datasets{}; name one as {}:/path", path, names.size(),
                                          names.empty() ? "" : ":" + list, path));
    }
    dataset = names[0];
  }
  ASSIGN_OR_RETURN(auto info, file.info(dataset));
  if (info.shape.size() < 2)
    return invalid_argument(fmt::format("{}:{}: {} dimension(s); vectors need rows x dim", path, dataset, info.shape.size()));
  int64_t rows = info.shape[0], dim = 1;
  for (size_t i = 1; i < info.shape.size(); ++i) dim *= info.shape[i];
  if (shape) *shape = {rows, dim};
  VectorSet v;
  if (shape_only) return v;
  ASSIGN_OR_RETURN(int64_t n, slice(rows, o, path));
  v.rows = n;
  v.dim = dim;
  v.data.resize(static_cast<size_t>(n * dim));
  if (n > 0)
    RETURN_IF_ERROR(file.read(dataset, DType::kF32, v.data.data(), n * dim * 4, o.first, n));
  RETURN_IF_ERROR(finish_rows(v, o.first, path + ":" + dataset));
  return v;
}

Result<VectorSet> read_jsonl(std::string_view spec, const ReadVectorsOptions& o, VectorShape* shape) {
  ASSIGN_OR_RETURN(std::string text, io::read_file(spec));
  std::string name = io::display_name(spec);
  VectorSet v;
  int64_t row = 0, lineno = 0;
  bool any_meta = false;
  for (std::string_view line : io::split_lines(text)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string where = fmt::format("{}:{}", name, lineno);
    ASSIGN_OR_RETURN(Json j, parse_json(line, name, lineno));
    if (!j.is_object()) return invalid_argument(fmt::format("{}: expected an object with \"vector\"", where));
    auto it = j.find("vector");
    if (it == j.end() || !it->is_array())
      return invalid_argument(fmt::format("{}: no \"vector\" array", where));
    int64_t d = static_cast<int64_t>(it->size());
    if (d == 0) return invalid_argument(fmt::format("{}: empty \"vector\"", where));
    if (v.dim == 0) v.dim = d;
    if (d != v.dim)
      return invalid_argument(fmt::format("{}: vector of dimension {} where the first has {}", where, d, v.dim));
    bool take = row >= o.first && (o.count < 0 || row < o.first + o.count);
    int64_t id = row;
    if (auto idit = j.find("id"); idit != j.end()) {
      if (!idit->is_number_integer())
        return invalid_argument(fmt::format("{}: \"id\" must be an integer (put other keys in metadata fields)", where));
      id = idit->get<int64_t>();
    }
    if (take) {
      for (size_t k = 0; k < it->size(); ++k) {
        const Json& e = (*it)[k];
        if (!e.is_number()) return invalid_argument(fmt::format("{}: vector element {} is not a number", where, k));
        const double x = e.get<double>();
        const float f = static_cast<float>(x);  // 1e39 is finite as a double, not as a float
        if (!std::isfinite(f))
          return invalid_argument(fmt::format("{}: vector element {} ({}) is not a finite 32-bit float", where, k, x));
        v.data.push_back(f);
      }
      v.ids.push_back(id);
      j.erase("vector");
      j.erase("id");
      if (!j.empty()) any_meta = true;
      v.meta.push_back(j.empty() ? std::string() : to_json_line(j));
      ++v.rows;
    }
    ++row;
  }
  if (row == 0) return invalid_argument(fmt::format("{}: no vectors", name));
  if (o.first > row) return invalid_argument(fmt::format("{}: first row {} is beyond its {} rows", name, o.first, row));
  if (!any_meta) v.meta.clear();
  if (shape) *shape = {row, v.dim};
  return v;
}

Result<VectorSet> read_any(std::string_view spec, const ReadVectorsOptions& o, bool shape_only, VectorShape* shape) {
  ASSIGN_OR_RETURN(std::string f, detect_format(spec, o));
  if (f == "fvecs") return read_xvecs(spec, 4, false, o, shape_only, shape);
  if (f == "bvecs") return read_xvecs(spec, 1, true, o, shape_only, shape);
  if (f == "ivecs") return read_xvecs(spec, 4, true, o, shape_only, shape);
  if (f == "npy") return read_npy(spec, o, shape_only, shape);
  if (f == "hdf5") return read_hdf5(spec, o, shape_only, shape);
  return read_jsonl(spec, o, shape);
}

}  // namespace

Result<VectorSet> read_vectors(std::string_view spec, const ReadVectorsOptions& options) {
  return read_any(spec, options, false, nullptr);
}

Result<VectorShape> probe_vectors(std::string_view spec, const ReadVectorsOptions& options) {
  VectorShape s;
  RETURN_IF_ERROR(read_any(spec, options, true, &s).status());
  return s;
}

Result<std::vector<std::vector<int64_t>>> read_neighbors(std::string_view spec) {
  ASSIGN_OR_RETURN(VectorSet v, read_vectors(spec));
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(v.rows));
  for (int64_t i = 0; i < v.rows; ++i) {
    auto& r = out[static_cast<size_t>(i)];
    r.resize(static_cast<size_t>(v.dim));
    for (int64_t j = 0; j < v.dim; ++j) r[static_cast<size_t>(j)] = static_cast<int64_t>(v.row(i)[j]);
  }
  return out;
}

Status write_vectors(std::string_view spec, const VectorSet& set, bool overwrite) {
  io::OutputOptions oo;
  oo.overwrite = overwrite;
  std::string path(spec);
  if (path.ends_with(".h5") || path.ends_with(".hdf5")) {
    io::OutputOptions named = oo;
    named.named_temp = true;  // HDF5 opens it by name
    ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(path, named));
    {
      ASSIGN_OR_RETURN(auto f, io::h5::File::create(out.temp_path()));
      RETURN_IF_ERROR(f.write("/vectors", DType::kF32, {set.rows, set.dim}, set.data.data()));
      RETURN_IF_ERROR(f.write("/ids", DType::kI64, {set.rows}, set.ids.data()));
      RETURN_IF_ERROR(f.close());
    }
    return out.commit();
  }
  ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(path, oo));
  if (path.ends_with(".fvecs")) {
    std::string buf;
    int32_t d = static_cast<int32_t>(set.dim);
    for (int64_t i = 0; i < set.rows; ++i) {
      buf.append(reinterpret_cast<const char*>(&d), 4);
      buf.append(reinterpret_cast<const char*>(set.row(i)), static_cast<size_t>(set.dim) * 4);
    }
    RETURN_IF_ERROR(out.write(buf));
  } else if (path.ends_with(".npy")) {
    std::string dict = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", set.rows, set.dim);
    size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
    std::string header = std::string("\x93NUMPY\x01\x00", 8);
    header += static_cast<char>(dict.size() & 0xff);
    header += static_cast<char>(dict.size() >> 8);
    RETURN_IF_ERROR(out.write(header + dict));
    RETURN_IF_ERROR(out.write(std::span(reinterpret_cast<const uint8_t*>(set.data.data()), set.data.size() * 4)));
  } else if (path == "-" || path.ends_with(".jsonl") || path.ends_with(".json") || path.ends_with(".ndjson")) {
    std::string buf;
    for (int64_t i = 0; i < set.rows; ++i) {
      Json j = Json::object();
      if (!set.meta.empty() && !set.meta[static_cast<size_t>(i)].empty()) {
        ASSIGN_OR_RETURN(j, parse_json(set.meta[static_cast<size_t>(i)], "metadata"));
      }
      Json rec = Json::object();
      rec["id"] = set.ids[static_cast<size_t>(i)];
      rec["vector"] = std::vector<float>(set.row(i), set.row(i) + set.dim);
      rec.update(j);
      buf += to_json_line(rec);
      buf += '\n';
      if (buf.size() > (1 << 20)) {
        RETURN_IF_ERROR(out.write(buf));
        buf.clear();
      }
    }
    RETURN_IF_ERROR(out.write(buf));
  } else {
    return invalid_argument(fmt::format("{}: cannot tell the output format from the name (.fvecs, .npy, .h5, .jsonl, -)", path));
  }
  return out.commit();
}

Status write_ivecs(std::string_view spec, const std::vector<int64_t>& rows, int64_t k, bool overwrite) {
  io::OutputOptions oo;
  oo.overwrite = overwrite;
  ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(spec, oo));
  std::string buf;
  int32_t d = static_cast<int32_t>(k);
  for (size_t i = 0; i < rows.size(); i += static_cast<size_t>(k)) {
    buf.append(reinterpret_cast<const char*>(&d), 4);
    for (int64_t j = 0; j < k; ++j) {
      int64_t x = rows[i + static_cast<size_t>(j)];
      int32_t v = x > INT32_MAX ? -1 : static_cast<int32_t>(x);
      buf.append(reinterpret_cast<const char*>(&v), 4);
    }
  }
  RETURN_IF_ERROR(out.write(buf));
  return out.commit();
}

void normalize_rows(float* data, int64_t rows, int64_t dim) {
  for (int64_t i = 0; i < rows; ++i) {
    float* r = data + i * dim;
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) s += static_cast<double>(r[j]) * r[j];
    if (s <= 0) continue;
    float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (int64_t j = 0; j < dim; ++j) r[j] *= inv;
  }
}

}  // namespace sciflow::index
