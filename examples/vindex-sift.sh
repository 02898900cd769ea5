#!/usr/bin/env bash
# vindex on real descriptors: index SIFT10K, measure recall against the published
# ground truth at three search widths, then search with a metadata filter.
#   examples/vindex-sift.sh [BASE.fvecs QUERY.fvecs GROUNDTRUTH.ivecs]
# Defaults: the SIFT10K sample shipped in tests/data/siftsmall.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SCIFLOW_BIN:-$here/build/bin}
out=$(mktemp -d "${TMPDIR:-/tmp}/vindex-example.XXXXXX")
trap 'rm -rf "$out"' EXIT
data=$here/tests/data/siftsmall
if [[ $# -ge 3 ]]; then
  base=$1 query=$2 truth=$3
else
  zstd -dq "$data/siftsmall_base.fvecs.zst" -o "$out/base.fvecs"
  base=$out/base.fvecs query=$data/siftsmall_query.fvecs truth=$data/siftsmall_groundtruth.ivecs
fi

"$bin/vindex" build "$base" -o "$out/sift.idx" -v
"$bin/vindex" info "$out/sift.idx"
for ef in 16 32 64; do
  echo "ef $ef: $("$bin/vindex" eval "$out/sift.idx" "$query" "$truth" -k 10 --ef "$ef" -j1 --json)"
done

# The same vectors as JSONL with metadata (which half of the run each came from),
# searched for neighbours in the second half only.
"$bin/vindex" search "$out/sift.idx" "$query" -k 3 | head -n 2
python3 - "$base" "$out/meta.jsonl" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
n = len(data) // 516
with open(sys.argv[2], "w") as f:
    for i in range(n):
        v = struct.unpack_from("<128f", data, i * 516 + 4)
        f.write(json.dumps({"id": i, "vector": v, "half": "first" if i < n // 2 else "second", "frame": i}) + "\n")
PY
"$bin/vindex" build "$out/meta.jsonl" -o "$out/meta.idx"
"$bin/vindex" search "$out/meta.idx" "$query" -k 3 --where 'half == "second" and frame < 9000' | head -n 2
