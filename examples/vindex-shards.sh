#!/usr/bin/env bash
#SBATCH --job-name=vindex-shards
#SBATCH --cpus-per-task=2
#SBATCH --time=00:30:00
# Build an index in N shards, one per Slurm array task, then search them as one.
#
#   sbatch --array=0-3 examples/vindex-shards.sh VECTORS INDEX      # one shard per task
#   examples/vindex-shards.sh VECTORS INDEX QUERIES                  # search the set
#   examples/vindex-shards.sh                                        # all of it locally, on SIFT10K
#
# Each task indexes rows [i*n/N, (i+1)*n/N) of VECTORS into INDEX/shard-i-of-N and
# keeps the row numbers as ids, so results from the set match the whole file.
set -euo pipefail
here=${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${SCIFLOW_BIN:-$here/build/bin}
if [[ -n ${SLURM_ARRAY_TASK_ID:-} ]]; then
  n=${SLURM_ARRAY_TASK_COUNT:?run as an array job}
  exec "$bin/vindex" build "$1" -o "$2" --shard "$SLURM_ARRAY_TASK_ID/$n" -j "${SLURM_CPUS_PER_TASK:-1}" -f
fi
if [[ $# -ge 3 ]]; then
  exec "$bin/vindex" search "$2" "$3" -k 10
fi
# Locally: the shipped SIFT10K sample in 4 shards, then recall of the set.
out=$(mktemp -d "${TMPDIR:-/tmp}/vindex-shards.XXXXXX")
trap 'rm -rf "$out"' EXIT
data=$(cd "$(dirname "$0")/.." && pwd)/tests/data/siftsmall
zstd -dq "$data/siftsmall_base.fvecs.zst" -o "$out/base.fvecs"
for i in 0 1 2 3; do
  "$bin/vindex" build "$out/base.fvecs" -o "$out/sift.idx" --shard "$i/4"
done
"$bin/vindex" info "$out/sift.idx"
"$bin/vindex" eval "$out/sift.idx" "$data/siftsmall_query.fvecs" "$data/siftsmall_groundtruth.ivecs" -k 10 --ef 64 --json
