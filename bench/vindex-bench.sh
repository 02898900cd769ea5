#!/usr/bin/env bash
# vindex against its peers, side by side on the same vectors: hnswlib used
# directly and FAISS IndexHNSWFlat (bench/vindex_peers.cpp, compiled here with
# the flags vindex uses for its engine code), all single-threaded, HNSW M=32,
# efConstruction=200. Prints recall@10 and queries per CPU-second for a sweep of
# ef, the best rate at recall >= 0.95 and >= 0.99 with vindex's ratio to each
# peer, build CPU-seconds and memory per vector; then batch search against one
# query per call.
#
#   bench/vindex-bench.sh [--data DIR] [--bin DIR] [--n N] [--skip-large] [--skip-peer-builds]
#
# Sets: SIFT10K (../shared/data/ann/siftsmall, published ground truth) and a
# generated clustered set of N x 128 (default 1,000,000; 1,000 clusters, 1,000
# queries; exact ground truth from vindex's flat engine, which is FAISS
# IndexFlatL2 with BLAS). --skip-large runs SIFT10K only. "same-graph" is plain
# hnswlib searching the graph vindex built (loaded from its engine file), which
# isolates vindex's own overhead; --skip-peer-builds leaves out the peers' own
# builds (minutes each at 1M).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=$here/../shared/data
bin=$here/build/bin
n_large=1000000
skip_large=0
skip_peer_builds=0
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --n) n_large=$2; shift 2 ;;
    --skip-large) skip_large=1; shift ;;
    --skip-peer-builds) skip_peer_builds=1; shift ;;
    *) echo "usage: $0 [--data DIR] [--bin DIR] [--n N] [--skip-large] [--skip-peer-builds]" >&2; exit 2 ;;
  esac
