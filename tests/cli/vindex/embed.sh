# embed runs a TorchScript model over frames: the vectors are what the model
# computes (checked against values known by construction), in every output format,
# and they index and search like any other vectors.
make_model mean-pool pool.pt || exit 1
python3 - <<'PY'
import struct
# 6 frames of 4x5 pixels, 2 channels, u16: channel c of frame f is f*10 + c, one pixel +5.
T, H, W, C = 6, 4, 5, 2
hdr = "{'descr': '<u2', 'fortran_order': False, 'shape': (%d, %d, %d, %d), }" % (T, H, W, C)
hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
with open("frames.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for t in range(T):
        for y in range(H):
            for x in range(W):
                for c in range(C):
                    f.write(struct.pack("<H", t * 10 + c + (5 if (y, x) == (0, 0) else 0)))
PY
vindex embed pool.pt frames.npy -o emb.jsonl --batch 4 || exit 1
python3 - <<'PY'
import json
for line in open("emb.jsonl"):
    r = json.loads(line); t = r["id"]
    want = [t * 10 + 0 + 5 / 20, t * 10 + 1 + 5 / 20, t * 10 + 5, t * 10 + 6]
    assert all(abs(a - b) < 1e-4 for a, b in zip(r["vector"], want)), (t, r["vector"], want)
print("values ok")
PY
vindex embed pool.pt frames.npy -o emb.npy || exit 1
vindex embed pool.pt frames.npy -o emb.fvecs || exit 1
vindex embed pool.pt frames.npy -o emb.h5 || exit 1
vindex build emb.npy -o idx --engine flat || exit 1
vindex search idx emb.fvecs -k 1 | python3 -c "import json,sys; print('self-match', all(json.loads(l)['ids'][0] == json.loads(l)['query'] for l in sys.stdin))"
vindex search idx emb.h5 -k 1 -o r.ivecs && stat -c %s r.ivecs
vindex embed pool.pt frames.npy -o emb.npy
echo "exit $?"
make_model bad-output bad.pt || exit 1
vindex embed bad.pt frames.npy -o bad.npy
echo "exit $?"
# Without a GPU --device cuda is refused with the reason; with one it must work.
if vindex embed pool.pt frames.npy -o x.npy --device cuda 2> cuda.err; then
  vindex embed pool.pt frames.npy -o cpu.npy && [[ $(stat -c %s x.npy) == $(stat -c %s cpu.npy) ]] && echo "cuda: consistent"
else
  grep -q "no CUDA device" cuda.err && echo "cuda: consistent"
fi
ls bad.npy 2>/dev/null || echo "no partial output"
# Without the libtorch plugin beside it or installed, embed says what is missing;
# every other command runs without ever loading libtorch (given the FAISS module
# this index needs, which is not beside the copy either).
mkdir alone && cp "$SCIFLOW_BIN/vindex" alone/
alone/vindex embed pool.pt frames.npy -o y.npy 2>&1 | sed 's/ (looked for:.*//'
SCIFLOW_FAISS_MODULE=$SCIFLOW_BIN/libsciflow_faiss.so alone/vindex info idx --json > /dev/null && echo "info without the plugin: ok"
