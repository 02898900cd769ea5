#include "cli/cli.hpp"

#include <fmt/core.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <thread>

#include "codec/zstd.hpp"
#include "core/cancel.hpp"
#include "core/exit_code.hpp"
#include "core/log.hpp"
#include "core/version.hpp"
#include "crypto/hash.hpp"
#include "io/file.hpp"
#include "io/hdf5.hpp"

namespace sciflow::cli {

// ---- Context -----------------------------------------------------------------

int Context::threads() const {
  if (shared_.threads > 0) return shared_.threads;
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

term::ColorMode Context::color_mode() const {
  if (shared_.color == "always") return term::ColorMode::kAlways;
  if (shared_.color == "never") return term::ColorMode::kNever;
  return term::ColorMode::kAuto;
}

Status Context::print(std::string_view text) const { return io::write_all(STDOUT_FILENO, text, "<stdout>"); }

Status Context::print_json(const Json& value) const { return print(to_json_line(value) + "\n"); }

term::ProgressOptions Context::progress(std::string label, int64_t total, bool bytes) const {
  term::ProgressOptions o;
  o.label = std::move(label);
  o.total = total;
  o.bytes = bytes;
  o.fd = STDERR_FILENO;
  o.quiet = shared_.quiet || shared_.json;
  return o;
}

// ---- number checks -------------------------------------------------------------

CLI::Validator number(double lo, double hi, bool whole, Bound low) {
  const bool bounded = hi < std::numeric_limits<int>::max();  // the open-ended defaults say nothing
  auto show = [](double v) { return fmt::format("{}", v); };
  std::string desc = bounded ? fmt::format("{}..{}", show(lo), show(hi)) : "";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const char* s = text.c_str();
        char* end = nullptr;
        const double v = std::strtod(s, &end);
        if (end == s || *end != '\0') return fmt::format("'{}' is not a number", text);
        if (!std::isfinite(v)) return fmt::format("'{}' is not a finite number", text);
        if (whole) {
          char* iend = nullptr;
          (void)std::strtoll(s, &iend, 10);
          if (*iend != '\0') return fmt::format("{} is not a whole number in digits", text);
        }
        if (low == Bound::kAbove && !(v > lo)) return fmt::format("{} is not above {}", text, show(lo));
        if (v < lo) return fmt::format("{} is below {}", text, show(lo));
        if (v > hi) return fmt::format("{} is above {}", text, show(hi));
        return {};
      },
      desc, "");
}

// ---- Definition ----------------------------------------------------------------

CLI::App* Definition::command(const std::string& name, const std::string& description, Handler handler) {
  CLI::App* sub = app_.add_subcommand(name, description);
  handlers_[sub] = std::move(handler);
  order_.push_back(sub);
  return sub;
}

CLI::Option* Definition::choices(CLI::Option* opt, std::vector<std::string> values) {
  opt->check(CLI::IsMember(values));
  choices_[opt] = std::move(values);
  kinds_[opt] = ValueKind::kChoice;
  return opt;
}

CLI::Option* Definition::value_kind(CLI::Option* opt, ValueKind kind) {
  kinds_[opt] = kind;
  return opt;
}

const Handler* Definition::handler_for(const CLI::App* sub) const {
  auto it = handlers_.find(sub);
  return it == handlers_.end() ? nullptr : &it->second;
}

const std::vector<std::string>* Definition::choices_of(const CLI::Option* opt) const {
  auto it = choices_.find(opt);
  return it == choices_.end() ? nullptr : &it->second;
}

ValueKind Definition::kind_of(const CLI::Option* opt) const {
  auto it = kinds_.find(opt);
  if (it != kinds_.end()) return it->second;
  return opt->get_expected_max() == 0 ? ValueKind::kNone : ValueKind::kFile;
}

std::vector<const CLI::App*> Definition::commands() const { return order_; }

// ---- run -----------------------------------------------------------------------

