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
