#include "core/units.hpp"

#include <fmt/core.h>

#include <cctype>
#include <cmath>
#include <ctime>
#include <cstdlib>

namespace sciflow::units {
namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Splits "1.5GiB" into 1.5 and "gib". False when there is no leading number.
bool split_number(std::string_view text, double* number, std::string* suffix) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  const char* begin = s.c_str() + start;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (end == begin || errno != 0 || !std::isfinite(v)) return false;
  // Reject hex floats, "inf", "nan" that strtod accepts.
  for (const char* p = begin; p < end; ++p) {
    if (!(std::isdigit(static_cast<unsigned char>(*p)) || *p == '.' || *p == '-' || *p == '+' ||
          *p == 'e' || *p == 'E'))
      return false;
  }
  std::string rest(end);
  size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  *number = v;
  *suffix = lower(rest.substr(i));
  return true;
}

// Multiplier for a size prefix ("", "k", "kb", "kib", ...); 0 if unknown.
double prefix_multiplier(std::string_view p) {
  if (p.empty() || p == "b") return 1;
  static constexpr const char kLetters[] = "kmgtpe";
  for (int i = 0; kLetters[i]; ++i) {
    double bin = std::pow(1024.0, i + 1), dec = std::pow(1000.0, i + 1);
    char c = kLetters[i];
    if (p.size() == 1 && p[0] == c) return bin;  // "4k" as in dd, ls, zstd
    if (p.size() == 2 && p[0] == c && p[1] == 'b') return dec;
    if (p.size() == 3 && p[0] == c && p[1] == 'i' && p[2] == 'b') return bin;
  }
  return 0;
}

}  // namespace

Result<int64_t> parse_size(std::string_view text) {
  double v;
  std::string suffix;
  if (!split_number(text, &v, &suffix))
    return invalid_argument(fmt::format("invalid size '{}': expected a number such as 4096, 64k or 1.5GiB", text));
  double m = prefix_multiplier(suffix);
  if (m == 0) return invalid_argument(fmt::format("invalid size '{}': unknown unit '{}'", text, suffix));
  if (v < 0) return invalid_argument(fmt::format("invalid size '{}': must not be negative", text));
  double bytes = std::round(v * m);
  if (bytes > 9.2e18) return invalid_argument(fmt::format("invalid size '{}': too large", text));
  return static_cast<int64_t>(bytes);
}

Result<double> parse_rate(std::string_view text) {
  double v;
  std::string suffix;
  if (!split_number(text, &v, &suffix) || v < 0)
    return invalid_argument(fmt::format("invalid rate '{}': expected e.g. 10Gbit/s or 500MB/s", text));
  std::string unit = suffix;
  if (unit.size() >= 2 && unit.substr(unit.size() - 2) == "/s") unit.resize(unit.size() - 2);
  else if (unit.size() >= 2 && unit.substr(unit.size() - 2) == "ps") unit.resize(unit.size() - 2);
  bool bits = false;
  // "gbit", "gbits", "gb" read as bytes only with an uppercase B in the original text.
  if (unit.size() >= 3 && unit.substr(unit.size() - 3) == "bit") {
    bits = true;
    unit.resize(unit.size() - 3);
  } else if (unit.size() >= 4 && unit.substr(unit.size() - 4) == "bits") {
    bits = true;
    unit.resize(unit.size() - 4);
  } else if (!unit.empty() && unit.back() == 'b') {
    // "Mb/s" (bits) vs "MB/s" (bytes): decide on the case of the original.
    size_t pos = text.find_last_of("bB");
    bits = pos != std::string_view::npos && text[pos] == 'b';
    unit.pop_back();
  }
  double m = 1;
  if (!unit.empty()) {
    static constexpr const char kLetters[] = "kmgtpe";
    m = 0;
    for (int i = 0; kLetters[i]; ++i) {
      if (unit.size() == 1 && unit[0] == kLetters[i]) m = std::pow(1000.0, i + 1);
      if (unit.size() == 2 && unit[0] == kLetters[i] && unit[1] == 'i') m = std::pow(1024.0, i + 1);
    }
    if (m == 0) return invalid_argument(fmt::format("invalid rate '{}': unknown unit", text));
  }
  double r = v * m;
  return bits ? r / 8.0 : r;
}

Result<double> parse_duration(std::string_view text) {
  std::string s = lower(text);
  if (s.empty()) return invalid_argument("invalid duration '': empty");
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i) return invalid_argument(fmt::format("invalid duration '{}': expected e.g. 30s, 5m, 1h30m", text));
    double v = std::strtod(s.substr(i, j - i).c_str(), nullptr);
    size_t k = j;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    std::string unit = s.substr(j, k - j);
    double m;
    if (unit.empty() || unit == "s" || unit == "sec") m = 1;
    else if (unit == "ms") m = 1e-3;
    else if (unit == "us") m = 1e-6;
    else if (unit == "m" || unit == "min") m = 60;
    else if (unit == "h") m = 3600;
    else if (unit == "d") m = 86400;
    else return invalid_argument(fmt::format("invalid duration '{}': unknown unit '{}'", text, unit));
    if (unit.empty() && any) return invalid_argument(fmt::format("invalid duration '{}': missing unit", text));
    total += v * m;
    any = true;
    i = k;
  }
  return total;
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.{}f} {}", bytes, bytes < 10 ? 2 : bytes < 100 ? 1 : 0, kUnits[u]);
}

std::string format_rate(double bps) {
  static constexpr const char* kUnits[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
  int u = 0;
  while (bps >= 1000 && u < 4) {
    bps /= 1000;
    ++u;
  }
  return fmt::format("{:.{}f} {}", bps, bps < 10 && u > 0 ? 2 : bps < 100 && u > 0 ? 1 : 0, kUnits[u]);
}

std::string format_utc(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e8) return "--:--";
  auto s = static_cast<int64_t>(std::llround(seconds));
  int64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, sec);
  return fmt::format("{}:{:02}", m, sec);
}

}  // namespace sciflow::units
