#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cancel.hpp"

namespace sciflow::cancel {

TEST_CASE("cancel: request and check") {
  reset();
  CHECK_FALSE(cancelled());
  CHECK(check_cancelled().is_ok());
  request(SIGTERM);
  CHECK(cancelled());
  Status s = check_cancelled();
  CHECK(s.code() == Code::kCancelled);
  CHECK(s.message() == "interrupted by SIGTERM");
  reset();
  CHECK_FALSE(cancelled());
}

TEST_CASE("cancel: SIGINT sets the flag and the re-raise kills with the same signal") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    reset();
    install_signal_handlers();
    raise(SIGINT);
    if (!cancelled() || signal_number() != SIGINT) _exit(10);
    reraise_if_signalled();
    _exit(11);  // not reached
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
}

}  // namespace sciflow::cancel
