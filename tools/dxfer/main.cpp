// dxfer: move data sets between hosts: parallel, secure, verified, resumable.
// main() is one call into the cli module; each command lives in its own
// cmd_<name>.cpp with an options struct and a handler (docs/STYLE.md).
#include "cli/cli.hpp"

namespace sciflow::dxfer {

// Binds the commands of dxfer to their options and handlers.
void define_cli(cli::Definition& def) {
  (void)def;  // commands are registered here as they are added
}

}  // namespace sciflow::dxfer

int main(int argc, char** argv) {
  return sciflow::cli::run({"dxfer", "move data sets between hosts: parallel, secure, verified, resumable"}, argc, argv, sciflow::dxfer::define_cli);
}
