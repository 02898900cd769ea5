// exec/pipeline: a wfrun pipeline file (schema in man/wfrun.5) as a validated
// graph of concrete steps.
//
//   params: {bound: 2}
//   steps:
//     compress:
//       run: tezip compress frames/ -o run.tez --abs ${params.bound}
//       inputs: [frames/*.png]
//       outputs: [run.tez]
//     push:
//       needs: [compress]
//       run: dxfer push run.tez https://127.0.0.1:8443/runs/
//
// load_pipeline() reads the file and its includes, checks every key and value,
// substitutes ${params.NAME}, ${item} (foreach) and ${env.NAME}, expands foreach
// scatters into one step per item (NAME[ITEM]) plus the gather step that needs
// them all, adds the order implied by files (a step that reads a file another
// step writes runs after it), and reports every problem at once as
// file:line:column, cycles spelled out step by step.
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "config/yaml.hpp"

namespace sciflow::exec {

struct Resources {
  int cpus = 1;
  int64_t mem_mb = 0;  // 0: not declared
  int gpus = 0;
  double time_s = 0;   // Slurm --time; 0: not declared
};

struct Step {
  std::string name;                 // "compress", or "compress[a.png]" for a scatter item
  std::string group;                // the step's name in the file (== name unless scattered)
  std::string run;                  // the command, after substitution (run by /bin/sh -c)
  std::string raw_run;              // the command as written
  std::vector<std::string> inputs;  // files and globs, after substitution
  std::vector<std::string> outputs;
  std::vector<std::string> needs;   // names of concrete steps, explicit and implied
  std::vector<std::pair<std::string, std::string>> env;  // declared environment (part of the cache key)
  Resources resources;
  int retries = 0;
  double backoff_s = 1;             // first retry delay; doubles each time
  double timeout_s = 0;
  std::string when;                 // condition over params (index::Filter syntax); "" always
  bool when_true = true;            // evaluated at load time
  config::Mark mark;                // where the step is defined
  std::string file;                 // which file
};

struct Service {
  std::string name;
  std::string run;
  std::string ready;                // health check command: ready when it exits 0
  double ready_timeout_s = 30;
  std::vector<std::string> used_by; // steps that need it (empty: all)
  config::Mark mark;
};

struct Pipeline {
  std::string file;
  std::map<std::string, std::string> params;  // after -p overrides
  std::vector<Step> steps;                     // in a valid execution order
  std::vector<Service> services;
  // Index of a step by name.
  const Step* find(std::string_view name) const;
};

struct LoadOptions {
  std::vector<std::pair<std::string, std::string>> overrides;  // -p key=value
  std::string workdir;  // where globs are expanded ("" : the current directory)
};

Result<Pipeline> load_pipeline(const std::string& path, const LoadOptions& options);

// Graphviz dot of the steps and their edges.
std::string to_dot(const Pipeline& p);

}  // namespace sciflow::exec
