// config/yaml: YAML documents as a plain tree that remembers where every node
// came from, so that validation can report each problem as file:line:column.
//
// yaml-cpp parses; its types and exceptions stay in yaml.cpp. Validation code
// collects every problem in a Diagnostics object before it stops, the way a
// compiler does, rather than failing on the first.
// Thread safety: Node and Document are values; Diagnostics belongs to one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace sciflow::config {

struct Mark {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
};

struct Entry;

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  Mark mark;
  std::string scalar;          // kScalar: the text as written (without quotes)
  bool quoted = false;         // kScalar: written in quotes (so never a number or bool)
  std::vector<Node> items;     // kSequence
  std::vector<Entry> entries;  // kMap, in file order

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_map() const { return kind == Kind::kMap; }
  // The value under `key` in a map, or nullptr.
  const Node* find(std::string_view key) const;
};

struct Entry {
  std::string key;
  Mark key_mark;
  Node value;
};

struct Document {
  std::string name;  // file name as given, used in messages
  Node root;
};

// Parses `text`; `name` is what messages call it. A syntax error is
// kInvalidArgument "name:line:column: cause"; duplicate keys are errors too.
Result<Document> parse_yaml(std::string_view text, std::string_view name);

// Reads and parses `path` ("-": stdin).
Result<Document> load_yaml_file(std::string_view path);

// Collects problems with positions; to_status() reports all of them at once.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(const Mark& at, std::string message);
  bool ok() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }
  // ok() or kInvalidArgument whose message is every problem, one per line.
  Status to_status() const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string> messages_;
};

// Typed reads of a scalar; on a wrong kind or value they record an error naming
// `what` and return nullopt.
std::optional<std::string> get_string(const Node& n, Diagnostics& d, std::string_view what);
std::optional<int64_t> get_int(const Node& n, Diagnostics& d, std::string_view what);
std::optional<double> get_double(const Node& n, Diagnostics& d, std::string_view what);
std::optional<bool> get_bool(const Node& n, Diagnostics& d, std::string_view what);

// Records an error for every key of map `n` that is not in `allowed`
// ("unknown key 'retires' (did you mean 'retries'?)"), and for a non-map.
void check_keys(const Node& n, const std::vector<std::string_view>& allowed, Diagnostics& d,
                std::string_view what);

}  // namespace sciflow::config
