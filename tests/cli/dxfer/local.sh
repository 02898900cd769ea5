# push to a local destination: chunked, verified, resumable. SIGKILL at random
# points (fixed seed, 10 trials): every rerun completes, sends only the chunks
# the journal did not have, and verify then finds source and copy identical.
# sync says "nothing to do" with exit 3; a flipped byte is found by verify.
python3 -c "
import random
random.seed(11)
open('big.bin','wb').write(bytes(random.getrandbits(8) for _ in range(6_000_000)))"
mkdir -p data/sub && cp big.bin data/ && echo hello > data/sub/note.txt
RANDOM=3
bad=0
for trial in $(seq 1 10); do
  rm -rf dst
  dxfer push data dst --chunk 64KiB -j1 -q &
  pid=$!
  sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  before=0
  j=dst/.dxfer/journal/data%big.bin.json
  [[ -f $j ]] && before=$(python3 -c "import json; print(len(json.load(open('$j'))['chunks']))")
  out=$(dxfer push data dst --chunk 64KiB -j1 --json) || { echo "trial $trial: rerun failed"; bad=1; continue; }
  sent=$(printf '%s\n' "$out" | python3 -c "import json,sys; print(sum(json.loads(l)['sent'] for l in sys.stdin if 'big.bin' in l))")
  limit=$((6000000 - before * 65536)); ((limit < 0)) && limit=0
  if [[ -f dst/data/big.bin && $sent -gt $limit ]]; then echo "trial $trial: resent $sent > $limit"; bad=1; fi
  dxfer verify data dst > /dev/null || { echo "trial $trial: verify failed"; bad=1; }
done
echo "kill trials done, problems: $bad"
dxfer sync data dst -q
echo "sync exit $?"
echo more >> data/sub/note.txt
dxfer sync data dst --json | python3 -c "import json,sys; print(sorted((json.loads(l)['file'], json.loads(l)['action']) for l in sys.stdin))"
printf '\xff' | dd of=dst/data/big.bin bs=1 seek=1234567 conv=notrunc status=none
dxfer verify data dst | sed 's/(source .*/(...)/'
echo "verify exit ${PIPESTATUS[0]}"
dxfer sync data dst --checksum -q
echo "sync --checksum exit $?"
dxfer verify data dst
echo "verify exit $?"
dxfer ls dst | awk '{print $1, $3}'
dxfer push data s3://bucket/runs/
echo "exit $?"
# Another scheme is refused, not made a directory named "ftp:"; so is plain HTTP,
# which would carry the token in the clear.
dxfer push data ftp://host/runs/
echo "exit $?"
[[ -e ftp: ]] || echo "no directory 'ftp:'"
DXFER_TOKEN=t dxfer push data http://127.0.0.1:9/runs/
echo "exit $?"
dxfer push data dav://127.0.0.1:9/runs/
echo "exit $?"
# Symbolic links inside a source tree are not followed and FIFOs not read: each
# is named in a warning, and nothing lands outside the destination (a link's copy
# was once named after its target, and a link reaching further up was written
# outside the destination).
mkdir -p outside tree/sub && echo secret > outside/secret && echo kept > tree/kept.txt
ln -s ../../outside/secret tree/sub/escape
ln -s ../kept.txt tree/sub/again
mkfifo tree/pipe
dxfer push tree copies/dst; echo "push exit $?"
find copies -not -path '*/.dxfer*' | sort  # the old naming put copies/dst/outside/secret here
# A chunk no stream could hold is refused up front (1 TiB ended in std::bad_alloc).
dxfer push tree copies/dst --chunk 1TiB
echo "chunk exit $?"
# A destination that is a file is named as such (it said "open 'f/.dxfer/lock': Not a directory").
echo x > plain-file
dxfer push tree plain-file
echo "file destination exit $?"
# One file that cannot be put in place fails alone: the others arrive, exit 4
# (partial), and a sync once the way is clear sends only that one.
mkdir -p three && echo a > three/a && echo b > three/b && echo c > three/c
mkdir -p blocked/three/b/in-the-way
dxfer push three blocked 2>&1 | sed 's/partial\/[^ ]*/partial\/.../'; echo "blocked exit ${PIPESTATUS[0]}"
ls blocked/three
rm -r blocked/three/b
dxfer sync three blocked --json | python3 -c "
import json, sys
for l in sys.stdin: r = json.loads(l); print(r['file'], r['action'])"
cat blocked/three/b
