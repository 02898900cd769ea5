#!/usr/bin/env bash
# dxfer from a detector host to mounted storage: push a scan (chunked, verified,
# resumable), run sync from cron (exit 3 = nothing to do), verify both sides.
#   examples/dxfer-local.sh [SCAN] [DEST]
# Defaults: the K11 sample shipped in tests/data, a temporary destination.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SCIFLOW_BIN:-$here/build/bin}
scan=${1:-$here/tests/data/k11-projections-128.h5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dxfer-example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=${2:-$tmp/archive}

"$bin/dxfer" push "$scan" "$dest" -v
set +e
"$bin/dxfer" sync "$scan" "$dest"
code=$?
set -e
echo "sync exit $code (3: nothing to do)"
"$bin/dxfer" verify "$scan" "$dest" && echo "verify: identical"
"$bin/dxfer" ls "$dest"
