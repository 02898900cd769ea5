#!/usr/bin/env bash
# Whether 1.3x SZ3 on K11 at e = 30 and 300 counts is within reach of a predictive
# coder: bench/tezip_k11_bound.cpp estimates the coded size under the previous
# decoded frame, under least-squares predictors from up to 32 previous *original*
# frames (more than any decoder has), and under a perfect predictor of the signal
# (the noise floor); tezip's own ratios and the target are printed beside them.
#
#   bench/tezip-k11-bound.sh [--data DIR] [--bin DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=$here/../shared/data
bin=$here/build/bin
while [[ $# -gt 0 ]]; do
  case $1 in
    --data) data=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "usage: $0 [--data DIR] [--bin DIR]" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nxs=$data/diamond-k11-diad-projections/k11-18014.nxs
"$bin/tezip" c "$nxs" -o "$work/k.tez" -q
"$bin/tezip" d "$work/k.tez" -F raw -o "$work/k11.raw" -q
g++ -O2 -std=c++20 "$here/bench/tezip_k11_bound.cpp" -o "$work/bound"
echo "## K11, 3201 frames of 22 x 26 u16: estimated ratios (bench/tezip_k11_bound.cpp)"
"$work/bound" "$work/k11.raw" 3201 22 26 30 300
echo "## tezip (best tier) at the same bounds, and the target (1.3 x SZ3's 3.00 / 7.44 from TARGETS.md)"
raw=$(stat -c %s "$work/k11.raw")
for e in 30 300; do
  "$bin/tezip" c "$work/k11.raw" --shape 3201,22,26 --dtype u16 --abs $e -o "$work/e.tez" -q -f
  "$bin/tezip" c "$work/k11.raw" --shape 3201,22,26 --dtype u16 --abs $e --predictor prev -o "$work/p.tez" -q -f
  target=$(awk -v e=$e 'BEGIN { printf "%.2f", 1.3 * (e == 30 ? 3.00 : 7.44) }')
  echo "e = $e: tezip $(awk -v a=$raw -v b=$(stat -c %s "$work/e.tez") 'BEGIN { printf "%.3f", a / b }')," \
    "tezip --predictor prev $(awk -v a=$raw -v b=$(stat -c %s "$work/p.tez") 'BEGIN { printf "%.3f", a / b }')," \
    "target $target"
done
