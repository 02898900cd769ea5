# dxfer serve keeps each unfinished upload's state in DIR/.dxfer/uploads/ (a record,
# the chunks' leaves, the partial file). If that state is damaged on disk while the
# server is down, the next push of the file starts it over (a RESTART line in the
# audit log) instead of failing every rerun; damaged journal lines only lose their
# chunks, and a chunk whose bytes changed in the partial file is sent again (a
# DAMAGED line). Each time the file arrives whole.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
exec 2> >(grep -v " Killed " >&2)  # bash reports each SIGKILLed job
python3 -c "
import random
random.seed(11)
open('big.bin','wb').write(random.randbytes(12_000_000))"
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
P=(--token-file tok --chunk 1MiB -j1)
# Kills a slow push of big.bin to /$1/ once the server holds a few of its chunks.
interrupted_push() {
  start_server srv tokens.jsonl || exit 1
  dxfer push big.bin "$URL/$1/" --pin "$PIN" "${P[@]}" --bwlimit 4MB/s -q &
  local pid=$!
  for _ in $(seq 200); do [[ $(cat srv/.dxfer/uploads/*.leaves 2>/dev/null | wc -l) -ge 2 ]] && break; sleep 0.05; done
  kill -9 $pid; wait $pid 2>/dev/null
  stop_server
}
interrupted_push a
echo "not json {" > "$(ls srv/.dxfer/uploads/*.json)"
start_server srv tokens.jsonl || exit 1
dxfer push big.bin "$URL/a/" --pin "$PIN" "${P[@]}" -q; echo "push after a damaged record: exit $?"
cmp big.bin srv/a/big.bin && echo "complete"
grep -c '"RESTART"' srv/.dxfer/audit.log
grep '"RESTART"' srv/.dxfer/audit.log | python3 -c "import json, sys; r = json.loads(sys.stdin.readline()); print(r['method'], r['path'], r['status'])"
echo "uploads left: $(ls srv/.dxfer/uploads | grep -c .)"
stop_server
interrupted_push b
leaves=$(ls srv/.dxfer/uploads/*.leaves)
sed -i '1s/ .*/ zz/' "$leaves"; echo "7" >> "$leaves"; printf '3 a\n' >> "$leaves"
start_server srv tokens.jsonl || exit 1
dxfer push big.bin "$URL/b/" --pin "$PIN" "${P[@]}" -q; echo "push after damaged journal lines: exit $?"
cmp big.bin srv/b/big.bin && echo "complete"
grep -c '"RESTART"' srv/.dxfer/audit.log
echo "DAMAGED lines so far: $(grep -c '"DAMAGED"' srv/.dxfer/audit.log)"
stop_server
interrupted_push c
python3 -c "
import glob
f = open(glob.glob('srv/.dxfer/uploads/*.part')[0], 'r+b'); f.seek(5000); b = f.read(1); f.seek(5000); f.write(bytes([b[0] ^ 1]))"
start_server srv tokens.jsonl || exit 1
dxfer push big.bin "$URL/c/" --pin "$PIN" "${P[@]}" -q; echo "push after a damaged partial file: exit $?"
cmp big.bin srv/c/big.bin && echo "complete"
grep '"DAMAGED"' srv/.dxfer/audit.log | python3 -c "import json, sys; r = json.loads(sys.stdin.readline()); print(r['method'], r['path'], r['status'], r['bytes'])"
