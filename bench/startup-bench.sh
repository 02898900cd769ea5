#!/usr/bin/env bash
# Process start of each tool: the shared libraries it loads and the wall time of
# `TOOL --version` (mean and best of N runs), which is what every run of a tool pays
# before its work (a 3.7 MB file through tezip takes ~25 ms in all). HDF5 and
# libtorch live in modules loaded on first use (core/plugin.hpp), so they are not
# counted here; `tezip --version -v` loads the HDF5 module and is shown for scale.
#
#   bench/startup-bench.sh [--bin DIR] [--runs N]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
runs=50
while (($#)); do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--bin DIR] [--runs N]" >&2; exit 2 ;;
  esac
done
echo "# process start, $(date -u +%Y-%m-%d), $(nproc) cores, $runs runs each"
printf '%-28s %6s %10s %10s\n' command libs "mean ms" "best ms"
measure() {  # label command...
  local label=$1; shift
  local libs; libs=$(ldd "$1" | wc -l)
  python3 - "$runs" "$label" "$libs" "$@" <<'P'
import subprocess, sys, time
runs, label, libs, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
t = []
for _ in range(runs):
    s = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t.append(time.perf_counter() - s)
print(f"{label:28s} {libs:>6s} {sum(t) / len(t) * 1e3:10.2f} {min(t) * 1e3:10.2f}")
P
}
for tool in tezip dxfer vindex trainctl servectl wfrun; do
  measure "$tool --version" "$bin/$tool" --version
done
measure "tezip --version -v (+HDF5)" "$bin/tezip" --version -v
