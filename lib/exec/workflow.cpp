#include "exec/workflow.hpp"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/cancel.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "crypto/hash.hpp"
#include "exec/process.hpp"
#include "io/file.hpp"

extern char** environ;

namespace sciflow::exec {

namespace fs = std::filesystem;

std::string state_dir(const std::string& workdir) { return (fs::path(workdir) / ".wfrun").string(); }

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// A file name for a step's logs: "compress[frames/a.png]" -> "compress[frames_a.png]".
std::string log_name(const std::string& step) {
  std::string s;
  for (char c : step) s += (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._-[]", c)) ? c : '_';
  return s;
}

// ---- SQLite ---------------------------------------------------------------------------------

class Db {
 public:
  ~Db() {
    if (db_) sqlite3_close(db_);
  }
  Status open(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
      return io_error(fmt::format("{}: cannot open the state database: {}", path, db_ ? sqlite3_errmsg(db_) : "out of memory"));
    path_ = path;
    sqlite3_busy_timeout(db_, 5000);
    return exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                "CREATE TABLE IF NOT EXISTS steps(name TEXT PRIMARY KEY, key TEXT, status TEXT, detail TEXT,"
                " run TEXT, updated REAL);"
                "CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY, pipeline TEXT, started REAL, finished REAL,"
                " status TEXT);");
  }
  Status exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Status s = io_error(fmt::format("{}: {}", path_, err ? err : "error"));
      sqlite3_free(err);
      return s;
    }
    return Status::ok();
  }
  // Runs `sql` with text parameters; calls row(values) for each result row.
  Status query(const std::string& sql, const std::vector<std::string>& args,
               const std::function<void(const std::vector<std::string>&)>& row = {}) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      return io_error(fmt::format("{}: {}", path_, sqlite3_errmsg(db_)));
    for (size_t i = 0; i < args.size(); ++i)
      sqlite3_bind_text(st, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> v;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* t = sqlite3_column_text(st, c);
        v.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      if (row) row(v);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return io_error(fmt::format("{}: {}", path_, sqlite3_errmsg(db_)));
    return Status::ok();
  }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// Like make: a command without shell syntax is run directly (one process
// start saved per step); anything else goes to /bin/sh -c.
std::vector<std::string> command_argv(const std::string& command) {
  if (command.find_first_of("|&;<>()$`\\\"'*?[]#~=%{}\n") != std::string::npos) return {"/bin/sh", "-c", command};
  std::vector<std::string> argv;
  for (size_t p = 0; p < command.size();) {
    size_t b = command.find_first_not_of(" \t", p);
    if (b == std::string::npos) break;
    size_t e = command.find_first_of(" \t", b);
    argv.push_back(command.substr(b, e == std::string::npos ? std::string::npos : e - b));
    p = e == std::string::npos ? command.size() : e;
  }
  // As make does: a shell builtin or keyword with no program of its name (exit 3,
  // cd sub, export X, if, ...) needs the shell too.
  static constexpr std::string_view kShellOnly[] = {
      ".",      ":",      "alias",  "bg",      "break",    "case",  "cd",   "command", "continue", "do",
      "done",   "elif",   "else",   "esac",    "eval",     "exec",  "exit", "export",  "fc",       "fg",
      "fi",     "for",    "getopts", "hash",   "if",       "jobs",  "read", "readonly", "return",  "set",
      "shift",  "then",   "times",  "trap",    "type",     "ulimit", "umask", "unalias", "unset",   "until",
      "wait",   "while",  "!",      "{",       "}",        "source", "local", "function"};
  if (argv.empty() || std::find(std::begin(kShellOnly), std::end(kShellOnly), argv[0]) != std::end(kShellOnly))
    return {"/bin/sh", "-c", command};
  return argv;
}

// ---- cache keys ------------------------------------------------------------------------------

