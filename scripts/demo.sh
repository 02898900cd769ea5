#!/usr/bin/env bash
# The main job on built-in defaults: installs what sciflow needs, builds it, and
# shows that each tool runs and that the library works on this machine.
#
#   bash scripts/demo.sh            (as root on Debian 12, or with passwordless sudo)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

step "build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j "$jobs" --target tezip dxfer vindex trainctl servectl wfrun sciflow_torch

step "the six tools"
for t in tezip dxfer vindex trainctl servectl wfrun; do
  build/bin/$t --version
done

step "library self-check on this machine"
build/bin/tezip --self-check

step "tezip: compress a real detector sample (K11 projections, tests/data/README.md)"
sample=tests/data/k11-projections-128.h5
out=$(mktemp -d "${TMPDIR:-/tmp}/sciflow-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT
build/bin/tezip compress "$sample" -o "$out/k11.tez" -v
build/bin/tezip info "$out/k11.tez"
build/bin/tezip verify "$out/k11.tez" --against "$sample"
if [[ -d ../shared/data/trackpy-brightfield ]]; then
  step "tezip: 50 bright-field microscopy frames from ../shared/data"
  build/bin/tezip compress ../shared/data/trackpy-brightfield -o "$out/bf.tez" -v
  build/bin/tezip verify "$out/bf.tez" --against ../shared/data/trackpy-brightfield
fi

step "dxfer: push the compressed sample to a local archive, sync (nothing to do), verify"
bash examples/dxfer-local.sh "$out/k11.tez" "$out/archive"

step "dxfer: push the compressed sample to a local dxfer serve over HTTPS, verify, pull back"
bash examples/dxfer-serve.sh "$out/k11.tez"

step "vindex: index SIFT10K, recall against its published ground truth (tests/data/siftsmall)"
bash examples/vindex-sift.sh

step "wfrun: the example pipeline on the K11 sample (examples/wfrun-beamline.yaml)"
bash examples/wfrun-beamline.sh
