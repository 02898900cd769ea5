// wfrun run / dag: load a pipeline, then run it (or draw it).
#include <fmt/core.h>

#include <filesystem>

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "exec/pipeline.hpp"
#include "exec/workflow.hpp"
#include "tools/wfrun/commands.hpp"

namespace sciflow::wfrun {

namespace {

Result<exec::Pipeline> load(const std::string& file, const std::vector<std::string>& params, const std::string& dir) {
  exec::LoadOptions lo;
  lo.workdir = dir;
  for (const auto& kv : params) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return invalid_argument(fmt::format("-p '{}': expected KEY=VALUE", kv));
    lo.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  // A relative pipeline path is taken from where wfrun was started, not from -C.
  return exec::load_pipeline(file, lo);
}

}  // namespace

Status run_run(const RunOptions& o, cli::Context& ctx) {
  if (!std::filesystem::is_directory(o.dir)) return not_found(fmt::format("-C {}: no such directory", o.dir));
  ASSIGN_OR_RETURN(auto p, load(o.pipeline, o.params, o.dir));
  exec::RunOptions ro;
  ro.workdir = o.dir;
  ro.jobs = ctx.threads();
  ro.keep_going = o.keep_going;
  ro.dry_run = o.dry_run;
  ro.executor = o.executor;
  ro.poll_s = o.poll_s;
  ro.array_limit = o.array_limit;
  bool json = ctx.json();
  ro.on_event = [&](const Json& e) {
    if (json) {
      (void)ctx.print(to_json_line(e) + "\n");
      return;
    }
    std::string ev = e.value("event", "");
    std::string job = e.contains("slurm_job_id") ? fmt::format(" [Slurm job {}]", e["slurm_job_id"].get<std::string>()) : "";
    if (ev == "step_start" && e.value("attempt", 1) == 1)
      log::info("{}: running ({}){}", e.value("step", ""), e.value("reason", ""), job);
    else if (ev == "step_retry")
      log::warn("{}: attempt {} {}; retrying in {:.1f} s{}", e.value("step", ""), e.value("attempt", 0),
                e.value("result", ""), e.value("backoff_s", 0.0), job);
    else if (ev == "step_end" && e.value("status", "") != "ok")
      log::error("{}: {}: {}{} (wfrun log {} shows its stderr)", e.value("step", ""), e.value("status", ""),
                 e.value("reason", ""), job, e.value("step", ""));
    else if (ev == "service_ready")
      log::info("service {}: ready", e.value("service", ""));
  };
  ASSIGN_OR_RETURN(auto sum, exec::run_pipeline(p, ro));
  if (o.dry_run) {
    std::string text;
    int would = 0;
    for (const auto& s : sum.steps) {
      if (s.status == "would-run") ++would;
      if (json) {
        RETURN_IF_ERROR(ctx.print(to_json_line(Json{{"step", s.name}, {"status", s.status}, {"reason", s.reason}}) + "\n"));
      } else {
        text += fmt::format("{:<10} {}{}\n", s.status, s.name, s.reason.empty() ? "" : "  (" + s.reason + ")");
      }
    }
    if (!json) text += would ? fmt::format("{} of {} steps would run\n", would, sum.steps.size()) : "nothing to do\n";
    return json ? Status::ok() : ctx.print(text);
  }
  if (!json) {
    for (const auto& s : sum.steps)
      if (s.status == "blocked" || s.status == "not run") log::warn("{}: {} ({})", s.name, s.status, s.reason);
    log::info("{} ran, {} cached, {} failed (run {})", sum.ran, sum.cached, sum.failed, sum.run_id);
  }
  if (sum.cancelled) return cancel::check_cancelled();
  if (!sum.ok())
    return Status(Code::kIoError, fmt::format("{} of {} steps failed", sum.failed, sum.steps.size()));
  return Status::ok();
}

Status run_dag(const DagOptions& o, cli::Context& ctx) {
  ASSIGN_OR_RETURN(auto p, load(o.pipeline, o.params, o.dir));
  return ctx.print(exec::to_dot(p));
}

}  // namespace sciflow::wfrun
