#!/usr/bin/env bash
# A real one-node Slurm cluster on 127.0.0.1 for the tests (munged, slurmctld,
# slurmd from Debian's slurm-wlm; no accounting database, no cgroups).
#
#   tests/slurm/cluster.sh start DIR     start (idempotent); prints "export SLURM_CONF=..."
#   tests/slurm/cluster.sh stop DIR      cancel jobs, stop the daemons, keep DIR
#
# Partitions: debug (default) and high; a job in high preempts (requeues) jobs
# in debug. Needs root (the daemons run as root, SlurmUser=root). Every file lives under
# DIR. Ports: SCIFLOW_SLURM_PORT (default 6917) and the next one.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "cluster.sh: needs root (Slurm daemons run as root here)" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
port=${SCIFLOW_SLURM_PORT:-6917}
conf=$dir/etc/slurm.conf
# munged wants every directory above its socket to be searchable by all, which a
# private test directory (mktemp -d: mode 700) is not: the socket lives in /tmp.
sock_dir=/tmp/sciflow-munge-$(printf '%s' "$dir" | md5sum | cut -c1-12)
node=$(hostname -s)

# Whether the daemon of a pid file runs. It may remove the file while we look
# (stopping): read it once, quietly.
alive() { local pid; pid=$(cat "$1" 2>/dev/null) && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }

wait_for() {  # seconds what command...
  local s=$1 what=$2; shift 2
  for _ in $(seq $((s * 10))); do "$@" > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "cluster.sh: $what did not come up; see $dir/log" >&2
  return 1
}

start() {
  mkdir -p "$dir"/{etc,log,run,state,spool,munge} "$sock_dir"
  chmod 700 "$dir/munge"
  chmod 755 "$sock_dir"
  [[ -s $dir/munge/munge.key ]] || (umask 077; head -c 1024 /dev/urandom > "$dir/munge/munge.key")
  chmod 400 "$dir/munge/munge.key"
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
  cat > "$conf" <<EOF
ClusterName=sciflowtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock_dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SlurmdParameters=config_overrides
MpiDefault=none
# A job in "high" that needs the node requeues the jobs running in "debug".
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
ReturnToService=2
KillWait=2
MinJobAge=300
InactiveLimit=0
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=high Nodes=$node MaxTime=INFINITE State=UP PriorityTier=10
EOF
  export SLURM_CONF=$conf
  if ! alive "$dir/munge/munged.pid"; then
    rm -f "$sock_dir/munge.socket"*
    munged --key-file="$dir/munge/munge.key" --socket="$sock_dir/munge.socket" \
      --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
    wait_for 10 munged munge -n -S "$sock_dir/munge.socket"
  fi
  alive "$dir/run/slurmctld.pid" || slurmctld -f "$conf"
  wait_for 20 slurmctld scontrol ping
  alive "$dir/run/slurmd.pid" || slurmd -f "$conf"
  wait_for 30 "slurmd (node idle)" sh -c "sinfo -h -o %t | grep -qE '^(idle|mix|alloc)'"
  echo "export SLURM_CONF=$conf"
}

stop() {
  export SLURM_CONF=$conf
  scancel --user=root > /dev/null 2>&1 || true
  for p in slurmd slurmctld; do
    # A daemon may remove its pid file while we look: read it once, quietly.
    pid=$(cat "$dir/run/$p.pid" 2>/dev/null) && kill "$pid" 2>/dev/null || true
  done
  pid=$(cat "$dir/munge/munged.pid" 2>/dev/null) && kill "$pid" 2>/dev/null || true
  rm -rf "$sock_dir"
  for _ in $(seq 50); do
    alive "$dir/run/slurmd.pid" || alive "$dir/run/slurmctld.pid" || alive "$dir/munge/munged.pid" || return 0
    sleep 0.1
  done
  return 0
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
