# A pull killed midway resumes from DST/.dxfer/partial/ and its journal. The chunks
# the journal lists are read back and checked before they count: a byte flipped in
# the local copy since (disk, person, a crash mid-write) makes that chunk be fetched
# again, plain or --encrypt (the journal keeps a digest of the plaintext written),
# instead of ending in a damaged file under the final name.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
exec 2> >(grep -v " Killed " >&2)  # bash reports each SIGKILLed job
python3 -c "
import random
random.seed(12)
open('big.bin','wb').write(random.randbytes(12_000_000))"
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
dxfer keygen -o k.key 2>/dev/null
start_server srv tokens.jsonl || exit 1
P=(--pin "$PIN" --token-file tok --chunk 1MiB)
dxfer push big.bin "$URL/p/" "${P[@]}" -q && dxfer push big.bin "$URL/e/" "${P[@]}" --encrypt k.key -q || exit 1
for kind in plain encrypted; do
  if [[ $kind == plain ]]; then src=p E=(); else src=e E=(--encrypt k.key); fi
  dxfer pull "$URL/$src/big.bin" "$kind" "${P[@]}" "${E[@]}" -j1 --bwlimit 4MB/s -q &
  pid=$!
  for _ in $(seq 200); do [[ $(cat "$kind"/.dxfer/partial/*.leaves 2>/dev/null | wc -l) -ge 4 ]] && break; sleep 0.05; done
  kill -9 $pid; wait $pid 2>/dev/null
  held=$(($(wc -l < "$kind"/.dxfer/partial/big.bin.leaves) - 1))
  # flip one byte of the first chunk of the copy
  python3 -c "
f = open('$kind/.dxfer/partial/big.bin', 'r+b'); f.seek(1000); b = f.read(1); f.seek(1000); f.write(bytes([b[0] ^ 1]))"
  out=$(dxfer pull "$URL/$src/big.bin" "$kind" "${P[@]}" "${E[@]}" --json)
  echo "$kind: exit $?"
  sent=$(python3 -c "import json, sys; r = json.loads(sys.argv[1]); print(r['action'], r['sent'])" "$out")
  echo "$kind: ${sent% *}"
  cmp big.bin "$kind/big.bin" && echo "$kind: identical"
  # fetched again: every chunk the journal did not hold, and the damaged one
  python3 -c "
import sys
held, sent = int(sys.argv[1]), int(sys.argv[2].split()[1])
size = 12_000_000 if sys.argv[3] == 'plain' else 12_000_000 + 28 * 12
print('$kind: refetched =', 'missing chunks + 1' if sent == size - (held - 1) * 1048576 else f'{sent} bytes (held {held})')" "$held" "$sent" "$kind"
done
