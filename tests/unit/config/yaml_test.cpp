#include <doctest/doctest.h>

#include <algorithm>

#include "config/yaml.hpp"

namespace sciflow::config {

TEST_CASE("yaml: nodes remember line and column") {
  auto doc = parse_yaml("params: {bound: 2}\nsteps:\n  compress:\n    run: tezip c x\n    retries: 3\n", "p.yaml");
  REQUIRE(doc);
  const Node* steps = doc->root.find("steps");
  REQUIRE(steps);
  REQUIRE(steps->is_map());
  const Entry& compress = steps->entries.at(0);
  CHECK(compress.key == "compress");
  CHECK(compress.key_mark.line == 3);
  CHECK(compress.key_mark.column == 3);
  const Node* retries = compress.value.find("retries");
  REQUIRE(retries);
  CHECK(retries->mark.line == 5);
  CHECK(retries->mark.column == 14);
  Diagnostics d("p.yaml");
  CHECK(get_int(*retries, d, "retries") == 3);
  CHECK(d.ok());
}

TEST_CASE("yaml: syntax errors give file:line:column") {
  auto bad = parse_yaml("steps:\n  a: [1, 2\n  b: 3\n", "broken.yaml");
  REQUIRE_FALSE(bad);
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(bad.status().message().rfind("broken.yaml:3:", 0) == 0);
  auto tab = parse_yaml("a: 1\n b: 2\n", "indent.yaml");
  REQUIRE_FALSE(tab);
  CHECK(tab.status().message().rfind("indent.yaml:2:", 0) == 0);
}

TEST_CASE("yaml: duplicate keys are errors at the second key") {
  auto dup = parse_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml");
  REQUIRE_FALSE(dup);
  CHECK(dup.status().message() == "dup.yaml:3:1: duplicate key 'a'");
}

TEST_CASE("yaml: validation reports every problem at once") {
  auto doc = parse_yaml("step:\n  retires: 3\n  timeout: soon\n  run: 'echo'\n  cpus: \"4\"\n", "v.yaml");
  REQUIRE(doc);
  const Node& step = *doc->root.find("step");
  Diagnostics d(doc->name);
  check_keys(step, {"run", "retries", "timeout", "cpus"}, d, "step");
  get_double(*step.find("timeout"), d, "timeout");
  get_int(*step.find("cpus"), d, "cpus");  // quoted: a string, not a number
  CHECK(get_string(*step.find("run"), d, "run") == "echo");
  REQUIRE(d.messages().size() == 3);
  CHECK(d.messages()[0] == "v.yaml:2:3: step: unknown key 'retires' (did you mean 'retries'?)");
  CHECK(d.messages()[1] == "v.yaml:3:12: timeout: expected a number, found 'soon'");
  CHECK(d.messages()[2] == "v.yaml:5:9: cpus: expected an integer, found '4'");
  Status s = d.to_status();
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(std::count(s.message().begin(), s.message().end(), '\n') == 2);
}

TEST_CASE("yaml: load_yaml_file names missing files") {
  auto r = load_yaml_file("/no/such/pipeline.yaml");
  REQUIRE_FALSE(r);
  CHECK(r.status().message() == "open '/no/such/pipeline.yaml': No such file or directory");
}

}  // namespace sciflow::config