done
vindex=$bin/vindex
work=$(mktemp -d "${TMPDIR:-/tmp}/vindex-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
peers=$work/vindex_peers
g++ -O3 -march=native -std=c++20 -fopenmp "$here/bench/vindex_peers.cpp" -lfaiss -lblas -llapack -o "$peers"
cores=$(nproc)  # before the exports: nproc honours OMP_NUM_THREADS
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

echo "# vindex benchmark, $(date -u +%Y-%m-%d), $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# one thread everywhere; HNSW M=32 efConstruction=200; rates in queries per CPU-second, one query per call for the peers"

run_set() {  # name base query groundtruth ef...
  local name=$1 base=$2 query=$3 gt=$4; shift 4
  local efs=("$@") out=$work/$name.jsonl
  : > "$out"
  echo
  echo "## $name: $(( $(stat -c %s "$base") / (4 + 4 * 128) )) vectors"
  # vindex: build with one thread, then eval (which repeats the queries for >= 1 s).
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$vindex" build "$base" -o "$work/$name.idx" -j1 -f
  read -r u s rss < "$work/time"
  local mem
  mem=$("$vindex" info "$work/$name.idx" --json --no-verify | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['memory_bytes'] / j['vectors'])")
  for ef in "${efs[@]}"; do
    "$vindex" eval "$work/$name.idx" "$query" "$gt" -k 10 --ef "$ef" -j1 --json --no-verify |
      python3 -c "import json,sys; j=json.load(sys.stdin); print(json.dumps({'engine':'vindex','ef':$ef,'recall':j['recall'],'qps_per_cpu_second':j['qps_per_cpu_second'],'build_cpu_seconds':$u+$s,'max_rss_bytes':$rss*1024,'index_bytes_per_vector':$mem}))" >> "$out"
  done
  # The same graph searched by plain hnswlib (vindex's engine file is an hnswlib index).
  "$peers" hnswlib-load "$work/$name.idx"/engine-*.hnsw "$query" "$gt" "${efs[@]}" | sed 's/"engine":"hnswlib-load"/"engine":"same-graph"/' >> "$out"
  if ((skip_peer_builds == 0)); then
    "$peers" hnswlib "$base" "$query" "$gt" 32 200 "${efs[@]}" >> "$out"
    "$peers" faiss-hnsw "$base" "$query" "$gt" 32 200 "${efs[@]}" >> "$out"
  fi
  python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
engines = [e for e in ["vindex", "same-graph", "hnswlib", "faiss-hnsw"] if any(r["engine"] == e for r in rows)]
print(f"{'engine':<11} {'ef':>4} {'recall@10':>9} {'q/CPU-s':>9}")
for r in rows:
    print(f"{r['engine']:<11} {r['ef']:>4} {r['recall']:>9.4f} {r['qps_per_cpu_second']:>9.0f}")
print()
for target in (0.95, 0.99):
    best = {}
    for e in engines:
        ok = [r for r in rows if r["engine"] == e and r["recall"] >= target]
        best[e] = max(ok, key=lambda r: r["qps_per_cpu_second"]) if ok else None
    line = f"recall >= {target}: "
    for e in engines:
        b = best[e]
        line += f"{e} {b['qps_per_cpu_second']:.0f} (ef {b['ef']})  " if b else f"{e} not reached  "
    v = best["vindex"]
    for e in engines[1:]:
        if v and best[e]:
            line += f"vindex/{e} {v['qps_per_cpu_second'] / best[e]['qps_per_cpu_second']:.2f}x  "
    print(line)
for e in engines:
    r = next(r for r in rows if r["engine"] == e)
    if e == "same-graph": continue
    mem = r.get("index_bytes_per_vector")
    extra = f", index {mem:.0f} B/vector" if mem else f", RSS growth {r['rss_growth_per_vector']:.0f} B/vector"
    print(f"build {e}: {r['build_cpu_seconds']:.2f} CPU-s, max RSS {r['max_rss_bytes'] / 2**20:.0f} MiB{extra}")
PY
}

sift=$data/ann/siftsmall
run_set sift10k "$sift/siftsmall_base.fvecs" "$sift/siftsmall_query.fvecs" "$sift/siftsmall_groundtruth.ivecs" 10 16 24 32 48 64 96

# Batch against one query per call: 100 single-query processes, and one process
# answering 10,000 queries (the base vectors), both at -j1 on the SIFT10K index.
echo
echo "## batch search against one query per call (SIFT10K index, ef 32, -j1)"
python3 - "$sift/siftsmall_query.fvecs" "$work/q" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
for i in range(100):
    open(f"{sys.argv[2]}{i}.fvecs", "wb").write(data[i * 516:(i + 1) * 516])
PY
t0=$(date +%s.%N)
for i in $(seq 0 99); do "$vindex" search "$work/sift10k.idx" "$work/q$i.fvecs" -k 10 --ef 32 -j1 > /dev/null; done
t1=$(date +%s.%N)
"$vindex" search "$work/sift10k.idx" "$sift/siftsmall_base.fvecs" -k 10 --ef 32 -j1 > /dev/null
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { one = (b - a) / 100; batch = (c - b) / 10000;
  printf "one query per call: %.2f ms per query; batch of 10,000: %.3f ms per query; batch is %.0fx faster per query\n", one * 1e3, batch * 1e3, one / batch }'

if ((skip_large == 0)); then
  echo
  echo "## generating $n_large x 128 clustered vectors and exact ground truth"
  "$peers" gen "$n_large" 128 1000 1 "$work/large.fvecs"
  # Queries from the same mixture with another seed, so they are not base points.
  "$peers" gen 1000 128 1000 2 "$work/large-q.fvecs"
  "$vindex" build "$work/large.fvecs" -o "$work/large-flat.idx" --engine flat -f
  OMP_NUM_THREADS=$cores OPENBLAS_NUM_THREADS=$cores \
    "$vindex" search "$work/large-flat.idx" "$work/large-q.fvecs" -k 100 -o "$work/large-gt.ivecs" --no-verify
  rm -rf "$work/large-flat.idx"
  run_set "clustered-$n_large" "$work/large.fvecs" "$work/large-q.fvecs" "$work/large-gt.ivecs" 16 32 64 128 256 512
fi
