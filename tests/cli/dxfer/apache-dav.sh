# dxfer to Apache httpd's mod_dav over TLS (the other WebDAV server facilities
# run): push a directory, the manifest, ls, sync (exit 3), verify reading every
# file back, pull with ranged GETs, and a byte flipped on the server's disk found
# by verify and repaired by push.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-apache.bash"
trap stop_apache EXIT
start_apache || exit 1
python3 -c "
import random
random.seed(11)
open('big.bin','wb').write(random.randbytes(12_000_000))"
mkdir -p data/sub && cp big.bin data/ && for i in 1 2; do echo "note $i" > data/sub/n$i.txt; done
T=(--cacert "$ADAV_CERT")
dxfer push data "$ADAV_URL/runs/" "${T[@]}" -j3 -q; echo "push exit $?"
diff -r data "$ADAV_ROOT/runs/data" && echo "server copy identical"
dxfer ls "$ADAV_URL/runs/" "${T[@]}" | awk '{print $1, $3}' | sort -k2
dxfer sync data "$ADAV_URL/runs/" "${T[@]}" -q; echo "sync exit $?"
dxfer verify data "$ADAV_URL/runs/" "${T[@]}"; echo "verify exit $?"
dxfer pull "$ADAV_URL/runs/" back "${T[@]}" --chunk 2MiB -j3 -q; echo "pull exit $?"
diff -r data back/data && echo "pulled copy identical"
python3 -c "
f = open('$ADAV_ROOT/runs/data/big.bin', 'r+b'); f.seek(777); b = f.read(1); f.seek(777); f.write(bytes([b[0] ^ 1]))"
dxfer verify data "$ADAV_URL/runs/" "${T[@]}" 2>/dev/null | sed 's/(source .*/(...)/'; echo "verify exit ${PIPESTATUS[0]}"
dxfer push data "$ADAV_URL/runs/" "${T[@]}" -q; echo "push exit $?"
dxfer verify data "$ADAV_URL/runs/" "${T[@]}"; echo "verify exit $?"
