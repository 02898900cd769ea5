#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace sciflow::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kWarn)};
std::string g_program;
std::mutex g_sink_mu;
Sink g_sink;

std::string_view level_word(Level l) {
  switch (l) {
    case Level::kError: return "error";
    case Level::kWarn: return "warning";
    case Level::kInfo: return "info";
    case Level::kDebug: return "debug";
    case Level::kTrace: return "trace";
  }
  return "";
}

}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level)); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
void set_program(std::string_view name) { g_program = name; }
const std::string& program() { return g_program; }

void set_sink(Sink sink) {
  std::lock_guard lock(g_sink_mu);
  g_sink = std::move(sink);
}

void write(Level level, std::string_view message) {
  std::string line;
  line.reserve(message.size() + g_program.size() + 16);
  if (!g_program.empty()) {
    line += g_program;
    line += ": ";
  }
  line += level_word(level);
  line += ": ";
  line += message;
  line += '\n';
  {
    std::lock_guard lock(g_sink_mu);
    if (g_sink) {
      g_sink(level, std::string_view(line).substr(0, line.size() - 1));
      return;
    }
  }
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to report to
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace sciflow::log
