# A source file truncated while dxfer pushes it: the push stops with an error
# that names the cause (a bus error on the file's mapping, or the file ending
# before the chunk being read, depending on when it shrank), nothing is made
# final on the server, and a rerun once the file is whole again completes it.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
exec 2> >(grep -v " Bus error " >&2)  # bash reports the job that died of SIGBUS
python3 -c "
import random
random.seed(9)
open('orig.bin','wb').write(random.randbytes(8_000_000))"
cp orig.bin scan.bin
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
start_server srv tokens.jsonl || exit 1
P=(--pin "$PIN" --token-file tok)
dxfer push scan.bin "$URL/t/" "${P[@]}" --chunk 1MiB -j1 --bwlimit 2MB/s -q 2> push.err &
pid=$!
for _ in $(seq 200); do ls srv/.dxfer/uploads/*.leaves > /dev/null 2>&1 && break; sleep 0.05; done
sleep 1.2
truncate -s 0 scan.bin
wait $pid
rc=$?
(( rc != 0 )) && echo "push failed"
if grep -q "bus error (SIGBUS) reading a memory-mapped file: it was truncated while being read" push.err; then
  (( rc == 135 )) && echo "told: the file shrank"
elif grep -q "scan.bin': file ended before byte" push.err; then
  echo "told: the file shrank"
else
  echo "exit $rc, unexpected message:"; cat push.err
fi
[[ -e srv/t/scan.bin ]] && echo "a partial file was made final"
cp orig.bin scan.bin
dxfer push scan.bin "$URL/t/" "${P[@]}" --chunk 1MiB -q; echo "rerun exit $?"
cmp orig.bin srv/t/scan.bin && echo "server copy identical"
