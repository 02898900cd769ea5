# SIGKILL of the client or of the server at random points of a push to dxfer
# serve (20 trials, fixed seed): every rerun completes, every file's copy is
# byte-identical, and the rerun sends at most what the server did not yet hold of a file cut short
# (the chunks in flight when the kill came).
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
exec 2> >(grep -v " Killed " >&2)  # bash reports each SIGKILLed job
python3 -c "
import random
random.seed(13)
open('big.bin','wb').write(random.randbytes(40_000_000))"
mkdir -p data/small && cp big.bin data/ && for i in $(seq 1 40); do head -c $((i * 300)) big.bin > data/small/f$i; done
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
start_server srv tokens.jsonl || exit 1
RANDOM=17
bad=0 kills_client=0 kills_server=0 mid=0
for trial in $(seq 1 20); do
  dest=$URL/t$trial/
  dxfer push data "$dest" --pin "$PIN" --token-file tok --chunk 1MiB -j2 --retries 1 -q 2>/dev/null &
  cpid=$!
  sleep "0.$((RANDOM % 2))$((RANDOM % 10))"
  if ((RANDOM % 2)); then
    kill -9 "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
    kill -9 "$cpid" 2>/dev/null; kills_server=$((kills_server + 1))
    start_server srv tokens.jsonl || exit 1
    dest=$URL/t$trial/
  else
    kill -9 "$cpid" 2>/dev/null; kills_client=$((kills_client + 1))
  fi
  wait "$cpid" 2>/dev/null
  # The server finishes requests of a killed client on its own: let it settle
  # (no new audit line for half a second) before looking at what it holds.
  a=$(stat -c %s srv/.dxfer/audit.log)
  while sleep 0.5; b=$(stat -c %s srv/.dxfer/audit.log); [[ $a != "$b" ]]; do a=$b; done
  # What the server holds of big.bin: whole (-1), or the bytes of its verified chunks.
  held=0
  if [[ -f srv/t$trial/data/big.bin ]]; then held=-1; else
    held=$(cat srv/.dxfer/uploads/*.leaves 2>/dev/null | python3 -c "
import sys
ks = {int(l.split()[0]) for l in sys.stdin if ' ' in l}
print(sum(min(1048576, 40000000 - k * 1048576) for k in ks))")
  fi
  out=$(dxfer push data "$dest" --pin "$PIN" --token-file tok --chunk 1MiB -j2 --json 2>rerun.err) || { echo "trial $trial: rerun failed: $(cat rerun.err)"; bad=1; continue; }
  sent=$(printf '%s\n' "$out" | python3 -c "import json,sys; print(sum(json.loads(l)['sent'] for l in sys.stdin if 'big.bin' in l))")
  # A file already complete is copied again by push (sync would skip it).
  if ((held < 0)); then limit=40000000; else limit=$((40000000 - held)); mid=$((mid + 1)); fi
  ((limit < 0)) && limit=0
  ((sent > limit)) && { echo "trial $trial: resent $sent > $limit (server held $held bytes of it)"; bad=1; }
  diff -r data "srv/t$trial/data" > /dev/null || { echo "trial $trial: copies differ"; bad=1; }
  dxfer verify data "$dest" --pin "$PIN" --token-file tok > /dev/null || { echo "trial $trial: verify failed"; bad=1; }
done
echo "20 trials, problems: $bad"
((kills_client > 3 && kills_server > 3)) && echo "both sides killed several times"
((mid >= 8)) && echo "at least 8 kills in the middle of the big file"
echo "uploads left on the server: $(ls srv/.dxfer/uploads | grep -c .)"
