# dxfer to a real OpenSSH server over SFTP: push a directory (missing directories
# made, each file written to a temporary name and renamed into place), the
# manifest at the destination, ls, sync (exit 3), verify reading every file back;
# a byte flipped on the server's disk is found by verify and fixed by push; a
# push killed midway leaves no partial file under the final name and the rerun
# continues the interrupted file instead of sending it again (after reading back
# what it holds: a damaged one is written afresh); host keys are
# checked (known_hosts or --pin), and a wrong or unknown one is refused.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-sshd.bash"
trap stop_sshd EXIT
start_sshd || exit 1
python3 -c "
import random
random.seed(7)
open('big.bin','wb').write(random.randbytes(24_000_000))"
mkdir -p "data/with space" && cp big.bin data/ && for i in 1 2 3; do echo "note $i" > "data/with space/n$i.txt"; done
DEST=$PWD/dest
K=(--ssh-key "$SSH_KEY" --known-hosts "$SSH_KNOWN")
dxfer push data "$SFTP_URL$DEST/runs/" "${K[@]}" -j3 --json | python3 -c "
import json, sys
for l in sorted(sys.stdin): r = json.loads(l); print(r['file'], r['action'], r['sent'])"
echo "push exit ${PIPESTATUS[0]}"
diff -r data "$DEST/runs/data" && echo "server copy identical"
python3 -c "import json; print(sorted(json.load(open('$DEST/runs/.dxfer-manifest.json'))['files']))"
dxfer ls "$SFTP_URL$DEST/runs/" "${K[@]}" | awk '{print $1, $3, $4}' | sort -k2
dxfer sync data "$SFTP_URL$DEST/runs/" "${K[@]}" -q; echo "sync exit $?"
dxfer verify data "$SFTP_URL$DEST/runs/" --ssh-key "$SSH_KEY" --pin "$SSH_PIN"; echo "verify (pinned) exit $?"
printf '\x00' | dd of="$DEST/runs/data/big.bin" bs=1 seek=12345678 conv=notrunc status=none
dxfer verify data "$SFTP_URL$DEST/runs/" "${K[@]}" | sed 's/(source .*/(...)/'; echo "verify exit ${PIPESTATUS[0]}"
dxfer push data "$SFTP_URL$DEST/runs/" "${K[@]}" -q; echo "push exit $?"
dxfer verify data "$SFTP_URL$DEST/runs/" "${K[@]}"; echo "verify exit $?"
# pull: parallel ranged reads, checked against the destination's manifest.
dxfer pull "$SFTP_URL$DEST/runs/" back "${K[@]}" --chunk 4MiB -j3 -q; echo "pull exit $?"
diff -r data back/data && echo "pulled copy identical"
dxfer pull "$SFTP_URL$DEST/runs/" back "${K[@]}" --sync -q; echo "pull --sync exit $?"
python3 -c "
f = open('$DEST/runs/data/big.bin', 'r+b'); f.seek(5); b = f.read(1); f.seek(5); f.write(bytes([b[0] ^ 1]))"
dxfer pull "$SFTP_URL$DEST/runs/" back2 "${K[@]}" -q 2>&1 | sed "s|^dxfer: error: ||; s|$DEST|DEST|"; echo "pull of a damaged copy exit ${PIPESTATUS[0]}"
[[ ! -e back2/data/big.bin ]] && echo "the damaged file was not put in place"
dxfer push data "$SFTP_URL$DEST/runs/" "${K[@]}" -q; echo "repaired exit $?"
# Pushes big.bin to DEST/$1/ at 8 MB/s (about 3 s) and kills it once its temporary
# file holds 4 MB; sets part to that file's name.
push_killed_midway() {
  dxfer push data/big.bin "$SFTP_URL$DEST/$1/" "${K[@]}" --bwlimit 8MB/s -q 2>/dev/null &
  local pid=$!
  for _ in $(seq 100); do
    part=$(ls -a "$DEST/$1/" 2>/dev/null | grep '^\.big\.bin\.dxfer-' | head -1)
    [[ -n $part ]] && (( $(stat -c %s "$DEST/$1/$part") > 4000000 )) && break
    sleep 0.05
  done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
}
push_killed_midway k
[[ ! -e $DEST/k/big.bin ]] && echo "no file under the final name after the kill"
have=$(stat -c %s "$DEST/k/$part")
dxfer push data/big.bin "$SFTP_URL$DEST/k/" "${K[@]}" --json > rerun.json; echo "rerun exit $?"
python3 -c "
import json
r = json.loads(open('rerun.json').read())
print('rerun sent', 'only the rest' if r['sent'] <= 24_000_000 - $have else 'everything again: %d' % r['sent'])"
cmp big.bin "$DEST/k/big.bin" && echo "resumed copy identical"
ls -a "$DEST/k/" | grep -c '\.part$'
# Killed again, and a byte of the temporary file flipped before the rerun: the
# rerun reads it back, finds it differs and writes the file afresh.
push_killed_midway k2
python3 -c "
f = open('$DEST/k2/$part', 'r+b'); f.seek(1000); b = f.read(1); f.seek(1000); f.write(bytes([b[0] ^ 1]))"
dxfer push data/big.bin "$SFTP_URL$DEST/k2/" "${K[@]}" --json > rerun2.json; echo "rerun over a damaged temporary file exit $?"
python3 -c "import json; print('sent', json.loads(open('rerun2.json').read())['sent'])"
cmp big.bin "$DEST/k2/big.bin" && echo "copy identical"
dxfer ls "$SFTP_URL$DEST/runs/" --ssh-key "$SSH_KEY" --known-hosts /dev/null 2>&1 | grep -o "host keys are checked against /dev/null"
dxfer ls "$SFTP_URL$DEST/runs/" --ssh-key "$SSH_KEY" --pin SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2>&1 | grep -o "does not match --pin"
dxfer keygen -o k.key 2>/dev/null
dxfer push data "$SFTP_URL$DEST/e/" "${K[@]}" --encrypt k.key 2>&1; echo "encrypt exit $?"
