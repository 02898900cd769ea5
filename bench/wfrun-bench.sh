#!/usr/bin/env bash
# wfrun against GNU make and Snakemake on the same DAG: N independent trivial
# steps (`touch out/tI`), run at -j2; then a no-op rerun of each. Prints wall
# time per step (total / N: engine overhead plus one process start, ~2.5 ms
# here) and the ratios.
#
#   bench/wfrun-bench.sh [--bin DIR] [--n N] [--slurm N]
#
# --slurm N also runs an N-way scatter as Slurm jobs on a one-node Slurm started
# by tests/slurm/cluster.sh (root; packages slurm-wlm munge), through wrappers
# that count the sbatch and squeue calls.
#
# Snakemake runs when installed (apt-get install snakemake); it is slow
# enough that it gets N/10 steps (its per-step figure is what compares).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bin
n=10000
slurm_n=0
while (($#)); do
  case $1 in
    --slurm) slurm_n=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    *) echo "usage: $0 [--bin DIR] [--n N]" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d "${TMPDIR:-/tmp}/wfrun-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.2f", (b - a) / n * 1000 }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "# wfrun benchmark, $(date -u +%Y-%m-%d), $(nproc) cores; $n trivial steps at -j2"
python3 - "$work" "$n" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/p.yaml", "w") as f:
    f.write("steps:\n")
    for i in range(n):
        f.write(f"  t{i}: {{run: touch out/t{i}, outputs: [out/t{i}]}}\n")
with open(f"{work}/Makefile", "w") as f:
    f.write("all: " + " ".join(f"out/t{i}" for i in range(n)) + "\n")
    f.write("out/%:\n\t@touch $@\n")
m = max(1, n // 10)
with open(f"{work}/Snakefile", "w") as f:
    f.write("rule all:\n    input: " + ", ".join(f"'out/t{i}'" for i in range(m)) + "\n")
    f.write("rule touch:\n    output: 'out/t{i}'\n    shell: 'touch {output}'\n")
PY

run_wfrun() {
  mkdir -p "$work/w/out"; cp "$work/p.yaml" "$work/w/"
  local t0 t1 t2
  t0=$(now); "$bin/wfrun" run "$work/w/p.yaml" -C "$work/w" -j2 -q; t1=$(now)
  "$bin/wfrun" run "$work/w/p.yaml" -C "$work/w" -j2 -q; t2=$(now)
  echo "wfrun     $(per "$t0" "$t1" "$n") ms per step; no-op rerun $(secs "$t1" "$t2") s"
  wf_per=$(per "$t0" "$t1" "$n")
}
run_make() {
  mkdir -p "$work/m/out"; cp "$work/Makefile" "$work/m/"
  local t0 t1 t2
  t0=$(now); make -s -C "$work/m" -j2; t1=$(now)
  make -s -C "$work/m" -j2 > /dev/null; t2=$(now)
  echo "make      $(per "$t0" "$t1" "$n") ms per step; no-op rerun $(secs "$t1" "$t2") s"
  mk_per=$(per "$t0" "$t1" "$n")
}
run_wfrun
run_make
sm_per=""
if command -v snakemake > /dev/null; then
  m=$(( n / 10 > 0 ? n / 10 : 1 ))
  mkdir -p "$work/s/out"; cp "$work/Snakefile" "$work/s/"
  t0=$(now); (cd "$work/s" && snakemake --cores 2 --quiet > /dev/null 2>&1); t1=$(now)
  (cd "$work/s" && snakemake --cores 2 --quiet > /dev/null 2>&1); t2=$(now)
  sm_per=$(per "$t0" "$t1" "$m")
  echo "snakemake $sm_per ms per step ($m steps); no-op rerun $(secs "$t1" "$t2") s"
else
  echo "snakemake not installed (apt-get install snakemake): skipped"
fi
awk -v w="$wf_per" -v m="$mk_per" -v s="$sm_per" 'BEGIN {
  printf "make / wfrun per step: %.2fx", m / w
  if (s != "") printf "; snakemake / wfrun: %.1fx", s / w
  printf "\n" }'

if ((slurm_n > 0)); then
  echo
  echo "## $slurm_n-way scatter on Slurm (one node, $(nproc) CPUs), poll interval 1 s"
  bash "$here/tests/slurm/cluster.sh" start "$work/slurm" > "$work/slurm.env"
  trap 'bash "$here/tests/slurm/cluster.sh" stop "$work/slurm" > /dev/null 2>&1; rm -rf "$work"' EXIT
  source "$work/slurm.env"
  mkdir -p "$work/wrap" "$work/sl"
  for t in sbatch squeue; do
    printf '#!/bin/sh\necho x >> %s/%s.calls\nexec %s "$@"\n' "$work" "$t" "$(command -v $t)" > "$work/wrap/$t"
    chmod +x "$work/wrap/$t"
  done
  python3 - "$work/sl/p.yaml" "$slurm_n" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("steps:\n  part:\n    foreach: [" + ", ".join(str(i) for i in range(int(sys.argv[2]))) + "]\n")
    f.write('    run: echo ${item} > part-${item}.txt\n    outputs: ["part-${item}.txt"]\n')
    f.write("  sum:\n    run: cat ${step.part.outputs} | wc -l > sum.txt\n    outputs: [sum.txt]\n")
PY
  t0=$(now)
  PATH=$work/wrap:$PATH "$bin/wfrun" run "$work/sl/p.yaml" -C "$work/sl" --executor slurm --poll 1 -q
  t1=$(now)
  echo "wall $(secs "$t0" "$t1") s; $(cat "$work/sl/sum.txt") results; sbatch calls $(wc -l < "$work/sbatch.calls"); squeue calls $(wc -l < "$work/squeue.calls") (at most one per 1 s poll)"
fi
