#!/usr/bin/env bash
# dxfer against its peers on loopback, side by side on the same data:
#   one large file up: dxfer push to dxfer serve (TLS, SHA-256 leaves verified by
#     the server, fsync; and with --hash xxh3) vs curl -T to nginx over TLS
#     (verifies nothing, no fsync),
#     rclone to nginx WebDAV, OpenSSH sftp;
#   many 4 KiB files up: dxfer push vs curl on one kept-alive connection.
# Prints MB/s (10^6 B/s) and files/s, medians of --repeat runs, and ratios.
#
#   bench/dxfer-bench.sh [--size-mib N] [--files N] [--repeat N] [--threads N]
#
# Needs (Debian): nginx libnginx-mod-http-dav-ext openssh-server curl; rclone
# optional. Binds 127.0.0.1 only. Work files under $BENCH_DIR (default
# /tmp/dxfer-bench), removed at the end. Each run writes to a fresh directory:
# ext4 slows down creating files right after deleting many (recently_deleted).
set -euo pipefail
size_mib=4096 files=10000 repeat=3 threads=4
while (($#)); do
  case $1 in
    --size-mib) size_mib=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "usage: $0 [--size-mib N] [--files N] [--repeat N] [--threads N]" >&2; exit 2 ;;
  esac
done
src=$(cd "$(dirname "$0")/.." && pwd)
dxfer=${DXFER:-$src/build/bin/dxfer}
[[ -x $dxfer ]] || { echo "build first: $dxfer missing" >&2; exit 1; }
W=${BENCH_DIR:-/tmp/dxfer-bench}
rm -rf "$W"; mkdir -p "$W"/{ngx/tmp,ngx/logs,ngx/dav/dav,ssh,sftp,srv}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

echo "== data: one file of $size_mib MiB, $files files of 4 KiB"
head -c $((size_mib << 20)) /dev/urandom > "$W/big.bin"
mkdir -p "$W/small"
python3 -c "
import os, sys
d = sys.argv[1]
for i in range(int(sys.argv[2])):
    with open(f'{d}/f{i:05d}.bin', 'wb') as f: f.write(os.urandom(4096))" "$W/small" "$files"
bytes=$((size_mib << 20))

# --- servers
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
mod=$(dpkg -L libnginx-mod-http-dav-ext 2>/dev/null | grep 'ngx_http_dav_ext_module\.so$' | head -1 || true)
cat > "$W/ngx/nginx.conf" <<EOF
${mod:+load_module $mod;}
user root;
worker_processes 1;
daemon off;
pid $W/ngx/logs/nginx.pid;
error_log $W/ngx/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $W/ngx/tmp/body;
  proxy_temp_path $W/ngx/tmp/proxy; fastcgi_temp_path $W/ngx/tmp/fcgi;
  uwsgi_temp_path $W/ngx/tmp/uwsgi; scgi_temp_path $W/ngx/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18443 ssl;
    ssl_certificate $W/cert.pem; ssl_certificate_key $W/key.pem;
    root $W/ngx/dav;
    location /dav/ {
      dav_methods PUT DELETE MKCOL COPY MOVE;
      ${mod:+dav_ext_methods PROPFIND OPTIONS;}
      create_full_put_path on; client_max_body_size 0;
    }
  }
}
EOF
nginx -p "$W/ngx/" -c "$W/ngx/nginx.conf" 2>/dev/null & pids+=($!)
"$dxfer" token create --tokens "$W/tokens.jsonl" --scope rw:/ > "$W/token" 2>/dev/null
"$dxfer" serve --root "$W/srv" --listen 127.0.0.1:0 --self-signed --tokens "$W/tokens.jsonl" > "$W/serve.url" 2>/dev/null & pids+=($!)
have_ssh=0
if command -v sshd > /dev/null; then
  ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/host"; ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/client"
  cp "$W/ssh/client.pub" "$W/ssh/authorized_keys"; mkdir -p /run/sshd
  cat > "$W/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port 12222
HostKey $W/ssh/host
PidFile $W/ssh/sshd.pid
AuthorizedKeysFile $W/ssh/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
Subsystem sftp internal-sftp
EOF
  "$(command -v sshd)" -D -e -f "$W/ssh/sshd_config" 2> "$W/ssh/log" & pids+=($!)
  have_ssh=1
