#!/usr/bin/env bash
# Builds the libFuzzer target for the .tez decoder with clang (ASan + UBSan) and
# runs it for a bounded time on a seed corpus of small .tez files made by the
# freshly built tezip. A crash, leak, hang or oversized allocation fails.
#
#   bash scripts/fuzz.sh [RUNS] [SEED]   (default 300000 runs, seed 1; needs build/bin)
#
# A fixed seed and run count make the test run reproducible (the same inputs every
# time); run with more runs and another seed to search further.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300000}
seed=${2:-1}
jobs=${SCIFLOW_JOBS:-$(nproc)}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCIFLOW_FUZZ=ON \
  -DSCIFLOW_BUILD_TOOLS=OFF > /dev/null
cmake --build build-fuzz -j "$jobs" --target tez_decode_fuzzer

corpus=$(mktemp -d "${TMPDIR:-/tmp}/tez-corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
i=0
# (18 rows: a block row below the first, which the fast decoder takes in a wavefront.)
for spec in "4,9,11 u8" "3,6,7,3 u16" "6,5,5 i16" "2,3,4 f32" "5,12,3 u32" "3,18,13 i16"; do
  read -r shape dtype <<<"$spec"
  for mode in "" "--abs 2"; do
    [[ $dtype == f32 && -n $mode ]] && mode="--abs 0.01"
    for tier in --fast --best; do
      build/bin/make_frames write "$corpus/in.raw" --shape "$shape" --dtype "$dtype" --seed $i
      # shellcheck disable=SC2086 # mode is a list of words
      build/bin/tezip c "$corpus/in.raw" --shape "$shape" --dtype "$dtype" --group 2 $mode $tier -o "$corpus/seed$i.tez" -q
      i=$((i + 1))
    done
  done
done
# RGB decoded from 4:2:0 video: files with the colour transform (format versions 5 and 4).
build/bin/tezip d tests/data/bulk-water-crop.tez --frames 0:4 -F raw -o "$corpus/in.raw" -q -f
for tier in --fast --best; do
  build/bin/tezip c "$corpus/in.raw" --shape 4,64,64,3 --dtype u8 --group 2 $tier -o "$corpus/seed$i.tez" -q
  i=$((i + 1))
done
# Best-tier groups of more than 8 frames whose fits see 8 frames back (format
# version 7): pixels that drift under noise several times their step.
python3 - "$corpus/in.raw" <<'PY'
import random, struct, sys
random.seed(11)
level = [random.uniform(10000, 50000) for _ in range(16 * 16)]
out = []
for t in range(64):
    for i in range(len(level)):
        level[i] += random.gauss(0, 60)
        out.append(max(0, min(65535, round(level[i] + random.gauss(0, 250)))))
open(sys.argv[1], 'wb').write(struct.pack('<%dH' % len(out), *out))
PY
build/bin/tezip c "$corpus/in.raw" --shape 64,16,16 --dtype u16 --group 64 --abs 300 --best -o "$corpus/seed$i.tez" -q
i=$((i + 1))
rm -f "$corpus/in.raw"
# Inputs that once crashed it come first; a new crash is saved under build-fuzz/.
cp tests/fuzz/regressions/* "$corpus"/
# Files of format version 2 (the fast tier's first coding, still decoded).
cp tests/data/tezip-v2/*.tez "$corpus"/
build-fuzz/tests/tez_decode_fuzzer -runs="$runs" -seed="$seed" -max_total_time=600 -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 \
  -artifact_prefix=build-fuzz/ "$corpus" > build-fuzz/fuzz.log 2>&1 || {
  grep -E 'ERROR|SUMMARY|what\(\)|#[0-9]+ .* in sciflow' build-fuzz/fuzz.log | head -n 30
  echo "fuzz: a crash was found; the input is saved as build-fuzz/crash-*; full log in build-fuzz/fuzz.log" >&2
  exit 1
}
tail -n 6 build-fuzz/fuzz.log
