// wfrun status / log: what the last runs in a directory did.
#include <fmt/core.h>

#include <filesystem>
#include <fstream>

#include "exec/workflow.hpp"
#include "io/file.hpp"
#include "tools/wfrun/commands.hpp"

namespace sciflow::wfrun {

namespace fs = std::filesystem;

Status run_status(const StatusOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(Json st, exec::workflow_status(o.dir));
  if (ctx.json()) return ctx.print_json(st);
  std::string t;
  if (!st["last_run"].is_null())
    t += fmt::format("last run {} of {}: {} (started {})\n", st["last_run"]["id"].get<std::string>(),
                     st["last_run"]["pipeline"].get<std::string>(), st["last_run"]["status"].get<std::string>(),
                     st["last_run"]["started"].get<std::string>());
  for (const auto& s : st["steps"])
    t += fmt::format("{:<10} {}  ({})\n", s["status"].get<std::string>(), s["step"].get<std::string>(),
                     s["updated"].get<std::string>());
  return ctx.print(t);
}

// The last event of `step` in the newest run log that mentions it.
Result<Json> last_event(const std::string& dir, const std::string& step) {
  std::string runs = exec::state_dir(dir) + "/runs";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(runs, ec)) files.push_back(e.path().string());
  std::sort(files.rbegin(), files.rend());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    Json found;
    while (std::getline(in, line)) {
      auto j = parse_json(line, f);
      if (j && j->value("step", "") == step && (j->value("event", "") == "step_end" || j->value("event", "") == "step_start"))
        found = *j;
    }
    if (!found.is_null()) return found;
  }
  return not_found(fmt::format("step '{}': not in any run recorded in {}", step, runs));
}

Status run_log(const LogOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(Json ev, last_event(o.dir, o.step));
  std::string err_path = ev.value("stderr", "");
  std::string tail;
  if (!err_path.empty()) {
    auto text = io::read_file(err_path);
    if (text) {
      auto lines = io::split_lines(*text);
      size_t from = lines.size() > static_cast<size_t>(o.lines) ? lines.size() - static_cast<size_t>(o.lines) : 0;
      for (size_t i = from; i < lines.size(); ++i) (tail += lines[i]) += "\n";
    }
  }
  std::string dir = fs::absolute(o.dir).lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string cmd = ev.value("command", "");
  std::string quoted = "'";
  for (char c : cmd) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  std::string repro = fmt::format("cd {} && sh -c {}", dir, quoted);
  if (ctx.json()) {
    Json j = ev;
    j["stderr_tail"] = tail;
    j["reproduce"] = repro;
    return ctx.print_json(j);
  }
  std::string t = fmt::format("step     {}\nstatus   {}{}\nrun      {}\n", o.step, ev.value("status", "running"),
                              ev.contains("reason") ? " (" + ev["reason"].get<std::string>() + ")" : "",
                              ev.value("run", ""));
  t += fmt::format("stderr   {} (last {} lines)\n", err_path, o.lines);
  t += tail.empty() ? "  (empty)\n" : tail;
  t += fmt::format("reproduce:\n  {}\n", repro);
  return ctx.print(t);
}

}  // namespace sciflow::wfrun
