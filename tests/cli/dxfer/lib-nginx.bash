# Starts nginx as a WebDAV server over TLS on a free port of 127.0.0.1 with a
# self-signed certificate (sourced by WebDAV tests). Sets DAV_URL, DAV_ROOT,
# NGINX_PID and DAV_CERT; stop_nginx stops it.
source "$(dirname "${BASH_SOURCE[0]}")/lib-net.bash"
start_nginx() {
  local w=$PWD/ngx mod port
  mkdir -p "$w"/{tmp,logs,root/dav}
  self_signed_cert "$w" || return 1
  mod=$(dpkg -L libnginx-mod-http-dav-ext | grep 'ngx_http_dav_ext_module\.so$' | head -1)
  port=$(free_port)
  cat > "$w/nginx.conf" <<NGX
load_module $mod;
user root;
worker_processes 1;
daemon off;
pid $w/logs/nginx.pid;
error_log $w/logs/error.log;
events { worker_connections 64; }
http {
  access_log $w/logs/access.log;
  client_body_temp_path $w/tmp/body;
  proxy_temp_path $w/tmp/proxy; fastcgi_temp_path $w/tmp/fcgi;
  uwsgi_temp_path $w/tmp/uwsgi; scgi_temp_path $w/tmp/scgi;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $w/cert.pem; ssl_certificate_key $w/key.pem;
    root $w/root;
    location /dav/ {
      dav_methods PUT DELETE MKCOL COPY MOVE;
      dav_ext_methods PROPFIND OPTIONS;
      client_max_body_size 0;
    }
  }
}
NGX
  nginx -p "$w/" -c "$w/nginx.conf" 2>> "$w/logs/stderr" &
  NGINX_PID=$!
  wait_https nginx $NGINX_PID "$port" "$w/cert.pem" "$w/logs/stderr" "$w/logs/error.log" || return 1
  DAV_URL=davs://127.0.0.1:$port/dav
  DAV_ROOT=$w/root/dav
  DAV_CERT=$w/cert.pem
}
stop_nginx() {
  [[ -n ${NGINX_PID:-} ]] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  NGINX_PID=
}
