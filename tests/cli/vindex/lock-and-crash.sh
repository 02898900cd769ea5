# A second writer is refused while one holds the index; a writer killed with
# SIGKILL at any point leaves the previous index usable (fixed seed of delays).
D=$SCIFLOW_SRC/tests/data/siftsmall
zstd -dq "$D/siftsmall_base.fvecs.zst" -o base.fvecs || exit 1
head -c $((2000 * 516)) base.fvecs > a.fvecs
vindex build a.fvecs -o idx -j1 || exit 1
# ids of the second part must differ: take rows 2000.. with their own row numbers via JSONL
python3 - <<'PY'
import struct, json
with open("base.fvecs", "rb") as f: data = f.read()
rec = 516
with open("b.jsonl", "w") as out:
    for i in range(2000, 6000):
        v = struct.unpack_from("<128f", data, i * rec + 4)
        out.write(json.dumps({"id": i, "vector": v}) + "\n")
PY
flock idx/.lock sleep 3 &
for _ in $(seq 100); do flock -n idx/.lock true || break; sleep 0.05; done
vindex add idx b.jsonl
echo "while locked: exit $?"
wait
RANDOM=42
for trial in 1 2 3 4 5 6; do
  cp -r idx work
  vindex add work b.jsonl -j1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  n=$(vindex info work --json | python3 -c "import json,sys; print(json.load(sys.stdin)['vectors'])") || { echo "trial $trial: index unusable"; continue; }
  [[ $n == 2000 || $n == 6000 ]] && echo "trial $trial: usable" || echo "trial $trial: $n vectors"
  vindex add work b.jsonl -j2 2>/dev/null || true   # completes (or is refused as duplicates if it had finished)
  m=$(vindex info work --json | python3 -c "import json,sys; print(json.load(sys.stdin)['vectors'])")
  stray=$(ls -A work | grep -c tmp)
  echo "trial $trial: after rerun $m vectors, $stray temporary files"
  rm -rf work
done
ls -A . | grep -c '^\.idx' | sed 's/^/stray directories: /'
