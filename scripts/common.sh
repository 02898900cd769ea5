# Sourced by scripts/test.sh and scripts/demo.sh: the repository root as the
# working directory, build parallelism, step headings, and the package step.
# Environment: SCIFLOW_SKIP_SETUP=1 skips the package step; SCIFLOW_JOBS sets build jobs.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=${SCIFLOW_JOBS:-$(nproc)}
step() { printf '\n== %s\n' "$*" >&2; }
if [[ ${SCIFLOW_SKIP_SETUP:-0} != 1 ]]; then
  step "setup: Debian packages"
  bash scripts/setup-debian.sh
fi
