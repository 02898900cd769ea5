# dxfer serve's TLS 1.3 suites: AES-128-GCM is chosen even for a client that lists
# AES-256-GCM first (it is 1.3x faster per core, and the suite every TLS 1.3 peer
# has); a client that offers only AES-256-GCM or ChaCha20 still connects; an
# upload over the chosen suite arrives intact.
source "$SCIFLOW_SRC/tests/cli/dxfer/lib-serve.bash"
dxfer token create --tokens tokens.jsonl --scope rw:/ > w.tok 2>/dev/null
start_server srv tokens.jsonl || exit 1
host=${URL#https://}
for suites in TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
  got=$(echo | timeout 10 openssl s_client -connect "$host" -tls1_3 -ciphersuites "$suites" 2>/dev/null | grep -o 'Cipher is [A-Z0-9_]*')
  echo "client offers $suites: ${got:-no connection}"
done
head -c 3000000 /dev/urandom > f.bin
dxfer push f.bin "$URL/in/" --pin "$PIN" --token-file w.tok -q && cmp f.bin srv/in/f.bin && echo "pushed intact"
