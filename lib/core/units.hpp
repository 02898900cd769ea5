// core/units: parsing and printing sizes, rates and durations.
//
// Sizes: "4096", "4k", "4KiB" (1024), "4KB" (1000), "1.5G", "10GiB".
// Rates: a size per second, or bits: "10Gbit/s", "100Mb/s", "500MB/s".
// Durations: "250ms", "30s", "5m", "2h", "1h30m", "1d"; a bare number is seconds.
// Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace sciflow::units {

// Bytes in `text`; kInvalidArgument naming the text on a malformed or negative value.
Result<int64_t> parse_size(std::string_view text);

// Bytes per second in `text`.
Result<double> parse_rate(std::string_view text);

// Seconds in `text`.
Result<double> parse_duration(std::string_view text);

// "1.5 MiB", "512 B": binary prefixes, 3 significant digits.
std::string format_bytes(double bytes);

// "123 MB/s" (decimal, as network and disk rates are quoted).
std::string format_rate(double bytes_per_second);

// "2026-11-27T12:54:37Z": UTC, whole seconds (ISO 8601).
std::string format_utc(double unix_seconds);

// "1:02:03", "4:05", "0:07"; "--:--" for negative or non-finite.
std::string format_clock(double seconds);

}  // namespace sciflow::units
