#!/usr/bin/env bash
# dxfer to an HTTPS endpoint: start `dxfer serve` on the storage side (here on
# 127.0.0.1 with a self-signed certificate, trusted by its printed pin), make a
# write token, push a scan (chunked, each chunk's SHA-256 checked by the server),
# run sync as cron would (exit 3 = nothing to do), verify against the server's
# own re-hash of its copy, list, pull it back and compare.
#   examples/dxfer-serve.sh [SCAN]
# Default: the K11 sample shipped in tests/data.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SCIFLOW_BIN:-$here/build/bin}
scan=${1:-$here/tests/data/k11-projections-128.h5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dxfer-serve.XXXXXX")
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

# Storage side: a token for the beamline (only its hash is stored), then the server.
"$bin/dxfer" token create --tokens "$tmp/tokens.jsonl" --scope rw:/beamline --name k11 > "$tmp/k11.token"
"$bin/dxfer" serve --root "$tmp/store" --listen 127.0.0.1:0 --self-signed --tokens "$tmp/tokens.jsonl" \
  > "$tmp/serve.out" 2> "$tmp/serve.log" &
server=$!
for _ in $(seq 100); do [[ -s $tmp/serve.out ]] && break; sleep 0.1; done
read -r url pin < "$tmp/serve.out"
echo "server: $url (pin $pin)"

# Detector side: the token comes from a file (or DXFER_TOKEN), never the command line.
opts=(--pin "$pin" --token-file "$tmp/k11.token")
"$bin/dxfer" push "$scan" "$url/beamline/run42/" "${opts[@]}" -v
set +e
"$bin/dxfer" sync "$scan" "$url/beamline/run42/" "${opts[@]}"
code=$?
set -e
echo "sync exit $code (3: nothing to do)"
"$bin/dxfer" verify "$scan" "$url/beamline/run42/" "${opts[@]}" && echo "verify: identical (server re-hashed its copy)"
"$bin/dxfer" ls "$url/beamline/run42/" "${opts[@]}"
"$bin/dxfer" pull "$url/beamline/run42/" "$tmp/back" "${opts[@]}" -q
cmp "$scan" "$tmp/back/$(basename "$scan")" && echo "pull: identical"
n=$(wc -l < "$tmp/store/.dxfer/audit.log"); others=$(grep -vc "\"who\":\"k11\"" "$tmp/store/.dxfer/audit.log" || true)
echo "audit log: $n requests, $others not by k11"
