// Man pages and shell completions generated from the CLI11 definitions.
// Output is deterministic (no dates), so committed copies can be compared
// byte for byte with what the binaries generate.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "cli/cli.hpp"
#include "core/version.hpp"

namespace sciflow::cli {
namespace {

using OptionList = std::vector<const CLI::Option*>;

bool hidden(const CLI::Option* o) { return o->get_group().empty(); }
// Flags expect no value (CLI11 sets expected(0) for them).
bool takes_value(const CLI::Option* o) { return o->get_expected_max() != 0; }

// Options of `app` to document: visible, named (not positional), in definition order.
OptionList named_options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !hidden(o) && o->nonpositional(); });
}
OptionList positionals(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !hidden(o) && !o->nonpositional(); });
}

std::vector<std::string> names_of(const CLI::App* c) {
  std::vector<std::string> n{c->get_name()};
  for (const auto& a : c->get_aliases()) n.push_back(a);
  return n;
}

std::string value_name(const Definition& def, const CLI::Option* o) {
  if (const auto* ch = def.choices_of(o)) {
    std::string s;
    for (const auto& c : *ch) s += (s.empty() ? "" : "|") + c;
    return s;
  }
  std::string t = o->get_type_name();
  if (t.empty() || t == "TEXT") t = def.kind_of(o) == ValueKind::kDirectory ? "DIR" : "VALUE";
  // CLI11 appends validator descriptions ("INT:NONNEGATIVE"); keep the type only.
  if (auto c = t.find(':'); c != std::string::npos) t.resize(c);
  return t;
}

std::string positional_name(const CLI::Option* o) {
  std::string n = o->get_name();
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::toupper(c); });
  if (o->get_items_expected_max() > 1) n += "...";
  return o->get_required() ? n : "[" + n + "]";
}

// ---- roff ------------------------------------------------------------------------

std::string roff_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string roff_option(const Definition& def, const CLI::Option* o) {
  std::string s;
  for (const auto& n : o->get_snames()) s += (s.empty() ? "" : ", ") + fmt::format("\\fB\\-{}\\fR", roff_escape(n));
  for (const auto& n : o->get_lnames()) s += (s.empty() ? "" : ", ") + fmt::format("\\fB\\-\\-{}\\fR", roff_escape(n));
  if (takes_value(o)) s += fmt::format(" \\fI{}\\fR", roff_escape(value_name(def, o)));
  return s;
}

std::string option_help(const CLI::Option* o) {
  std::string d = o->get_description();
  if (o->get_required()) d += " (required)";
  std::string def = o->get_default_str();
  if (!def.empty() && takes_value(o)) d += fmt::format(" [default: {}]", def);
  return d;
}

std::string roff_options(const Definition& def, const OptionList& opts) {
  std::string s;
  for (const auto* o : opts) {
    s += ".TP\n" + roff_option(def, o) + "\n" + roff_escape(option_help(o)) + "\n";
  }
  return s;
}

std::string synopsis_line(const ToolInfo& tool, const CLI::App* c) {
  std::string s = fmt::format("\\fB{}", roff_escape(tool.name));
  if (c) s += " " + roff_escape(c->get_name());
  s += "\\fR [\\fIOPTIONS\\fR]";
  if (c)
    for (const auto* p : positionals(*c)) s += fmt::format(" \\fI{}\\fR", roff_escape(positional_name(p)));
  return s;
}

