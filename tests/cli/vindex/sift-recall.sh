# Real data (SIFT10K): every engine reaches the recall expected of it, against the
# published exact ground truth; eval --json has the keys scripts rely on.
D=$SCIFLOW_SRC/tests/data/siftsmall
zstd -dq "$D/siftsmall_base.fvecs.zst" -o base.fvecs || exit 1
check() {  # engine min-recall build-options... -- search-options...
  local engine=$1 min=$2; shift 2
  local bopts=() sopts=()
  while [[ $# -gt 0 && $1 != -- ]]; do bopts+=("$1"); shift; done
  shift
  sopts=("$@")
  vindex build base.fvecs -o "idx-$engine" --engine "$engine" -j2 "${bopts[@]}" || exit 1
  r=$(vindex eval "idx-$engine" "$D/siftsmall_query.fvecs" "$D/siftsmall_groundtruth.ivecs" -k 10 --min-time 0 --json -j2 "${sopts[@]}") || exit 1
  python3 -c "import json,sys; j=json.loads(sys.argv[1]); assert j['qps']>0 and j['queries']==100, j; print('$engine', 'ok' if j['recall']>=$min else 'LOW %s' % j['recall'])" "$r"
}
check flat 1.0 --
check hnsw 0.99 -- --ef 64
check ivf-flat 0.95 -- --nprobe 16
check ivf-pq 0.40 --
# Recall grows with ef (hnsw) and nprobe (ivf).
lo=$(vindex eval idx-hnsw "$D/siftsmall_query.fvecs" "$D/siftsmall_groundtruth.ivecs" -k 10 --ef 10 --min-time 0 --json | python3 -c "import json,sys; print(json.load(sys.stdin)['recall'])")
hi=$(vindex eval idx-hnsw "$D/siftsmall_query.fvecs" "$D/siftsmall_groundtruth.ivecs" -k 10 --ef 200 --min-time 0 --json | python3 -c "import json,sys; print(json.load(sys.stdin)['recall'])")
python3 -c "import sys; print('ef helps' if float(sys.argv[1]) < float(sys.argv[2]) else 'ef does not help', sys.argv[1], sys.argv[2])" "$lo" "$hi" | cut -d' ' -f1-2
