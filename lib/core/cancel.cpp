#include "core/cancel.hpp"

#include <signal.h>
#include <string.h>

#include <atomic>
#include <string>

namespace sciflow::cancel {
namespace {

std::atomic<bool> g_cancelled{false};
std::atomic<int> g_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

extern "C" void on_signal(int sig) {
  // A second Ctrl-C while we unwind means "now": restore the default action.
  if (g_cancelled.exchange(true)) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  g_signal.store(sig);
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and callers see the flag
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

bool cancelled() { return g_cancelled.load(std::memory_order_relaxed); }
int signal_number() { return g_signal.load(); }

Status check_cancelled() {
  if (!cancelled()) return Status::ok();
  int sig = signal_number();
  std::string m = "interrupted";
  if (sig > 0) {
    m += " by SIG";
    m += sigabbrev_np(sig) ? sigabbrev_np(sig) : std::to_string(sig).c_str();
  }
  return Status(Code::kCancelled, m);
}

void request(int sig) {
  g_signal.store(sig);
  g_cancelled.store(true);
}

void reset() {
  g_cancelled.store(false);
  g_signal.store(0);
}

void reraise_if_signalled() {
  int sig = signal_number();
  if (sig <= 0) return;
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace sciflow::cancel
