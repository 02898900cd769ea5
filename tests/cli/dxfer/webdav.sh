# dxfer to a real WebDAV server (nginx with TLS): push a directory (MKCOL for
# the collections, one PUT per file, sizes checked with HEAD), its manifest at
# the destination, ls, sync (exit 3), verify reading every file back; a byte
# flipped on the server's disk is found by verify and fixed by push; a push
# killed midway is completed by the rerun; --encrypt is refused (the server
# would store what it is sent).
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-nginx.bash"
trap stop_nginx EXIT
start_nginx || exit 1
python3 -c "
import random
random.seed(9)
open('big.bin','wb').write(random.randbytes(30_000_000))"
mkdir -p data/sub && cp big.bin data/ && for i in 1 2 3; do echo "note $i" > data/sub/n$i.txt; done
T=(--cacert "$DAV_CERT")
dxfer push data "$DAV_URL/runs/" "${T[@]}" -j3 --json | python3 -c "
import json, sys
for l in sorted(sys.stdin): r = json.loads(l); print(r['file'], r['action'], r['sent'])"
echo "push exit ${PIPESTATUS[0]}"
diff -r data "$DAV_ROOT/runs/data" && echo "server copy identical"
python3 -c "import json; print(sorted(json.load(open('$DAV_ROOT/runs/.dxfer-manifest.json'))['files']))"
dxfer ls "$DAV_URL/runs/" "${T[@]}" | awk '{print $1, $3}' | sort -k2
dxfer sync data "$DAV_URL/runs/" "${T[@]}" -q; echo "sync exit $?"
dxfer verify data "$DAV_URL/runs/" "${T[@]}"; echo "verify exit $?"
printf '\x00' | dd of="$DAV_ROOT/runs/data/big.bin" bs=1 seek=12345678 conv=notrunc status=none
dxfer verify data "$DAV_URL/runs/" "${T[@]}" | sed 's/(source .*/(...)/'; echo "verify exit ${PIPESTATUS[0]}"
dxfer push data "$DAV_URL/runs/" "${T[@]}" -q; echo "push exit $?"
dxfer verify data "$DAV_URL/runs/" "${T[@]}"; echo "verify exit $?"
dxfer pull "$DAV_URL/runs/" back "${T[@]}" --chunk 4MiB -j3 -q; echo "pull (ranged GETs) exit $?"
diff -r data back/data && echo "pulled copy identical"
dxfer pull "$DAV_URL/runs/" back "${T[@]}" --sync -q; echo "pull --sync exit $?"
# One file by its URL (no trailing slash) lands as DST/NAME; a path with nothing
# there fails instead of pulling nothing.
dxfer pull "$DAV_URL/runs/data/big.bin" one "${T[@]}" -q && cmp one/big.bin data/big.bin && echo "single-file pull identical"
dxfer pull "$DAV_URL/runs/data/sub/" sub "${T[@]}" -q && diff -r -x .dxfer data/sub sub && echo "pull of a directory below the push identical"
dxfer pull "$DAV_URL/runs/nothing/" none "${T[@]}" 2>&1 | sed 's/127.0.0.1:[0-9]*/HOST/'; echo "empty pull exit ${PIPESTATUS[0]}"
dxfer push data "$DAV_URL/k/" "${T[@]}" --bwlimit 20MB/s -q 2>/dev/null &
pid=$!
sleep 0.4; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
dxfer push data "$DAV_URL/k/" "${T[@]}" -q; echo "rerun exit $?"
dxfer verify data "$DAV_URL/k/" "${T[@]}"; echo "verify exit $?"
# --hash xxh3: the manifest on the server records xxh3 trees, verify reads the copy back in xxh3
dxfer push data "$DAV_URL/x/" "${T[@]}" --hash xxh3 -q; echo "xxh3 push exit $?"
python3 -c "
import json,sys
m = json.load(open(sys.argv[1]))['files']
print(sorted(k for k, v in m.items() if len(v.get('xxh3tree', '')) == 32 and 'sha256tree' not in v))" "$DAV_ROOT/x/.dxfer-manifest.json"
dxfer verify data "$DAV_URL/x/" "${T[@]}"; echo "xxh3 verify exit $?"
dxfer keygen -o k.key 2>/dev/null
dxfer push data "$DAV_URL/e/" "${T[@]}" --encrypt k.key 2>&1; echo "encrypt exit $?"
dxfer ls "$DAV_URL/runs/" 2>&1 | grep -o "SSL certificate problem\|certificate" | head -1
