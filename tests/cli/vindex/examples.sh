# The examples in examples/ run as written.
bash "$SCIFLOW_SRC/examples/vindex-sift.sh" > out.txt 2> err.txt || { cat err.txt; exit 1; }
grep -c '^ef [0-9]*: {"recall"' out.txt
grep -c '"query"' out.txt
bash "$SCIFLOW_SRC/examples/vindex-shards.sh" > shards.txt 2> err.txt || { cat err.txt; exit 1; }
grep -o '(4 shards)' shards.txt
python3 -c "import json,sys; j=json.loads(open('shards.txt').read().strip().splitlines()[-1]); print('recall', 'ok' if j['recall'] >= 0.99 else j['recall'])"
