#!/usr/bin/env bash
# A facility's own predictor: train tezip's learned next-frame model on earlier
# scans, compress a new scan with and without it, decode it bit-exactly with the
# model, and show whether the model paid (it never makes a file more than a bit
# per stripe bigger; on noise-limited data it simply is not chosen).
#   examples/tezip-learned.sh [SCAN] [EPOCHS]
# Defaults: the K11 sample shipped in tests/data (first 64 frames to train on,
# the other 64 to compress), 5 epochs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SCIFLOW_BIN:-$here/build/bin}
scan=${1:-}
[[ -n $scan ]] || scan=$here/tests/data/k11-projections-128.h5
epochs=${2:-5}
out=$(mktemp -d "${TMPDIR:-/tmp}/tezip-learned.XXXXXX")
trap 'rm -rf "$out"' EXIT

"$bin/tezip" compress "$scan" -o "$out/all.tez" -q
frames=$("$bin/tezip" info "$out/all.tez" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["frames"])')
half=$((frames / 2))
"$bin/tezip" decompress "$out/all.tez" --frames 0:$half -o "$out/earlier.npy" -q
"$bin/tezip" decompress "$out/all.tez" --frames $half: -o "$out/new.npy" -q
"$bin/tezip" train "$out/earlier.npy" -o "$out/beamline.model" --epochs "$epochs" -v
"$bin/tezip" compress "$out/new.npy" -o "$out/classical.tez" -q
"$bin/tezip" compress "$out/new.npy" -o "$out/learned.tez" --model "$out/beamline.model" -q
"$bin/tezip" decompress "$out/learned.tez" --model "$out/beamline.model" -o "$out/back.npy" -q
cmp "$out/back.npy" "$out/new.npy" && echo "decoded bit-exactly with the model"
"$bin/tezip" info "$out/learned.tez" | grep -E '^(size|predictors|model)'
echo "classical: $(stat -c %s "$out/classical.tez") bytes, learned: $(stat -c %s "$out/learned.tez") bytes"
