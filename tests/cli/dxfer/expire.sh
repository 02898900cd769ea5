# dxfer serve --upload-ttl: an upload its client abandoned (killed midway) holds
# the whole file's reserved space only until it has been idle for the TTL; then
# the server removes it (an EXPIRE line in the audit log names the file) and a
# later push starts that file over. Uploads still moving are kept.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
exec 2> >(grep -v " Killed " >&2)  # bash reports each SIGKILLed job
python3 -c "
import random
random.seed(8)
open('big.bin','wb').write(random.randbytes(24_000_000))"
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
start_server srv tokens.jsonl --upload-ttl 3s || exit 1
P=(--pin "$PIN" --token-file tok)
# A slow push (8 MB/s): kept while it moves, although it runs past the TTL.
dxfer push big.bin "$URL/slow/" "${P[@]}" --chunk 1MiB -j1 --bwlimit 8MB/s -q; echo "slow push exit $?"
cmp big.bin srv/slow/big.bin && echo "slow push complete"
dxfer push big.bin "$URL/k/" "${P[@]}" --chunk 1MiB -j1 --bwlimit 4MB/s -q &
pid=$!
for _ in $(seq 200); do ls srv/.dxfer/uploads/*.leaves > /dev/null 2>&1 && break; sleep 0.05; done
sleep 1; kill -9 $pid; wait $pid 2>/dev/null
ls srv/.dxfer/uploads/ | sed 's/^[0-9a-f]*\./ID./' | sort
for _ in $(seq 200); do [[ -z $(ls srv/.dxfer/uploads/) ]] && break; sleep 0.05; done
ls srv/.dxfer/uploads/ | wc -l
grep '"EXPIRE"' srv/.dxfer/audit.log | python3 -c "import json, sys; r = json.loads(sys.stdin.readline()); print(r['method'], r['path'], r['status'], r['who'])"
dxfer push big.bin "$URL/k/" "${P[@]}" --chunk 4MiB --json | python3 -c "import json, sys; r = json.loads(sys.stdin.read()); print(r['action'], r['sent'])"
cmp big.bin srv/k/big.bin && echo "pushed again, complete"