fi
for _ in $(seq 100); do [[ -s $W/serve.url ]] && ss -ltn | grep -q '127.0.0.1:18443 ' && break; sleep 0.1; done
read -r url pin < "$W/serve.url"
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "a server did not start (port 18443 or 12222 in use?)" >&2; cat "$W"/ngx/logs/error.log >&2; exit 1; }; done
export DXFER_TOKEN
DXFER_TOKEN=$(cat "$W/token")

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run=0
timed() {  # prints seconds of "$@"
  local t0 t1; t0=$(now); "$@" > /dev/null 2>"$W/last.err" || { echo "FAILED: $*" >&2; cat "$W/last.err" "$W"/ngx/logs/error.log >&2; return 1; }
  t1=$(now); echo "$t1 - $t0" | bc -l
}
declare -A up
measure_big() {  # name command...
  local name=$1; shift
  local s=() i
  for ((i = 0; i < repeat; i++)); do
    run=$((run + 1)); s+=("$(timed "$@")")
    rm -rf "$W"/srv/b* "$W"/ngx/dav/dav/* "$W"/sftp/*; sync  # large files: deleting them costs nothing later
  done
  local m; m=$(printf '%s\n' "${s[@]}" | median)
  up[$name]=$(echo "$bytes / $m / 1000000" | bc -l)
  printf '%-52s %8.0f MB/s   (median of %d: %s s)\n' "$name" "${up[$name]}" "$repeat" "$(printf '%.2f ' "${s[@]}")"
}

echo "== one $size_mib MiB file up, loopback, page cache warm"
cat "$W/big.bin" > /dev/null
measure_big "dxfer push -j$threads to dxfer serve (SHA-256 verified)" \
  bash -c '"$0" push "$1" "$2/b$3/" --pin "$4" -j "$5" -q' "$dxfer" "$W/big.bin" "$url" '$RANDOM$RANDOM' "$pin" "$threads"
measure_big "dxfer push -j$threads --hash xxh3 to dxfer serve" \
  bash -c '"$0" push "$1" "$2/b$3/" --pin "$4" -j "$5" --hash xxh3 -q' "$dxfer" "$W/big.bin" "$url" '$RANDOM$RANDOM' "$pin" "$threads"
measure_big "curl -T to nginx, one stream (verifies nothing)" \
  bash -c 'curl -sS --fail --cacert "$0" -T "$1" "https://127.0.0.1:18443/dav/c$RANDOM$RANDOM/big.bin"' "$W/cert.pem" "$W/big.bin"
measure_big "dxfer push to nginx WebDAV (davs://, one PUT)" \
  bash -c '"$0" push "$1" "davs://127.0.0.1:18443/dav/d$RANDOM$RANDOM/" --cacert "$2" -q' "$dxfer" "$W/big.bin" "$W/cert.pem"
# The same, made durable as dxfer's copy is (dxfer fsyncs before it renames into place).
measure_big "curl -T to nginx, then sync (durable, as dxfer)" \
  bash -c 'curl -sS --fail --cacert "$0" -T "$1" "https://127.0.0.1:18443/dav/c$RANDOM$RANDOM/big.bin" && sync' "$W/cert.pem" "$W/big.bin"
if command -v rclone > /dev/null; then
  measure_big "rclone copy to nginx WebDAV (defaults)" \
    bash -c 'rclone copyto --ca-cert "$0" --webdav-url https://127.0.0.1:18443/dav/ "$1" ":webdav:r$RANDOM$RANDOM/big.bin"' "$W/cert.pem" "$W/big.bin"
fi
if ((have_ssh)); then
  ssh_opts=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$W/ssh/client" -P 12222)
  measure_big "sftp put (OpenSSH defaults)" \
    bash -c 'echo "put $1 $2/s$RANDOM$RANDOM.bin" | sftp -b - "${@:3}" root@127.0.0.1' _ "$W/big.bin" "$W/sftp" "${ssh_opts[@]}"
  measure_big "sftp put -c aes128-gcm -R 128 -B 131072" \
    bash -c 'echo "put $1 $2/s$RANDOM$RANDOM.bin" | sftp -c aes128-gcm@openssh.com -R 128 -B 131072 -b - "${@:3}" root@127.0.0.1' _ "$W/big.bin" "$W/sftp" "${ssh_opts[@]}"
  host_pin=$(ssh-keygen -lf "$W/ssh/host.pub" -E sha256 | awk '{print $2}')
  measure_big "dxfer push to OpenSSH (sftp://, size checked)" \
    bash -c '"$0" push "$1" "sftp://root@127.0.0.1:12222$2/x$RANDOM$RANDOM/" --ssh-key "$3" --pin "$4" -q' \
    "$dxfer" "$W/big.bin" "$W/sftp" "$W/ssh/client" "$host_pin"
  printf 'ratio dxfer to SFTP / sftp put (defaults)             %.2fx\n' \
    "$(echo "${up["dxfer push to OpenSSH (sftp://, size checked)"]} / ${up["sftp put (OpenSSH defaults)"]}" | bc -l)"
fi
d=${up["dxfer push -j$threads to dxfer serve (SHA-256 verified)"]}
for k in "${!up[@]}"; do
  [[ $k == dxfer* ]] && continue
  printf 'ratio dxfer / %-40s %.2fx\n' "$k" "$(echo "$d / ${up[$k]}" | bc -l)"
done
x=${up["dxfer push -j$threads --hash xxh3 to dxfer serve"]}
for k in "curl -T to nginx, one stream (verifies nothing)" "rclone copy to nginx WebDAV (defaults)"; do
  [[ -n ${up[$k]:-} ]] && printf 'ratio dxfer --hash xxh3 / %-28s %.2fx\n' "${k%% (*}" "$(echo "$x / ${up[$k]}" | bc -l)"
done
if [[ -n ${up["rclone copy to nginx WebDAV (defaults)"]:-} ]]; then
  printf 'ratio dxfer to WebDAV / rclone to the same WebDAV     %.2fx\n' \
    "$(echo "${up["dxfer push to nginx WebDAV (davs://, one PUT)"]} / ${up["rclone copy to nginx WebDAV (defaults)"]}" | bc -l)"
fi
rm -rf "$W"/srv/b* "$W"/ngx/dav/dav/* "$W"/sftp/*

echo "== $files files of 4 KiB up"
declare -A fps
measure_small() {  # name command...
  local name=$1; shift
  local s=() i
  for ((i = 0; i < repeat; i++)); do s+=("$(timed "$@")"); sync; done
  local m; m=$(printf '%s\n' "${s[@]}" | median)
  fps[$name]=$(echo "$files / $m" | bc -l)
  printf '%-52s %8.0f files/s (median of %d: %s s)\n' "$name" "${fps[$name]}" "$repeat" "$(printf '%.2f ' "${s[@]}")"
}
measure_small "dxfer push -j$threads to dxfer serve" \
  bash -c '"$0" push "$1" "$2/m$RANDOM$RANDOM/" --pin "$3" -j "$4" -q' "$dxfer" "$W/small" "$url" "$pin" "$threads"
measure_small "dxfer push -j$threads to nginx WebDAV (davs://)" \
  bash -c '"$0" push "$1" "davs://127.0.0.1:18443/dav/w$RANDOM$RANDOM/" --cacert "$2" -j "$3" -q' "$dxfer" "$W/small" "$W/cert.pem" "$threads"
# curl: one process, one kept-alive connection, PUT after PUT.
for f in "$W"/small/*; do
  printf 'upload-file = "%s"\nurl = "https://127.0.0.1:18443/dav/DIR/%s"\noutput = "/dev/null"\n' "$f" "${f##*/}"
