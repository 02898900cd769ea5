// exec/process: run a child process with its own environment, working directory
// and redirections, a timeout, and a kill that reaches the whole process tree.
//
// The child leads a new process group. On timeout or cancellation (SIGINT/SIGTERM
// to us) it and every descendant get SIGTERM (or the signal we received), then
// SIGKILL after a grace period. Descendants are found both by process group and by
// walking /proc, so a grandchild that called setsid() is not left behind.
// Thread safety: run() is reentrant; call it from several threads to run
// children in parallel.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace sciflow::exec {

struct Redirect {
  enum class Kind { kInherit, kNull, kFile, kAppend, kCapture, kString };
  Kind kind = Kind::kInherit;
  std::string text;  // kFile/kAppend: the path; kString: the data fed to stdin

  static Redirect inherit() { return {}; }
  static Redirect null() { return {Kind::kNull, {}}; }
  static Redirect file(std::string path) { return {Kind::kFile, std::move(path)}; }
  static Redirect append(std::string path) { return {Kind::kAppend, std::move(path)}; }
  static Redirect capture() { return {Kind::kCapture, {}}; }         // stdout/stderr only
  static Redirect from_string(std::string data) { return {Kind::kString, std::move(data)}; }  // stdin only
};

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::vector<std::pair<std::string, std::string>> env;  // set or override
  bool clear_env = false;         // start from an empty environment (then `env`)
  std::string cwd;                // empty: ours
  Redirect in, out, err;
  double timeout_s = 0;           // 0: none
  double kill_grace_s = 2;        // between SIGTERM and SIGKILL
  size_t capture_limit = 64u << 20;  // bytes kept per captured stream
};

struct ProcessResult {
  int pid = 0;
  int exit_code = -1;     // when the child exited
  int term_signal = 0;    // when a signal killed it
  bool timed_out = false;
  bool cancelled = false; // we were interrupted and stopped the child
  std::string out, err;   // captured streams (up to capture_limit)
  double wall_s = 0, user_s = 0, sys_s = 0;
  int64_t max_rss_kb = 0;

  bool success() const { return exit_code == 0 && term_signal == 0 && !timed_out; }
  // What a shell would report: the exit code, or 128+signal.
  int shell_code() const { return term_signal ? 128 + term_signal : exit_code; }
  // "exited with code 3", "killed by SIGKILL", "timed out after 2s (killed by SIGTERM)"
  std::string describe() const;
};

// Runs `spec` to completion. Returns an error only if the child could not be
// started (kNotFound "run 'foo': No such file or directory", a redirect file that
// cannot be opened); a child that fails is a successful run() with a result that
// says how it failed.
Result<ProcessResult> run(const ProcessSpec& spec);

// Sends `sig` to `pid`, its process group and every descendant found in /proc.
void kill_tree(int pid, int sig);

}  // namespace sciflow::exec
