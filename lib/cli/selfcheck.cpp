// --self-check: exercises each adapter of the library on this machine, so that an
// operator can tell at once whether a build works on an acquisition host.
#include <fmt/core.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <numeric>

#include "cli/cli.hpp"
#include "codec/zstd.hpp"
#include "config/yaml.hpp"
#include "crypto/hash.hpp"
#include "exec/process.hpp"
#include "io/file.hpp"
#include "io/hdf5.hpp"

namespace sciflow::cli {
namespace {

CheckResult from(std::string name, const Status& s, std::string detail) {
  return {std::move(name), s.is_ok(), s.is_ok() ? std::move(detail) : s.message()};
}

Status check_zstd() {
  std::vector<uint8_t> data(1 << 16);
  std::iota(data.begin(), data.end(), 0);
  ASSIGN_OR_RETURN(auto packed, codec::zstd::compress(data, 3));
  ASSIGN_OR_RETURN(auto back, codec::zstd::decompress(packed, data.size()));
  if (back != data) return internal_error("round trip differs");
  return Status::ok();
}

Status check_sha256() {
  // FIPS 180-2 test vector.
  ASSIGN_OR_RETURN(auto d, crypto::sha256("abc"));
  if (crypto::to_hex(d) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    return internal_error("SHA-256('abc') is wrong");
  return Status::ok();
}

Status check_hdf5(const std::string& dir) {
  std::string path = dir + "/check.h5";
  std::vector<uint16_t> frames(2 * 3 * 4);
  std::iota(frames.begin(), frames.end(), 1000);
  {
    ASSIGN_OR_RETURN(auto f, io::h5::File::create(path));
    RETURN_IF_ERROR(f.write("/entry/data/data", DType::kU16, {2, 3, 4}, frames.data(), {1, 3, 4}));
    RETURN_IF_ERROR(f.close());
  }
  ASSIGN_OR_RETURN(auto f, io::h5::File::open(path));
  std::vector<uint16_t> back(12);
  RETURN_IF_ERROR(f.read("/entry/data/data", DType::kU16, back.data(), 24, 1, 1));
  if (!std::equal(back.begin(), back.end(), frames.begin() + 12)) return internal_error("read back differs");
  return Status::ok();
}

Status check_yaml() {
  ASSIGN_OR_RETURN(auto doc, config::parse_yaml("steps:\n  a: {run: echo}\n", "check.yaml"));
  const config::Node* steps = doc.root.find("steps");
  if (!steps || !steps->is_map() || steps->entries.at(0).key_mark.line != 2)
    return internal_error("parsed tree is wrong");
  return Status::ok();
}

Status check_atomic(const std::string& dir) {
  std::string path = dir + "/out.bin";
  {
    ASSIGN_OR_RETURN(auto out, io::AtomicOutput::create(path));
    RETURN_IF_ERROR(out.write("partial"));
    // Not committed: must vanish.
  }
  if (std::filesystem::exists(path))
    return internal_error("uncommitted output is visible");
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos)
      return internal_error("temporary file left behind");
  RETURN_IF_ERROR(io::write_file_atomic(path, "done"));
  ASSIGN_OR_RETURN(auto text, io::read_file(path));
  if (text != "done") return internal_error("committed output differs");
  return Status::ok();
}

Status check_process() {
  exec::ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo $SCIFLOW_CHECK; exit 3"};
  spec.env = {{"SCIFLOW_CHECK", "hello"}};
  spec.out = exec::Redirect::capture();
  ASSIGN_OR_RETURN(auto r, exec::run(spec));
  if (r.exit_code != 3 || r.out != "hello\n") return internal_error("unexpected result: " + r.describe());
  return Status::ok();
}

}  // namespace

std::vector<CheckResult> self_check() {
  std::vector<CheckResult> out;
  std::string tmpl = (std::filesystem::temp_directory_path() / "sciflow-check.XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    out.push_back({"temporary directory", false, errno_status("mkdtemp", errno).message()});
    return out;
  }
  std::string dir = tmpl;
  out.push_back(from("zstd round trip", check_zstd(), codec::zstd::library_version()));
  out.push_back(from("SHA-256 test vector", check_sha256(), crypto::library_version()));
  std::filesystem::create_directory(dir + "/h5");
  out.push_back(from("HDF5 write and read", check_hdf5(dir + "/h5"), io::h5::library_version()));
  out.push_back(from("YAML positions", check_yaml(), "yaml-cpp"));
  std::filesystem::create_directory(dir + "/atomic");
  out.push_back(from("atomic output", check_atomic(dir + "/atomic"), "temp file + rename"));
  out.push_back(from("process runner", check_process(), "posix_spawn, pidfd"));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace sciflow::cli
