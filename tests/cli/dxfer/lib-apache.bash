# Starts Apache httpd with mod_dav as a WebDAV server over TLS on a free port of
# 127.0.0.1 with a self-signed certificate (sourced by WebDAV tests). Sets
# ADAV_URL, ADAV_ROOT, ADAV_CERT and APACHE_PID; stop_apache stops it and removes
# its directory.
source "$(dirname "${BASH_SOURCE[0]}")/lib-net.bash"
start_apache() {
  local w mods=/usr/lib/apache2/modules port
  # Apache serves as www-data, which cannot enter a private scratch directory
  # (mktemp -d makes them 0700): its tree lives in a world-searchable one.
  w=$(mktemp -d "${TMPDIR:-/tmp}/sciflow-apache.XXXXXX") || return 1
  chmod 755 "$w"
  APACHE_DIR=$w
  mkdir -p "$w"/{run,logs,lock,root/dav}
  chown -R www-data:www-data "$w/root" "$w/lock"
  self_signed_cert "$w" || return 1
  port=$(free_port)
  cat > "$w/httpd.conf" <<APX
ServerRoot $w
DefaultRuntimeDir $w/run
PidFile $w/run/httpd.pid
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule dav_module $mods/mod_dav.so
LoadModule dav_fs_module $mods/mod_dav_fs.so
User www-data
Group www-data
ServerName 127.0.0.1
Listen 127.0.0.1:$port
ErrorLog $w/logs/error.log
DavLockDB $w/lock/DavLock
LimitRequestBody 0
<VirtualHost 127.0.0.1:$port>
  SSLEngine on
  SSLCertificateFile $w/cert.pem
  SSLCertificateKeyFile $w/key.pem
  DocumentRoot $w/root
  <Directory $w/root>
    Require all granted
  </Directory>
  <Location /dav>
    Dav On
  </Location>
</VirtualHost>
APX
  apache2 -f "$w/httpd.conf" -DFOREGROUND > "$w/logs/stdout" 2>&1 &
  APACHE_PID=$!
  wait_https apache $APACHE_PID "$port" "$w/cert.pem" "$w/logs/stdout" "$w/logs/error.log" || return 1
  ADAV_URL=davs://127.0.0.1:$port/dav
  ADAV_ROOT=$w/root/dav
  ADAV_CERT=$w/cert.pem
}
stop_apache() {
  [[ -n ${APACHE_PID:-} ]] && kill "$APACHE_PID" 2>/dev/null && wait "$APACHE_PID" 2>/dev/null
  APACHE_PID=
  [[ -n ${APACHE_DIR:-} ]] && rm -rf "$APACHE_DIR"
  APACHE_DIR=
}
