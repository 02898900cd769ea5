#include "exec/process.hpp"

#include "io/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>

#include "core/cancel.hpp"

extern char** environ;

namespace sciflow::exec {
namespace {

using Clock = std::chrono::steady_clock;

using Fd = io::UniqueFd;

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

// Parent pid of `pid` from /proc/PID/stat; -1 if gone.
int parent_of(int pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "re");
  if (!f) return -1;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: parse after the last ')'.
  char* rp = strrchr(buf, ')');
  if (!rp) return -1;
  char state;
  int ppid;
  if (std::sscanf(rp + 1, " %c %d", &state, &ppid) != 2) return -1;
  return ppid;
}

void descendants(int root, std::vector<int>* out) {
  std::multimap<int, int> children;
  DIR* d = ::opendir("/proc");
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    char* end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    int pp = parent_of(static_cast<int>(pid));
    if (pp > 0) children.emplace(pp, static_cast<int>(pid));
  }
  ::closedir(d);
  std::vector<int> stack{root};
  while (!stack.empty()) {
    int p = stack.back();
    stack.pop_back();
    auto [b, e] = children.equal_range(p);
    for (auto it = b; it != e; ++it) {
      out->push_back(it->second);
      stack.push_back(it->second);
    }
  }
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

Status open_redirect(const Redirect& r, bool is_input, Fd* fd, Fd* parent_end) {
  switch (r.kind) {
    case Redirect::Kind::kInherit:
      return Status::ok();
    case Redirect::Kind::kNull: {
      int f = ::open("/dev/null", (is_input ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
      if (f < 0) return errno_status("open '/dev/null'", errno);
      *fd = Fd(f);
      return Status::ok();
    }
    case Redirect::Kind::kFile:
    case Redirect::Kind::kAppend: {
      int flags = is_input ? O_RDONLY
                           : (O_WRONLY | O_CREAT | (r.kind == Redirect::Kind::kAppend ? O_APPEND : O_TRUNC));
      int f = ::open(r.text.c_str(), flags | O_CLOEXEC, 0644);
      if (f < 0) return errno_status(fmt::format("open '{}'", r.text), errno);
      *fd = Fd(f);
      return Status::ok();
    }
    case Redirect::Kind::kCapture:
    case Redirect::Kind::kString: {
      if (is_input != (r.kind == Redirect::Kind::kString))
        return invalid_argument(is_input ? "stdin cannot be captured" : "only stdin reads from a string");
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) return errno_status("pipe", errno);
      // Child gets the read end of stdin's pipe, the write end of the others.
      *fd = Fd(is_input ? p[0] : p[1]);
      *parent_end = Fd(is_input ? p[1] : p[0]);
      ::fcntl(parent_end->get(), F_SETFL, O_NONBLOCK);
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace

std::string ProcessResult::describe() const {
  std::string s;
  if (term_signal) s = fmt::format("killed by {}", signal_name(term_signal));
  else s = fmt::format("exited with code {}", exit_code);
  if (timed_out) s = fmt::format("timed out after {:.3g}s ({})", wall_s, s);
  else if (cancelled) s = fmt::format("stopped on interrupt ({})", s);
  return s;
}

void kill_tree(int pid, int sig) {
  if (pid <= 0) return;
  std::vector<int> pids;
  descendants(pid, &pids);
  ::kill(-pid, sig);  // the group the child leads
  ::kill(pid, sig);
  for (int p : pids) ::kill(p, sig);
}

Result<ProcessResult> run(const ProcessSpec& spec) {
  if (spec.argv.empty()) return invalid_argument("run: empty command");
  const std::string& prog = spec.argv[0];

  Fd in_fd, out_fd, err_fd, in_parent, out_parent, err_parent;
  RETURN_IF_ERROR(open_redirect(spec.in, true, &in_fd, &in_parent));
  RETURN_IF_ERROR(open_redirect(spec.out, false, &out_fd, &out_parent));
  RETURN_IF_ERROR(open_redirect(spec.err, false, &err_fd, &err_parent));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd.get() >= 0) posix_spawn_file_actions_adddup2(&fa, in_fd.get(), 0);
  if (out_fd.get() >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd.get(), 1);
  if (err_fd.get() >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd.get(), 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> env_store;
  if (!spec.clear_env)
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& [k, v] : spec.env) {
    std::string prefix = k + "=";
    std::erase_if(env_store, [&](const std::string& s) { return s.compare(0, prefix.size(), prefix) == 0; });
    env_store.push_back(prefix + v);
  }
  std::vector<char*> envp, argv;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_store = spec.argv;
  for (auto& s : argv_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  ProcessResult res;
  auto start = Clock::now();
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, prog.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    if (!spec.cwd.empty() && rc == ENOENT && ::access(spec.cwd.c_str(), X_OK) != 0)
      return errno_status(fmt::format("run '{}': working directory '{}'", prog, spec.cwd), errno);
    return errno_status(fmt::format("run '{}'", prog), rc);
  }
  res.pid = pid;
  in_fd.reset();
  out_fd.reset();
  err_fd.reset();

  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  size_t in_pos = 0;
  if (in_parent.get() >= 0 && spec.in.text.empty()) in_parent.reset();

  auto deadline = spec.timeout_s > 0 ? start + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(spec.timeout_s))
                                     : Clock::time_point::max();
  Clock::time_point kill_at = Clock::time_point::max();
  bool exited = false;
  int status = 0;
  rusage ru{};

  auto drain = [&](Fd& fd, std::string& sink) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) {
        size_t room = spec.capture_limit > sink.size() ? spec.capture_limit - sink.size() : 0;
        sink.append(buf, std::min(room, static_cast<size_t>(n)));
        continue;
      }
      if (n == 0) fd.reset();
      else if (errno == EINTR) continue;
      else if (errno != EAGAIN) fd.reset();
      return;
    }
  };
  auto stop = [&](int sig) {
    kill_tree(pid, sig);
    auto grace = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(spec.kill_grace_s));
    kill_at = Clock::now() + grace;
  };

  while (!exited) {
    auto now = Clock::now();
    if (!res.timed_out && !res.cancelled && now >= deadline) {
      res.timed_out = true;
      stop(SIGTERM);
    }
    if (!res.timed_out && !res.cancelled && cancel::cancelled()) {
      res.cancelled = true;
      int sig = cancel::signal_number();
      stop(sig > 0 ? sig : SIGTERM);
    }
    if (now >= kill_at) {
      kill_tree(pid, SIGKILL);
      kill_at = Clock::time_point::max();
    }
    std::vector<pollfd> fds;
    if (pidfd.get() >= 0) fds.push_back({pidfd.get(), POLLIN, 0});
    if (out_parent.get() >= 0) fds.push_back({out_parent.get(), POLLIN, 0});
    if (err_parent.get() >= 0) fds.push_back({err_parent.get(), POLLIN, 0});
    if (in_parent.get() >= 0) fds.push_back({in_parent.get(), POLLOUT, 0});
    int wait_ms = pidfd.get() >= 0 ? 1000 : 20;
    auto next = std::min(deadline, kill_at);
    if (next != Clock::time_point::max()) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
      wait_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, wait_ms));
    }
    int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0 && errno != EINTR) return errno_status("poll", errno);
    if (out_parent.get() >= 0) drain(out_parent, res.out);
    if (err_parent.get() >= 0) drain(err_parent, res.err);
    if (in_parent.get() >= 0) {
      const std::string& data = spec.in.text;
      ssize_t w = ::write(in_parent.get(), data.data() + in_pos, data.size() - in_pos);
      if (w > 0) in_pos += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_pos == data.size()) in_parent.reset();
    }
    pid_t w = ::wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) exited = true;
  }
  res.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  // The child is gone; on timeout or interrupt make sure nothing it started survives.
  if (res.timed_out || res.cancelled) kill_tree(pid, SIGKILL);
  // Collect what is left in the pipes without waiting for grandchildren that hold them open.
  if (out_parent.get() >= 0) drain(out_parent, res.out);
  if (err_parent.get() >= 0) drain(err_parent, res.err);
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.term_signal = WTERMSIG(status);
  res.user_s = seconds(ru.ru_utime);
  res.sys_s = seconds(ru.ru_stime);
  res.max_rss_kb = ru.ru_maxrss;
  return res;
}

}  // namespace sciflow::exec
