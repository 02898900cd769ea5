// index/filter: metadata filter expressions for `vindex search --where`.
//
//   beamline == "K11" and frame > 100
//   not (sample == 'blank' or dose >= 2.5e3)
//   detector.name != "pilatus"            (dotted names reach nested objects)
//
// Comparisons: == != < <= > >=; a value is a number, a quoted string, true or
// false. Connectives: and, or, not (also &&, ||, !) and parentheses, with the
// usual precedence (not > and > or). A comparison against a missing field or a
// value of another type is false (so `x != 1` is false where x is missing).
// Parse errors name the column: "--where: column 14: expected a value after '>'".
// Thread safety: a parsed Filter is immutable; match() may run on many threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"

namespace sciflow::index {

class Filter {
 public:
  struct Node;
  Filter();
  ~Filter();
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;

  static Result<Filter> parse(std::string_view expr);
  bool match(const Json& object) const;
  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<const Node> root_;
  std::string text_;
};

}  // namespace sciflow::index
