# A full disk on the server (a 16 MiB tmpfs as its root; without the privilege
# to mount, a 16 MiB file-size limit) fails the upload
# cleanly: exit 1 with the cause, 507 for curl, the previous version of the
# file intact, and no space left taken by the failed attempt.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
head -c 3000000 /dev/urandom > scan.bin
mkdir -p big && head -c 30000000 /dev/urandom > big/scan.bin
mkdir -p srv
if [[ -z ${SCIFLOW_TEST_NO_MOUNT:-} ]] && mount -t tmpfs -o size=16m tmpfs srv 2>/dev/null; then
  cleanup() { stop_server; umount srv 2>/dev/null; }
  trap cleanup EXIT
else
  # No privilege to mount: a file-size limit (16 MiB) on this shell and so on the
  # server fails its writes the same way (EFBIG instead of ENOSPC); SIGXFSZ
  # ignored, as a daemon would.
  trap '' XFSZ
  ulimit -f 16384  # KiB
fi
dxfer token create --tokens tokens.jsonl --scope rw:/ > tok 2>/dev/null
start_server srv tokens.jsonl || exit 1
dxfer push scan.bin "$URL/" --pin "$PIN" --token-file tok -q; echo "v1 exit $?"
dxfer push big/scan.bin "$URL/" --pin "$PIN" --token-file tok --retries 0 2>&1 | sed -e 's/No space left on device/NO SPACE/' -e 's/File too large/NO SPACE/'
echo "v2 exit ${PIPESTATUS[0]}"
cmp scan.bin srv/scan.bin && echo "previous version intact"
curl -sS -o /dev/null -w '%{http_code}\n' --cacert srv/.dxfer/tls/cert.pem -H "Authorization: Bearer $(cat tok)" -T big/scan.bin "$URL/scan.bin"
cmp scan.bin srv/scan.bin && echo "previous version intact after curl"
used=$(du -sk srv | cut -f1)
((used < 6000)) && echo "no space held by the failed uploads"
