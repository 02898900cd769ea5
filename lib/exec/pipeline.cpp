#include "exec/pipeline.hpp"

#include <fnmatch.h>
#include <glob.h>

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <deque>
#include <functional>
#include <set>

#include "core/json.hpp"
#include "core/units.hpp"
#include "index/filter.hpp"

namespace sciflow::exec {

namespace fs = std::filesystem;

const Step* Pipeline::find(std::string_view name) const {
  for (const auto& s : steps)
    if (s.name == name) return &s;
  return nullptr;
}

namespace {

struct RawStep {
  std::string name;
  const config::Node* node = nullptr;
  std::string file;
  config::Mark mark;
};

struct Loader {
  LoadOptions opt;
  std::map<std::string, std::string> params;
  std::map<std::string, config::Mark> param_marks;
  std::vector<RawStep> raw;
  std::map<std::string, size_t> raw_index;
  std::vector<std::pair<const config::Node*, std::string>> raw_services;
  std::deque<config::Document> docs;  // kept alive (and in place): raw steps point into them
  std::vector<std::unique_ptr<config::Diagnostics>> diags;
  std::set<std::string> loading;

  config::Diagnostics& diag_for(const std::string& file) {
    for (auto& d : diags)
      if (d->file() == file) return *d;
    diags.push_back(std::make_unique<config::Diagnostics>(file));
    return *diags.back();
  }

  Status load_file(const std::string& path, const config::Mark* from, config::Diagnostics* parent) {
    std::string key = fs::weakly_canonical(path).string();
    if (loading.count(key)) {
      if (parent && from) parent->error(*from, fmt::format("include '{}' includes itself", path));
      return Status::ok();
    }
    loading.insert(key);
    auto doc = config::load_yaml_file(path);
    if (!doc) {
      if (parent && from) {
        parent->error(*from, doc.status().message());
        return Status::ok();
      }
      return doc.status();
    }
    docs.push_back(std::move(doc).value());
    const config::Document& d = docs.back();
    config::Diagnostics& dg = diag_for(path);
    const config::Node& root = d.root;
    if (!root.is_map()) {
      dg.error(root.mark, "expected a mapping with 'steps' (and optionally 'params', 'services', 'include')");
      return Status::ok();
    }
    config::check_keys(root, {"params", "steps", "services", "include"}, dg, "pipeline");
    if (const auto* inc = root.find("include")) {
      std::vector<const config::Node*> items;
      if (inc->is_scalar()) items.push_back(inc);
      else if (inc->is_sequence()) for (const auto& i : inc->items) items.push_back(&i);
      else dg.error(inc->mark, "include: expected a file name or a list of them");
      std::string dir = fs::path(path).parent_path().string();
      for (const auto* i : items) {
        auto name = config::get_string(*i, dg, "include");
        if (!name) continue;
        std::string p = fs::path(*name).is_absolute() || dir.empty() ? *name : dir + "/" + *name;
        RETURN_IF_ERROR(load_file(p, &i->mark, &dg));
      }
    }
    if (const auto* ps = root.find("params")) {
      if (!ps->is_map()) {
        dg.error(ps->mark, "params: expected a mapping of names to values");
      } else {
        for (const auto& e : ps->entries) {
          if (!e.value.is_scalar()) {
            dg.error(e.value.mark, fmt::format("params.{}: expected a scalar value", e.key));
            continue;
          }
          params[e.key] = e.value.scalar;
          param_marks[e.key] = e.key_mark;
        }
      }
    }
    if (const auto* ss = root.find("steps")) {
      if (!ss->is_map()) {
        dg.error(ss->mark, "steps: expected a mapping of step names to steps");
      } else {
        for (const auto& e : ss->entries) {
          if (auto it = raw_index.find(e.key); it != raw_index.end()) {
            const RawStep& r = raw[it->second];
            dg.error(e.key_mark, fmt::format("step '{}' is defined twice (first in {}:{})", e.key, r.file, r.mark.line));
            continue;
          }
          raw_index[e.key] = raw.size();
          raw.push_back({e.key, &e.value, path, e.key_mark});
        }
      }
    } else if (!from) {
      dg.error(root.mark, "no 'steps'");
    }
    if (const auto* sv = root.find("services")) {
      if (!sv->is_map()) dg.error(sv->mark, "services: expected a mapping of names to services");
      else raw_services.emplace_back(sv, path);
    }
    return Status::ok();
  }
};

// ${params.X} ${item} ${env.X} ${step.NAME.outputs}; errors recorded at `at`.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& params, const std::string* item,
                       const std::map<std::string, std::vector<std::string>>* outputs, config::Diagnostics& d,
                       const config::Mark& at, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    size_t end = text.find('}', i);
    if (end == std::string::npos) {
      d.error(at, fmt::format("{}: '${{' without a closing '}}'", what));
      return out;
    }
    std::string ref = text.substr(i + 2, end - i - 2);
    i = end + 1;
    if (ref.rfind("params.", 0) == 0) {
      auto it = params.find(ref.substr(7));
      if (it == params.end()) d.error(at, fmt::format("{}: unknown parameter '{}' in ${{{}}}", what, ref.substr(7), ref));
      else out += it->second;
    } else if (ref == "item") {
      if (!item) d.error(at, fmt::format("{}: ${{item}} outside a foreach step", what));
      else out += *item;
    } else if (ref.rfind("env.", 0) == 0) {
      const char* v = std::getenv(ref.substr(4).c_str());
      out += v ? v : "";
    } else if (ref.rfind("step.", 0) == 0 && ref.size() > 13 && ref.compare(ref.size() - 8, 8, ".outputs") == 0) {
      std::string name = ref.substr(5, ref.size() - 13);
      auto it = outputs ? outputs->find(name) : decltype(outputs->end()){};
      if (!outputs || it == outputs->end()) {
        d.error(at, fmt::format("{}: ${{{}}}: no step '{}' defined before this one", what, ref, name));
      } else {
        for (size_t k = 0; k < it->second.size(); ++k) out += (k ? " " : "") + it->second[k];
      }
    } else {
      d.error(at, fmt::format("{}: unknown reference ${{{}}} (params.NAME, item, env.NAME, step.NAME.outputs)", what, ref));
    }
  }
  return out;
}

