// exec/workflow: run a Pipeline's steps in dependency order, skipping those
// whose cache key is unchanged, and record everything.
//
// State lives in WORKDIR/.wfrun/ (see man/wfrun.5):
//   state.db          SQLite: per step, the cache key and what went into it, and
//                     its status (a step is "ok" only after it succeeded; it is
//                     marked "running" before it starts, so a step interrupted
//                     by a crash or SIGKILL of wfrun never counts as complete)
//   lock              flock'ed by the running wfrun: a second one is refused
//   runs/RUN.jsonl    the event log of each run (one JSON object per line)
//   logs/STEP.out|err the latest attempt's standard output and error
//
// Cache key of a step: SHA-256 over its command (after substitution), its
// declared environment, the path and content hash of every input file (globs
// expanded), and the identity (path, size, mtime) of the program it runs.
// Thread safety: run_pipeline() is called from one thread; it runs steps on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/status.hpp"
#include "exec/pipeline.hpp"

namespace sciflow::exec {

struct RunOptions {
  std::string workdir = ".";
  int jobs = 1;             // CPUs to fill (a step takes resources.cpus of them)
  bool keep_going = false;  // -k: after a failure, run what does not depend on it
  bool dry_run = false;     // decide and report, run nothing
  // "local", or "slurm": each step is an sbatch job (the items of a scatter that
  // are ready together are one job array, at most `array_limit` running at once),
  // followed by one squeue call per `poll_s` for all of them.
  std::string executor = "local";
  double poll_s = 2;
  int array_limit = 0;      // 0: no limit
  // Every event as it happens (also written to runs/RUN.jsonl).
  std::function<void(const Json&)> on_event;
};

struct StepReport {
  std::string name;
  std::string status;  // ok, cached, failed, timeout, killed, skipped, blocked, would-run, cancelled
  std::string reason;  // why it ran (or would run), or why it failed
  int exit_code = 0;
  int attempts = 0;
  double wall_s = 0, cpu_s = 0;
  int64_t max_rss_kb = 0;
};

struct RunSummary {
  std::string run_id;
  std::vector<StepReport> steps;
  int ran = 0, cached = 0, failed = 0;
  bool cancelled = false;
  bool ok() const { return failed == 0 && !cancelled; }
};

Result<RunSummary> run_pipeline(const Pipeline& p, const RunOptions& o);

// What the state database says about each step of the last run in `workdir`.
Result<Json> workflow_status(const std::string& workdir);

// The state directory of `workdir` (WORKDIR/.wfrun).
std::string state_dir(const std::string& workdir);

}  // namespace sciflow::exec
