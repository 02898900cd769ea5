#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <numeric>

#include "io/file.hpp"
#include "io/hdf5.hpp"

namespace fs = std::filesystem;

namespace sciflow::io::h5 {

TEST_CASE("hdf5: write, list, read a slab, attributes") {
  std::string dir = (fs::temp_directory_path() / "sciflow-h5.XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()));
  std::string path = dir + "/scan.h5";
  std::vector<uint16_t> data(5 * 4 * 3);
  std::iota(data.begin(), data.end(), 100);
  {
    auto f = File::create(path);
    REQUIRE(f);
    REQUIRE(f->write("/entry/data/data", DType::kU16, {5, 4, 3}, data.data(), {1, 4, 3}).is_ok());
    REQUIRE(f->set_attribute("/entry/data/data", "units", "counts").is_ok());
    REQUIRE(f->close().is_ok());
  }
  auto f = File::open(path);
  REQUIRE(f);
  auto list = f->list_datasets();
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].path == "/entry/data/data");
  CHECK((*list)[0].dtype == DType::kU16);
  CHECK((*list)[0].shape == std::vector<int64_t>{5, 4, 3});
  CHECK((*list)[0].chunks == std::vector<int64_t>{1, 4, 3});
  std::vector<uint16_t> two(2 * 12);
  REQUIRE(f->read("/entry/data/data", DType::kU16, two.data(), 48, 2, 2).is_ok());
  CHECK(two[0] == 100 + 24);
  CHECK(two[23] == 100 + 47);
  // Conversion on read: u16 -> f32.
  std::vector<float> all(60);
  REQUIRE(f->read("/entry/data/data", DType::kF32, all.data(), 240).is_ok());
  CHECK(all[59] == 159.0f);
  CHECK(*f->attribute("/entry/data/data", "units") == "counts");

