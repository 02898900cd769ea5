# dxfer serve over real TLS on 127.0.0.1 with dxfer push/sync/pull/verify/ls and
# curl as clients: hashed scoped tokens (401 unknown, 403 out of scope),
# traversal and symlink escapes refused (403), every request in the audit log,
# Range GET and plain PUT for curl, a chunk damaged on the way refused and sent
# again, a copy damaged on the server's disk found by verify and replaced by
# sync --checksum, and the pin checked (a wrong pin is refused).
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
python3 -c "
import random
random.seed(7)
open('big.bin','wb').write(random.randbytes(5_500_000))"
mkdir -p data/sub && cp big.bin data/ && for i in 1 2 3; do echo "note $i" > data/sub/n$i.txt; done && : > data/empty
dxfer token create --tokens tokens.jsonl --scope rw:/runs --name writer > writer.tok 2>/dev/null
dxfer token create --tokens tokens.jsonl --scope r:/runs --name reader > reader.tok 2>/dev/null
start_server srv tokens.jsonl || exit 1
[[ $PIN == sha256//* ]] && echo "pin printed"
grep -c "root 'srv' does not exist: creating it" server.log  # said, so that a mistyped --root is seen
P=(--pin "$PIN" --token-file writer.tok)
dxfer push data "$URL/runs/" "${P[@]}" --chunk 1MiB -j3 --json | python3 -c "
import json,sys
for l in sys.stdin: r = json.loads(l); print(r['file'], r['action'], r['sent'])"
echo "push exit ${PIPESTATUS[0]}"
cmp big.bin srv/runs/data/big.bin && echo "server copy identical"
dxfer verify data "$URL/runs/" "${P[@]}"; echo "verify exit $?"
dxfer sync data "$URL/runs/" "${P[@]}" -q; echo "sync exit $?"
dxfer ls "$URL/runs/data/sub/" "${P[@]}" | awk '{print $1, $3}'
dxfer ls "$URL/runs/dta/" "${P[@]}" 2>&1 | sed 's/127.0.0.1:[0-9]*/HOST/'; echo "mistyped ls exit ${PIPESTATUS[0]}"
# pull everything back, then again with --sync (nothing to do)
dxfer pull "$URL/runs/data/" back "${P[@]}" -q; echo "pull exit $?"
diff -r -x .dxfer data back > /dev/null && echo "pulled copy identical"
dxfer pull "$URL/runs/data/" back "${P[@]}" --sync -q; echo "pull --sync exit $?"
# One file by its URL (no trailing slash) lands as DST/NAME; a path with nothing
# there fails instead of pulling nothing.
dxfer pull "$URL/runs/data/big.bin" one "${P[@]}" -q && cmp one/big.bin data/big.bin && echo "single-file pull identical"
dxfer pull "$URL/runs/nothing/" none "${P[@]}" 2>&1 | sed 's/127.0.0.1:[0-9]*/HOST/'; echo "empty pull exit ${PIPESTATUS[0]}"
# curl: Range GET, plain PUT, tokens and traversal
C=(curl -sS --cacert srv/.dxfer/tls/cert.pem)
W="Authorization: Bearer $(cat writer.tok)"
"${C[@]}" -H "$W" -r 1000-1999 "$URL/runs/data/big.bin" | cmp - <(tail -c +1001 big.bin | head -c 1000) && echo "range GET ok"
# RFC 9110 ranges: 206 for a part, its last byte clamped to the end, 416 from past
# the end; curl -C - resumes a download.
size=$(stat -c %s big.bin)
"${C[@]}" -H "$W" -o /dev/null -w '%{http_code} %{size_download} %header{content-range}\n' -r "$((size - 10))-$((size + 5000))" "$URL/runs/data/big.bin"
"${C[@]}" -H "$W" -o /dev/null -w '%{http_code} %{size_download} %header{content-range}\n' -r "$((size + 10))-" "$URL/runs/data/big.bin"
head -c 12345 big.bin > part.bin
"${C[@]}" -H "$W" -C - -o part.bin "$URL/runs/data/big.bin" && cmp part.bin big.bin && echo "curl -C - resumed"
"${C[@]}" -H "$W" -T big.bin "$URL/runs/curl/b.bin" > /dev/null && cmp big.bin srv/runs/curl/b.bin && echo "curl PUT ok"
code() { "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; echo; }
code -H "Authorization: Bearer dxf_wrong" "$URL/runs/data/big.bin"
code "$URL/runs/data/big.bin"
code -H "Authorization: Bearer $(cat reader.tok)" -T big.bin "$URL/runs/r.bin"
code -H "$W" "$URL/etc/passwd"
code --path-as-is -H "$W" "$URL/runs/../../etc/passwd"
code --path-as-is -H "$W" "$URL/runs/%2e%2e/%2e%2e/etc/passwd"
ln -s /etc srv/runs/escape
code -H "$W" "$URL/runs/escape/passwd"
code -H "$W" -T big.bin "$URL/runs/escape/evil"
[[ -e /etc/evil ]] && echo "ESCAPED"
grep -c '"status":401' srv/.dxfer/audit.log
grep -c '"who":"writer","method":"GET","path":"/runs/escape/passwd","status":403' srv/.dxfer/audit.log
grep -c "$(cat writer.tok)" srv/.dxfer/audit.log
dxfer push big.bin "$URL/runs/" --pin "$PIN" --token-file reader.tok 2>&1 | sed 's/127.0.0.1:[0-9]*/HOST/'
echo "reader push exit ${PIPESTATUS[0]}"
# a chunk damaged on the way: refused (422), sent again, the copy is right
DXFER_TEST_FLIP_CHUNK=2 dxfer push big.bin "$URL/runs/flip/" "${P[@]}" --chunk 1MiB -q; echo "flip push exit $?"
cmp big.bin srv/runs/flip/big.bin && echo "flip copy identical"
grep -c '"path":"/runs/flip/big.bin","status":422' srv/.dxfer/audit.log
# chunks of several leaves (hashed by the server as each leaf arrives): the damage
# sits in the third leaf of chunk 0; chunk 1 is one leaf and a part
DXFER_TEST_FLIP_CHUNK=0 dxfer push big.bin "$URL/runs/flip4/" "${P[@]}" --chunk 4MiB -q; echo "flip 4 MiB push exit $?"
cmp big.bin srv/runs/flip4/big.bin && echo "flip 4 MiB copy identical"
grep -c '"path":"/runs/flip4/big.bin","status":422' srv/.dxfer/audit.log
# a byte flipped on the server's disk: verify finds it, sync --checksum resends
printf '\x00' | dd of=srv/runs/data/big.bin bs=1 seek=4000000 conv=notrunc status=none
dxfer verify data "$URL/runs/" "${P[@]}" | sed 's/(source .*/(...)/'; echo "verify exit ${PIPESTATUS[0]}"
dxfer sync data "$URL/runs/" "${P[@]}" --checksum -q; echo "sync --checksum exit $?"
dxfer verify data "$URL/runs/" "${P[@]}"; echo "verify exit $?"
# trust: a wrong pin, and no trust anchor at all, are refused before any data moves
dxfer ls "$URL/runs/" --pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" --token-file writer.tok 2>&1 | grep -o "pinned public key\|SSL.*" | head -1
dxfer ls "$URL/runs/" --token-file writer.tok > /dev/null 2>&1; echo "no pin exit $?"
# $DXFER_TOKEN with a final newline (as "$(cat f)" would not keep, but a heredoc does) works;
# a file of two tokens is refused before any connection.
DXFER_TOKEN="$(cat writer.tok)
" dxfer ls "$URL/runs/" --pin "$PIN" > /dev/null; echo "token with a newline exit $?"
cat writer.tok writer.tok > two.tok
dxfer ls "$URL/runs/" --pin "$PIN" --token-file two.tok; echo "two tokens exit $?"
# The token file is read again when it changes: a token removed from it is refused
# at once (401); a file that no longer parses refuses everyone (503, not the older
# set) and tells the operator once on the server's stderr; fixed, it serves again.
cp tokens.jsonl tokens.good
grep -v '"name":"reader"' tokens.good > tokens.new && mv tokens.new tokens.jsonl
dxfer ls "$URL/runs/" --pin "$PIN" --token-file reader.tok 2>&1 | sed 's/127.0.0.1:[0-9]*/HOST/'; echo "revoked exit ${PIPESTATUS[0]}"
echo 'not json' >> tokens.jsonl
for _ in 1 2; do
  dxfer ls "$URL/runs/" "${P[@]}" 2>&1 | sed 's/127.0.0.1:[0-9]*/HOST/'; echo "damaged token file exit ${PIPESTATUS[0]}"
done
grep -c "tokens.jsonl:2:2: syntax error.*requests get 503" server.log
cp tokens.good tokens.jsonl
dxfer ls "$URL/runs/" "${P[@]}" > /dev/null; echo "repaired exit $?"
# Names with characters URLs and HTTP routes treat specially, a newline among them:
# pushed, pulled back and compared (a newline's GET answered 404 before).
mkdir -p odd && for n in 'a#b' 'q?x' 'p%20c' 'sp ace' 'ünï' $'new\nline' 'semi;colon'; do echo "$n" > "odd/$n"; done
dxfer push odd "$URL/runs/" "${P[@]}" -q; echo "odd names push exit $?"
dxfer pull "$URL/runs/odd/" oddback "${P[@]}" -q; echo "odd names pull exit $?"
diff -r -x .dxfer odd oddback && echo "odd names identical"
