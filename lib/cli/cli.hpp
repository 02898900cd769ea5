// cli: the one `main` pattern for every sciflow tool.
//
//   int main(int argc, char** argv) {
//     return sciflow::cli::run({"tezip", "compress detector image series"}, argc, argv, define_cli);
//   }
//
// define_cli(Definition&) binds each subcommand's options to its own struct
// (Definition::make<T>()) and registers a handler `Status run_x(const XOptions&,
// Context&)`. Parsing has no side effects; handlers run after it succeeds.
// cli::run installs the signal handlers, parses, sets the log level, dispatches,
// prints the error, checks that stdout was written cleanly, and returns the exit
// code (0, 1, 2, 128+N; see core/exit_code.hpp). Options shared by every tool
// (-v -q --json --color -j --version) are defined here once.
//
// The same definitions generate the man pages and the bash/zsh/fish completions
// (hidden option --generate=man|bash|zsh|fish), so help, man page and completion
// cannot drift apart.
//
// Thread safety: run() is called once, from main.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "term/term.hpp"

namespace sciflow::cli {

// The options every tool has, defined once in run().
struct SharedOptions {
  int verbose = 0;           // -v, repeatable
  bool quiet = false;        // -q
  bool json = false;         // --json: machine-readable output on stdout
  std::string color = "auto";
  int threads = 0;           // -j; 0: one per core
};

// What a handler gets besides its own options.
class Context {
 public:
  Context(std::string tool, SharedOptions shared) : tool_(std::move(tool)), shared_(std::move(shared)) {}

  const std::string& tool() const { return tool_; }
  const SharedOptions& shared() const { return shared_; }
  bool json() const { return shared_.json; }
  bool quiet() const { return shared_.quiet; }
  // -j, or the number of online cores when not given.
  int threads() const;
  term::ColorMode color_mode() const;

  // Data for stdout (never messages). Errors name "<stdout>".
  Status print(std::string_view text) const;
  // One line of JSON on stdout.
  Status print_json(const Json& value) const;
  // Progress options with -q applied; draws on stderr only if it is a tty.
  term::ProgressOptions progress(std::string label, int64_t total, bool bytes = true) const;
  // A successful run's exit code other than 0 (one the tool documents with
  // Definition::exit_code, such as dxfer's 3 for "nothing to do").
  void set_success_code(int code) { success_code_ = code; }
  int success_code() const { return success_code_; }

 private:
  std::string tool_;
  SharedOptions shared_;
  int success_code_ = 0;
};

using Handler = std::function<Status(Context&)>;

// How a value completes in the shells (and how the man page names it).
enum class ValueKind { kNone, kFile, kDirectory, kChoice };

class Definition {
 public:
  explicit Definition(CLI::App& app) : app_(app) {}

  CLI::App& app() { return app_; }

  // An options struct owned by the definition, alive until run() returns.
  template <typename T>
  T& make() {
    auto p = std::make_shared<T>();
    owned_.push_back(p);
    return *p;
  }

  // Adds subcommand `name`; `handler` runs if it is chosen.
  CLI::App* command(const std::string& name, const std::string& description, Handler handler);

  // Restricts `opt` to `values` (checked while parsing; completed in shells).
  CLI::Option* choices(CLI::Option* opt, std::vector<std::string> values);
  // Marks the completion of `opt`'s value (default: files for every value).
  CLI::Option* value_kind(CLI::Option* opt, ValueKind kind);

  // Documents an exit code beyond 0/1/2/128+N (dxfer: 3 nothing to do).
  void exit_code(int code, std::string meaning) { exit_codes_.push_back({code, std::move(meaning)}); }

  // Used by run() and the generators.
  const Handler* handler_for(const CLI::App* sub) const;
  const std::vector<std::string>* choices_of(const CLI::Option* opt) const;
  ValueKind kind_of(const CLI::Option* opt) const;
  const std::vector<std::pair<int, std::string>>& exit_codes() const { return exit_codes_; }
  std::vector<const CLI::App*> commands() const;

 private:
  CLI::App& app_;
  std::vector<std::shared_ptr<void>> owned_;
  std::map<const CLI::App*, Handler> handlers_;
  std::vector<const CLI::App*> order_;
  std::map<const CLI::Option*, std::vector<std::string>> choices_;
  std::map<const CLI::Option*, ValueKind> kinds_;
  std::vector<std::pair<int, std::string>> exit_codes_;
};

// The check of a numeric option: its value must be a finite number (a whole one
// for `whole`) in [lo, hi], or in (lo, hi] for Bound::kAbove. Errors name the value
// and the limit ("--abs: -1 is below 0"; "--block: 4.5 is not a whole number"), and
// NaN and infinities never pass, as they do CLI11's Range. In --help and the man
// page a finite range reads "4..4096"; open-ended ones add nothing.
enum class Bound { kAtLeast, kAbove };
CLI::Validator number(double lo, double hi = std::numeric_limits<double>::max(), bool whole = false,
                      Bound low = Bound::kAtLeast);
inline CLI::Validator whole_number(double lo, double hi = std::numeric_limits<int>::max(), Bound low = Bound::kAtLeast) {
  return number(lo, hi, true, low);
}

struct ToolInfo {
  std::string name;     // "tezip"
  std::string summary;  // one line, for NAME in the man page and the top of --help
};

using DefineFn = void (*)(Definition&);

// Runs the tool; returns the exit code for main().
int run(const ToolInfo& tool, int argc, char** argv, DefineFn define);

// --- documentation generators (docgen.cpp) --------------------------------

// The man page: hand-written prose from `prose_md` (see man/README.md for the
// markdown subset) merged with SYNOPSIS, COMMANDS, OPTIONS and EXIT STATUS
// generated from the definition. Pure: same input, same bytes.
Result<std::string> generate_man(const ToolInfo& tool, const Definition& def, std::string_view prose_md);
std::string generate_bash(const ToolInfo& tool, const Definition& def);
std::string generate_zsh(const ToolInfo& tool, const Definition& def);
std::string generate_fish(const ToolInfo& tool, const Definition& def);

// Markdown subset to roff (exposed for tests).
std::string markdown_to_roff(std::string_view md);

// --- self-check (selfcheck.cpp) -----------------------------------------------

struct CheckResult {
  std::string name;    // "zstd round trip"
  bool ok = false;
  std::string detail;  // version or failure cause
};
// Exercises each adapter of the library on this machine (zstd, SHA-256, HDF5,
// YAML, atomic output, process runner) in a private temporary directory.
std::vector<CheckResult> self_check();

}  // namespace sciflow::cli
