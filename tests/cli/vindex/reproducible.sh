# Single-thread builds are reproducible: the same input and seed give the same
# engine file, byte for byte (hnsw and ivf-pq); another seed gives another graph.
D=$SCIFLOW_SRC/tests/data/siftsmall
zstd -dq "$D/siftsmall_base.fvecs.zst" -o base.fvecs || exit 1
head -c $((3000 * 516)) base.fvecs > part.fvecs
for e in hnsw ivf-pq; do
  vindex build part.fvecs -o a-$e --engine $e -j1 || exit 1
  vindex build part.fvecs -o b-$e --engine $e -j1 || exit 1
  if cmp -s a-$e/engine-1.* b-$e/engine-1.*; then echo "$e same"; else echo "$e differs"; fi
done
vindex build part.fvecs -o c-hnsw --seed 7 -j1 || exit 1
if cmp -s a-hnsw/engine-1.* c-hnsw/engine-1.*; then echo "seed ignored"; else echo "seed matters"; fi
