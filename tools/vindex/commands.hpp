// vindex's commands: one options struct and one handler each (docs/STYLE.md).
#pragma once

#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "index/store.hpp"

namespace sciflow::vindex {

struct BuildOptions {
  std::string input;
  std::string output;
  std::string format = "auto";
  std::string metric = "l2";
  std::string engine = "hnsw";
  index::BuildParams params;
  std::string shard;  // I/N
  bool force = false;
};

struct AddOptions {
  std::string index;
  std::string input;
  std::string format = "auto";
};

struct DeleteOptions {
  std::string index;
  std::vector<int64_t> ids;
  std::string ids_from;  // file of ids, one per line ("-": stdin)
  bool compact = false;
};

struct CompactOptions {
  std::string index;
};

struct SearchOptions {
  std::string index;
  std::string queries;
  std::string format = "auto";
  std::string output = "-";
  int64_t k = 10;
  int ef = 0;
  int nprobe = 0;
  std::string where;
  bool with_metadata = false;
  bool no_verify = false;
};

struct InfoOptions {
  std::string index;
  bool no_verify = false;
};

struct EvalOptions {
  std::string index;
  std::string queries;
  std::string groundtruth;
  int64_t k = 10;
  int ef = 0;
  int nprobe = 0;
  double min_time = 1.0;
  bool no_verify = false;
};

struct EmbedOptions {
  std::string model;
  std::string input;
  std::string output;
  int64_t batch = 32;
  std::string device = "cpu";
  bool force = false;
  bool drop_alpha = false;
};

Status run_build(const BuildOptions& o, cli::Context& ctx);
Status run_add(const AddOptions& o, cli::Context& ctx);
Status run_delete(const DeleteOptions& o, cli::Context& ctx);
Status run_compact(const CompactOptions& o, cli::Context& ctx);
Status run_search(const SearchOptions& o, cli::Context& ctx);
Status run_info(const InfoOptions& o, cli::Context& ctx);
Status run_eval(const EvalOptions& o, cli::Context& ctx);
Status run_embed(const EmbedOptions& o, cli::Context& ctx);

}  // namespace sciflow::vindex
