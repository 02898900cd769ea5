// servectl: serve models, RAG and MCP tools behind one authenticated gateway.
// main() is one call into the cli module; each command lives in its own
// cmd_<name>.cpp with an options struct and a handler (docs/STYLE.md).
#include "cli/cli.hpp"

namespace sciflow::servectl {

// Binds the commands of servectl to their options and handlers.
void define_cli(cli::Definition& def) {
  (void)def;  // commands are registered here as they are added
}

}  // namespace sciflow::servectl

int main(int argc, char** argv) {
  return sciflow::cli::run({"servectl", "serve models, RAG and MCP tools behind one authenticated gateway"}, argc, argv, sciflow::servectl::define_cli);
}