done > "$W/curl.cfg"
measure_small "curl, one kept-alive connection, to nginx" \
  bash -c 'd=k$RANDOM$RANDOM; sed "s|/DIR/|/$d/|" "$1" | curl -sS --fail --cacert "$0" -K -' "$W/cert.pem" "$W/curl.cfg"
d=${fps["dxfer push -j$threads to dxfer serve"]}
printf 'ratio dxfer / curl one connection                   %.2fx\n' "$(echo "$d / ${fps["curl, one kept-alive connection, to nginx"]}" | bc -l)"
printf 'ratio dxfer to WebDAV / curl one connection         %.2fx\n' "$(echo "${fps["dxfer push -j$threads to nginx WebDAV (davs://)"]} / ${fps["curl, one kept-alive connection, to nginx"]}" | bc -l)"

echo "== compressible data ($((size_mib / 2)) MiB of CSV text) over a 100 MB/s link (--bwlimit), to dxfer serve"
python3 -c "
import random, sys
random.seed(1)
n = int(sys.argv[2]) << 20
with open(sys.argv[1], 'w') as f:
    w = 0
    while w < n:
        row = '%09d,%010.4f,%s,%d\\n' % (w, random.random() * 1000, random.choice(['ok', 'ok', 'ok', 'retry', 'fail']), random.randrange(4096))
        f.write(row); w += len(row)" "$W/table.csv" $((size_mib / 2))
tbytes=$(stat -c %s "$W/table.csv")
for variant in plain zstd; do
  opt=(); [[ $variant == zstd ]] && opt=(--zstd)
  t=$(timed "$dxfer" push "$W/table.csv" "$url/t$variant$RANDOM/" --pin "$pin" -j "$threads" --bwlimit 100MB/s -q "${opt[@]}")
  printf '%-52s %8.0f MB/s of file data\n' "dxfer push --bwlimit 100MB/s ${opt[*]}" "$(echo "$tbytes / $t / 1000000" | bc -l)"
done
