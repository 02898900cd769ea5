#include <doctest/doctest.h>

#include "core/units.hpp"

namespace sciflow::units {

TEST_CASE("units: sizes") {
  CHECK(*parse_size("4096") == 4096);
  CHECK(*parse_size("4k") == 4096);
  CHECK(*parse_size("4KiB") == 4096);
  CHECK(*parse_size("4KB") == 4000);
  CHECK(*parse_size("1.5G") == 1610612736);
  CHECK(*parse_size(" 10 MiB ") == 10485760);
  CHECK_FALSE(parse_size("ten").has_value());
  CHECK_FALSE(parse_size("-1k").has_value());
  CHECK_FALSE(parse_size("5 parsecs").has_value());
  CHECK(parse_size("5 parsecs").status().message() == "invalid size '5 parsecs': unknown unit 'parsecs'");
}

TEST_CASE("units: rates in bits and bytes") {
  CHECK(*parse_rate("10Gbit/s") == doctest::Approx(1.25e9));
  CHECK(*parse_rate("100Mb/s") == doctest::Approx(12.5e6));
  CHECK(*parse_rate("500MB/s") == doctest::Approx(500e6));
  CHECK(*parse_rate("1GiB/s") == doctest::Approx(1073741824.0));
  CHECK_FALSE(parse_rate("fast").has_value());
}

TEST_CASE("units: durations") {
  CHECK(*parse_duration("30") == 30);
  CHECK(*parse_duration("250ms") == doctest::Approx(0.25));
  CHECK(*parse_duration("1h30m") == 5400);
  CHECK(*parse_duration("2d") == 172800);
  CHECK_FALSE(parse_duration("5 fortnights").has_value());
  CHECK_FALSE(parse_duration("").has_value());
}

TEST_CASE("units: formatting") {
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.50 KiB");
  CHECK(format_bytes(10.0 * (1 << 30)) == "10.0 GiB");
  CHECK(format_rate(123.4e6) == "123 MB/s");
  CHECK(format_clock(3723) == "1:02:03");
  CHECK(format_clock(65) == "1:05");
  CHECK(format_clock(-1) == "--:--");
}

}  // namespace sciflow::units
