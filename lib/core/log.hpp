// core/log: leveled diagnostics to stderr, "tool: level: message".
//
// The library logs through these functions only; it never writes to stdout.
// cli::run sets the program name and the level from -v/-q. Messages below the
// level cost one integer compare. Thread-safe: each message is written with a
// single write(2) so lines from different threads do not interleave.
#pragma once

#include <fmt/core.h>

#include <functional>
#include <string>
#include <string_view>

namespace sciflow::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

// Default kWarn; -q gives kError, each -v one step more.
void set_level(Level level);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(level()); }

// Prefix used on each line ("tezip"); empty gives no prefix.
void set_program(std::string_view name);
const std::string& program();

// Replaces the sink (tests capture messages this way); nullptr restores stderr.
using Sink = std::function<void(Level, std::string_view line)>;
void set_sink(Sink sink);

// Writes one line at `level`, whatever the current level (callers check enabled()).
void write(Level level, std::string_view message);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace sciflow::log
