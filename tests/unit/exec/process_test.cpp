#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "exec/process.hpp"
#include "io/file.hpp"

namespace fs = std::filesystem;

namespace sciflow::exec {
namespace {

// True once `pid` has exited (gone, or a zombie waiting for init to reap it).
bool dead(int pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string all((std::istreambuf_iterator<char>(stat)), {});
    auto rp = all.rfind(')');
    if (rp != std::string::npos && all.size() > rp + 2 && all[rp + 2] == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sciflow-exec.XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
};

int read_pid(const fs::path& p) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream f(p);
    int pid = 0;
    if (f >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace

TEST_CASE("process: exit code, captured streams, env, cwd, stdin") {
  TempDir d;
  ProcessSpec s;
  s.argv = {"sh", "-c", "read line; echo \"$line $GREETING $(pwd)\"; echo oops >&2; exit 7"};
  s.env = {{"GREETING", "hi"}};
  s.cwd = d.path.string();
  s.in = Redirect::from_string("frames\n");
  s.out = Redirect::capture();
  s.err = Redirect::capture();
  auto r = run(s);
  REQUIRE(r);
  CHECK(r->exit_code == 7);
  CHECK_FALSE(r->success());
  CHECK(r->out == "frames hi " + fs::canonical(d.path).string() + "\n");
  CHECK(r->err == "oops\n");
  CHECK(r->describe() == "exited with code 7");
}

TEST_CASE("process: output to files, clear environment") {
  TempDir d;
  ProcessSpec s;
  s.argv = {"/bin/sh", "-c", "echo \"[$HOME]\"; echo more >&2"};
  s.clear_env = true;
  s.out = Redirect::file((d.path / "out.txt").string());
  s.err = Redirect::append((d.path / "out.txt").string());
  auto r = run(s);
  REQUIRE(r);
  CHECK(r->success());
  auto text = io::read_file((d.path / "out.txt").string());
  REQUIRE(text);
  CHECK(text->find("[]") == 0);
}

TEST_CASE("process: a missing program is an error naming it") {
  ProcessSpec s;
  s.argv = {"sciflow-no-such-program"};
  auto r = run(s);
  REQUIRE_FALSE(r);
  CHECK(r.status().code() == Code::kNotFound);
  CHECK(r.status().message() == "run 'sciflow-no-such-program': No such file or directory");
}

TEST_CASE("process: death by signal is reported as 128+N") {
  ProcessSpec s;
  s.argv = {"sh", "-c", "kill -KILL $$"};
  auto r = run(s);
  REQUIRE(r);
  CHECK(r->term_signal == SIGKILL);
  CHECK(r->shell_code() == 137);
  CHECK(r->describe() == "killed by SIGKILL");
}

TEST_CASE("process: timeout kills the whole tree, including a setsid grandchild") {
  TempDir d;
  ProcessSpec s;
  std::string bg = (d.path / "bg.pid").string(), escaped = (d.path / "escaped.pid").string();
  s.argv = {"sh", "-c",
            "sleep 60 & echo $! > " + bg + "; setsid sleep 60 & echo $! > " + escaped + "; wait"};
  s.timeout_s = 0.5;
  s.kill_grace_s = 0.5;
  auto start = std::chrono::steady_clock::now();
  auto r = run(s);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r);
  CHECK(r->timed_out);
  CHECK_FALSE(r->success());
  CHECK(took < 10);  // not the 60 s of the children
  int p1 = read_pid(bg), p2 = read_pid(escaped);
  REQUIRE(p1 > 0);
  REQUIRE(p2 > 0);
  CHECK(dead(p1));
  CHECK(dead(p2));
  CHECK(r->describe().rfind("timed out after", 0) == 0);
}

TEST_CASE("process: SIGTERM ignored by the child is followed by SIGKILL") {
  ProcessSpec s;
  s.argv = {"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"};
  s.timeout_s = 0.3;
  s.kill_grace_s = 0.3;
  auto r = run(s);
  REQUIRE(r);
  CHECK(r->timed_out);
  CHECK(r->term_signal == SIGKILL);
}

TEST_CASE("process: a background grandchild holding stdout does not hang the caller") {
  ProcessSpec s;
  s.argv = {"sh", "-c", "echo started; (sleep 3 >/dev/null 2>&1 &) ; exit 0"};
  s.out = Redirect::capture();
  auto r = run(s);
  REQUIRE(r);
  CHECK(r->success());
  CHECK(r->out == "started\n");
  CHECK(r->wall_s < 2.5);
}

}  // namespace sciflow::exec
