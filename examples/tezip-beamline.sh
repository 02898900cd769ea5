#!/usr/bin/env bash
# A detector host's routine with tezip: decide whether compressing pays on this
# link, compress a scan losslessly, check it, and pull out a range of frames.
#   examples/tezip-beamline.sh [SCAN.h5|.nxs] [LINK]
# Defaults: the K11 sample shipped in tests/data, a 10 Gbit/s link.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SCIFLOW_BIN:-$here/build/bin}
scan=${1:-$here/tests/data/k11-projections-128.h5}
link=${2:-10Gbit/s}
out=$(mktemp -d "${TMPDIR:-/tmp}/tezip-example.XXXXXX")
trap 'rm -rf "$out"' EXIT

"$bin/tezip" plan "$scan" --link "$link"
"$bin/tezip" compress "$scan" -o "$out/scan.tez" -v
"$bin/tezip" verify "$out/scan.tez" --against "$scan"
"$bin/tezip" decompress "$out/scan.tez" --frames 10:20 -o "$out/frames-10-19.npy" -v
"$bin/tezip" info "$out/scan.tez" --json
