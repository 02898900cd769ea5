# --hash xxh3 against dxfer serve: the server checks XXH3-128 leaves and the
# xxh3-tree and records "xxh3tree" in its manifest; a chunk damaged on the way is
# refused and sent again, as with SHA-256; verify, pull and sync --checksum follow
# the hash each copy was stored with (a byte flipped on the server's disk is
# found and repaired); small files in batches carry xxh3 trees too; a push
# killed midway resumes; a local destination refuses --hash xxh3 (usage error).
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
python3 -c "
import random
random.seed(11)
open('big.bin','wb').write(random.randbytes(3_300_000))"
mkdir -p data && cp big.bin data/ && echo "a small file" > data/small.txt
dxfer token create --tokens tokens.jsonl --scope rw:/ > w.tok 2>/dev/null
start_server srv tokens.jsonl || exit 1
P=(--pin "$PIN" --token-file w.tok)
DXFER_TEST_FLIP_CHUNK=1 dxfer push data "$URL/x/" "${P[@]}" --chunk 1MiB -j3 --hash xxh3 --json | python3 -c "
import json,sys
for l in sys.stdin: r = json.loads(l); print(r['file'], r['action'], r['sent'])"
echo "push exit ${PIPESTATUS[0]}"
cmp big.bin srv/x/data/big.bin && echo "server copy identical"
grep -c '"path":"/x/data/big.bin","status":422' srv/.dxfer/audit.log
python3 - <<'PY'
import json
m = {}
for l in open("srv/.dxfer/manifest.jsonl"):
    j = json.loads(l); m[j["path"]] = j
for p in ("/x/data/big.bin", "/x/data/small.txt"):
    e = m[p]
    print(p, "xxh3tree" if len(e.get("xxh3tree", "")) == 32 and "sha256tree" not in e else e)
PY
dxfer ls "$URL/x/" "${P[@]}" --json | python3 -c "
import json,sys
f = json.load(sys.stdin)['files']
print(sorted(k for k, v in f.items() if 'xxh3tree' in v))"
dxfer verify data "$URL/x/" "${P[@]}"; echo "verify exit $?"
dxfer pull "$URL/x/data/" back "${P[@]}" -q; echo "pull exit $?"
cmp big.bin back/big.bin && cmp data/small.txt back/small.txt && echo "pulled copy identical"
# a byte flipped on the server's disk: verify finds it (hashed again in xxh3),
# sync --checksum sends it again
printf '\x00' | dd of=srv/x/data/big.bin bs=1 seek=2500000 conv=notrunc status=none
dxfer verify data "$URL/x/" "${P[@]}" | sed 's/(source .*/(...)/'; echo "verify exit ${PIPESTATUS[0]}"
dxfer sync data "$URL/x/" "${P[@]}" --checksum --hash xxh3 -q; echo "sync --checksum exit $?"
cmp big.bin srv/x/data/big.bin && echo "repaired"
dxfer sync data "$URL/x/" "${P[@]}" --checksum -q; echo "sync --checksum again exit $?"
# killed mid-push and run again: the xxh3 upload resumes and completes
dxfer push big.bin "$URL/k/" "${P[@]}" --chunk 1MiB --hash xxh3 --bwlimit 4MB/s -q 2>/dev/null &
pid=$!
for _ in $(seq 200); do  # until the server holds a verified chunk
  [[ -n $(cat srv/.dxfer/uploads/*.leaves 2>/dev/null) ]] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
dxfer push big.bin "$URL/k/" "${P[@]}" --chunk 1MiB --hash xxh3 --json | python3 -c "
import json,sys
for l in sys.stdin: r = json.loads(l); print('rerun', r['action'], 'resent less than the file' if r['sent'] < 3300000 else r['sent'])"
cmp big.bin srv/k/big.bin && echo "resumed copy identical"
dxfer push data local-copy --hash xxh3 2>&1; echo "local exit $?"
