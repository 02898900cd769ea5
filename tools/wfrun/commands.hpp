// wfrun's commands: one options struct and one handler each (docs/STYLE.md).
#pragma once

#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace sciflow::wfrun {

struct RunOptions {
  std::string pipeline;
  std::vector<std::string> params;  // key=value
  std::string dir = ".";
  bool keep_going = false;
  bool dry_run = false;
  std::string executor = "local";
  double poll_s = 2;
  int array_limit = 0;
};

struct StatusOptions {
  std::string dir = ".";
};

struct LogOptions {
  std::string step;
  std::string dir = ".";
  int lines = 40;
};

struct DagOptions {
  std::string pipeline;
  std::vector<std::string> params;
  std::string dir = ".";
};

struct ReportOptions {
  std::string dir = ".";
  std::string run;  // run id; default the newest
  std::string output = "-";
};

Status run_run(const RunOptions& o, cli::Context& ctx);
Status run_status(const StatusOptions& o, cli::Context& ctx);
Status run_log(const LogOptions& o, cli::Context& ctx);
Status run_dag(const DagOptions& o, cli::Context& ctx);
Status run_report(const ReportOptions& o, cli::Context& ctx);

}  // namespace sciflow::wfrun
