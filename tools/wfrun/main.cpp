// wfrun: run YAML pipelines of steps locally or on Slurm, cached and traced.
// main() is one call into the cli module; each command lives in its own
// cmd_<name>.cpp with an options struct and a handler (docs/STYLE.md).
#include "cli/cli.hpp"

namespace sciflow::wfrun {

// Binds the commands of wfrun to their options and handlers.
void define_cli(cli::Definition& def) {
  (void)def;  // commands are registered here as they are added
}

}  // namespace sciflow::wfrun

int main(int argc, char** argv) {
  return sciflow::cli::run({"wfrun", "run YAML pipelines of steps locally or on Slurm, cached and traced"}, argc, argv, sciflow::wfrun::define_cli);
}
