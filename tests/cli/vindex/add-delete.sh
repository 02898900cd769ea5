# add appends (ids kept), delete hides at once, --compact drops for good, and the
# index answers the same before and after compaction; duplicates are refused.
python3 - <<'PY'
import json, random
random.seed(5)
rows = [[round(random.uniform(-1, 1), 5) for _ in range(8)] for _ in range(400)]
with open("a.jsonl", "w") as f:
    for i in range(200): f.write(json.dumps({"id": i, "vector": rows[i]}) + "\n")
with open("b.jsonl", "w") as f:
    for i in range(200, 400): f.write(json.dumps({"id": i, "vector": rows[i]}) + "\n")
with open("q.jsonl", "w") as f:
    for i in (5, 250, 399): f.write(json.dumps({"id": i, "vector": rows[i]}) + "\n")
PY
for engine in hnsw flat ivf-flat; do
  vindex build a.jsonl -o idx --engine $engine -f || exit 1
  vindex add idx b.jsonl || exit 1
  first() { vindex search idx q.jsonl -k 1 | python3 -c "import json,sys; print(' '.join(str(json.loads(l)['ids'][0]) for l in sys.stdin))"; }
  echo "$engine after add: $(first)"
  vindex delete idx 250 5 || exit 1
  echo "$engine after delete: $(first) live $(vindex info idx --json | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['vectors'], j['deleted'])")"
  before=$(vindex search idx q.jsonl -k 5)
  vindex compact idx || exit 1
  after=$(vindex search idx q.jsonl -k 5)
  [[ $before == "$after" ]] && same=same || same=different
  echo "$engine after compact: $(vindex info idx --json | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['vectors'], j['deleted'])") results $same"
  ls idx | grep -c -- '-1\.' | sed 's/^/old generation files: /'
done
vindex add idx b.jsonl
echo "exit $?"
# -f replaces an index, not any directory of that name (it once removed it).
mkdir -p notanindex && echo precious > notanindex/notes.txt
vindex build a.jsonl -o notanindex -f
echo "exit $?"
cat notanindex/notes.txt
