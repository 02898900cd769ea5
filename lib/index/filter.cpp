#include "index/filter.hpp"

#include <fmt/core.h>

#include <cctype>
#include <cstdlib>
#include <vector>

namespace sciflow::index {

struct Filter::Node {
  enum Kind { kAnd, kOr, kNot, kCompare } kind = kCompare;
  std::shared_ptr<const Node> a, b;
  // kCompare
  std::vector<std::string> path;  // "detector.name" -> {"detector", "name"}
  std::string op;
  Json value;
};

namespace {

struct Token {
  enum Kind { kEnd, kName, kString, kNumber, kOp, kLParen, kRParen } kind = kEnd;
  std::string text;
  size_t column = 0;  // 1-based
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::shared_ptr<const Filter::Node>> parse() {
    RETURN_IF_ERROR(next());
    ASSIGN_OR_RETURN(auto n, parse_or());
    if (tok_.kind != Token::kEnd) return error(fmt::format("unexpected '{}'", tok_.text));
    return n;
  }

 private:
  Status error(std::string what) const {
    return invalid_argument(fmt::format("--where: column {}: {}", tok_.column, what));
  }

  bool is_word(std::string_view w) const { return tok_.kind == Token::kName && tok_.text == w; }

  Status next() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    tok_ = Token{};
    tok_.column = pos_ + 1;
    if (pos_ >= s_.size()) return Status::ok();
    char c = s_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' || s_[pos_] == '.')) ++pos_;
      tok_.kind = Token::kName;
      tok_.text = std::string(s_.substr(start, pos_ - start));
      return Status::ok();
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+' || c == '.') && pos_ + 1 < s_.size() &&
                                                        (std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])) || s_[pos_ + 1] == '.'))) {
      std::string rest(s_.substr(pos_));
      char* end = nullptr;
      std::strtod(rest.c_str(), &end);
      size_t len = static_cast<size_t>(end - rest.c_str());
      if (len == 0) return error("bad number");
      tok_.kind = Token::kNumber;
      tok_.text = rest.substr(0, len);
      pos_ += len;
      return Status::ok();
    }
    if (c == '"' || c == '\'') {
      size_t start = pos_++;
      std::string out;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        out += s_[pos_++];
      }
      if (pos_ >= s_.size()) {
        tok_.column = start + 1;
        return error("string not closed");
      }
      ++pos_;
      tok_.kind = Token::kString;
      tok_.text = out;
      return Status::ok();
    }
    if (c == '(' || c == ')') {
      tok_.kind = c == '(' ? Token::kLParen : Token::kRParen;
      tok_.text = std::string(1, c);
      ++pos_;
      return Status::ok();
    }
    for (std::string_view op : {"==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "="}) {
      if (s_.substr(pos_, op.size()) == op) {
        tok_.kind = Token::kOp;
        tok_.text = std::string(op);
        pos_ += op.size();
        return Status::ok();
      }
    }
    return error(fmt::format("unexpected character '{}'", c));
  }

  Result<std::shared_ptr<const Filter::Node>> parse_or() {
    ASSIGN_OR_RETURN(auto left, parse_and());
    while (is_word("or") || (tok_.kind == Token::kOp && tok_.text == "||")) {
      RETURN_IF_ERROR(next());
      ASSIGN_OR_RETURN(auto right, parse_and());
      auto n = std::make_shared<Filter::Node>();
      n->kind = Filter::Node::kOr;
      n->a = left;
      n->b = right;
      left = n;
    }
    return left;
  }

  Result<std::shared_ptr<const Filter::Node>> parse_and() {
    ASSIGN_OR_RETURN(auto left, parse_not());
    while (is_word("and") || (tok_.kind == Token::kOp && tok_.text == "&&")) {
      RETURN_IF_ERROR(next());
      ASSIGN_OR_RETURN(auto right, parse_not());
      auto n = std::make_shared<Filter::Node>();
      n->kind = Filter::Node::kAnd;
      n->a = left;
      n->b = right;
      left = n;
    }
    return left;
  }

  Result<std::shared_ptr<const Filter::Node>> parse_not() {
    if (is_word("not") || (tok_.kind == Token::kOp && tok_.text == "!")) {
      RETURN_IF_ERROR(next());
      ASSIGN_OR_RETURN(auto inner, parse_not());
      auto n = std::make_shared<Filter::Node>();
      n->kind = Filter::Node::kNot;
      n->a = inner;
      return std::shared_ptr<const Filter::Node>(n);
    }
    return parse_primary();
  }

  Result<std::shared_ptr<const Filter::Node>> parse_primary() {
    if (tok_.kind == Token::kLParen) {
      RETURN_IF_ERROR(next());
      ASSIGN_OR_RETURN(auto inner, parse_or());
      if (tok_.kind != Token::kRParen) return error("expected ')'");
      RETURN_IF_ERROR(next());
      return inner;
    }
    if (tok_.kind != Token::kName || is_word("and") || is_word("or") || is_word("not"))
      return error(tok_.kind == Token::kEnd ? "expected a field name" : fmt::format("expected a field name, found '{}'", tok_.text));
    auto n = std::make_shared<Filter::Node>();
    for (size_t p = 0; p <= tok_.text.size();) {
      size_t dot = tok_.text.find('.', p);
      if (dot == std::string::npos) dot = tok_.text.size();
      if (dot == p) return error(fmt::format("bad field name '{}'", tok_.text));
      n->path.push_back(tok_.text.substr(p, dot - p));
      p = dot + 1;
    }
    RETURN_IF_ERROR(next());
    if (tok_.kind != Token::kOp || tok_.text == "&&" || tok_.text == "||" || tok_.text == "!")
      return error(tok_.kind == Token::kEnd ? fmt::format("expected a comparison after '{}'", n->path.back())
                                            : fmt::format("expected ==, !=, <, <=, > or >=, found '{}'", tok_.text));
    if (tok_.text == "=") return error("'=' is not a comparison: write '=='");
    n->op = tok_.text;
    std::string op = tok_.text;
    RETURN_IF_ERROR(next());
    if (tok_.kind == Token::kNumber) {
      n->value = std::strtod(tok_.text.c_str(), nullptr);
    } else if (tok_.kind == Token::kString) {
      n->value = tok_.text;
    } else if (is_word("true") || is_word("false")) {
      n->value = tok_.text == "true";
    } else {
      return error(fmt::format("expected a value after '{}'", op));
    }
    RETURN_IF_ERROR(next());
    return std::shared_ptr<const Filter::Node>(n);
  }

  std::string_view s_;
  size_t pos_ = 0;
  Token tok_;
};

