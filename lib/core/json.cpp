#include "core/json.hpp"

#include <fmt/core.h>

namespace sciflow {

Result<Json> parse_json(std::string_view text, std::string_view what, int64_t record_line) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // Translate the byte offset nlohmann reports into line and column.
    size_t byte = std::min(e.byte == 0 ? size_t{0} : e.byte - 1, text.size());
    int64_t line = record_line > 0 ? record_line : 1, col = 1;
    for (size_t i = 0; i < byte; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string cause = e.what();
    // nlohmann's text looks like "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    if (auto p = cause.find("syntax error"); p != std::string::npos) cause = cause.substr(p);
    return corrupt(fmt::format("{}:{}:{}: {}", what, line, col, cause));
  } catch (const Json::exception& e) {
    // Valid syntax the library still refuses, e.g. a number beyond double's range.
    if (record_line > 0) return corrupt(fmt::format("{}:{}: {}", what, record_line, e.what()));
    return corrupt(fmt::format("{}: {}", what, e.what()));
  }
}

std::string to_json_line(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace sciflow
