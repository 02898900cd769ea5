# --encrypt: the server stores only AES-256-GCM ciphertext and verifies it like
# any data; pull and verify need the key and authenticate every chunk (no key,
# a wrong key, or chunks swapped on the server's disk are refused); sync
# compares plaintext size and mtime; a push killed at random points resumes
# with the chunks the server holds. --bwlimit holds the rate down.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
exec 2> >(grep -v " Killed " >&2)  # bash reports each SIGKILLed job
python3 -c "
import random
random.seed(5)
open('big.bin','wb').write(random.randbytes(9_000_000))"
mkdir -p data && cp big.bin data/ && echo "MARKER-plaintext-visible" > data/note.txt && : > data/empty
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
dxfer keygen -o k.key 2>/dev/null && dxfer keygen -o other.key 2>/dev/null
start_server srv tokens.jsonl || exit 1
P=(--pin "$PIN" --token-file tok)
dxfer push data "$URL/e/" "${P[@]}" --encrypt k.key --chunk 2MiB -q; echo "push exit $?"
ls -l srv/e/data | awk 'NR > 1 {print $5, $9}'
grep -rc MARKER srv/e/data/note.txt
dxfer verify data "$URL/e/" "${P[@]}" --encrypt k.key; echo "verify exit $?"
dxfer sync data "$URL/e/" "${P[@]}" --encrypt k.key -q; echo "sync exit $?"
dxfer pull "$URL/e/data/" back "${P[@]}" --encrypt k.key -q; echo "pull exit $?"
diff -r -x .dxfer data back > /dev/null && echo "decrypted copy identical"
dxfer pull "$URL/e/data/" nokey "${P[@]}" -q > nokey.out 2>&1; echo "pull without key exit $?"
head -1 nokey.out
dxfer pull "$URL/e/data/" wrong "${P[@]}" --encrypt other.key -q 2>&1 | grep -c "authentication failed"
dxfer sync data "$URL/e/" "${P[@]}" --encrypt k.key --checksum 2>&1; echo "checksum exit $?"
dxfer push data local-dir --encrypt k.key 2>&1; echo "local exit $?"
# swap chunks 0 and 1 of the ciphertext on the server's disk (both 2 MiB): the
# server's own hash check and the key both catch it
python3 -c "
f = open('srv/e/data/big.bin', 'r+b'); a = f.read(2097152); b = f.read(2097152)
f.seek(0); f.write(b); f.write(a)"
dxfer verify data "$URL/e/" "${P[@]}" --encrypt k.key; echo "verify after swap exit $?"
dxfer push data "$URL/e/" "${P[@]}" --encrypt k.key --chunk 2MiB -q; echo "push again exit $?"
dxfer verify data "$URL/e/" "${P[@]}" --encrypt k.key; echo "verify exit $?"
# SIGKILL during encrypted pushes (fixed seed): every rerun completes and verifies
RANDOM=23
bad=0 partial=0
for trial in 1 2 3 4 5 6; do
  dxfer push data "$URL/k$trial/" "${P[@]}" --encrypt k.key --chunk 1MiB -j2 --bwlimit 30MB/s -q 2>/dev/null &
  cpid=$!
  sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
  kill -9 $cpid 2>/dev/null; wait $cpid 2>/dev/null
  a=$(stat -c %s srv/.dxfer/audit.log)
  while sleep 0.5; b=$(stat -c %s srv/.dxfer/audit.log); [[ $a != "$b" ]]; do a=$b; done
  [[ -f srv/k$trial/data/big.bin ]] || partial=$((partial + 1))
  out=$(dxfer push data "$URL/k$trial/" "${P[@]}" --encrypt k.key --chunk 1MiB -j2 --json) || { echo "trial $trial: rerun failed"; bad=1; }
  dxfer verify data "$URL/k$trial/" "${P[@]}" --encrypt k.key > /dev/null || { echo "trial $trial: verify failed"; bad=1; }
done
echo "kill trials: problems $bad"
((partial >= 3)) && echo "at least 3 kills before the big file was complete"
# --bwlimit: 9 MB at 6 MB/s cannot take less than ~1.2 s (a lower bound only)
start=$(date +%s.%N)
dxfer push big.bin "$URL/bw/" "${P[@]}" --bwlimit 6MB/s --chunk 1MiB -q
python3 -c "import sys, time; d = time.time() - float(sys.argv[1]); print('bwlimit held' if d >= 1.2 else f'too fast: {d:.2f} s')" "$start"
