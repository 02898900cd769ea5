// Test helper: writes small TorchScript models without Python, so the tests of
// `vindex embed` need no downloads.
//
//   make_model mean-pool OUT.pt    per-channel mean and max of each frame (2C values)
//   make_model linear OUT.pt D N   a fixed random projection of N inputs to D values (seed 1)
//   make_model bad-output OUT.pt   forward() returns a tuple (for error tests)
#include <torch/script.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_model mean-pool|linear|bad-output OUT.pt [D N]\n");
    return 2;
  }
  std::string kind = argv[1];
  torch::jit::Module m("TestModel");
  if (kind == "mean-pool") {
    m.define(R"(
def forward(self, x):
    return torch.cat([x.mean(dim=[2, 3]), x.amax(dim=[2, 3])], 1)
)");
  } else if (kind == "linear" && argc == 5) {
    torch::manual_seed(1);
    m.register_parameter("w", torch::randn({std::stol(argv[4]), std::stol(argv[3])}), false);
    m.define(R"(
def forward(self, x):
    return x.flatten(1).matmul(self.w)
)");
  } else if (kind == "bad-output") {
    m.define(R"(
def forward(self, x):
    return (x, x)
)");
  } else {
    std::fprintf(stderr, "make_model: unknown model '%s'\n", kind.c_str());
    return 2;
  }
  m.save(argv[2]);
  return 0;
}