std::string inline_markdown(std::string_view line) {
  std::string out;
  size_t i = 0;
  auto close_at = [&](std::string_view marker) { return line.find(marker, i + marker.size()); };
  while (i < line.size()) {
    if (line.compare(i, 2, "**") == 0 && close_at("**") != std::string_view::npos) {
      size_t e = close_at("**");
      out += "\\fB" + roff_escape(line.substr(i + 2, e - i - 2)) + "\\fR";
      i = e + 2;
    } else if (line[i] == '`' && close_at("`") != std::string_view::npos) {
      size_t e = close_at("`");
      out += "\\fB" + roff_escape(line.substr(i + 1, e - i - 1)) + "\\fR";
      i = e + 1;
    } else if (line[i] == '*' && close_at("*") != std::string_view::npos && i + 1 < line.size() &&
               line[i + 1] != ' ') {
      size_t e = close_at("*");
      out += "\\fI" + roff_escape(line.substr(i + 1, e - i - 1)) + "\\fR";
      i = e + 1;
    } else if (line[i] == '\\') {
      out += "\\e";
      ++i;
    } else if (line[i] == '-') {
      out += "\\-";
      ++i;
    } else {
      out += line[i++];
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

// ---- shells ------------------------------------------------------------------------

std::string shell_word_list(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::vector<std::string> flag_words(const OptionList& opts) {
  std::vector<std::string> w;
  for (const auto* o : opts) {
    for (const auto& n : o->get_snames()) w.push_back("-" + n);
    for (const auto& n : o->get_lnames()) w.push_back("--" + n);
  }
  return w;
}

std::string zsh_quote_desc(std::string_view d) {
  std::string s;
  for (char c : d) {
    if (c == '\'') s += "'\\''";
    else if (c == '[' || c == ']' || c == ':') s += std::string("\\") + c;
    else s += c;
  }
  return s;
}

std::string zsh_value(const Definition& def, const CLI::Option* o) {
  if (!takes_value(o)) return "";
  std::string name = value_name(def, o);
  for (char& c : name)
    if (c == ':' || c == '|') c = ' ';
  if (const auto* ch = def.choices_of(o)) return fmt::format(":{}:({})", name, shell_word_list(*ch));
  switch (def.kind_of(o)) {
    case ValueKind::kFile: return fmt::format(":{}:_files", name);
    case ValueKind::kDirectory: return fmt::format(":{}:_files -/", name);
    default: return fmt::format(":{}: ", name);
  }
}

std::string zsh_specs(const Definition& def, const OptionList& opts, std::string_view indent) {
  std::string s;
  for (const auto* o : opts) {
    std::vector<std::string> names;
    for (const auto& n : o->get_snames()) names.push_back("-" + n);
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
    std::string desc = zsh_quote_desc(o->get_description());
    std::string value = zsh_value(def, o);
    for (const auto& n : names) {
      // "--name=" lets zsh complete both "--name VALUE" and "--name=VALUE" for long options.
      std::string spec = n + (value.empty() || n.rfind("--", 0) != 0 ? "" : "=");
      s += fmt::format("{}'{}[{}]{}'\n", indent, spec, desc, value);
    }
  }
  return s;
}

std::string fish_quote(std::string_view d) {
  std::string s = "'";
  for (char c : d) {
    if (c == '\'' || c == '\\') s += '\\';
    s += c;
  }
  return s + "'";
}

std::string fish_option_lines(const ToolInfo& tool, const Definition& def, const OptionList& opts,
                              const std::string& condition) {
  std::string s;
  for (const auto* o : opts) {
    std::string line = "complete -c " + tool.name;
    if (!condition.empty()) line += " -n " + fish_quote(condition);
    for (const auto& n : o->get_snames()) line += " -s " + n;
    for (const auto& n : o->get_lnames()) line += " -l " + n;
    if (takes_value(o)) {
      if (const auto* ch = def.choices_of(o)) line += " -x -a " + fish_quote(shell_word_list(*ch));
      else if (def.kind_of(o) == ValueKind::kFile) line += " -r -F";
      else if (def.kind_of(o) == ValueKind::kDirectory) line += " -x -a '(__fish_complete_directories)'";
      else line += " -x";
    }
    line += " -d " + fish_quote(o->get_description());
    s += line + "\n";
  }
  return s;
}

}  // namespace

std::string markdown_to_roff(std::string_view md) {
  std::vector<std::string> lines = split_lines(md);
  std::string out;
  bool in_code = false, need_pp = false, section_start = true;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.rfind("```", 0) == 0) {
      if (!in_code) out += (section_start ? "" : ".PP\n") + std::string(".RS 4\n.nf\n");
      else out += ".fi\n.RE\n";
      in_code = !in_code;
      need_pp = false;
      section_start = false;
      continue;
    }
    if (in_code) {
      out += roff_escape(l) + "\n";
      continue;
    }
    if (l.empty()) {
      need_pp = true;
      continue;
    }
    if (l.rfind("## ", 0) == 0) {
      out += ".SS " + roff_escape(l.substr(3)) + "\n";
      need_pp = false;
      section_start = true;
      continue;
    }
    if (l.rfind("# ", 0) == 0) {
      out += ".SH " + roff_escape(l.substr(2)) + "\n";
      need_pp = false;
      section_start = true;
      continue;
    }
    if (l.rfind("- ", 0) == 0) {
      out += ".IP \\(bu 2\n" + inline_markdown(l.substr(2)) + "\n";
      need_pp = false;
      section_start = false;
      continue;
    }
    if (i + 1 < lines.size() && lines[i + 1].rfind(": ", 0) == 0) {
      out += ".TP\n" + inline_markdown(l) + "\n" + inline_markdown(lines[i + 1].substr(2)) + "\n";
      ++i;
      need_pp = false;
      section_start = false;
      continue;
    }
    if (need_pp && !section_start) out += ".PP\n";
    std::string_view body = l;
    while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
    out += inline_markdown(body) + "\n";
    need_pp = false;
    section_start = false;
  }
  if (in_code) out += ".fi\n.RE\n";
  return out;
}

Result<std::string> generate_man(const ToolInfo& tool, const Definition& def, std::string_view prose_md) {
  const CLI::App& app = const_cast<Definition&>(def).app();
  std::string upper = tool.name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string out;
  out += fmt::format(".\\\" Generated by '{} --generate=man' from man/{}.1.md and the CLI definition.\n",
                     tool.name, tool.name);
  out += ".\\\" Do not edit: change the prose or the code and regenerate (cmake --build build -t docs).\n";
  out += fmt::format(".TH {} 1 \"\" \"sciflow {}\" \"sciflow manual\"\n", upper, kVersion);
  out += fmt::format(".SH NAME\n{} \\- {}\n", roff_escape(tool.name), roff_escape(tool.summary));

  std::string synopsis = ".SH SYNOPSIS\n";
  auto cmds = def.commands();
  if (cmds.empty()) {
    synopsis += synopsis_line(tool, nullptr) + "\n";
  } else {
    for (size_t i = 0; i < cmds.size(); ++i)
      synopsis += (i ? ".br\n" : "") + synopsis_line(tool, cmds[i]) + "\n";
  }

  std::string commands;
  if (!cmds.empty()) {
    commands = ".SH COMMANDS\n";
    for (const auto* c : cmds) {
      std::string heading = tool.name + " " + c->get_name();
      if (!c->get_aliases().empty()) {
        heading += " (alias";
        for (const auto& a : c->get_aliases()) heading += " " + a;
        heading += ")";
      }
      commands += ".SS \"" + roff_escape(heading) + "\"\n" + roff_escape(c->get_description()) + "\n";
      for (const auto* p : positionals(*c))
        commands += ".TP\n\\fI" + roff_escape(positional_name(p)) + "\\fR\n" + roff_escape(option_help(p)) + "\n";
      OptionList opts = named_options(*c);
      std::erase_if(opts, [](const CLI::Option* o) { return o->get_lnames() == std::vector<std::string>{"help"}; });
      commands += roff_options(def, opts);
    }
  }

  std::string options = ".SH OPTIONS\nThese options are shared by every sciflow tool and may also follow the command.\n" +
                        roff_options(def, named_options(app));

  std::string exit_status =
      ".SH EXIT STATUS\n.TP\n\\fB0\\fR\nSuccess.\n.TP\n\\fB1\\fR\nThe work failed; the message on stderr says why.\n"
      ".TP\n\\fB2\\fR\nUsage error: a bad option, argument or configuration.\n";
  for (const auto& [code, meaning] : def.exit_codes())
    exit_status += fmt::format(".TP\n\\fB{}\\fR\n{}\n", code, roff_escape(meaning));
  exit_status += ".TP\n\\fB128+N\\fR\nStopped by signal N (130 for SIGINT, 143 for SIGTERM); outputs are not left behind.\n";

  std::vector<std::string> placeholders = {"{{SYNOPSIS}}", "{{COMMANDS}}", "{{OPTIONS}}", "{{EXIT STATUS}}"};
  std::vector<bool> used(placeholders.size(), false);
  std::string body;
  std::string chunk;
  auto flush = [&] {
    body += markdown_to_roff(chunk);
    chunk.clear();
  };
  for (const auto& line : split_lines(prose_md)) {
    auto it = std::find(placeholders.begin(), placeholders.end(), line);
    if (it == placeholders.end()) {
      chunk += line + "\n";
      continue;
    }
    flush();
    size_t k = static_cast<size_t>(it - placeholders.begin());
    used[k] = true;
    body += k == 0 ? synopsis : k == 1 ? commands : k == 2 ? options : exit_status;
  }
  flush();
  for (size_t k = 0; k < placeholders.size(); ++k)
    if (!used[k]) return invalid_argument(fmt::format("man prose for {} lacks the line {}", tool.name, placeholders[k]));
  return out + body;
}

std::string generate_bash(const ToolInfo& tool, const Definition& def) {
  const CLI::App& app = const_cast<Definition&>(def).app();
  std::string fn = "_" + tool.name;
  OptionList shared = named_options(app);
  auto cmds = def.commands();
  std::string s;
  s += fmt::format("# bash completion for {} -- generated by '{} --generate=bash'; do not edit.\n", tool.name, tool.name);
  s += fmt::format("{}() {{\n", fn);
  s += "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n";
  s += "  local cmd= i\n";
  if (!cmds.empty()) {
    std::vector<std::string> all;
    for (const auto* c : cmds)
      for (const auto& n : names_of(c)) all.push_back(n);
    std::string pattern;
    for (const auto& n : all) pattern += (pattern.empty() ? "" : "|") + n;
    s += "  for ((i = 1; i < COMP_CWORD; i++)); do\n";
    s += fmt::format("    case ${{COMP_WORDS[i]}} in {}) cmd=${{COMP_WORDS[i]}}; break ;; esac\n", pattern);
    s += "  done\n";
  }
  // Values of options that take one.
  s += "  case $prev in\n";
  auto value_cases = [&](const OptionList& opts, const std::string& cmd_pattern) {
    for (const auto* o : opts) {
      if (!takes_value(o)) continue;
      std::vector<std::string> w = flag_words({o});
      std::string pat;
      for (const auto& x : w) pat += (pat.empty() ? "" : "|") + x;
      std::string action;
      if (const auto* ch = def.choices_of(o))
        action = fmt::format("COMPREPLY=($(compgen -W '{}' -- \"$cur\"))", shell_word_list(*ch));
      else if (def.kind_of(o) == ValueKind::kFile)
        action = "COMPREPLY=($(compgen -f -- \"$cur\"))";
      else if (def.kind_of(o) == ValueKind::kDirectory)
        action = "COMPREPLY=($(compgen -d -- \"$cur\"))";
      else
        action = "COMPREPLY=()";
      if (cmd_pattern.empty())
        s += fmt::format("    {}) {}; return ;;\n", pat, action);
      else
        s += fmt::format("    {}) case $cmd in {}) {}; return ;; esac ;;\n", pat, cmd_pattern, action);
    }
  };
  value_cases(shared, "");
  for (const auto* c : cmds) {
    std::string pat;
    for (const auto& n : names_of(c)) pat += (pat.empty() ? "" : "|") + n;
    value_cases(named_options(*c), pat);
  }
  s += "  esac\n";
  std::vector<std::string> shared_words = flag_words(shared);
  s += "  local words\n  case $cmd in\n";
  std::vector<std::string> top = shared_words;
  for (const auto* c : cmds) top.push_back(c->get_name());
  s += fmt::format("    '') words='{}' ;;\n", shell_word_list(top));
  for (const auto* c : cmds) {
    std::string pat;
    for (const auto& n : names_of(c)) pat += (pat.empty() ? "" : "|") + n;
    std::vector<std::string> w = flag_words(named_options(*c));
    w.insert(w.end(), shared_words.begin(), shared_words.end());
    s += fmt::format("    {}) words='{}' ;;\n", pat, shell_word_list(w));
  }
  s += "  esac\n";
  s += "  if [[ $cur == -* || -z $cmd ]]; then\n";
  s += "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n";
  s += "  else\n";
  s += "    COMPREPLY=($(compgen -f -- \"$cur\"))\n";
  s += "  fi\n";
  s += "}\n";
  s += fmt::format("complete -o filenames -F {} {}\n", fn, tool.name);
  return s;
}

std::string generate_zsh(const ToolInfo& tool, const Definition& def) {
  const CLI::App& app = const_cast<Definition&>(def).app();
  auto cmds = def.commands();
  std::string s;
  s += fmt::format("#compdef {}\n", tool.name);
  s += fmt::format("# zsh completion for {} -- generated by '{} --generate=zsh'; do not edit.\n\n", tool.name, tool.name);
  s += fmt::format("_{}() {{\n", tool.name);
  s += "  local curcontext=$curcontext state line ret=1\n";
  s += "  local -a shared\n  shared=(\n" + zsh_specs(def, named_options(app), "    ") + "  )\n";
  if (cmds.empty()) {
    s += "  _arguments -s $shared && ret=0\n  return ret\n}\n";
    s += fmt::format("\n_{} \"$@\"\n", tool.name);
    return s;
  }
  s += "  _arguments -C -s $shared ': :->command' '*:: :->args' && ret=0\n";
  s += "  case $state in\n    command)\n      local -a commands\n      commands=(\n";
  for (const auto* c : cmds)
    for (const auto& n : names_of(c))
      s += fmt::format("        '{}:{}'\n", n, zsh_quote_desc(c->get_description()));
  s += "      )\n      _describe -t commands 'command' commands && ret=0\n      ;;\n";
  s += "    args)\n      case $line[1] in\n";
  for (const auto* c : cmds) {
    std::string pat;
    for (const auto& n : names_of(c)) pat += (pat.empty() ? "" : "|") + n;
    s += fmt::format("        {})\n          _arguments -s $shared \\\n", pat);
    std::string specs = zsh_specs(def, named_options(*c), "            ");
    // Each spec line becomes an argument continued with a backslash.
    std::istringstream in(specs);
    std::string line;
    while (std::getline(in, line)) s += line + " \\\n";
    s += "            '*:file:_files' && ret=0\n          ;;\n";
  }
  s += "      esac\n      ;;\n  esac\n  return ret\n}\n";
  s += fmt::format("\n_{} \"$@\"\n", tool.name);
  return s;
}

std::string generate_fish(const ToolInfo& tool, const Definition& def) {
  const CLI::App& app = const_cast<Definition&>(def).app();
  auto cmds = def.commands();
  std::string s;
  s += fmt::format("# fish completion for {} -- generated by '{} --generate=fish'; do not edit.\n", tool.name, tool.name);
  s += fmt::format("complete -c {} -f\n", tool.name);
  s += fish_option_lines(tool, def, named_options(app), "");
  for (const auto* c : cmds) {
    for (const auto& n : names_of(c))
      s += fmt::format("complete -c {} -n '__fish_use_subcommand' -a {} -d {}\n", tool.name, n,
                       fish_quote(c->get_description()));
    std::string names = shell_word_list(names_of(c));
    std::string cond = "__fish_seen_subcommand_from " + names;
    s += fish_option_lines(tool, def, named_options(*c), cond);
    if (!positionals(*c).empty()) s += fmt::format("complete -c {} -n {} -F\n", tool.name, fish_quote(cond));
  }
  return s;
}

}  // namespace sciflow::cli
