# FAISS (and the OpenBLAS, LAPACK and OpenMP under it) lives in libsciflow_faiss.so,
# loaded for FAISS indexes only: building and searching an HNSW index never loads it
# (LD_DEBUG=libs lists what the loader opens), a flat index does. A vindex copied
# away from the module still serves HNSW and names the module for a FAISS index.
unset SCIFLOW_FAISS_MODULE  # the copy below must look for the module itself
python3 - <<'PY'
import json, random
random.seed(7)
with open("a.jsonl", "w") as f:
    for i in range(300): f.write(json.dumps({"id": i, "vector": [round(random.uniform(-1, 1), 4) for _ in range(8)]}) + "\n")
PY
head -3 a.jsonl > q.jsonl
LD_DEBUG=libs vindex build a.jsonl -o hnsw --engine hnsw 2> ld1.txt && LD_DEBUG=libs vindex search hnsw q.jsonl -k 1 > h.out 2>> ld1.txt || exit 1
grep -q 'init: .*libc\.so' ld1.txt && echo "the loader's log is there"
grep -q 'libsciflow_faiss\|libopenblas\|libgomp' ld1.txt || echo "hnsw: FAISS not loaded"
LD_DEBUG=libs vindex build a.jsonl -o flat --engine flat 2> ld2.txt && vindex search flat q.jsonl -k 1 > f.out || exit 1
grep -q 'init: .*libsciflow_faiss' ld2.txt && echo "flat: FAISS loaded"
cmp h.out f.out && echo "the same nearest neighbours"
mkdir alone && cp "$SCIFLOW_BIN/vindex" alone/
alone/vindex search hnsw q.jsonl -k 1 | cmp - h.out && echo "alone: hnsw as before"
alone/vindex search flat q.jsonl -k 1 2>&1 | sed 's/ (looked for:.*//'
echo "exit ${PIPESTATUS[0]}"