std::vector<std::string> expand(const std::string& pattern, const std::string& workdir) {
  if (pattern.find_first_of("*?[") == std::string::npos) return {pattern};
  std::string full = pattern.front() == '/' ? pattern : workdir + "/" + pattern;
  glob_t g{};
  std::vector<std::string> out;
  if (::glob(full.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string p = g.gl_pathv[i];
      if (pattern.front() != '/' && p.rfind(workdir + "/", 0) == 0) p = p.substr(workdir.size() + 1);
      out.push_back(p);
    }
  globfree(&g);
  return out;
}

// The program a command starts: its first word, looked up in PATH (once per word).
Json program_stamp_uncached(const std::string& command, const std::string& workdir);
Json program_stamp(const std::string& command, const std::string& workdir) {
  static std::mutex mu;
  static std::map<std::string, Json> cache;
  size_t b = command.find_first_not_of(" \t");
  std::string word = b == std::string::npos ? "" : command.substr(b, command.find_first_of(" \t;|&<>", b) - b);
  std::lock_guard<std::mutex> l(mu);
  auto it = cache.find(word);
  if (it != cache.end()) return it->second;
  return cache[word] = program_stamp_uncached(command, workdir);
}
Json program_stamp_uncached(const std::string& command, const std::string& workdir) {
  size_t b = command.find_first_not_of(" \t");
  if (b == std::string::npos) return nullptr;
  size_t e = command.find_first_of(" \t;|&<>", b);
  std::string word = command.substr(b, e == std::string::npos ? std::string::npos : e - b);
  std::vector<std::string> candidates;
  if (word.find('/') != std::string::npos) {
    candidates.push_back(word.front() == '/' ? word : workdir + "/" + word);
  } else if (const char* path = std::getenv("PATH")) {
    std::string ps = path;
    for (size_t p = 0; p <= ps.size();) {
      size_t c = ps.find(':', p);
      if (c == std::string::npos) c = ps.size();
      candidates.push_back(ps.substr(p, c - p) + "/" + word);
      p = c + 1;
    }
  }
  for (const auto& c : candidates) {
    struct stat st;
    if (::stat(c.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
      return Json{{"path", c}, {"size", static_cast<int64_t>(st.st_size)}, {"mtime", static_cast<int64_t>(st.st_mtime)}};
  }
  return Json{{"word", word}};  // a shell builtin or missing: the text is in the command anyway
}

struct KeyInfo {
  std::string key;
  Json detail;
  std::string missing_input;  // first input that does not exist
};

Result<KeyInfo> cache_key(const Step& s, const std::string& workdir) {
  KeyInfo k;
  Json inputs = Json::object();
  for (const auto& pattern : s.inputs) {
    auto files = expand(pattern, workdir);
    if (files.empty() && k.missing_input.empty()) k.missing_input = pattern;
    for (const auto& f : files) {
      std::string full = f.front() == '/' ? f : workdir + "/" + f;
      struct stat st;
      if (::stat(full.c_str(), &st) != 0) {
        if (k.missing_input.empty()) k.missing_input = f;
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        // A directory input: every regular file below it.
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& e : fs::recursive_directory_iterator(full, ec))
          if (e.is_regular_file()) names.push_back(e.path().string());
        std::sort(names.begin(), names.end());
        for (const auto& n : names) {
          ASSIGN_OR_RETURN(std::string h, crypto::sha256_file_hex(n));
          inputs[fs::relative(n, workdir).string()] = h;
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::string h, crypto::sha256_file_hex(full));
      inputs[f] = h;
    }
  }
  Json env = Json::object();
  for (const auto& [kk, v] : s.env) env[kk] = v;
  k.detail = Json{{"command", s.run}, {"env", env}, {"inputs", inputs}, {"program", program_stamp(s.run, workdir)}};
  ASSIGN_OR_RETURN(auto d, crypto::sha256(k.detail.dump()));
  k.key = crypto::to_hex(d);
  return k;
}

// Why `now` differs from what the database recorded (`then`).
std::string explain_change(const Json& then, const Json& now) {
  if (then.value("command", "") != now.value("command", "")) return "command changed";
  const Json& a = then.contains("inputs") ? then["inputs"] : Json::object();
  const Json& b = now["inputs"];
  for (const auto& [k, v] : b.items()) {
    if (!a.contains(k)) return fmt::format("input {} is new", k);
    if (a[k] != v) return fmt::format("input {} changed", k);
  }
  for (const auto& [k, v] : a.items())
    if (!b.contains(k)) return fmt::format("input {} is gone", k);
  if (then.value("env", Json::object()) != now["env"]) return "environment changed";
  if (then.value("program", Json()) != now["program"]) return "program changed";
  return "cache key changed";
}

double rapl_joules() {
  std::ifstream f("/sys/class/powercap/intel-rapl:0/energy_uj");
  double uj = -1;
  if (f >> uj) return uj / 1e6;
  return -1;
}

// ---- services ----------------------------------------------------------------------------

struct RunningService {
  const Service* svc = nullptr;
  pid_t pid = -1;
};

Result<pid_t> spawn_shell(const std::string& command, const std::string& workdir, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addchdir_np(&fa, workdir.c_str());
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&at, 0);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid;
  int rc = posix_spawn(&pid, "/bin/sh", &fa, &at, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (rc != 0) return errno_status(fmt::format("start '{}'", command), rc);
  return pid;
}

// Kills what a previous wfrun in this directory left running: steps are started
// with WFRUN_DIR=<state dir> in their environment, and holding the lock means
// that wfrun is gone (killed with SIGKILL, or its machine rebooted).
void kill_orphans(const std::string& sd) {
  std::string tag = "WFRUN_DIR=" + sd;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    int pid = std::atoi(name.c_str());
    if (pid == ::getpid()) continue;
    std::ifstream f(e.path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (size_t p = 0; p < env.size();) {
      size_t z = env.find('\0', p);
      if (z == std::string::npos) z = env.size();
      if (env.compare(p, z - p, tag) == 0) {
        kill_tree(pid, SIGKILL);
        break;
      }
      p = z + 1;
    }
  }
}


// ---- Slurm ---------------------------------------------------------------------------------

// A step's batch script: runs the command from its own file (no quoting
// games), sends its output to the step's logs, and leaves "rc start end" in
// RC (written under a temporary name and renamed, so a reader never sees half).
Status write_slurm_script(const std::string& path, const std::string& cmd_path, const std::string& workdir,
                          const std::vector<std::pair<std::string, std::string>>& env, const std::string& out_log,
                          const std::string& err_log, const std::string& rc_path) {
  auto q = [](const std::string& v) {
    std::string o = "'";
    for (char c : v) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return o + "'";
  };
  std::string sh = "#!/bin/sh\n";
  sh += "cd " + q(workdir) + " || exit 1\n";
  for (const auto& [k, v] : env) sh += "export " + k + "=" + q(v) + "\n";
  sh += "start=$(date +%s.%N)\n";
  sh += "/bin/sh " + q(cmd_path) + " < /dev/null > " + q(out_log) + " 2> " + q(err_log) + "\n";
  sh += "rc=$?\n";
  sh += "echo \"$rc $start $(date +%s.%N)\" > " + q(rc_path + ".tmp") + " && mv " + q(rc_path + ".tmp") + " " + q(rc_path) + "\n";
  sh += "exit $rc\n";
  return io::write_file_atomic(path, sh, io::OutputOptions{true, false, 0755});
}

}  // namespace

// ---- the run ---------------------------------------------------------------------------------

Result<RunSummary> run_pipeline(const Pipeline& p, const RunOptions& o) {
  std::string workdir = fs::absolute(o.workdir).lexically_normal().string();
  while (workdir.size() > 1 && workdir.back() == '/') workdir.pop_back();
  std::string sd = state_dir(workdir);
  std::error_code ec;
  fs::create_directories(sd + "/runs", ec);
  fs::create_directories(sd + "/logs", ec);
  if (ec) return io_error(fmt::format("create '{}': {}", sd, ec.message()));

  // One wfrun per work directory.
  std::string lock_path = sd + "/lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return errno_status(fmt::format("open '{}'", lock_path), errno);
  struct LockGuard {
    int fd;
    ~LockGuard() { ::close(fd); }
  } guard{lock_fd};
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(lock_fd, buf, sizeof buf - 1, 0);
    (void)n;
    return Status(Code::kUnavailable, fmt::format("{}: another wfrun (pid {}) is running in this directory (lock {})",
                                                  workdir, std::atoi(buf), lock_path));
  }
  if (::ftruncate(lock_fd, 0) == 0) {
    std::string pid = std::to_string(::getpid()) + "\n";
    ssize_t n = ::pwrite(lock_fd, pid.data(), pid.size(), 0);
    (void)n;
  }

  if (!o.dry_run) kill_orphans(sd);
  Db db;
  RETURN_IF_ERROR(db.open(sd + "/state.db"));

  RunSummary sum;
  double t_start = now_s();
  {
    char buf[64];
    std::time_t t = static_cast<std::time_t>(t_start);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    sum.run_id = fmt::format("{}-{}", buf, ::getpid());
  }
  std::string host = hostname();
  std::mutex mu;  // guards events, db, reports, and the scheduler state below
  std::ofstream events;
  if (!o.dry_run) events.open(sd + "/runs/" + sum.run_id + ".jsonl");
  std::mutex emit_mu;  // events come from the scheduler, step threads and service handling
  auto emit = [&](Json e) {
    std::lock_guard<std::mutex> el(emit_mu);
    e["time"] = units::format_utc(now_s());
    e["run"] = sum.run_id;
    if (events.is_open()) {
      events << to_json_line(e) << '\n';
      events.flush();
    }
    if (o.on_event) o.on_event(e);
  };
  if (!o.dry_run) {
    RETURN_IF_ERROR(db.query("INSERT OR REPLACE INTO runs VALUES(?, ?, ?, NULL, 'running')",
                             {sum.run_id, p.file, fmt::format("{:.3f}", t_start)}));
    emit(Json{{"event", "run_start"}, {"pipeline", p.file}, {"workdir", workdir}, {"host", host},
              {"steps", p.steps.size()}, {"jobs", o.jobs}, {"wfrun", kVersion}});
  }

  const size_t n = p.steps.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[p.steps[i].name] = i;
  enum State { kPending, kRunning, kDone };
  std::vector<State> state(n, kPending);
  std::vector<StepReport> reports(n);
  std::vector<bool> satisfied(n, false), ran(n, false);
  for (size_t i = 0; i < n; ++i) reports[i].name = p.steps[i].name;
  int free_cpus = std::max(1, o.jobs);
  // Memory the local executor may hand out: what the machine has available now
  // (steps declare theirs with resources.mem; undeclared steps count as 0).
  int64_t free_mem_mb = 0;
  {
    std::ifstream mi("/proc/meminfo");
    std::string key;
    int64_t kb = 0;
    std::string unit;
    while (mi >> key >> kb >> unit)
      if (key == "MemAvailable:") free_mem_mb = kb / 1024;
  }
  const int64_t total_mem_mb = free_mem_mb;
  int running = 0;
  bool stop = false;
  std::condition_variable cv;
  std::map<size_t, std::thread> threads;
  std::vector<size_t> finished_threads;  // steps whose threads have ended (joined by the scheduler)
  std::map<std::string, RunningService> services;
  // Steps whose needs are all done, in pipeline order; a step waits here for CPUs.
  std::set<size_t> ready;
  std::vector<size_t> waiting(n, 0);
  std::vector<std::vector<size_t>> dependents(n);
  for (size_t i = 0; i < n; ++i)
    for (const auto& need : p.steps[i].needs) {
      dependents[index[need]].push_back(i);
      ++waiting[i];
    }
  for (size_t i = 0; i < n; ++i)
    if (waiting[i] == 0) ready.insert(i);
  // Called (under the lock) when step i is done, whatever its outcome.
  auto finish = [&](size_t i) {
    for (size_t d : dependents[i])
      if (--waiting[d] == 0) ready.insert(d);
  };

  auto stop_service = [&](RunningService& rs) {
    if (rs.pid <= 0) return;
    kill_tree(rs.pid, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(rs.pid, nullptr, WNOHANG) == rs.pid) {
        rs.pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (rs.pid > 0) {
      kill_tree(rs.pid, SIGKILL);
      ::waitpid(rs.pid, nullptr, 0);
      rs.pid = -1;
    }
    emit(Json{{"event", "service_stop"}, {"service", rs.svc->name}});
  };
  auto ensure_services = [&](const Step& s) -> Status {
    for (const auto& sv : p.services) {
      bool used = sv.used_by.empty() || std::find(sv.used_by.begin(), sv.used_by.end(), s.name) != sv.used_by.end();
      if (!used || services.count(sv.name)) continue;
      std::string log = sd + "/logs/service-" + log_name(sv.name) + ".log";
      ASSIGN_OR_RETURN(pid_t pid, spawn_shell(sv.run, workdir, log));
      services[sv.name] = {&sv, pid};
      emit(Json{{"event", "service_start"}, {"service", sv.name}, {"pid", pid}, {"command", sv.run}});
      if (sv.ready.empty()) continue;
      double deadline = now_s() + sv.ready_timeout_s;
      for (;;) {
        ProcessSpec ps;
        ps.argv = {"/bin/sh", "-c", sv.ready};
        ps.cwd = workdir;
        ps.out = Redirect::null();
        ps.err = Redirect::null();
        ps.timeout_s = 10;
        auto r = exec::run(ps);
        if (r && r->success()) break;
        if (::waitpid(pid, nullptr, WNOHANG) == pid) {
          services[sv.name].pid = -1;
          return Status(Code::kUnavailable, fmt::format("service '{}' exited before it was ready (log: {})", sv.name, log));
        }
        if (now_s() > deadline)
          return Status(Code::kTimeout, fmt::format("service '{}' not ready after {:g} s: '{}' kept failing (log: {})",
                                                    sv.name, sv.ready_timeout_s, sv.ready, log));
        if (cancel::cancelled()) return cancel::check_cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      emit(Json{{"event", "service_ready"}, {"service", sv.name}});
    }
    return Status::ok();
  };

  // Checks the outputs of a step that ended, writes its step_end event and its
  // database row, and updates the run's bookkeeping. The caller holds `mu`.
  auto record = [&](size_t i, const KeyInfo& key, StepReport rep, double e0, const Json& extra) {
    const Step& s = p.steps[i];
    std::string out_log = sd + "/logs/" + log_name(s.name) + ".out";
    std::string err_log = sd + "/logs/" + log_name(s.name) + ".err";
    Json outputs = Json::object();
    if (rep.status == "ok") {
      for (const auto& out : s.outputs) {
        std::string full = out.front() == '/' ? out : workdir + "/" + out;
        struct stat st;
        if (::stat(full.c_str(), &st) != 0) {
          rep.status = "failed";
          rep.reason = fmt::format("exited 0 but did not write its declared output {}", out);
          break;
        }
        if (S_ISREG(st.st_mode)) {
          auto h = crypto::sha256_file_hex(full);
          outputs[out] = h ? *h : "";
        } else {
          outputs[out] = "directory";
        }
      }
    }
    double e1 = rapl_joules();
    Json ev{{"event", "step_end"}, {"step", s.name}, {"status", rep.status}, {"exit_code", rep.exit_code},
            {"attempts", rep.attempts}, {"wall_s", rep.wall_s}, {"cpu_s", rep.cpu_s}, {"max_rss_kb", rep.max_rss_kb},
            {"host", host}, {"command", s.run}, {"inputs", key.detail["inputs"]}, {"outputs", outputs},
            {"stdout", out_log}, {"stderr", err_log}};
    if (rep.status != "ok") ev["reason"] = rep.reason;
    if (e0 >= 0 && e1 >= e0) ev["energy_j"] = e1 - e0;
    ev.update(extra);
    emit(ev);
    if (rep.status == "ok") {
      Json detail = key.detail;
      detail["outputs"] = outputs;
      auto st = db.query("INSERT OR REPLACE INTO steps VALUES(?, ?, 'ok', ?, ?, ?)",
                         {s.name, key.key, detail.dump(), sum.run_id, fmt::format("{:.3f}", now_s())});
      if (!st.is_ok()) {
        rep.status = "failed";
        rep.reason = st.message();
      }
    } else {
      auto st = db.query("UPDATE steps SET status = ?, run = ?, updated = ? WHERE name = ?",
                         {rep.status, sum.run_id, fmt::format("{:.3f}", now_s()), s.name});
      (void)st;
    }
    reports[i] = rep;
    state[i] = kDone;
    satisfied[i] = rep.status == "ok";
    ran[i] = true;
    if (rep.status != "ok") {
      ++sum.failed;
      if (!o.keep_going) stop = true;
    } else {
      ++sum.ran;
    }
    finish(i);
  };

  // Runs step i (on its own thread); reports under the lock.
  auto execute = [&](size_t i, KeyInfo key, std::string reason) {
    const Step& s = p.steps[i];
    StepReport rep;
    rep.name = s.name;
    rep.reason = reason;
    std::string out_log = sd + "/logs/" + log_name(s.name) + ".out";
    std::string err_log = sd + "/logs/" + log_name(s.name) + ".err";
    double e0 = rapl_joules();
    ProcessResult last;
    double backoff = s.backoff_s;
    bool started = false;
    std::string start_error;
    for (int attempt = 1; attempt <= s.retries + 1; ++attempt) {
      rep.attempts = attempt;
      {
        std::lock_guard<std::mutex> l(mu);
        emit(Json{{"event", "step_start"}, {"step", s.name}, {"attempt", attempt}, {"command", s.run},
                  {"reason", reason}, {"host", host}, {"inputs", key.detail["inputs"]}});
      }
      ProcessSpec ps;
      ps.argv = command_argv(s.run);
      ps.cwd = workdir;
      ps.env = s.env;
      ps.env.emplace_back("WFRUN_DIR", sd);
      ps.env.emplace_back("WFRUN_STEP", s.name);
      ps.env.emplace_back("WFRUN_RUN", sum.run_id);
      ps.in = Redirect::null();
      ps.out = Redirect::file(out_log);
      ps.err = Redirect::file(err_log);
      ps.timeout_s = s.timeout_s;
      auto r = exec::run(ps);
      if (!r) {
        start_error = r.status().message();
        break;
      }
      started = true;
      last = std::move(r).value();
      rep.wall_s += last.wall_s;
      rep.cpu_s += last.user_s + last.sys_s;
      rep.max_rss_kb = std::max(rep.max_rss_kb, last.max_rss_kb);
      if (last.success() || last.cancelled || cancel::cancelled()) break;
      if (attempt <= s.retries) {
        std::lock_guard<std::mutex> l(mu);
        emit(Json{{"event", "step_retry"}, {"step", s.name}, {"attempt", attempt}, {"result", last.describe()},
                  {"backoff_s", backoff}});
      }
      if (attempt <= s.retries) {
        for (double slept = 0; slept < backoff && !cancel::cancelled(); slept += 0.05)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        backoff *= 2;
      }
    }
    if (!started) {
      rep.status = "failed";
      rep.reason = start_error;
      rep.exit_code = 127;
    } else if (last.cancelled || (cancel::cancelled() && !last.success())) {
      rep.status = "cancelled";
      rep.reason = last.describe();
      rep.exit_code = last.shell_code();
    } else if (!last.success()) {
      rep.exit_code = last.shell_code();
      rep.status = last.timed_out ? "timeout" : last.term_signal ? "killed" : "failed";
      rep.reason = last.describe();
      if (last.term_signal == SIGKILL && !last.timed_out)
        rep.reason += " (the out-of-memory killer, or a kill from outside)";
    } else {
      rep.status = "ok";
    }
    std::lock_guard<std::mutex> l(mu);
    record(i, key, rep, e0, Json::object());
    free_cpus += std::min(std::max(1, o.jobs), s.resources.cpus);
    free_mem_mb += std::min(total_mem_mb, s.resources.mem_mb);
    --running;
    finished_threads.push_back(i);
    cv.notify_all();
  };

  // ---- the Slurm executor (single-threaded: runs inside the scheduler loop) ----
  struct SlurmTask {
    size_t step = 0;
    KeyInfo key;
    std::string reason;
    int attempt = 1;
    double retry_at = 0;
    std::string job;      // "123" or "123_4" (array task)
    std::string master;   // "123"
    std::string rc_path;
    int missing_polls = 0;
  };
  const bool slurm = o.executor == "slurm";
  std::vector<SlurmTask> to_submit, inflight;
  double last_poll = 0;
  std::string user;
  if (const char* u = std::getenv("USER"); u && *u) user = u;
  else user = std::to_string(::getuid());
  if (slurm) fs::create_directories(sd + "/slurm", ec);

  auto sbatch_args = [&](const Step& s) {
    std::vector<std::string> a = {"sbatch", "--parsable", "--requeue", "--output=/dev/null",
                                  "--chdir=" + workdir, fmt::format("--cpus-per-task={}", s.resources.cpus)};
    if (s.resources.mem_mb > 0) a.push_back(fmt::format("--mem={}M", s.resources.mem_mb));
    if (s.resources.gpus > 0) a.push_back(fmt::format("--gres=gpu:{}", s.resources.gpus));
    double t = s.resources.time_s > 0 ? s.resources.time_s : s.timeout_s;
    if (t > 0) a.push_back(fmt::format("--time={}", static_cast<int64_t>(std::ceil(t / 60))));
    return a;
  };
  // Submits the tasks in `batch` (all of one step group) as one job or one array. Caller holds `mu`.
  auto submit = [&](std::vector<SlurmTask> batch) {
    const Step& first = p.steps[batch[0].step];
    std::vector<std::string> scripts;
    Status st;
    for (auto& t : batch) {
      const Step& s = p.steps[t.step];
      std::string base = sd + "/slurm/" + log_name(s.name);
      t.rc_path = base + ".rc";
      ::unlink(t.rc_path.c_str());
      auto env = s.env;
      env.emplace_back("WFRUN_DIR", sd);
      env.emplace_back("WFRUN_STEP", s.name);
      env.emplace_back("WFRUN_RUN", sum.run_id);
      if (st.is_ok()) st = io::write_file_atomic(base + ".cmd", s.run + "\n");
      if (st.is_ok())
        st = write_slurm_script(base + ".sh", base + ".cmd", workdir, env, sd + "/logs/" + log_name(s.name) + ".out",
                                sd + "/logs/" + log_name(s.name) + ".err", t.rc_path);
      scripts.push_back(base + ".sh");
    }
    std::string script = scripts[0];
    auto args = sbatch_args(first);
    args.push_back("--job-name=wfrun:" + first.group);
    if (st.is_ok() && batch.size() > 1) {
      // An array: task k runs the k-th item's script.
      script = sd + "/slurm/array-" + log_name(first.group) + "-" + sum.run_id + "-" + std::to_string(batch[0].attempt) + ".sh";
      std::string sh = "#!/bin/sh\ncase \"$SLURM_ARRAY_TASK_ID\" in\n";
      for (size_t k = 0; k < scripts.size(); ++k) sh += fmt::format("  {}) exec /bin/sh '{}' ;;\n", k, scripts[k]);
      sh += "esac\nexit 2\n";
      st = io::write_file_atomic(script, sh, io::OutputOptions{true, false, 0755});
      args.push_back(o.array_limit > 0 ? fmt::format("--array=0-{}%{}", batch.size() - 1, o.array_limit)
                                       : fmt::format("--array=0-{}", batch.size() - 1));
    }
    args.push_back(script);
    std::string job, why;
    if (st.is_ok()) {
      ProcessSpec ps;
      ps.argv = args;
      ps.out = Redirect::capture();
      ps.err = Redirect::capture();
      ps.timeout_s = 60;
      auto r = exec::run(ps);
      if (!r) why = r.status().message();
      else if (!r->success()) why = fmt::format("sbatch {}: {}", r->describe(), r->err.substr(0, r->err.find_last_not_of("\n") + 1));
      else job = r->out.substr(0, r->out.find_first_of(";\n"));
    } else {
      why = st.message();
    }
    for (size_t k = 0; k < batch.size(); ++k) {
      SlurmTask& t = batch[k];
      const Step& s = p.steps[t.step];
      if (job.empty()) {
        StepReport rep;
        rep.name = s.name;
        rep.status = "failed";
        rep.reason = why;
        rep.exit_code = 1;
        rep.attempts = t.attempt;
        --running;
        record(t.step, t.key, rep, -1, Json{{"executor", "slurm"}});
        continue;
      }
      t.master = job;
      t.job = batch.size() > 1 ? fmt::format("{}_{}", job, k) : job;
      emit(Json{{"event", "step_start"}, {"step", s.name}, {"attempt", t.attempt}, {"command", s.run},
                {"reason", t.reason}, {"executor", "slurm"}, {"slurm_job_id", t.job}, {"inputs", t.key.detail["inputs"]}});
      inflight.push_back(std::move(t));
    }
  };
  // One squeue call for every job in flight, then the result files.
  auto poll = [&]() {
    if (inflight.empty() || now_s() - last_poll < o.poll_s) return;
    last_poll = now_s();
    ProcessSpec ps;
    ps.argv = {"squeue", "-h", "-u", user, "-o", "%F %i %T"};
    ps.out = Redirect::capture();
    ps.err = Redirect::capture();
    ps.timeout_s = 60;
    auto r = exec::run(ps);
    // When squeue fails (a controller restarting), results already written still
    // count, and every other job is taken to be still queued.
    bool known = r && r->success();
    if (!known) emit(Json{{"event", "slurm_poll_failed"}, {"reason", r ? r->err : r.status().message()}});
    std::set<std::string> queued;  // master ids with any task still queued or running
    if (known)
      for (std::string_view line : io::split_lines(r->out)) queued.insert(std::string(line.substr(0, line.find(' '))));
    std::vector<SlurmTask> still;
    for (auto& t : inflight) {
      const Step& s = p.steps[t.step];
      std::ifstream rc(t.rc_path);
      int code = -1;
      double t0 = 0, t1 = 0;
      bool have = static_cast<bool>(rc >> code >> t0 >> t1);
      if (!have && (!known || queued.count(t.master))) {
        still.push_back(std::move(t));
        continue;
      }
      if (!have && ++t.missing_polls < 2) {  // the result file may trail the job's exit
        still.push_back(std::move(t));
        continue;
      }
      StepReport rep;
      rep.name = s.name;
      rep.attempts = t.attempt;
      rep.wall_s = have ? t1 - t0 : 0;
      if (have && code == 0) {
        rep.status = "ok";
      } else {
        rep.status = have ? "failed" : "killed";
        rep.exit_code = have ? code : -1;
        rep.reason = have ? fmt::format("exited with code {} (Slurm job {})", code, t.job)
                          : fmt::format("Slurm job {} ended without a result: cancelled, over its time limit, out of "
                                        "memory or its node failed (see sacct -j {})", t.job, t.master);
        if (t.attempt <= s.retries && !cancel::cancelled()) {
          double backoff = s.backoff_s * std::pow(2.0, t.attempt - 1);
          emit(Json{{"event", "step_retry"}, {"step", s.name}, {"attempt", t.attempt}, {"result", rep.reason},
                    {"backoff_s", backoff}, {"slurm_job_id", t.job}});
          SlurmTask again = std::move(t);
          again.attempt++;
          again.retry_at = now_s() + backoff;
          again.missing_polls = 0;
          to_submit.push_back(std::move(again));
          continue;
        }
      }
      --running;
      record(t.step, t.key, rep, -1, Json{{"executor", "slurm"}, {"slurm_job_id", t.job}});
    }
    inflight = std::move(still);
  };
  auto submit_due = [&]() {
    std::map<std::string, std::vector<SlurmTask>> groups;
    std::vector<SlurmTask> later;
    for (auto& t : to_submit) {
      if (t.retry_at > now_s()) later.push_back(std::move(t));
      else groups[p.steps[t.step].group + "#" + std::to_string(t.attempt)].push_back(std::move(t));
    }
    to_submit = std::move(later);
    for (auto& [g, batch] : groups) submit(std::move(batch));
  };
  auto cancel_jobs = [&]() {
    if (inflight.empty()) return;
    // Not through exec::run: that stops its child when we are interrupted, and
    // an interrupt is exactly when scancel must run to the end.
    std::vector<std::string> argv = {"scancel"};
    for (const auto& t : inflight) argv.push_back(t.job);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    if (posix_spawnp(&pid, "scancel", &fa, nullptr, cargv.data(), environ) == 0) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    posix_spawn_file_actions_destroy(&fa);
    for (const auto& t : inflight) {
      reports[t.step].name = p.steps[t.step].name;
      reports[t.step].status = "cancelled";
      reports[t.step].reason = fmt::format("interrupted; Slurm job {} cancelled", t.job);
      emit(Json{{"event", "step_end"}, {"step", p.steps[t.step].name}, {"status", "cancelled"},
                {"reason", "interrupted: job cancelled"}, {"slurm_job_id", t.job}});
    }
    running -= static_cast<int>(inflight.size());
    inflight.clear();
  };

  // What the database knows of every step, read once (a no-op rerun of 10,000
  // steps must decide in well under a second).
  std::map<std::string, std::vector<std::string>> recorded;
  RETURN_IF_ERROR(db.query("SELECT name, key, status, detail FROM steps", {}, [&](const std::vector<std::string>& r) {
    recorded[r[0]] = {r[1], r[2], r[3]};
  }));
  Status fatal;
  {
    std::unique_lock<std::mutex> l(mu);
    for (;;) {
      if (cancel::cancelled()) stop = true;
      for (size_t i : finished_threads) {
        threads[i].join();
        threads.erase(i);
      }
      finished_threads.clear();
      bool progress = false;
      for (auto it = ready.begin(); it != ready.end() && !stop;) {
        size_t i = *it;
        const Step& s = p.steps[i];
        auto done_now = [&](const char* status, std::string reason, bool ok) {
          state[i] = kDone;
          satisfied[i] = ok;
          reports[i].status = status;
          reports[i].reason = std::move(reason);
          it = ready.erase(it);
          finish(i);
          progress = true;
        };
        bool blocked = false, upstream_ran = false;
        std::string upstream;
        for (const auto& need : s.needs) {
          size_t j = index[need];
          if (!satisfied[j]) blocked = true;
          else if (ran[j] && !upstream_ran) upstream_ran = true, upstream = need;
        }
        if (blocked) {
          done_now("blocked", "a step it needs did not succeed", false);
          continue;
        }
        if (!s.when_true) {
          if (!o.dry_run) emit(Json{{"event", "step_skipped"}, {"step", s.name}, {"when", s.when}});
          done_now("skipped", fmt::format("when: {} is false", s.when), true);
          continue;
        }
        int cpus = slurm ? 0 : std::min(std::max(1, o.jobs), s.resources.cpus);
        // A step that declares more memory than the machine has still runs, alone.
        int64_t mem = slurm ? 0 : std::min(total_mem_mb, s.resources.mem_mb);
        if (cpus > free_cpus || mem > free_mem_mb) {
          ++it;
          continue;
        }
        // Decide: cached, or run (and why).
        l.unlock();
        auto key = cache_key(s, workdir);
        l.lock();
        if (!key) {
          fatal = key.status();
          stop = true;
          break;
        }
        std::string reason;
        Json then;
        std::string then_key, then_status;
        if (auto rec = recorded.find(s.name); rec != recorded.end()) {
          then_key = rec->second[0];
          then_status = rec->second[1];
          if (then_status == "ok" && then_key != key->key) {  // only then is the detail needed
            auto j = parse_json(rec->second[2], "state");
            if (j) then = *j;
          }
        }
        if (!key->missing_input.empty() && !o.dry_run) {
          reports[i].exit_code = 1;
          ++sum.failed;
          if (!o.keep_going) stop = true;
          std::string why = fmt::format("input {} does not exist", key->missing_input);
          emit(Json{{"event", "step_end"}, {"step", s.name}, {"status", "failed"}, {"reason", why}});
          done_now("failed", why, false);
          continue;
        }
        if (then_status.empty()) reason = "never ran here";
        else if (then_status != "ok") reason = fmt::format("its last attempt ended: {}", then_status);
        else if (then_key != key->key) reason = explain_change(then, key->detail);
        else if (upstream_ran) reason = fmt::format("{} ran", upstream);
        else
          for (const auto& out : s.outputs) {
            std::string full = out.front() == '/' ? out : workdir + "/" + out;
            if (::access(full.c_str(), F_OK) != 0) {
              reason = fmt::format("output {} is missing", out);
              break;
            }
          }
        if (o.dry_run && !key->missing_input.empty() && reason.empty())
          reason = fmt::format("input {} does not exist yet", key->missing_input);
        if (reason.empty()) {
          ++sum.cached;
          if (!o.dry_run) emit(Json{{"event", "step_cached"}, {"step", s.name}});
          done_now("cached", "unchanged", true);
          continue;
        }
        if (o.dry_run) {
          ran[i] = true;  // downstream steps would run too
          done_now("would-run", reason, true);
          continue;
        }
        // Services first (outside the lock: health checks take time).
        l.unlock();
        Status svc = ensure_services(s);
        l.lock();
        if (!svc.is_ok()) {
          fatal = svc;
          stop = true;
          break;
        }
        auto mark = db.query("INSERT OR REPLACE INTO steps VALUES(?, ?, 'running', ?, ?, ?)",
                             {s.name, key->key, key->detail.dump(), sum.run_id, fmt::format("{:.3f}", now_s())});
        if (!mark.is_ok()) {
          fatal = mark;
          stop = true;
          break;
        }
        state[i] = kRunning;
        free_cpus -= cpus;
        free_mem_mb -= mem;
        ++running;
        progress = true;
        it = ready.erase(it);
        if (slurm) {
          SlurmTask t;
          t.step = i;
          t.key = std::move(key).value();
          t.reason = reason;
          to_submit.push_back(std::move(t));
        } else {
          threads.emplace(i, std::thread(execute, i, std::move(key).value(), reason));
        }
      }
      if (slurm) {
        if (cancel::cancelled()) {
          cancel_jobs();
          for (auto& t : to_submit) reports[t.step].status = "cancelled";
          running -= static_cast<int>(to_submit.size());
          to_submit.clear();
        }
        submit_due();
        size_t before = inflight.size();
        poll();
        if (inflight.size() != before) progress = true;
      }
      // Stop services no pending or running step needs any more.
      for (auto& [name, rs] : services) {
        if (rs.pid <= 0) continue;
        bool needed = false;
        for (size_t i = 0; i < n && !needed; ++i) {
          if (state[i] == kDone) continue;
          const auto& users = rs.svc->used_by;
          needed = users.empty() || std::find(users.begin(), users.end(), p.steps[i].name) != users.end();
        }
        if (!needed || (stop && running == 0)) {
          l.unlock();
          stop_service(rs);
          l.lock();
        }
      }
      if (running == 0 && (ready.empty() || stop) && !progress) break;
      if (progress) continue;
      cv.wait_for(l, std::chrono::milliseconds(200));
    }
  }
  for (auto& [i, t] : threads) t.join();
  for (auto& [name, rs] : services) stop_service(rs);
  for (size_t i = 0; i < n; ++i) {
    if (state[i] == kPending) {
      reports[i].status = cancel::cancelled() ? "cancelled" : "not run";
      reports[i].reason = cancel::cancelled() ? "interrupted" : "stopped after a failure (use -k to keep going)";
    }
  }
  sum.steps = reports;
  sum.cancelled = cancel::cancelled();
  if (!o.dry_run) {
    std::string status = fatal.is_ok() ? (sum.cancelled ? "cancelled" : sum.ok() ? "ok" : "failed") : "error";
    emit(Json{{"event", "run_end"}, {"status", status}, {"ran", sum.ran}, {"cached", sum.cached}, {"failed", sum.failed},
              {"wall_s", now_s() - t_start}});
    auto st = db.query("UPDATE runs SET finished = ?, status = ? WHERE id = ?",
                       {fmt::format("{:.3f}", now_s()), status, sum.run_id});
    (void)st;
    std::error_code e2;
    fs::remove(sd + "/last-run.jsonl", e2);
    fs::create_symlink("runs/" + sum.run_id + ".jsonl", sd + "/last-run.jsonl", e2);
  }
  if (!fatal.is_ok()) return fatal;
  return sum;
}

Result<Json> workflow_status(const std::string& workdir) {
  std::string sd = state_dir(workdir);
  if (!fs::exists(sd + "/state.db")) return not_found(fmt::format("{}: no wfrun state here (run a pipeline first)", workdir));
  Db db;
  RETURN_IF_ERROR(db.open(sd + "/state.db"));
  Json out = Json::object();
  Json run = nullptr;
  RETURN_IF_ERROR(db.query("SELECT id, pipeline, started, finished, status FROM runs ORDER BY started DESC LIMIT 1", {},
                           [&](const std::vector<std::string>& r) {
                             run = Json{{"id", r[0]}, {"pipeline", r[1]}, {"started", units::format_utc(std::atof(r[2].c_str()))},
                                        {"status", r[4]}};
                           }));
  out["last_run"] = run;
  Json steps = Json::array();
  RETURN_IF_ERROR(db.query("SELECT name, status, run, updated FROM steps ORDER BY updated", {},
                           [&](const std::vector<std::string>& r) {
                             steps.push_back(Json{{"step", r[0]}, {"status", r[1]}, {"run", r[2]},
                                                  {"updated", units::format_utc(std::atof(r[3].c_str()))}});
                           }));
  out["steps"] = steps;
  return out;
}

}  // namespace sciflow::exec