template <typename T>
bool compare(const T& x, const T& y, const std::string& op) {
  if (op == "==") return x == y;
  if (op == "!=") return x != y;
  if (op == "<") return x < y;
  if (op == "<=") return x <= y;
  if (op == ">") return x > y;
  return x >= y;
}

bool eval(const Filter::Node& n, const Json& obj) {
  switch (n.kind) {
    case Filter::Node::kAnd: return eval(*n.a, obj) && eval(*n.b, obj);
    case Filter::Node::kOr: return eval(*n.a, obj) || eval(*n.b, obj);
    case Filter::Node::kNot: return !eval(*n.a, obj);
    case Filter::Node::kCompare: break;
  }
  const Json* v = &obj;
  for (const auto& key : n.path) {
    if (!v->is_object()) return false;
    auto it = v->find(key);
    if (it == v->end()) return false;
    v = &*it;
  }
  if (n.value.is_number() && v->is_number()) return compare(v->get<double>(), n.value.get<double>(), n.op);
  if (n.value.is_string() && v->is_string()) return compare(v->get_ref<const std::string&>(), n.value.get_ref<const std::string&>(), n.op);
  if (n.value.is_boolean() && v->is_boolean()) return compare(v->get<bool>(), n.value.get<bool>(), n.op);
  return false;
}

}  // namespace

Filter::Filter() = default;
Filter::~Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;

Result<Filter> Filter::parse(std::string_view expr) {
  Parser p(expr);
  ASSIGN_OR_RETURN(auto root, p.parse());
  Filter f;
  f.root_ = std::move(root);
  f.text_ = std::string(expr);
  return f;
}

bool Filter::match(const Json& object) const { return root_ && eval(*root_, object); }

}  // namespace sciflow::index
