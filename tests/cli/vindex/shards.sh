# Shards built separately (as Slurm array tasks would) are searched as one set:
# the merged top-k equals the unsharded exact answer; a missing shard is named.
D=$SCIFLOW_SRC/tests/data/siftsmall
zstd -dq "$D/siftsmall_base.fvecs.zst" -o base.fvecs || exit 1
for i in 0 1 2; do vindex build base.fvecs -o set --shard $i/3 --engine flat || exit 1; done
ls set | tr '\n' ' '; echo
vindex info set --json | python3 -c "import json,sys; j=json.load(sys.stdin); print('shards', j['shards'], 'vectors', j['vectors'])"
vindex eval set "$D/siftsmall_query.fvecs" "$D/siftsmall_groundtruth.ivecs" -k 10 --min-time 0 --json |
  python3 -c "import json,sys; print('recall', json.load(sys.stdin)['recall'])"
vindex build base.fvecs -o whole --engine flat || exit 1
vindex search set "$D/siftsmall_query.fvecs" -k 10 -o set.ivecs || exit 1
vindex search whole "$D/siftsmall_query.fvecs" -k 10 -o whole.ivecs || exit 1
cmp set.ivecs whole.ivecs && echo "same neighbours as one index"
rm -rf set/shard-1-of-3
vindex search set "$D/siftsmall_query.fvecs" -k 10 > /dev/null
echo "exit $?"
