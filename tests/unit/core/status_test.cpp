#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>

#include "core/exit_code.hpp"
#include "core/json.hpp"
#include "core/status.hpp"

namespace sciflow {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("value must be positive");
  return v;
}

Result<int> doubled(int v) {
  ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status chain(int v) {
  RETURN_IF_ERROR(parse_positive(v).status());
  return Status::ok();
}

}  // namespace

TEST_CASE("status: ok and error values") {
  Status ok;
  CHECK(ok.is_ok());
  CHECK(ok.to_string() == "ok");
  Status s = not_found("open 'a.h5': No such file or directory");
  CHECK_FALSE(s.is_ok());
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.with_context("tezip compress").message() == "tezip compress: open 'a.h5': No such file or directory");
  CHECK(code_name(Code::kCorrupt) == "corrupt data");
}

TEST_CASE("status: errno mapping names the object and the cause") {
  Status s = errno_status("open 'run3.h5'", ENOENT);
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message() == "open 'run3.h5': No such file or directory");
  CHECK(errno_status("write 'x'", ENOSPC).code() == Code::kResourceExhausted);
  CHECK(errno_status("open 'x'", EACCES).code() == Code::kPermissionDenied);
  CHECK(errno_status("read 'x'", EIO).code() == Code::kIoError);
}

TEST_CASE("result: propagation macros") {
  auto r = doubled(21);
  REQUIRE(r.has_value());
  CHECK(*r == 42);
  auto e = doubled(-1);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.status().code() == Code::kInvalidArgument);
  CHECK(e.status().message() == "value must be positive");
  CHECK(chain(1).is_ok());
  CHECK(chain(0).code() == Code::kInvalidArgument);
}

TEST_CASE("result: move-only values") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  REQUIRE(r);
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 7);
}

TEST_CASE("exit codes: 0/1/2/128+N") {
  CHECK(exit_code_for(Status::ok()) == 0);
  CHECK(exit_code_for(io_error("x")) == 1);
  CHECK(exit_code_for(corrupt("x")) == 1);
  CHECK(exit_code_for(invalid_argument("x")) == 2);
  CHECK(exit_code_for(Status(Code::kCancelled, "x"), SIGTERM) == 143);
  CHECK(exit_code_for(Status(Code::kCancelled, "x")) == 130);
}

TEST_CASE("json: parse errors carry line and column") {
  auto ok = parse_json(R"({"a": [1, 2]})", "m.json");
  REQUIRE(ok);
  CHECK((*ok)["a"][1] == 2);
  auto bad = parse_json("{\n  \"a\": [1,\n  2,, 3]\n}", "m.json");
  REQUIRE_FALSE(bad);
  CHECK(bad.status().code() == Code::kCorrupt);
  CHECK(bad.status().message().rfind("m.json:3:5: ", 0) == 0);
  CHECK(to_json_line(Json{{"k", "v"}}) == R"({"k":"v"})");
  // Found by the fuzzer: a number too large for a double threw instead of failing.
  auto huge = parse_json(R"({"bound": 5.00e494568})", "h.json");
  REQUIRE_FALSE(huge);
  CHECK(huge.status().code() == Code::kCorrupt);
  // One record of a JSON Lines file: its line in the file, not "FILE:7:1:2".
  auto rec = parse_json(R"({"a": 1,, "b": 2})", "t.jsonl", 7);
  REQUIRE_FALSE(rec);
  CHECK(rec.status().message().rfind("t.jsonl:7:9: ", 0) == 0);
  auto rec_huge = parse_json(R"({"v": 1e999})", "t.jsonl", 3);
  REQUIRE_FALSE(rec_huge);
  CHECK(rec_huge.status().message().rfind("t.jsonl:3: ", 0) == 0);
}

}  // namespace sciflow
