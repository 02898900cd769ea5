// wfrun: run YAML pipelines of steps locally or on Slurm, cached and traced.
// main() is one call into the cli module; each command lives in cmd_<name>.cpp.
#include "tools/wfrun/commands.hpp"

namespace sciflow::wfrun {

namespace {

void add_dir(cli::Definition& def, CLI::App* c, std::string& dir) {
  def.value_kind(c->add_option("-C,--directory", dir, "Work directory: commands run there, state in DIR/.wfrun")
                     ->type_name("DIR")
                     ->capture_default_str(),
                 cli::ValueKind::kDirectory);
}

}  // namespace

// Binds the commands of wfrun to their options and handlers.
void define_cli(cli::Definition& def) {
  {
    auto& o = def.make<RunOptions>();
    auto* c = def.command("run", "Run a pipeline: each step whose inputs, command or parameters changed, in order",
                          [&o](cli::Context& ctx) { return run_run(o, ctx); });
    c->add_option("pipeline", o.pipeline, "Pipeline file (YAML, see wfrun(5))")->type_name("PIPELINE.yaml")->required();
    def.value_kind(c->add_option("-p,--param", o.params, "Set a parameter (repeatable)")->type_name("KEY=VALUE"),
                   cli::ValueKind::kNone);
    add_dir(def, c, o.dir);
    c->add_flag("-k,--keep-going", o.keep_going, "After a failure, still run the steps that do not depend on it");
    c->add_flag("-n,--dry-run", o.dry_run, "List what would run and why; run nothing");
    def.choices(c->add_option("--executor", o.executor, "Where steps run: here, or as Slurm jobs (sbatch; arrays for scatters)")
                    ->capture_default_str(),
                {"local", "slurm"});
    def.value_kind(c->add_option("--poll", o.poll_s, "Slurm: seconds between the squeue calls that follow all jobs")
                       ->type_name("SECONDS")
                       ->check(cli::number(0, std::numeric_limits<double>::max(), false, cli::Bound::kAbove))
                       ->capture_default_str(),
                   cli::ValueKind::kNone);
    def.value_kind(c->add_option("--array-limit", o.array_limit, "Slurm: at most N tasks of a job array run at once (sbatch --array=...%N)")
                       ->type_name("N")
                       ->check(cli::whole_number(0)),
                   cli::ValueKind::kNone);
  }
  {
    auto& o = def.make<StatusOptions>();
    auto* c = def.command("status", "Show the last run and each step's state in a work directory",
                          [&o](cli::Context& ctx) { return run_status(o, ctx); });
    add_dir(def, c, o.dir);
  }
  {
    auto& o = def.make<LogOptions>();
    auto* c = def.command("log", "Show a step's last stderr and the command that reproduces it",
                          [&o](cli::Context& ctx) { return run_log(o, ctx); });
    def.value_kind(c->add_option("step", o.step, "Step name")->type_name("STEP")->required(), cli::ValueKind::kNone);
    add_dir(def, c, o.dir);
    def.value_kind(c->add_option("-n,--lines", o.lines, "Lines of stderr to show")->type_name("N")->capture_default_str(),
                   cli::ValueKind::kNone);
  }
  {
    auto& o = def.make<DagOptions>();
    auto* c = def.command("dag", "Print the pipeline's steps and dependencies as Graphviz dot",
                          [&o](cli::Context& ctx) { return run_dag(o, ctx); });
    c->add_option("pipeline", o.pipeline, "Pipeline file")->type_name("PIPELINE.yaml")->required();
    def.value_kind(c->add_option("-p,--param", o.params, "Set a parameter (repeatable)")->type_name("KEY=VALUE"),
                   cli::ValueKind::kNone);
    add_dir(def, c, o.dir);
  }
  {
    auto& o = def.make<ReportOptions>();
    auto* c = def.command("report", "Write one self-contained HTML file for a run: timeline chart and step table",
                          [&o](cli::Context& ctx) { return run_report(o, ctx); });
    add_dir(def, c, o.dir);
    def.value_kind(c->add_option("--run", o.run, "Run id (default: the newest)")->type_name("RUN"), cli::ValueKind::kNone);
    c->add_option("-o,--output", o.output, "HTML file, or - for stdout")->type_name("FILE.html")->capture_default_str();
  }
}

}  // namespace sciflow::wfrun

int main(int argc, char** argv) {
  return sciflow::cli::run({"wfrun", "run YAML pipelines of steps locally or on Slurm, cached and traced"}, argc, argv,
                           sciflow::wfrun::define_cli);
}