std::vector<std::string> string_list(const config::Node* n, config::Diagnostics& d, std::string_view what) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n->is_scalar()) {
    out.push_back(n->scalar);
  } else if (n->is_sequence()) {
    for (const auto& i : n->items)
      if (auto s = config::get_string(i, d, what)) out.push_back(*s);
  } else {
    d.error(n->mark, fmt::format("{}: expected a string or a list of strings", what));
  }
  return out;
}

std::optional<double> duration(const config::Node& n, config::Diagnostics& d, std::string_view what) {
  auto s = config::get_string(n, d, what);
  if (!s) return std::nullopt;
  auto v = units::parse_duration(*s);
  if (!v) {
    d.error(n.mark, fmt::format("{}: {}", what, v.status().message()));
    return std::nullopt;
  }
  return *v;
}

bool has_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> expand_glob(const std::string& pattern, const std::string& workdir) {
  std::string full = workdir.empty() || pattern.front() == '/' ? pattern : workdir + "/" + pattern;
  glob_t g{};
  std::vector<std::string> out;
  if (::glob(full.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string p = g.gl_pathv[i];
      if (!workdir.empty() && pattern.front() != '/' && p.rfind(workdir + "/", 0) == 0) p = p.substr(workdir.size() + 1);
      out.push_back(p);
    }
  }
  globfree(&g);
  return out;
}

// Does input `in` (a path or a glob) name output `out` of another step?
bool reads(const std::string& in, const std::string& out) {
  std::string a = fs::path(in).lexically_normal().string(), b = fs::path(out).lexically_normal().string();
  if (a == b) return true;
  if (has_glob(a)) return ::fnmatch(a.c_str(), b.c_str(), FNM_PATHNAME) == 0;
  // A directory input covers the files written below it.
  return b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '/';
}

}  // namespace

