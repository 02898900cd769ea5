#!/usr/bin/env bash
# Runs one CLI test case against the built binaries.
#
#   tests/cli/run-case.sh CASE.sh BIN_DIR
#
# The case runs with bash in a fresh scratch directory, stdin from /dev/null, and
# BIN_DIR first on PATH. Expectations sit beside it (as in zstd's cli-tests):
#   CASE.sh.exit                    expected exit code (default 0)
#   CASE.sh.stdout.exact|.glob      stdout, byte for byte or as a bash glob pattern
#   CASE.sh.stderr.exact|.glob      stderr likewise; without one, stderr must be empty
# SCIFLOW_SRC (the source tree) and SCIFLOW_BIN are exported for cases that need them.
set -u
case_file=$(readlink -f "$1")
bin_dir=$(readlink -f "$2")
src_dir=$(cd "$(dirname "$case_file")/../../.." && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sciflow-cli.XXXXXX")
captured=$(mktemp -d "${TMPDIR:-/tmp}/sciflow-out.XXXXXX")
trap 'rm -rf "$scratch" "$captured"' EXIT
cd "$scratch" || exit 1

PATH="$bin_dir:$PATH" SCIFLOW_SRC="$src_dir" SCIFLOW_BIN="$bin_dir" NO_COLOR=1 \
  bash "$case_file" < /dev/null > "$captured/stdout" 2> "$captured/stderr"
code=$?

fail=0
report() { echo "FAIL ${case_file#"$src_dir"/}: $*"; fail=1; }

want_code=0
[[ -f $case_file.exit ]] && want_code=$(< "$case_file.exit")
[[ $code -eq $want_code ]] || report "exit code $code, expected $want_code"

check_stream() {  # name file
  local name=$1 actual=$2 got
  got=$(cat "$actual"; printf x); got=${got%x}
  if [[ -f $case_file.$name.exact ]]; then
    if ! cmp -s "$case_file.$name.exact" "$actual"; then
      report "$name differs from $name.exact:"
      diff -u "$case_file.$name.exact" "$actual" | sed 's/^/    /'
    fi
  elif [[ -f $case_file.$name.glob ]]; then
    local pattern
    pattern=$(cat "$case_file.$name.glob"; printf x); pattern=${pattern%x}
    # shellcheck disable=SC2053 # the pattern is meant to glob
    if [[ $got != $pattern ]]; then
      report "$name does not match $name.glob; it was:"
      sed 's/^/    /' "$actual"
    fi
  elif [[ $name == stderr && -s $actual ]]; then
    report "unexpected stderr:"
    sed 's/^/    /' "$actual"
  fi
}
check_stream stdout "$captured/stdout"
check_stream stderr "$captured/stderr"
if [[ $fail -eq 0 ]]; then
  echo "ok ${case_file#"$src_dir"/}"
fi
exit $fail
