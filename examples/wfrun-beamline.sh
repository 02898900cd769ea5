#!/usr/bin/env bash
# wfrun on a detector host: run examples/wfrun-beamline.yaml on the K11 sample,
# run it again (nothing to do), change a parameter and see what would rerun.
#   examples/wfrun-beamline.sh [SCAN.h5]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SCIFLOW_BIN:-$here/build/bin}
export PATH=$bin:$PATH
scan=$(readlink -f "${1:-$here/tests/data/k11-projections-128.h5}")
work=$(mktemp -d "${TMPDIR:-/tmp}/wfrun-example.XXXXXX")
trap 'rm -rf "$work"' EXIT

wfrun run "$here/examples/wfrun-beamline.yaml" -C "$work" -p scan="$scan" -j 2 -v
wfrun status -C "$work"
wfrun run "$here/examples/wfrun-beamline.yaml" -C "$work" -p scan="$scan" --dry-run
wfrun run "$here/examples/wfrun-beamline.yaml" -C "$work" -p scan="$scan" -p archive=elsewhere --dry-run
wfrun dag "$here/examples/wfrun-beamline.yaml" -p scan="$scan"
