# --where filters by metadata: every result satisfies it, k results come back when
# enough match, and a selective filter still finds its few matches.
python3 - <<'PY'
import json, random
random.seed(3)
with open("v.jsonl", "w") as f:
    for i in range(3000):
        v = [round(random.gauss(0, 1), 4) for _ in range(16)]
        f.write(json.dumps({"id": 1000 + i, "vector": v, "beamline": "K11" if i % 3 == 0 else "I12",
                            "frame": i, "detector": {"name": "pco" if i % 2 else "pilatus"}}) + "\n")
    # queries: the first 20 vectors
with open("q.jsonl", "w") as f:
    for line in open("v.jsonl").readlines()[:20]:
        j = json.loads(line); f.write(json.dumps({"id": j["id"], "vector": j["vector"]}) + "\n")
PY
for engine in hnsw flat ivf-flat; do
  vindex build v.jsonl -o idx-$engine --engine $engine || exit 1
  vindex search idx-$engine q.jsonl -k 10 --where 'beamline == "K11" and frame > 100' > r.jsonl || exit 1
  vindex search idx-$engine q.jsonl -k 5 --where 'frame >= 2990 and detector.name == "pco"' > s.jsonl || exit 1
  python3 - "$engine" <<'PY'
import json, sys
bad = short = 0
for line in open("r.jsonl"):
    r = json.loads(line)
    short += len(r["ids"]) != 10
    bad += sum(1 for i in r["ids"] if not ((i - 1000) % 3 == 0 and i - 1000 > 100))
sel = [json.loads(l) for l in open("s.jsonl")]
want = {1000 + i for i in range(2990, 3000) if i % 2}
ok_sel = all(set(r["ids"]) == want for r in sel)
print(sys.argv[1], "violations", bad, "short", short, "selective", "exact" if ok_sel else "WRONG")
PY
done
# --metadata carries each result's fields along.
vindex search idx-flat q.jsonl -k 2 --where 'frame >= 2990 and detector.name == "pco"' --metadata | head -1 |
  python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print(all(m['detector']['name']=='pco' and m['frame']>=2990 for m in r['metadata']), len(r['metadata']))"
vindex search idx-flat q.jsonl --where 'frame > > 3'
echo "exit $?"
vindex search idx-flat q.jsonl --where 'beamline = "K11"'
echo "exit $?"
