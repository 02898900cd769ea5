# Helpers for the test servers on 127.0.0.1 (sourced by the lib-*.bash server
# scripts and tests, not a test case itself).

# A port of 127.0.0.1 that is free now.
free_port() {
  python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

# self_signed_cert DIR: DIR/key.pem and DIR/cert.pem for 127.0.0.1, valid 2 days.
self_signed_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
}

# wait_https NAME PID PORT CERT LOG...: waits (5 s at most) until the server answers
# HTTPS on PORT; if process PID dies first, prints its logs and fails.
wait_https() {
  local name=$1 pid=$2 port=$3 cert=$4
  shift 4
  for _ in $(seq 100); do
    curl -s -o /dev/null --cacert "$cert" "https://127.0.0.1:$port/" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$name died:"; cat "$@"; return 1; }
    sleep 0.05
  done
}
