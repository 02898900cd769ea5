# keygen writes a mode-600 key and never overwrites one; token create prints the
# token once and stores only its hash, with its scopes.
dxfer keygen -o k.key || exit 1
stat -c %a k.key
head -c 13 k.key; echo
dxfer keygen -o k.key
echo "exit $?"
token=$(dxfer token create --tokens tokens.jsonl --scope rw:/runs --scope r:/ --name beamline-k11) || exit 1
echo "${token:0:4} ${#token}"
stat -c %a tokens.jsonl
grep -c -- "$token" tokens.jsonl
python3 -c "
import json, hashlib, sys
t = sys.argv[1]
rec = json.loads(open('tokens.jsonl').readline())
print(rec['name'], rec['scopes'], rec['sha256'] == hashlib.sha256(t.encode()).hexdigest())" "$token"
dxfer token create --tokens tokens.jsonl --scope rw:runs
echo "exit $?"
# A damaged tokens file is named with its line and column; nothing starts.
cp tokens.jsonl bad.jsonl && echo 'not json' >> bad.jsonl && mkdir -p srv
dxfer serve --root srv --listen 127.0.0.1:0 --self-signed --tokens bad.jsonl
echo "exit $?"
