# Starts OpenSSH's sshd (SFTP subsystem, key login for the current user) on a free
# port of 127.0.0.1 with fresh host and client keys (sourced by SFTP tests). Sets
# SFTP_URL (sftp://USER@127.0.0.1:PORT), SSH_KEY, SSH_KNOWN (a known_hosts file
# holding the host key), SSH_PIN (SHA256:... of the host key) and SSHD_PID;
# stop_sshd stops it.
source "$(dirname "${BASH_SOURCE[0]}")/lib-net.bash"
start_sshd() {
  local w=$PWD/sshd port
  mkdir -p "$w" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$w/host_ed25519" || return 1
  ssh-keygen -q -t ed25519 -N '' -f "$w/client_ed25519" || return 1
  cp "$w/client_ed25519.pub" "$w/authorized_keys"
  chmod 600 "$w/authorized_keys"
  port=$(free_port)
  cat > "$w/sshd_config" <<SSH
ListenAddress 127.0.0.1
Port $port
HostKey $w/host_ed25519
PidFile $w/sshd.pid
AuthorizedKeysFile $w/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
Subsystem sftp internal-sftp
SSH
  /usr/sbin/sshd -D -e -f "$w/sshd_config" 2> "$w/sshd.log" &
  SSHD_PID=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 $SSHD_PID 2>/dev/null || { echo "sshd died:"; cat "$w/sshd.log"; return 1; }
    sleep 0.05
  done
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$w/host_ed25519.pub")" > "$w/known_hosts"
  SFTP_URL=sftp://$(id -un)@127.0.0.1:$port
  SSH_KEY=$w/client_ed25519
  SSH_KNOWN=$w/known_hosts
  SSH_PIN=$(ssh-keygen -lf "$w/host_ed25519.pub" -E sha256 | awk '{print $2}')
}
stop_sshd() {
  [[ -n ${SSHD_PID:-} ]] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
  SSHD_PID=
}
