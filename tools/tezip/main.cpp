// tezip: compress time series of detector images by predicting each frame.
// main() is one call into the cli module; each command lives in cmd_<name>.cpp.
#include "tools/tezip/commands.hpp"

namespace sciflow::tezip {

// Binds the commands of tezip to their options and handlers.
void define_cli(cli::Definition& def) {
  {
    auto& o = def.make<CompressOptions>();
    auto* c = def.command("compress", "Compress a series of frames into a .tez file",
                          [&o](cli::Context& ctx) { return run_compress(o, ctx); });
    c->alias("c");
    c->add_option("input", o.input, "Frames: FILE.h5[:/dataset], FILE.npy, PNG/TIFF files (a directory, a glob, multi-page TIFF), raw FILE, or -")
        ->type_name("FRAMES")
        ->required();
    c->add_option("-o,--output", o.output, "Output .tez file (default: INPUT.tez; stdout for -)")->type_name("FILE");
    auto* abs = c->add_option("--abs", o.abs_bound, "Lossy: absolute error bound E, |x - x'| <= E for every sample")
                    ->type_name("E")
                    ->check(cli::number(0));
    auto* rel = c->add_option("--rel", o.rel_bound, "Lossy: error bound as a fraction of each group's value range")
                    ->type_name("R")
                    ->check(cli::number(0));
    abs->excludes(rel);
    def.value_kind(abs, cli::ValueKind::kNone);
    def.value_kind(rel, cli::ValueKind::kNone);
    def.choices(c->add_option("--predictor", o.predictor, "Predictor (--best): auto chooses per block")->capture_default_str(),
                {"auto", "lsq", "med", "prev", "linear"});
    add_effort_flags(c, o.fast, o.best);
    def.value_kind(c->add_option("--group", o.group, "Frames per group: a keyframe every N frames (default: by size)")
                       ->type_name("N")
                       ->check(cli::whole_number(1)),
                   cli::ValueKind::kNone);
    def.value_kind(c->add_option("--block", o.block, "Side of the blocks that choose a predictor")
                       ->type_name("PIXELS")
                       ->check(cli::whole_number(4, 4096))
                       ->capture_default_str(),
                   cli::ValueKind::kNone);
    c->add_flag("-f,--force", o.force, "Overwrite the output; write binary data to a terminal");
    c->add_option("--to-h5", o.to_h5,
                  "Write FILE.h5 whose dataset (the input's path, or :/DATASET) is compressed by the tezip HDF5 filter, best tier (instead of a .tez)")
        ->type_name("FILE.h5[:/DATASET]")
        ->excludes("--output");
    c->add_option("--model", o.model,
                  "Learned predictor from tezip train: one more block predictor (fast tier), or competes per stripe "
                  "and block (--best)")
        ->type_name("MODEL");
    add_device_option(def, c, o.device);
    add_input_options(def, c, o.in);
  }
  {
    auto& o = def.make<DecompressOptions>();
    auto* c = def.command("decompress", "Decompress a .tez file back to frames",
                          [&o](cli::Context& ctx) { return run_decompress(o, ctx); });
    c->alias("d");
    c->add_option("input", o.input, ".tez file, or - for stdin")->type_name("FILE.tez")->required();
    c->add_option("-o,--output", o.output,
                  "Output: FILE.h5[:/DATASET], FILE.npy, FILE.tif (multi-page), FILE.raw, a directory for PNG, or - (default: INPUT without .tez)")
        ->type_name("FILE");
    def.value_kind(c->add_option("--frames", o.frames, "Only frames A to B-1 (A:B, either may be omitted)")
                       ->type_name("A:B"),
                   cli::ValueKind::kNone);
    def.choices(c->add_option("-F,--format", o.format, "Output format (default: from the name, else the original's)")
                    ->capture_default_str(),
                {"auto", "hdf5", "npy", "raw", "png", "tiff"});
    c->add_option("--model", o.model, "The learned model the file was compressed with")->type_name("MODEL");
    add_device_option(def, c, o.device);
    c->add_flag("-f,--force", o.force, "Overwrite the output; write binary data to a terminal");
  }
  {
    auto& o = def.make<InfoOptions>();
    auto* c = def.command("info", "Describe a .tez file: shape, mode, ratio, predictor use",
                          [&o](cli::Context& ctx) { return run_info(o, ctx); });
    c->add_option("input", o.input, ".tez file, or - for stdin")->type_name("FILE.tez")->required();
  }
  {
    auto& o = def.make<VerifyOptions>();
    auto* c = def.command("verify", "Check a .tez file's checksums, and compare it with the original",
                          [&o](cli::Context& ctx) { return run_verify(o, ctx); });
    c->add_option("input", o.input, ".tez file, or - for stdin")->type_name("FILE.tez")->required();
    c->add_option("--against", o.against, "The original frames: report bit-exactness, max error and PSNR")
        ->type_name("FRAMES");
    c->add_option("--model", o.model, "The learned model the file was compressed with")->type_name("MODEL");
    add_device_option(def, c, o.device);
    add_input_options(def, c, o.in);
  }
  {
    auto& o = def.make<TrainOptions>();
    auto* c = def.command("train", "Train a learned next-frame predictor on sample series (libtorch)",
                          [&o](cli::Context& ctx) { return run_train(o, ctx); });
    c->add_option("inputs", o.inputs, "Sample series, as for compress")->type_name("FRAMES")->required();
    c->add_option("-o,--output", o.output, "The model file to write")->type_name("MODEL")->required();
    auto num = [&](CLI::Option* opt) { def.value_kind(opt->capture_default_str(), cli::ValueKind::kNone); };
    num(c->add_option("--epochs", o.epochs, "Training epochs")->type_name("N")->check(cli::whole_number(1, 100000)));
    num(c->add_option("--window", o.window, "Previous frames the network reads")->type_name("K")->check(cli::whole_number(1, ml::kMaxWindow)));
    num(c->add_option("--hidden", o.hidden, "Channels of the hidden layers")->type_name("N")->check(cli::whole_number(1, 64)));
    num(c->add_option("--layers", o.layers, "3x3 convolutions")->type_name("N")->check(cli::whole_number(2, 16)));
    num(c->add_option("--steps", o.steps, "Batches per epoch")->type_name("N")->check(cli::whole_number(1, 1000000)));
    num(c->add_option("--batch", o.batch, "Patches per batch")->type_name("N")->check(cli::whole_number(1, 4096)));
    num(c->add_option("--patch", o.patch, "Side of the training patches")->type_name("PIXELS")->check(cli::whole_number(4, 4096)));
    num(c->add_option("--max-frames", o.max_frames, "Frames read from each input")->type_name("N")->check(cli::whole_number(2, 1000000)));
    num(c->add_option("--seed", o.seed, "Random seed")->type_name("N"));
    def.choices(c->add_option("--device", o.device, "Where to train")->capture_default_str(), {"cpu", "cuda"});
    c->add_flag("-f,--force", o.force, "Overwrite the model file");
    add_input_options(def, c, o.in);
  }
  {
    auto& o = def.make<PlanOptions>();
    auto* c = def.command("plan", "Measure a sample: does compress-then-send beat sending raw over a link?",
                          [&o](cli::Context& ctx) { return run_plan(o, ctx); });
    c->add_option("input", o.input, "Frames, as for compress")->type_name("FRAMES")->required();
    def.value_kind(c->add_option("--link", o.link, "Link rate, e.g. 10Gbit/s, 400MB/s")->capture_default_str(),
                   cli::ValueKind::kNone);
    def.value_kind(c->add_option("--sample", o.sample_frames, "Frames to measure")
                       ->type_name("N")
                       ->check(cli::whole_number(1))
                       ->capture_default_str(),
                   cli::ValueKind::kNone);
    def.value_kind(c->add_option("--abs", o.abs_bound, "Plan for lossy compression with this bound")
                       ->type_name("E")
                       ->check(cli::number(0)),
                   cli::ValueKind::kNone);
    add_effort_flags(c, o.fast, o.best);
    c->add_option("--model", o.model, "Plan with this learned predictor (tezip train)")->type_name("MODEL");
    add_device_option(def, c, o.device);
    add_input_options(def, c, o.in);
  }
}

}  // namespace sciflow::tezip

int main(int argc, char** argv) {
  return sciflow::cli::run({"tezip", "compress time series of detector images by predicting each frame"}, argc, argv,
                           sciflow::tezip::define_cli);
}
