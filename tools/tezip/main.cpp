// tezip: compress time series of detector images by predicting each frame.
// main() is one call into the cli module; each command lives in its own
// cmd_<name>.cpp with an options struct and a handler (docs/STYLE.md).
#include "cli/cli.hpp"

namespace sciflow::tezip {

// Binds the commands of tezip to their options and handlers.
void define_cli(cli::Definition& def) {
  (void)def;  // commands are registered here as they are added
}

}  // namespace sciflow::tezip

int main(int argc, char** argv) {
  return sciflow::cli::run({"tezip", "compress time series of detector images by predicting each frame"}, argc, argv, sciflow::tezip::define_cli);
}
