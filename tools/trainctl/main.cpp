// trainctl: run, monitor, checkpoint and register model training.
// main() is one call into the cli module; each command lives in its own
// cmd_<name>.cpp with an options struct and a handler (docs/STYLE.md).
#include "cli/cli.hpp"

namespace sciflow::trainctl {

// Binds the commands of trainctl to their options and handlers.
void define_cli(cli::Definition& def) {
  (void)def;  // commands are registered here as they are added
}

}  // namespace sciflow::trainctl

int main(int argc, char** argv) {
  return sciflow::cli::run({"trainctl", "run, monitor, checkpoint and register model training"}, argc, argv, sciflow::trainctl::define_cli);
}