  Status bad = f->read("/entry/data/data", DType::kU16, two.data(), 48, 4, 2);
  CHECK(bad.code() == Code::kInvalidArgument);
  auto missing = f->info("/entry/nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message() == "dataset '" + path + ":/entry/nope': no such dataset");
  fs::remove_all(dir);
}

// read() keeps the dataset it read open for the next read of it (frame-by-frame
// reading); switching datasets, writing, moving the File and reading again after a
// write must all see what the file holds.
TEST_CASE("hdf5: reads frame by frame, switching datasets and after writes") {
  std::string dir = (fs::temp_directory_path() / "sciflow-h5.XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()));
  std::string path = dir + "/two.h5";
  std::vector<uint8_t> a(4 * 6), b(3 * 6);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 100);
  {
    auto f = File::create(path);
    REQUIRE(f);
    REQUIRE(f->write("/a", DType::kU8, {4, 2, 3}, a.data(), {1, 2, 3}).is_ok());
    REQUIRE(f->write("/b", DType::kU8, {3, 2, 3}, b.data()).is_ok());
  }
  auto f = File::open(path, true);
  REQUIRE(f);
  std::vector<uint8_t> row(6);
  for (int64_t t = 0; t < 4; ++t) {  // frame by frame, the other dataset in between
    REQUIRE(f->read("/a", DType::kU8, row.data(), 6, t, 1).is_ok());
    CHECK(row[0] == 6 * t);
    CHECK(row[5] == 6 * t + 5);
    REQUIRE(f->read("/b", DType::kU8, row.data(), 6, t % 3, 1).is_ok());
    CHECK(row[0] == 100 + 6 * (t % 3));
  }
  REQUIRE(f->read("/a", DType::kU8, row.data(), 6, 0, 1).is_ok());
  const std::vector<uint8_t> fresh = {9, 9, 9, 9, 9, 9};
  REQUIRE(f->write_rows("/a", DType::kU8, 0, 1, fresh.data()).is_ok());
  REQUIRE(f->read("/a", DType::kU8, row.data(), 6, 0, 1).is_ok());
  CHECK(row == fresh);
  File moved = std::move(*f);
  REQUIRE(moved.read("/a", DType::kU8, row.data(), 6, 3, 1).is_ok());
  CHECK(row[0] == 18);
  CHECK(moved.read("/nope", DType::kU8, row.data(), 6, 0, 1).code() == Code::kNotFound);
  REQUIRE(moved.read("/a", DType::kU8, row.data(), 6, 2, 1).is_ok());  // after a failed open
  CHECK(row[0] == 12);
  REQUIRE(moved.close().is_ok());
  fs::remove_all(dir);
}

TEST_CASE("hdf5: missing and non-HDF5 files give clear errors") {
  auto missing = File::open("/no/such/run3.h5");
  REQUIRE_FALSE(missing);
  CHECK(missing.status().message() == "open '/no/such/run3.h5': No such file or directory");
  std::string dir = (fs::temp_directory_path() / "sciflow-h5.XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()));
  std::string text = dir + "/notes.h5";
  REQUIRE(write_file_atomic(text, "not hdf5 at all").is_ok());
  auto bad = File::open(text);
  REQUIRE_FALSE(bad);
  CHECK(bad.status().code() == Code::kCorrupt);
  CHECK(bad.status().message() == "open '" + text + "': not an HDF5 file");
  fs::remove_all(dir);
}

}  // namespace sciflow::io::h5

namespace sciflow::io::h5 {

TEST_CASE("hdf5: a closed or moved-from File says so instead of touching HDF5") {
  std::string dir = (fs::temp_directory_path() / "sciflow-h5.XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()));
  std::string path = dir + "/c.h5";
  auto f = File::create(path);
  REQUIRE(f);
  CHECK(library_version().rfind("HDF5 1.", 0) == 0);  // the module is loaded
  File moved = std::move(*f);
  uint8_t b = 0;
  Status s = f->read("/x", DType::kU8, &b, 1);
  CHECK(s.code() == Code::kInternal);
  CHECK(s.message().find("used after close") != std::string::npos);
  REQUIRE(moved.write("/x", DType::kU8, {1}, &b).is_ok());
  REQUIRE(moved.close().is_ok());
  CHECK(moved.close().is_ok());  // closing twice is harmless
  CHECK(!moved.info("/x"));
  auto again = File::open(path);
  REQUIRE(again);
  CHECK(again->info("/x")->shape == std::vector<int64_t>{1});
  fs::remove_all(dir);
}

}  // namespace sciflow::io::h5

#include <hdf5.h>

namespace sciflow::io::h5 {

TEST_CASE("hdf5: a NeXus-style file lists each dataset once, through external, soft and hard links") {
  std::string dir = (fs::temp_directory_path() / "sciflow-h5.XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()));
  std::vector<uint16_t> frames(3 * 4 * 5);
  std::iota(frames.begin(), frames.end(), 7);
  uint8_t local[4] = {1, 2, 3, 4};
  {
    auto d = File::create(dir + "/scan_data.h5");
    REQUIRE(d);
    REQUIRE(d->write("/data", DType::kU16, {3, 4, 5}, frames.data()).is_ok());
    auto m = File::create(dir + "/scan.nxs");
    REQUIRE(m);
    REQUIRE(m->write("/entry/local", DType::kU8, {2, 2}, local).is_ok());
  }
  // Links as a NeXus writer makes them, with HDF5 itself (the same library the module uses).
  hid_t f = H5Fopen((dir + "/scan.nxs").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  CHECK(H5Lcreate_external("scan_data.h5", "/data", f, "/entry/data/data", lcpl, H5P_DEFAULT) >= 0);
  CHECK(H5Lcreate_external("scan_data.h5", "/data", f, "/entry/instrument/detector/data", lcpl, H5P_DEFAULT) >= 0);
  CHECK(H5Lcreate_external("missing.h5", "/data", f, "/entry/lost", lcpl, H5P_DEFAULT) >= 0);
  CHECK(H5Lcreate_hard(f, "/entry/local", f, "/entry/local_again", lcpl, H5P_DEFAULT) >= 0);
  CHECK(H5Lcreate_soft("/entry/local", f, "/entry/z_local_soft", lcpl, H5P_DEFAULT) >= 0);
  CHECK(H5Lcreate_soft("/entry/data/data", f, "/entry/z_data_soft", lcpl, H5P_DEFAULT) >= 0);
  H5Pclose(lcpl);
  REQUIRE(H5Fclose(f) >= 0);

  auto m = File::open(dir + "/scan.nxs");
  REQUIRE(m);
  auto list = m->list_datasets();
  REQUIRE(list);
  std::vector<std::string> paths;
  for (const auto& d : *list) paths.push_back(d.path);
  // The first link to each (in name order) names it; the dangling link is skipped.
  CHECK(paths == std::vector<std::string>{"/entry/data/data", "/entry/local"});
  CHECK((*list)[0].shape == std::vector<int64_t>{3, 4, 5});
  std::vector<uint16_t> back(frames.size());
  REQUIRE(m->read("/entry/instrument/detector/data", DType::kU16, back.data(), 120).is_ok());
  CHECK(back == frames);
  fs::remove_all(dir);
}

}  // namespace sciflow::io::h5

namespace sciflow::io::h5 {

TEST_CASE("hdf5: a dataset of strings is named as such, not as an element class number") {
  std::string dir = (fs::temp_directory_path() / "sciflow-h5.XXXXXX").string();
  REQUIRE(mkdtemp(dir.data()));
  hid_t f = H5Fcreate((dir + "/s.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hsize_t dims[3] = {2, 3, 4};
  hid_t space = H5Screate_simple(3, dims, nullptr), type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, 10);
  hid_t d = H5Dcreate2(f, "/names", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(d >= 0);
  H5Dclose(d);
  H5Tclose(type);
  H5Sclose(space);
  REQUIRE(H5Fclose(f) >= 0);
  auto file = File::open(dir + "/s.h5");
  REQUIRE(file);
  auto info = file->info("/names");
  REQUIRE_FALSE(info);
  CHECK(info.status().code() == Code::kUnsupported);
  CHECK(info.status().message().find("strings of 10 bytes, not integers or floats") != std::string::npos);
  fs::remove_all(dir);
}

}  // namespace sciflow::io::h5
