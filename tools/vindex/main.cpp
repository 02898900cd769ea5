// vindex: build and query vector indexes over scientific embeddings.
// main() is one call into the cli module; each command lives in its own
// cmd_<name>.cpp with an options struct and a handler (docs/STYLE.md).
#include "cli/cli.hpp"

namespace sciflow::vindex {

// Binds the commands of vindex to their options and handlers.
void define_cli(cli::Definition& def) {
  (void)def;  // commands are registered here as they are added
}

}  // namespace sciflow::vindex

int main(int argc, char** argv) {
  return sciflow::cli::run({"vindex", "build and query vector indexes over scientific embeddings"}, argc, argv, sciflow::vindex::define_cli);
}
