#include "config/yaml.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "io/file.hpp"

namespace sciflow::config {
namespace {

Mark mark_of(const YAML::Mark& m) {
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

Node convert(const YAML::Node& y, Diagnostics& d) {
  Node n;
  n.mark = mark_of(y.Mark());
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      n.kind = Node::Kind::kNull;
      break;
    case YAML::NodeType::Scalar:
      n.kind = Node::Kind::kScalar;
      n.scalar = y.Scalar();
      n.quoted = y.Tag() == "!";
      break;
    case YAML::NodeType::Sequence:
      n.kind = Node::Kind::kSequence;
      for (const auto& item : y) n.items.push_back(convert(item, d));
      break;
    case YAML::NodeType::Map: {
      n.kind = Node::Kind::kMap;
      std::set<std::string> seen;
      for (const auto& kv : y) {
        Entry e;
        e.key_mark = mark_of(kv.first.Mark());
        if (!kv.first.IsScalar()) {
          d.error(e.key_mark, "a mapping key must be a plain scalar");
          continue;
        }
        e.key = kv.first.Scalar();
        if (!seen.insert(e.key).second) {
          d.error(e.key_mark, fmt::format("duplicate key '{}'", e.key));
          continue;
        }
        e.value = convert(kv.second, d);
        n.entries.push_back(std::move(e));
      }
      break;
    }
  }
  return n;
}

std::string_view kind_name(Node::Kind k) {
  switch (k) {
    case Node::Kind::kNull: return "nothing";
    case Node::Kind::kScalar: return "a scalar";
    case Node::Kind::kSequence: return "a list";
    case Node::Kind::kMap: return "a mapping";
  }
  return "?";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

const Node* Node::find(std::string_view key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

Result<Document> parse_yaml(std::string_view text, std::string_view name) {
  Document doc;
  doc.name = std::string(name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    Mark m = mark_of(e.mark);
    if (m.line == 0) return invalid_argument(fmt::format("{}: {}", name, e.msg));
    return invalid_argument(fmt::format("{}:{}:{}: {}", name, m.line, m.column, e.msg));
  }
  Diagnostics d(doc.name);
  doc.root = convert(root, d);
  RETURN_IF_ERROR(d.to_status());
  return doc;
}

Result<Document> load_yaml_file(std::string_view path) {
  ASSIGN_OR_RETURN(std::string text, io::read_file(path));
  return parse_yaml(text, io::display_name(path));
}

void Diagnostics::error(const Mark& at, std::string message) {
  if (at.line > 0)
    messages_.push_back(fmt::format("{}:{}:{}: {}", file_, at.line, at.column, message));
  else
    messages_.push_back(fmt::format("{}: {}", file_, message));
}

Status Diagnostics::to_status() const {
  if (messages_.empty()) return Status::ok();
  std::string all;
  for (size_t i = 0; i < messages_.size(); ++i) {
    if (i) all += '\n';
    all += messages_[i];
  }
  return invalid_argument(std::move(all));
}

std::optional<std::string> get_string(const Node& n, Diagnostics& d, std::string_view what) {
  if (!n.is_scalar()) {
    d.error(n.mark, fmt::format("{}: expected a string, found {}", what, kind_name(n.kind)));
    return std::nullopt;
  }
  return n.scalar;
}

std::optional<int64_t> get_int(const Node& n, Diagnostics& d, std::string_view what) {
  if (n.is_scalar() && !n.quoted && !n.scalar.empty()) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(n.scalar.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0') return static_cast<int64_t>(v);
  }
  d.error(n.mark, fmt::format("{}: expected an integer, found '{}'", what,
                              n.is_scalar() ? n.scalar : std::string(kind_name(n.kind))));
  return std::nullopt;
}

std::optional<double> get_double(const Node& n, Diagnostics& d, std::string_view what) {
  if (n.is_scalar() && !n.quoted && !n.scalar.empty()) {
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(n.scalar.c_str(), &end);
    if (errno == 0 && end && *end == '\0' && std::isfinite(v)) return v;
  }
  d.error(n.mark, fmt::format("{}: expected a number, found '{}'", what,
                              n.is_scalar() ? n.scalar : std::string(kind_name(n.kind))));
  return std::nullopt;
}

std::optional<bool> get_bool(const Node& n, Diagnostics& d, std::string_view what) {
  if (n.is_scalar() && !n.quoted) {
    const std::string& s = n.scalar;
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  }
  d.error(n.mark, fmt::format("{}: expected true or false, found '{}'", what,
                              n.is_scalar() ? n.scalar : std::string(kind_name(n.kind))));
  return std::nullopt;
}

void check_keys(const Node& n, const std::vector<std::string_view>& allowed, Diagnostics& d,
                std::string_view what) {
  if (!n.is_map()) {
    d.error(n.mark, fmt::format("{}: expected a mapping, found {}", what, kind_name(n.kind)));
    return;
  }
  for (const auto& e : n.entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::string_view best;
    size_t best_d = 3;
    for (auto a : allowed) {
      size_t dist = edit_distance(e.key, a);
      if (dist < best_d) {
        best_d = dist;
        best = a;
      }
    }
    if (best.empty())
      d.error(e.key_mark, fmt::format("{}: unknown key '{}'", what, e.key));
    else
      d.error(e.key_mark, fmt::format("{}: unknown key '{}' (did you mean '{}'?)", what, e.key, best));
  }
}

}  // namespace sciflow::config