Result<Pipeline> load_pipeline(const std::string& path, const LoadOptions& options) {
  Loader L;
  L.opt = options;
  RETURN_IF_ERROR(L.load_file(path, nullptr, nullptr));
  for (const auto& [k, v] : options.overrides) {
    if (!L.params.count(k))
      L.diag_for(path).error({}, fmt::format("-p {}: no parameter '{}' in the pipeline (params: ...)", k, k));
    L.params[k] = v;
  }
  Pipeline p;
  p.file = path;
  p.params = L.params;
  Json params_json = Json::object();
  for (const auto& [k, v] : L.params) {
    char* end = nullptr;
    double num = std::strtod(v.c_str(), &end);
    if (!v.empty() && end && *end == '\0') params_json[k] = num;
    else if (v == "true" || v == "false") params_json[k] = v == "true";
    else params_json[k] = v;
  }
  Json ctx = Json{{"params", params_json}};

  std::map<std::string, std::vector<std::string>> outputs_of;  // group -> all outputs
  std::map<std::string, std::vector<std::string>> members;     // group -> concrete step names
  const std::vector<std::string_view> step_keys = {"run", "inputs", "outputs", "needs", "env", "resources",
                                                   "retries", "timeout", "when", "foreach", "params"};
  for (const auto& r : L.raw) {
    config::Diagnostics& d = L.diag_for(r.file);
    const config::Node& n = *r.node;
    if (r.name.find_first_of("[] \t/") != std::string::npos)
      d.error(r.mark, fmt::format("step '{}': names may not contain spaces, '/', '[' or ']'", r.name));
    if (!n.is_map()) {
      d.error(n.mark, fmt::format("step '{}': expected a mapping with 'run'", r.name));
      continue;
    }
    config::check_keys(n, step_keys, d, fmt::format("step '{}'", r.name));
    const config::Node* run = n.find("run");
    if (!run) {
      d.error(r.mark, fmt::format("step '{}': no 'run' command", r.name));
      continue;
    }
    auto run_text = config::get_string(*run, d, fmt::format("step '{}': run", r.name));
    if (!run_text) continue;
    // Step-local params override pipeline params for this step.
    std::map<std::string, std::string> sp = L.params;
    if (const auto* lp = n.find("params")) {
      if (!lp->is_map()) d.error(lp->mark, fmt::format("step '{}': params: expected a mapping", r.name));
      else for (const auto& e : lp->entries) if (e.value.is_scalar()) sp[e.key] = e.value.scalar;
    }
    Step base;
    base.group = r.name;
    base.file = r.file;
    base.mark = r.mark;
    if (const auto* e = n.find("env")) {
      if (!e->is_map()) d.error(e->mark, fmt::format("step '{}': env: expected a mapping", r.name));
      else for (const auto& kv : e->entries)
        if (auto v = config::get_string(kv.value, d, fmt::format("step '{}': env.{}", r.name, kv.key)))
          base.env.emplace_back(kv.key, substitute(*v, sp, nullptr, &outputs_of, d, kv.value.mark, "env"));
    }
    if (const auto* res = n.find("resources")) {
      config::check_keys(*res, {"cpus", "mem", "gpus", "time"}, d, fmt::format("step '{}': resources", r.name));
      if (res->is_map()) {
        // Values may use ${params.NAME}, so they are read as text, substituted, then parsed.
        if (const auto* c = res->find("cpus")) if (auto v = config::get_string(*c, d, "resources.cpus")) {
          std::string t = substitute(*v, sp, nullptr, &outputs_of, d, c->mark, "resources.cpus");
          char* end = nullptr;
          long ncpu = std::strtol(t.c_str(), &end, 10);
          if (t.empty() || *end != '\0' || ncpu < 1) d.error(c->mark, fmt::format("resources.cpus: '{}' is not a whole number >= 1", t));
          else base.resources.cpus = static_cast<int>(ncpu);
        }
        if (const auto* m = res->find("mem")) if (auto v = config::get_string(*m, d, "resources.mem")) {
          auto b = units::parse_size(substitute(*v, sp, nullptr, &outputs_of, d, m->mark, "resources.mem"));
          if (!b) d.error(m->mark, fmt::format("resources.mem: {}", b.status().message()));
          else base.resources.mem_mb = (*b + (1 << 20) - 1) >> 20;
        }
        if (const auto* g = res->find("gpus")) if (auto v = config::get_int(*g, d, "resources.gpus")) base.resources.gpus = static_cast<int>(*v);
        if (const auto* t = res->find("time")) if (auto v = config::get_string(*t, d, "resources.time")) {
          auto secs = units::parse_duration(substitute(*v, sp, nullptr, &outputs_of, d, t->mark, "resources.time"));
          if (!secs) d.error(t->mark, fmt::format("resources.time: {}", secs.status().message()));
          else base.resources.time_s = *secs;
        }
      }
    }
    if (const auto* rt = n.find("retries")) {
      if (rt->is_map()) {
        config::check_keys(*rt, {"count", "backoff"}, d, fmt::format("step '{}': retries", r.name));
        if (const auto* c = rt->find("count")) if (auto v = config::get_int(*c, d, "retries.count")) base.retries = static_cast<int>(*v);
        if (const auto* b = rt->find("backoff")) if (auto v = duration(*b, d, "retries.backoff")) base.backoff_s = *v;
      } else if (auto v = config::get_int(*rt, d, "retries")) {
        base.retries = static_cast<int>(*v);
      }
      if (base.retries < 0 || base.retries > 100) d.error(rt->mark, "retries: between 0 and 100");
    }
    if (const auto* t = n.find("timeout")) if (auto v = duration(*t, d, "timeout")) base.timeout_s = *v;
    if (const auto* w = n.find("when")) {
      if (auto v = config::get_string(*w, d, "when")) {
        base.when = *v;
        auto f = index::Filter::parse(*v);
        if (!f) d.error(w->mark, fmt::format("step '{}': when: {}", r.name, f.status().message().substr(9)));
        else base.when_true = f->match(ctx);
      }
    }
    // foreach: a list of items, or {glob: PATTERN}.
    std::vector<std::string> items;
    bool scatter = false;
    if (const auto* fe = n.find("foreach")) {
      scatter = true;
      if (fe->is_sequence()) {
        for (const auto& i : fe->items)
          if (auto s = config::get_string(i, d, "foreach item")) items.push_back(substitute(*s, sp, nullptr, &outputs_of, d, i.mark, "foreach"));
      } else if (fe->is_map() && fe->find("glob")) {
        config::check_keys(*fe, {"glob"}, d, "foreach");
        if (auto g = config::get_string(*fe->find("glob"), d, "foreach.glob")) {
          items = expand_glob(substitute(*g, sp, nullptr, &outputs_of, d, fe->mark, "foreach.glob"), options.workdir);
          if (items.empty()) d.error(fe->mark, fmt::format("step '{}': foreach glob '{}' matches no file", r.name, *g));
        }
      } else {
        d.error(fe->mark, fmt::format("step '{}': foreach: expected a list or {{glob: PATTERN}}", r.name));
      }
    }
    auto explicit_needs = string_list(n.find("needs"), d, "needs");
    for (const auto& need : explicit_needs) {
      bool known = L.raw_index.count(need) > 0;
      if (!known) d.error(n.find("needs")->mark, fmt::format("step '{}': needs unknown step '{}'", r.name, need));
    }
    auto make = [&](const std::string* item) {
      Step s = base;
      s.name = item ? fmt::format("{}[{}]", r.name, *item) : r.name;
      s.run = substitute(*run_text, sp, item, &outputs_of, d, run->mark, fmt::format("step '{}': run", r.name));
      s.raw_run = *run_text;
      for (const auto& in : string_list(n.find("inputs"), d, "inputs"))
        s.inputs.push_back(substitute(in, sp, item, &outputs_of, d, n.find("inputs")->mark, "inputs"));
      for (const auto& out : string_list(n.find("outputs"), d, "outputs")) {
        std::string o = substitute(out, sp, item, &outputs_of, d, n.find("outputs")->mark, "outputs");
        if (has_glob(o)) d.error(n.find("outputs")->mark, fmt::format("step '{}': output '{}' is a glob; name the files", r.name, o));
        s.outputs.push_back(o);
      }
      s.needs = explicit_needs;  // group names for now; made concrete below
      return s;
    };
    if (scatter) {
      for (const auto& item : items) {
        p.steps.push_back(make(&item));
        members[r.name].push_back(p.steps.back().name);
        for (const auto& o : p.steps.back().outputs) outputs_of[r.name].push_back(o);
      }
    } else {
      p.steps.push_back(make(nullptr));
      members[r.name].push_back(r.name);
      for (const auto& o : p.steps.back().outputs) outputs_of[r.name].push_back(o);
    }
  }
  // Services.
  for (const auto& [node, file] : L.raw_services) {
    config::Diagnostics& d = L.diag_for(file);
    for (const auto& e : node->entries) {
      Service s;
      s.name = e.key;
      s.mark = e.key_mark;
      config::check_keys(e.value, {"run", "ready", "ready_timeout", "for"}, d, fmt::format("service '{}'", e.key));
      if (!e.value.is_map()) continue;
      if (const auto* r = e.value.find("run")) { if (auto v = config::get_string(*r, d, "run")) s.run = substitute(*v, L.params, nullptr, nullptr, d, r->mark, "run"); }
      else d.error(e.key_mark, fmt::format("service '{}': no 'run' command", e.key));
      if (const auto* r = e.value.find("ready")) if (auto v = config::get_string(*r, d, "ready")) s.ready = substitute(*v, L.params, nullptr, nullptr, d, r->mark, "ready");
      if (const auto* r = e.value.find("ready_timeout")) if (auto v = duration(*r, d, "ready_timeout")) s.ready_timeout_s = *v;
      for (const auto& u : string_list(e.value.find("for"), d, "for")) {
        if (!members.count(u)) d.error(e.value.find("for")->mark, fmt::format("service '{}': for unknown step '{}'", e.key, u));
        for (const auto& m : members[u]) s.used_by.push_back(m);
      }
      p.services.push_back(std::move(s));
    }
  }
  // Concrete edges: explicit needs (a scattered group means all its items), then files.
  std::map<std::string, std::string> producer;  // normalised output path -> step
  for (const auto& o : p.steps)
    for (const auto& out : o.outputs) producer[fs::path(out).lexically_normal().string()] = o.name;
  for (auto& s : p.steps) {
    std::vector<std::string> needs;
    for (const auto& g : s.needs)
      for (const auto& m : members[g]) needs.push_back(m);
    for (const auto& in : s.inputs) {
      std::string norm = fs::path(in).lexically_normal().string();
      if (auto it = producer.find(norm); it != producer.end() && it->second != s.name) needs.push_back(it->second);
      // Globs and directories can name many outputs: those need a scan.
      bool scan = has_glob(in) || producer.lower_bound(norm + "/") != producer.end();
      if (!scan) continue;
      for (const auto& [out, name] : producer)
        if (name != s.name && out != norm && reads(in, out)) needs.push_back(name);
    }
    // ${step.NAME.outputs} in the command reads NAME's outputs.
    for (size_t at = s.raw_run.find("${step."); at != std::string::npos; at = s.raw_run.find("${step.", at + 1)) {
      size_t end = s.raw_run.find(".outputs}", at);
      if (end == std::string::npos) break;
      auto it = members.find(s.raw_run.substr(at + 7, end - at - 7));
      if (it != members.end())
        for (const auto& m : it->second) needs.push_back(m);
    }
    std::sort(needs.begin(), needs.end());
    needs.erase(std::unique(needs.begin(), needs.end()), needs.end());
    s.needs = needs;
  }
  // Topological order; a cycle is reported as a -> b -> ... -> a.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < p.steps.size(); ++i) index[p.steps[i].name] = i;
  std::vector<int> state(p.steps.size(), 0);
  std::vector<size_t> order, stack;
  bool cyclic = false;
  std::function<void(size_t)> visit = [&](size_t i) {
    if (cyclic || state[i] == 2) return;
    if (state[i] == 1) {
      auto it = std::find(stack.begin(), stack.end(), i);
      std::string cycle;
      for (; it != stack.end(); ++it) cycle += p.steps[*it].name + " -> ";
      cycle += p.steps[i].name;
      L.diag_for(p.steps[i].file).error(p.steps[i].mark, fmt::format("cycle: {}", cycle));
      cyclic = true;
      return;
    }
    state[i] = 1;
    stack.push_back(i);
    for (const auto& n : p.steps[i].needs) visit(index[n]);
    stack.pop_back();
    state[i] = 2;
    order.push_back(i);
  };
  for (size_t i = 0; i < p.steps.size(); ++i) visit(i);
  std::string all;
  for (const auto& d : L.diags)
    for (const auto& m : d->messages()) all += (all.empty() ? "" : "\n") + m;
  if (!all.empty()) return invalid_argument(all);
  std::vector<Step> sorted;
  for (size_t i : order) sorted.push_back(std::move(p.steps[i]));
  p.steps = std::move(sorted);
  return p;
}

std::string to_dot(const Pipeline& p) {
  std::string out = "digraph pipeline {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n";
  for (const auto& s : p.steps) {
    out += fmt::format("  \"{}\"{};\n", s.name, s.when_true ? "" : " [style=dashed]");
    for (const auto& n : s.needs) out += fmt::format("  \"{}\" -> \"{}\";\n", n, s.name);
  }
  for (const auto& sv : p.services) {
    out += fmt::format("  \"{}\" [shape=ellipse];\n", sv.name);
    for (const auto& u : sv.used_by) out += fmt::format("  \"{}\" -> \"{}\" [style=dotted];\n", sv.name, u);
  }
  return out + "}\n";
}

}  // namespace sciflow::exec
