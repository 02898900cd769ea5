// vindex: build and query vector indexes over scientific embeddings.
// main() is one call into the cli module; each command lives in cmd_<name>.cpp.
#include "tools/vindex/commands.hpp"

namespace sciflow::vindex {

namespace {

constexpr const char* kVectorsHelp =
    "Vectors: FILE.fvecs, FILE.bvecs, FILE.npy, FILE.h5[:/dataset], FILE.jsonl or - (JSONL: {\"id\":N,\"vector\":[...],...metadata})";

void add_format(cli::Definition& def, CLI::App* c, std::string& format) {
  def.choices(c->add_option("--format", format, "Vector file format (default: from the name; - is JSONL)")->capture_default_str(),
              {"auto", "fvecs", "bvecs", "npy", "hdf5", "jsonl"});
}

CLI::Option* number(cli::Definition& def, CLI::Option* opt) { return def.value_kind(opt, cli::ValueKind::kNone); }

void add_search_params(cli::Definition& def, CLI::App* c, int64_t& k, int& ef, int& nprobe) {
  number(def, c->add_option("-k", k, "Neighbours per query")->type_name("K")->check(cli::whole_number(1, 100000))->capture_default_str());
  number(def, c->add_option("--ef", ef, "hnsw: candidate list size (default max(k, 64)); higher is slower and more exact")
                  ->type_name("N")
                  ->check(cli::whole_number(1)));
  number(def, c->add_option("--nprobe", nprobe, "ivf: lists to visit (default 16)")->type_name("N")->check(cli::whole_number(1)));
}

}  // namespace

// Binds the commands of vindex to their options and handlers.
void define_cli(cli::Definition& def) {
  {
    auto& o = def.make<BuildOptions>();
    auto* c = def.command("build", "Build an index directory from a vector file",
                          [&o](cli::Context& ctx) { return run_build(o, ctx); });
    c->add_option("vectors", o.input, kVectorsHelp)->type_name("VECTORS")->required();
    def.value_kind(c->add_option("-o,--output", o.output, "Index directory to create (with --shard: the shard set's directory)")
                       ->type_name("INDEX")
                       ->required(),
                   cli::ValueKind::kDirectory);
    def.choices(c->add_option("--metric", o.metric, "Distance")->capture_default_str(), {"l2", "ip", "cosine"});
    def.choices(c->add_option("--engine", o.engine, "Index engine")->capture_default_str(), {"hnsw", "ivf-flat", "ivf-pq", "flat"});
    number(def, c->add_option("--m", o.params.m, "hnsw: links per node")->type_name("M")->check(cli::whole_number(2, 512))->capture_default_str());
    number(def, c->add_option("--ef-construction", o.params.ef_construction, "hnsw: candidate list while building")
                    ->type_name("N")
                    ->check(cli::whole_number(4, 100000))
                    ->capture_default_str());
    number(def, c->add_option("--nlist", o.params.nlist, "ivf: number of lists (default about 4 sqrt(n))")
                    ->type_name("N")
                    ->check(cli::whole_number(1)));
    number(def, c->add_option("--pq-m", o.params.pq_m, "ivf-pq: sub-quantisers, a divisor of the dimension (default dim/4)")
                    ->type_name("M")
                    ->check(cli::whole_number(1)));
    number(def, c->add_option("--pq-bits", o.params.pq_bits, "ivf-pq: bits per sub-quantiser code")
                    ->type_name("B")
                    ->check(cli::whole_number(1, 16))
                    ->capture_default_str());
    number(def, c->add_option("--seed", o.params.seed, "Random seed (builds with -j1 are reproducible)")->capture_default_str());
    number(def, c->add_option("--shard", o.shard, "Index only part I of N of the vectors (0-based), into INDEX/shard-I-of-N")
                    ->type_name("I/N"));
    c->add_flag("-f,--force", o.force, "Replace an existing index (the old one stays usable until the new one is complete)");
    add_format(def, c, o.format);
  }
  {
    auto& o = def.make<AddOptions>();
    auto* c = def.command("add", "Add vectors to an index", [&o](cli::Context& ctx) { return run_add(o, ctx); });
    def.value_kind(c->add_option("index", o.index, "Index directory")->type_name("INDEX")->required(), cli::ValueKind::kDirectory);
    c->add_option("vectors", o.input, kVectorsHelp)->type_name("VECTORS")->required();
    add_format(def, c, o.format);
  }
  {
    auto& o = def.make<DeleteOptions>();
    auto* c = def.command("delete", "Delete vectors by id (hidden at once, dropped for good by --compact)",
                          [&o](cli::Context& ctx) { return run_delete(o, ctx); });
    def.value_kind(c->add_option("index", o.index, "Index directory")->type_name("INDEX")->required(), cli::ValueKind::kDirectory);
    number(def, c->add_option("ids", o.ids, "Ids to delete")->type_name("ID"));
    c->add_option("--ids-from", o.ids_from, "File with one id per line (- for stdin)")->type_name("FILE");
    c->add_flag("--compact", o.compact, "Rebuild without the deleted vectors afterwards");
  }
  {
    auto& o = def.make<CompactOptions>();
    auto* c = def.command("compact", "Drop deleted vectors from an index for good",
                          [&o](cli::Context& ctx) { return run_compact(o, ctx); });
    def.value_kind(c->add_option("index", o.index, "Index directory")->type_name("INDEX")->required(), cli::ValueKind::kDirectory);
  }
  {
    auto& o = def.make<SearchOptions>();
    auto* c = def.command("search", "Find the k nearest neighbours of each query (JSONL or .ivecs out)",
                          [&o](cli::Context& ctx) { return run_search(o, ctx); });
    def.value_kind(c->add_option("index", o.index, "Index directory, or a directory of shard-I-of-N indexes")
                       ->type_name("INDEX")
                       ->required(),
                   cli::ValueKind::kDirectory);
    c->add_option("queries", o.queries, kVectorsHelp)->type_name("QUERIES")->required();
    add_search_params(def, c, o.k, o.ef, o.nprobe);
    number(def, c->add_option("--where", o.where, "Metadata filter, e.g. 'beamline == \"K11\" and frame > 100'")->type_name("EXPR"));
    c->add_option("-o,--output", o.output, "Results: FILE.ivecs, or JSONL to a file or - (stdout)")->type_name("FILE")->capture_default_str();
    c->add_flag("--metadata", o.with_metadata, "JSONL: add each result's metadata (null where it has none)");
    c->add_flag("--no-verify", o.no_verify, "Skip the SHA-256 check of the index files (sizes are still checked)");
    add_format(def, c, o.format);
  }
  {
    auto& o = def.make<EvalOptions>();
    auto* c = def.command("eval", "Measure recall@k and queries/s against ground truth",
                          [&o](cli::Context& ctx) { return run_eval(o, ctx); });
    def.value_kind(c->add_option("index", o.index, "Index directory or shard set")->type_name("INDEX")->required(),
                   cli::ValueKind::kDirectory);
    c->add_option("queries", o.queries, "Query vectors (as for search)")->type_name("QUERIES")->required();
    c->add_option("groundtruth", o.groundtruth, "True neighbour ids per query: FILE.ivecs, integer .npy or .h5")
        ->type_name("GROUNDTRUTH")
        ->required();
    add_search_params(def, c, o.k, o.ef, o.nprobe);
    number(def, c->add_option("--min-time", o.min_time, "Repeat the queries until this many seconds have passed (for stable rates)")
                    ->type_name("SECONDS")
                    ->check(cli::number(0))
                    ->capture_default_str());
    c->add_flag("--no-verify", o.no_verify, "Skip the SHA-256 check of the index files");
  }
  {
    auto& o = def.make<InfoOptions>();
    auto* c = def.command("info", "Describe an index and check its files", [&o](cli::Context& ctx) { return run_info(o, ctx); });
    def.value_kind(c->add_option("index", o.index, "Index directory or shard set")->type_name("INDEX")->required(),
                   cli::ValueKind::kDirectory);
    c->add_flag("--no-verify", o.no_verify, "Check sizes only, not SHA-256");
  }
  {
    auto& o = def.make<EmbedOptions>();
    auto* c = def.command("embed", "Turn frames into vectors with a TorchScript model (one vector per frame)",
                          [&o](cli::Context& ctx) { return run_embed(o, ctx); });
    c->add_option("model", o.model, "TorchScript model file (torch.jit.save); gets float32 batch x channels x height x width")
        ->type_name("MODEL")
        ->required();
    c->add_option("input", o.input, "Frames: FILE.h5[:/dataset], FILE.npy, PNG/TIFF files (a directory or a glob)")
        ->type_name("FRAMES")
        ->required();
    c->add_option("-o,--output", o.output, "Vectors: FILE.npy, FILE.fvecs, FILE.h5, FILE.jsonl or - (JSONL)")
        ->type_name("VECTORS")
        ->required();
    number(def, c->add_option("--batch", o.batch, "Frames per forward pass")->type_name("N")->check(cli::whole_number(1, 65536))->capture_default_str());
    def.choices(c->add_option("--device", o.device, "Where the model runs")->capture_default_str(), {"cpu", "cuda"});
    c->add_flag("--drop-alpha", o.drop_alpha, "PNG with alpha: keep the colour channels only");
    c->add_flag("-f,--force", o.force, "Overwrite the output");
  }
}

}  // namespace sciflow::vindex

int main(int argc, char** argv) {
  return sciflow::cli::run({"vindex", "build and query vector indexes over scientific embeddings"}, argc, argv,
                           sciflow::vindex::define_cli);
}
