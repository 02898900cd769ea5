#include <doctest/doctest.h>

#include "index/filter.hpp"

namespace sciflow::index {
namespace {

bool eval(const char* expr, const char* object) {
  auto f = Filter::parse(expr);
  REQUIRE_MESSAGE(f.has_value(), f.status().message());
  return f->match(Json::parse(object));
}

std::string error_of(const char* expr) {
  auto f = Filter::parse(expr);
  REQUIRE(!f.has_value());
  CHECK(f.status().code() == Code::kInvalidArgument);
  return f.status().message();
}

TEST_CASE("filter: comparisons of numbers, strings and booleans") {
  const char* o = R"({"beamline": "K11", "frame": 120, "dose": 2.5, "dark": false})";
  CHECK(eval("beamline == \"K11\"", o));
  CHECK(eval("beamline == 'K11'", o));
  CHECK_FALSE(eval("beamline != \"K11\"", o));
  CHECK(eval("frame > 100", o));
  CHECK_FALSE(eval("frame < 100", o));
  CHECK(eval("frame >= 120 and frame <= 120", o));
  CHECK(eval("dose > 2.4e0", o));
  CHECK(eval("dose > -3", o));
  CHECK(eval("dark == false", o));
  CHECK(eval("beamline < \"K12\"", o));  // strings compare lexically
}

TEST_CASE("filter: precedence of not, and, or; parentheses") {
  const char* o = R"({"a": 1, "b": 2})";
  CHECK(eval("a == 1 or a == 5 and b == 9", o));    // and binds tighter
  CHECK_FALSE(eval("(a == 1 or a == 5) and b == 9", o));
  CHECK(eval("not a == 2", o));
  CHECK(eval("!(a == 2) && b == 2", o));
  CHECK(eval("a == 2 || b == 2", o));
  CHECK_FALSE(eval("not (a == 1)", o));
}

TEST_CASE("filter: missing fields and other types never match") {
  const char* o = R"({"frame": "12", "detector": {"name": "pco", "gain": 3}})";
  CHECK_FALSE(eval("frame > 1", o));       // a string is not a number
  CHECK_FALSE(eval("missing == 1", o));
  CHECK_FALSE(eval("missing != 1", o));
  CHECK(eval("detector.name == \"pco\"", o));
  CHECK(eval("detector.gain >= 3", o));
  CHECK_FALSE(eval("detector.name.first == \"p\"", o));
}

TEST_CASE("filter: parse errors name the column and the cause") {
  CHECK(error_of("frame >") == "--where: column 8: expected a value after '>'");
  CHECK(error_of("frame = 3") == "--where: column 7: '=' is not a comparison: write '=='");
  CHECK(error_of("(a == 1") == "--where: column 8: expected ')'");
  CHECK(error_of("a == \"x") == "--where: column 6: string not closed");
  CHECK(error_of("a == 1 b == 2") == "--where: column 8: unexpected 'b'");
  CHECK(error_of("and == 1") == "--where: column 1: expected a field name, found 'and'");
  CHECK(error_of("a == 1 $") == "--where: column 8: unexpected character '$'");
  CHECK(error_of("") == "--where: column 1: expected a field name");
}

}  // namespace
}  // namespace sciflow::index
