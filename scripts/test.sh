#!/usr/bin/env bash
# Installs what sciflow needs, builds it with warnings as errors, and runs every
# test: unit (doctest), CLI cases, generated-docs drift, a bounded libFuzzer run
# of the .tez decoder, then the unit tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer. This is the README's test command and exactly what
# .ci/run calls. SCIFLOW_FUZZ_RUNS sets the number of fuzzer inputs (default 300000).
#
#   bash scripts/test.sh            (as root on Debian 12, or with passwordless sudo)
#
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

step "build (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCIFLOW_WERROR=ON > /dev/null
cmake --build build -j "$jobs"

step "tests: unit, cli, docs"
ctest --test-dir build --output-on-failure -j "$jobs"

step "fuzz: .tez decoder, 300000 inputs, fixed seed (libFuzzer, ASan/UBSan)"
bash scripts/fuzz.sh "${SCIFLOW_FUZZ_RUNS:-300000}"

# Portable code paths here (SCIFLOW_NATIVE=OFF: no AVX2, e.g. tezip's scalar rANS
# encoder), the native ones in the build above.
step "build: AddressSanitizer + UBSan, portable (library and unit tests)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCIFLOW_WERROR=ON -DSCIFLOW_SANITIZE=ON \
  -DSCIFLOW_BUILD_TOOLS=OFF -DSCIFLOW_NATIVE=OFF > /dev/null
cmake --build build-asan -j "$jobs" --target sciflow_unit_tests

step "tests: unit under ASan/UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit
