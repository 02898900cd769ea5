#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace sciflow::cli {
namespace {

struct DemoOptions {
  std::string input;
  std::string output = "-";
  double bound = 0;
  std::string mode = "fast";
};

DemoOptions g_seen;
bool g_ran = false;

void define_demo(Definition& def) {
  auto& o = def.make<DemoOptions>();
  auto* c = def.command("squash", "Squash frames", [&o](Context& ctx) {
    g_seen = o;
    g_ran = true;
    return ctx.threads() > 0 ? Status::ok() : internal_error("no threads");
  });
  c->alias("s");
  c->add_option("input", o.input, "Input frames")->required();
  c->add_option("-o,--output", o.output, "Output file")->capture_default_str();
  def.value_kind(c->add_option("--abs", o.bound, "Absolute error bound")->type_name("E"), ValueKind::kNone);
  def.choices(c->add_option("--mode", o.mode, "Speed"), {"fast", "best"});
  def.exit_code(3, "Nothing to do.");
}

int run_args(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  g_ran = false;
  return run({"demo", "a demo tool"}, static_cast<int>(argv.size()), argv.data(), define_demo);
}

}  // namespace

TEST_CASE("cli: options reach the handler; shared options work after the command") {
  CHECK(run_args({"demo", "squash", "in.h5", "-o", "x.tez", "--abs", "2.5", "--mode", "best", "-q"}) == 0);
  CHECK(g_ran);
  CHECK(g_seen.input == "in.h5");
  CHECK(g_seen.output == "x.tez");
  CHECK(g_seen.bound == 2.5);
  CHECK(g_seen.mode == "best");
  CHECK(run_args({"demo", "-j", "3", "s", "in.h5"}) == 0);
  CHECK(g_seen.output == "-");
}

TEST_CASE("cli: usage errors exit 2 without running the handler") {
  CHECK(run_args({"demo", "squash", "in.h5", "--frobnicate"}) == 2);
  CHECK(run_args({"demo", "squash"}) == 2);                     // missing INPUT
  CHECK(run_args({"demo", "squash", "x", "--mode", "slow"}) == 2);  // not a choice
  CHECK(run_args({"demo", "squash", "x", "--abs", "two"}) == 2);    // not a number
  CHECK(run_args({"demo"}) == 2);                                // no command
  CHECK_FALSE(g_ran);
}

TEST_CASE("cli: generated man page and completions come from the definition") {
  CLI::App app("a demo tool", "demo");
  Definition def(app);
  define_demo(def);
  std::string prose = "{{SYNOPSIS}}\n# DESCRIPTION\n\nUse `demo -v` *carefully*.\n\n{{COMMANDS}}\n{{OPTIONS}}\n{{EXIT STATUS}}\n";
  auto man = generate_man({"demo", "a demo tool"}, def, prose);
  REQUIRE(man);
  CHECK(man->find(".TH DEMO 1") != std::string::npos);
  CHECK(man->find("demo \\- a demo tool") != std::string::npos);
  CHECK(man->find("\\fBdemo squash\\fR [\\fIOPTIONS\\fR] \\fIINPUT\\fR") != std::string::npos);
  CHECK(man->find(".SS \"demo squash (alias s)\"") != std::string::npos);
  CHECK(man->find("\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIVALUE\\fR\nOutput file [default: \\-]") != std::string::npos);
  CHECK(man->find("\\fB\\-\\-mode\\fR \\fIfast|best\\fR") != std::string::npos);
  CHECK(man->find("\\fB3\\fR\nNothing to do.") != std::string::npos);
  CHECK(man->find("Use \\fBdemo \\-v\\fR \\fIcarefully\\fR.") != std::string::npos);
  CHECK_FALSE(generate_man({"demo", "x"}, def, "# DESCRIPTION\n").has_value());

  std::string bash = generate_bash({"demo", "x"}, def);
  CHECK(bash.find("complete -o filenames -F _demo demo") != std::string::npos);
  CHECK(bash.find("squash|s) words='-h --help -o --output --abs --mode") != std::string::npos);
  CHECK(bash.find("--mode) case $cmd in squash|s) COMPREPLY=($(compgen -W 'fast best'") != std::string::npos);
  std::string zsh = generate_zsh({"demo", "x"}, def);
  CHECK(zsh.rfind("#compdef demo\n", 0) == 0);
  CHECK(zsh.find("'--mode=[Speed]:fast best:(fast best)'") != std::string::npos);
  std::string fish = generate_fish({"demo", "x"}, def);
  CHECK(fish.find("complete -c demo -n '__fish_use_subcommand' -a s -d 'Squash frames'") != std::string::npos);
  CHECK(fish.find("-l mode -x -a 'fast best'") != std::string::npos);
}

TEST_CASE("cli: number checks refuse NaN, infinities, fractions and values out of range, naming them") {
  auto check = [](const CLI::Validator& v, std::string text) { return v(text); };  // "" when it passes
  const CLI::Validator bound = number(0);
  CHECK(check(bound, "0") == "");
  CHECK(check(bound, "2.5") == "");
  CHECK(check(bound, "1e300") == "");
  CHECK(check(bound, "-1") == "-1 is below 0");
  CHECK(check(bound, "nan") == "'nan' is not a finite number");
  CHECK(check(bound, "-inf") == "'-inf' is not a finite number");
  CHECK(check(bound, "abc") == "'abc' is not a number");
  CHECK(check(bound, "3x") == "'3x' is not a number");
  const CLI::Validator above = number(0, 10, false, Bound::kAbove);
  CHECK(check(above, "0") == "0 is not above 0");
  CHECK(check(above, "0.01") == "");
  CHECK(check(above, "10.5") == "10.5 is above 10");
  const CLI::Validator block = whole_number(4, 4096);
  CHECK(check(block, "8") == "");
  CHECK(check(block, "4.5") == "4.5 is not a whole number in digits");
  CHECK(check(block, "3") == "3 is below 4");
  CHECK(check(block, "5000") == "5000 is above 4096");
  CHECK(block.get_description() == "4..4096");
  CHECK(whole_number(1).get_description() == "");  // open-ended: nothing to add to the help
}

TEST_CASE("cli: markdown subset to roff") {
  std::string r = markdown_to_roff("# SEE ALSO\n\nline one\nline two\n\n- item **b**\n\n```\n.dot -x\n```\n\nTERM\n: meaning\n");
  CHECK(r == ".SH SEE ALSO\nline one\nline two\n.IP \\(bu 2\nitem \\fBb\\fR\n.PP\n.RS 4\n.nf\n\\&.dot \\-x\n.fi\n.RE\n.TP\nTERM\nmeaning\n");
}

TEST_CASE("cli: self-check passes on this machine") {
  auto results = self_check();
  REQUIRE(results.size() == 6);
  for (const auto& r : results) {
    INFO(r.name << ": " << r.detail);
    CHECK(r.ok);
  }
}

}  // namespace sciflow::cli
