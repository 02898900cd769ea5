# Helpers for the dxfer serve tests (sourced, not a test case itself).
# start_server ROOT TOKENS [ARGS...]: starts `dxfer serve` on a free port of
# 127.0.0.1 with a self-signed certificate; sets SERVER_PID, URL and PIN.
start_server() {
  local root=$1 tokens=$2; shift 2
  rm -f server.url
  dxfer serve --root "$root" --listen 127.0.0.1:0 --self-signed --tokens "$tokens" "$@" > server.url 2>> server.log &
  SERVER_PID=$!
  for _ in $(seq 200); do
    [[ -s server.url ]] && break
    kill -0 $SERVER_PID 2>/dev/null || { echo "server died:"; cat server.log; return 1; }
    sleep 0.05
  done
  read -r URL PIN < server.url
  [[ -n $URL ]] || { echo "server did not start"; cat server.log; return 1; }
}
stop_server() {
  [[ -n ${SERVER_PID:-} ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}
trap stop_server EXIT
