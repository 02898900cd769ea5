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
