# --zstd: chunks that compress travel as zstd frames (the server decompresses,
# checks the leaves of the decompressed bytes, and its audit log counts the bytes
# on the wire); incompressible chunks go as they are; a compressed chunk damaged
# on the way is refused and sent again; --zstd is refused where it cannot apply.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
python3 -c "
import random
random.seed(3)
rows = ''.join('%06d,%08.3f,%s\n' % (i, random.random() * 100, random.choice(['ok', 'ok', 'retry'])) for i in range(600_000))
open('log.csv', 'w').write(rows)
open('noise.bin', 'wb').write(random.randbytes(5_000_000))"
mkdir -p data && mv log.csv noise.bin data/
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
start_server srv tokens.jsonl || exit 1
P=(--pin "$PIN" --token-file tok)
dxfer push data "$URL/z/" "${P[@]}" --zstd --chunk 2MiB -j2 -v 2> push.err; echo "push exit $?"
grep -o 'zstd on the wire: .*' push.err | sed 's/[0-9.]* [KMG]*i*B/N/g'
diff -r data srv/z/data && echo "server copy identical"
python3 - <<'PY'
import json, os
lines = [json.loads(l) for l in open('srv/.dxfer/audit.log')]
puts = [p for p in lines if p['method'] == 'PUT' and p['path'].startswith('/z/data/') and p['status'] == 200]
wire = sum(p['bytes'] for p in puts)
raw = os.path.getsize('data/log.csv') + os.path.getsize('data/noise.bin')
print('chunk PUTs logged:', len(puts) > 0, '; wire bytes below the data:', wire < raw * 0.8,
      '; at least the incompressible file:', wire >= os.path.getsize('data/noise.bin'))
PY
dxfer verify data "$URL/z/" "${P[@]}"; echo "verify exit $?"
DXFER_TEST_FLIP_CHUNK=1 dxfer push data "$URL/z2/" "${P[@]}" --zstd --chunk 2MiB -j1 -q; echo "damaged frame: push exit $?"
grep -c '"status":422' srv/.dxfer/audit.log
diff -r data srv/z2/data && echo "resent copy identical"
dxfer keygen -o k.key 2>/dev/null
dxfer push data "$URL/z3/" "${P[@]}" --zstd --encrypt k.key 2>&1; echo "with --encrypt exit $?"
dxfer push data local-dir --zstd 2>&1; echo "local exit $?"