namespace {

// SIGBUS: a file read through a memory map (dxfer's chunks and hashes, vindex's
// vectors) shrank under us, or its storage failed. Say so, then die of the signal
// as before (128+7 in a shell); outputs in progress were never made final.
char g_sigbus_message[256];

extern "C" void on_sigbus(int sig) {
  ssize_t n = ::write(2, g_sigbus_message, std::strlen(g_sigbus_message));
  (void)n;
  ::signal(sig, SIG_DFL);  // the faulting access runs again and ends the process
}

void install_sigbus_message(const std::string& program) {
  fmt::format_to_n(g_sigbus_message, sizeof g_sigbus_message - 1,
                   "{}: error: bus error (SIGBUS) reading a memory-mapped file: it was truncated while being read, "
                   "or its storage failed; nothing in progress was made final, run the command again\n",
                   program);
  struct sigaction sa {};
  sa.sa_handler = on_sigbus;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, nullptr);
}

void print_error_lines(std::string_view tool, std::string_view message) {
  size_t start = 0;
  while (start <= message.size()) {
    size_t nl = message.find('\n', start);
    std::string_view line = message.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    std::string out = fmt::format("{}: error: {}\n", tool, line);
    (void)io::write_all(STDERR_FILENO, out, "<stderr>");
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Status print_version(const ToolInfo& tool, const Context& ctx) {
  std::string text = fmt::format("{} (sciflow) {}\n", tool.name, kVersion);
  if (!ctx.json() && ctx.shared().verbose == 0) return ctx.print(text);  // without loading the HDF5 module
  Json libs = {{"zstd", codec::zstd::library_version()},
               {"openssl", crypto::library_version()},
               {"hdf5", io::h5::library_version()}};
  if (ctx.json()) return ctx.print_json({{"tool", tool.name}, {"version", kVersion}, {"libraries", libs}});
  for (const auto& [k, v] : libs.items()) text += fmt::format("  {}\n", v.get<std::string>());
  return ctx.print(text);
}

Status print_self_check(const Context& ctx) {
  auto results = self_check();
  bool all = true;
  Json arr = Json::array();
  std::string text;
  for (const auto& r : results) {
    all = all && r.ok;
    arr.push_back({{"check", r.name}, {"ok", r.ok}, {"detail", r.detail}});
    text += fmt::format("{:<5}{:<28}{}\n", r.ok ? "ok" : "FAIL", r.name, r.detail);
  }
  RETURN_IF_ERROR(ctx.json() ? ctx.print_json({{"ok", all}, {"checks", arr}}) : ctx.print(text));
  if (!all) return Status(Code::kInternal, "self-check failed");
  return Status::ok();
}

Status generate(const ToolInfo& tool, const Definition& def, const Context& ctx, const std::string& kind,
                const std::string& prose) {
  if (kind == "bash") return ctx.print(generate_bash(tool, def));
  if (kind == "zsh") return ctx.print(generate_zsh(tool, def));
  if (kind == "fish") return ctx.print(generate_fish(tool, def));
  // kind == "man" (choices are checked by the parser)
  if (prose.empty()) return invalid_argument("--generate=man needs --man-prose=FILE (man/<tool>.1.md)");
  ASSIGN_OR_RETURN(std::string md, io::read_file(prose));
  ASSIGN_OR_RETURN(std::string page, generate_man(tool, def, md));
  return ctx.print(page);
}

}  // namespace

int run(const ToolInfo& tool, int argc, char** argv, DefineFn define) {
  // 1. Messages carry the tool's name; signals only set a flag.
  log::set_program(tool.name);
  cancel::install_signal_handlers();
  install_sigbus_message(tool.name);

  // 2. One definition: shared options, then the tool's commands.
  CLI::App app(tool.summary, tool.name);
  app.fallthrough();  // shared options also work after the command: `tezip compress -v ...`
  app.require_subcommand(0, 1);
  app.set_help_flag("-h,--help", "Print help and exit");
  app.footer(fmt::format("Exit status: 0 success, 1 failure, 2 usage error, 128+N killed by signal N.\n"
                         "Run '{} COMMAND --help' for a command's options; 'man {}' for the manual.",
                         tool.name, tool.name));
  Definition def(app);
  SharedOptions shared;
  bool version = false, check = false;
  std::string gen_kind, gen_prose;
  app.add_flag("-v,--verbose", shared.verbose, "More messages on stderr (repeat for more)");
  app.add_flag("-q,--quiet", shared.quiet, "Only errors on stderr; no progress bar");
  app.add_flag("--json", shared.json, "Machine-readable JSON on stdout");
  def.choices(app.add_option("--color", shared.color, "Colour on stderr: auto, always or never")
                  ->type_name("WHEN")
                  ->capture_default_str(),
              {"auto", "always", "never"});
  def.value_kind(app.add_option("-j,--threads", shared.threads, "Worker threads (default: one per core)")
                     ->type_name("N")
                     ->check(whole_number(0, 1024)),
                 ValueKind::kNone);
  app.add_flag("--version", version, "Print the version and exit");
  app.add_flag("--self-check", check, "Check this build's libraries on this machine and exit");
  def.choices(app.add_option("--generate", gen_kind, "Print the man page or a shell completion")->group(""),
              {"man", "bash", "zsh", "fish"});
  app.add_option("--man-prose", gen_prose, "Markdown prose merged into the man page")->group("");
  define(def);

  // 3. Parse, with no side effects; usage errors are one line and exit 2.
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help (CLI11 signals it as a "successful" parse error)
    int rc = app.exit(e);
    std::cout.flush();
    return rc == 0 && std::cout ? kExitOk : kExitFailure;
  } catch (const CLI::ParseError& e) {
    print_error_lines(tool.name, fmt::format("{} (see '{} --help')", one_line(e.what()), tool.name));
    return kExitUsage;
  }

  // 4. Verbosity.
  int level = static_cast<int>(log::Level::kWarn) + shared.verbose;
  if (shared.quiet) level = static_cast<int>(log::Level::kError);
  log::set_level(static_cast<log::Level>(std::min(level, static_cast<int>(log::Level::kTrace))));

  // 5. Dispatch.
  Context ctx(tool.name, shared);
  Status status;
  try {
    if (!gen_kind.empty()) {
      status = generate(tool, def, ctx, gen_kind, gen_prose);
    } else if (version) {
      status = print_version(tool, ctx);
    } else if (check) {
      status = print_self_check(ctx);
    } else {
      auto chosen = app.get_subcommands();
      if (chosen.empty()) {
        std::string names;
        for (const auto* c : def.commands()) names += (names.empty() ? "" : ", ") + c->get_name();
        status = invalid_argument(names.empty() ? fmt::format("no command given (see '{} --help')", tool.name)
                                                : fmt::format("a command is required: {} (see '{} --help')",
                                                              names, tool.name));
      } else {
        const Handler* h = def.handler_for(chosen.front());
        status = h ? (*h)(ctx) : internal_error("no handler for command " + chosen.front()->get_name());
      }
    }
  } catch (const std::exception& e) {
    // Last resort: adapters turn their libraries' exceptions into Status.
    status = internal_error(fmt::format("unexpected exception: {}", e.what()));
  }

  // 6. Report, check stdout, and map to an exit code.
  std::cout.flush();
  if (status.is_ok() && (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)))
    status = errno_status("write '<stdout>'", errno ? errno : EIO);
  if (!status.is_ok() && status.code() != Code::kCancelled) print_error_lines(tool.name, status.message());
  if (status.code() == Code::kCancelled) {
    print_error_lines(tool.name, status.message());
    cancel::reraise_if_signalled();  // dies by the signal: the shell sees 128+N
  }
  if (status.is_ok() && ctx.success_code() != 0) return ctx.success_code();
  return exit_code_for(status, cancel::signal_number());
}

}  // namespace sciflow::cli
