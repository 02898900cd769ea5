// dxfer's commands: one options struct and one handler each (docs/STYLE.md).
#pragma once

#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace sciflow::dxfer {

struct KeygenOptions {
  std::string output;
};

struct TokenOptions {
  std::string action = "create";
  std::string tokens;
  std::vector<std::string> scopes;
  std::string name;
};

Status run_keygen(const KeygenOptions& o, cli::Context& ctx);
Status run_token(const TokenOptions& o, cli::Context& ctx);

}  // namespace sciflow::dxfer

namespace sciflow::dxfer {

struct PushOptions {
  std::vector<std::string> sources;  // SRC... DST (the last one is the destination)
  bool sync = false;
  bool checksum = false;
  std::string chunk = "8MiB";
};

struct VerifyOptions {
  std::vector<std::string> sources;  // SRC... DST
};

struct LsOptions {
  std::string dst;
};

Status run_push(const PushOptions& o, cli::Context& ctx);
Status run_verify(const VerifyOptions& o, cli::Context& ctx);
Status run_ls(const LsOptions& o, cli::Context& ctx);

}  // namespace sciflow::dxfer
