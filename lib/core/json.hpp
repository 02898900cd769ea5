// core/json: the JSON value type used for --json output and JSON files.
//
// nlohmann::ordered_json keeps keys in insertion order, so that output reads the
// way the code builds it. It is the one third-party vocabulary type the library
// exposes: JSON is part of every tool's interface. parse_json() turns its
// exceptions into Status. Thread safety: a value type.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/status.hpp"

namespace sciflow {

using Json = nlohmann::ordered_json;

// Parses `text`; `what` names the source in the error ("manifest.json").
// Errors are kCorrupt "<what>:LINE:COLUMN: <cause>". For one record of a JSON
// Lines file, `record_line` is its line number in the file (LINE is then that).
Result<Json> parse_json(std::string_view text, std::string_view what, int64_t record_line = 0);

// One line of compact JSON (no trailing newline). Invalid UTF-8 is replaced, never thrown.
std::string to_json_line(const Json& value);

}  // namespace sciflow
