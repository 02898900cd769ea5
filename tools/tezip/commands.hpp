// tezip's commands: one options struct and one handler each (docs/STYLE.md).
#pragma once

#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "codec/tez.hpp"
#include "io/frames.hpp"
#include "ml/frame_net.hpp"

namespace sciflow::tezip {

// How inputs are read (shared by compress and verify --against).
struct InputOptions {
  std::string format = "auto";
  std::string shape;  // raw: T,H,W[,C]
  std::string dtype;  // raw: u8 ...
  bool drop_alpha = false;
};

struct CompressOptions {
  std::string input;
  std::string output;  // default INPUT.tez, or stdout for "-"
  double abs_bound = -1;
  double rel_bound = -1;
  std::string predictor = "auto";
  bool fast = false;  // the fast tier (the default when lossless, unless a forced predictor asks for best)
  bool best = false;  // the least-squares tier: higher ratio, ~10x slower
  int64_t group = 0;
  int block = 8;
  bool force = false;
  std::string to_h5;  // write an HDF5 file whose dataset uses the tezip filter
  std::string model;  // learned predictor (tezip train)
  std::string device = "cpu";  // where the model runs: cpu, torch, cuda
  InputOptions in;
};

struct DecompressOptions {
  std::string input;
  std::string output;
  std::string frames;  // A:B
  std::string format = "auto";
  std::string model;
  std::string device = "cpu";
  bool force = false;
};

struct InfoOptions {
  std::string input;
};

struct VerifyOptions {
  std::string input;
  std::string against;
  std::string model;
  std::string device = "cpu";
  InputOptions in;
};

struct TrainOptions {
  std::vector<std::string> inputs;
  std::string output;
  int epochs = 20;
  int window = 2;
  int hidden = 8;
  int layers = 2;
  int steps = 64;
  int batch = 16;
  int patch = 48;
  int64_t max_frames = 64;
  uint64_t seed = 1;
  std::string device = "cpu";
  bool force = false;
  InputOptions in;
};

struct PlanOptions {
  std::string input;
  std::string link = "10Gbit/s";
  int64_t sample_frames = 32;
  double abs_bound = -1;
  bool fast = false;
  bool best = false;
  std::string model;
  std::string device = "cpu";
  InputOptions in;
};

Status run_compress(const CompressOptions& o, cli::Context& ctx);
Status run_plan(const PlanOptions& o, cli::Context& ctx);
Status run_decompress(const DecompressOptions& o, cli::Context& ctx);
Status run_info(const InfoOptions& o, cli::Context& ctx);
Status run_verify(const VerifyOptions& o, cli::Context& ctx);
Status run_train(const TrainOptions& o, cli::Context& ctx);

// --- shared helpers (common.cpp) ---

// `threads`: -j, how many files of an image sequence are decoded at once.
Result<io::ReadOptions> read_options(const InputOptions& o, int threads);
void add_input_options(cli::Definition& def, CLI::App* cmd, InputOptions& o);

// Loads the learned model `path` into `holder` and gives it to `reader` when the
// file needs one; a clear error when it needs one and none or another is given.
// `device`: where it runs (ml::FrameNet::use_device).
Status attach_model(codec::tez::Reader& reader, const std::string& path, const std::string& device,
                    std::unique_ptr<ml::FrameNet>* holder);
// The --device option of compress, decompress and verify.
void add_device_option(cli::Definition& def, CLI::App* cmd, std::string& device);
// --fast / --best (compress, plan).
void add_effort_flags(CLI::App* cmd, bool& fast, bool& best);
// "fast" or "best": --fast asks for fast; --best, a forced predictor or a lossy mode for
// best; otherwise fast.
Result<std::string> choose_effort(bool fast, bool best, const std::string& predictor, bool lossy);

// Decodes the groups of `reader` that overlap frames [first, last) with up to
// `threads` threads, calling `sink(first_frame, frames, data)` in frame order.
using GroupSink = std::function<Status(int64_t first_frame, int64_t frames, const uint8_t* data)>;
Status decode_frames(codec::tez::Reader& reader, int64_t first, int64_t last, int threads, const GroupSink& sink);

}  // namespace sciflow::tezip
